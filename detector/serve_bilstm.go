package detector

import (
	"fmt"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// bilstmNet is the plain-Go inference form of a BiLSTM, built once from the
// flat weight vector (see bilstmDims for its layout). It is immutable after
// construction and safe for concurrent use: each call takes its scratch
// buffers from a sync.Pool.
//
// Windows are processed in chunks of up to serveChunk rows. At every step
// the chunk's gate pre-activations start from the step's bias and get
// [h_{t-1}, x_t]·[W_h; W_x] ([n×(H+F)]·[(H+F)×4H]) added by one
// single-threaded gonum SGEMM (SIMD kernels; see serveChunk);
// the gate activations follow row by row. Each output element sums its
// terms in a fixed order that does not depend on the other rows, so a
// window's output is the same whatever else is in the batch.
type bilstmNet struct {
	d bilstmDims
	// w[dir] is [(H+F) × 4H]: rows 0..H-1 hold the weights from h_k to the
	// gates, rows H..H+F-1 those from the step's features; columns gate·H+j
	// in the order i, f, g, o.
	w [2]blas32.General
	// stepBias[dir] is [T × 4H]: row t is the bias plus, with the
	// positional input, the positional row of step t.
	stepBias [2][]float32
	// wdt is [C × (2H+1)]: the dense layer transposed.
	wdt     []float32
	scratch sync.Pool // *bilstmScratch
	// avx2 selects the AVX2 + FMA kernels of lstm_amd64.s for the gate
	// products and the cell updates; without them (another CPU, a hidden
	// size that is not a multiple of 8, or a purego build) gonum's SGEMM
	// and the activation table do the same work about five times slower.
	// The two agree to within float32 rounding (TestBiLSTMKernels).
	avx2 bool
}

// serveChunk is the number of windows computed together. It keeps gonum's
// SGEMM serial (it goes parallel from four 64×64 blocks of the output) for
// 4H <= 192; larger H still gives the same results, only with goroutines
// spawned per product.
const serveChunk = 64

type bilstmScratch struct {
	hx     []float32 // serveChunk × (H+F): [h_{t-1}, x_t] per row
	c      []float32 // serveChunk × H
	g      []float32 // serveChunk × 4H gate pre-activations
	hcat   []float32 // [h_fwd (H), h_bwd (H), 1] for one window
	hfwd   []float32 // serveChunk × H: forward last states
	logits []float32 // C
}

// minParallelRows is the smallest number of windows handed to one goroutine
// when a batch is split across cores.
const minParallelRows = 32

func newBiLSTMNet(d bilstmDims, w []float32) (*bilstmNet, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	if len(w) != d.size() {
		return nil, fmt.Errorf("%w: bilstm weights: got %d values, want %d for %+v", ErrShape, len(w), d.size(), d)
	}
	n := &bilstmNet{d: d, avx2: haveAVX2FMA && d.H%8 == 0}
	F, H, G := d.F, d.H, 4*d.H
	in := d.inRows()
	for dir := 0; dir < 2; dir++ {
		wx := make([]float32, in*G) // features, bias, positional rows
		wm := make([]float32, (H+F)*G)
		for gate := 0; gate < 4; gate++ {
			m := w[d.gateOff(dir, gate) : d.gateOff(dir, gate)+d.gateSize()]
			for r := 0; r < d.gateRows(); r++ {
				src := m[r*H : (r+1)*H]
				switch {
				case r < F:
					copy(wm[(H+r)*G+gate*H:], src)
				case r < in:
					copy(wx[r*G+gate*H:], src)
				default:
					copy(wm[(r-in)*G+gate*H:], src)
				}
			}
		}
		n.w[dir] = blas32.General{Rows: H + F, Cols: G, Stride: G, Data: wm}
		sb := make([]float32, d.T*G)
		for t := 0; t < d.T; t++ {
			row := sb[t*G : (t+1)*G]
			copy(row, wx[F*G:(F+1)*G])
			if d.P > 0 {
				for j, v := range wx[(F+1+t)*G : (F+2+t)*G] {
					row[j] += v
				}
			}
		}
		n.stepBias[dir] = sb
	}
	dr := 2*H + 1
	n.wdt = make([]float32, d.C*dr)
	dense := w[d.denseOff():]
	for r := 0; r < dr; r++ {
		for c := 0; c < d.C; c++ {
			n.wdt[c*dr+r] = dense[r*d.C+c]
		}
	}
	n.scratch.New = func() any {
		return &bilstmScratch{
			hx:     make([]float32, serveChunk*(H+F)),
			c:      make([]float32, serveChunk*H),
			g:      make([]float32, serveChunk*4*H),
			hcat:   make([]float32, 2*H+1),
			hfwd:   make([]float32, serveChunk*H),
			logits: make([]float32, d.C),
		}
	}
	return n, nil
}

// probs writes the class probabilities of the windows in x (T·F values
// each: window-major, then step, then feature) into out (C values each) and
// the arg-max classes into cls. Large batches are split across up to
// GOMAXPROCS goroutines.
func (n *bilstmNet) probs(x []float32, out []float32, cls []int) {
	n.probsWith(n.avx2, x, out, cls)
}

// probsWith is probs with the kernels chosen by the caller: training scores
// its validation split with the portable ones (avx2 false), so that the
// epoch it keeps, and so the model file, do not depend on the CPU.
func (n *bilstmNet) probsWith(avx2 bool, x []float32, out []float32, cls []int) {
	w := n.d.T * n.d.F
	rows := len(x) / w
	workers := min(runtime.GOMAXPROCS(0), rows/minParallelRows)
	if workers <= 1 {
		n.probsSerial(avx2, x, out, cls)
		return
	}
	splitRange(rows, workers, func(lo, hi int) {
		n.probsSerial(avx2, x[lo*w:hi*w], out[lo*n.d.C:hi*n.d.C], cls[lo:hi])
	})
}

func (n *bilstmNet) probsSerial(avx2 bool, x []float32, out []float32, cls []int) {
	d := n.d
	s := n.scratch.Get().(*bilstmScratch)
	defer n.scratch.Put(s)
	w := d.T * d.F
	rows := len(x) / w
	H := d.H
	for lo := 0; lo < rows; lo += serveChunk {
		hi := min(lo+serveChunk, rows)
		chunk := x[lo*w : hi*w]
		n.run(avx2, 0, chunk, s)
		K := H + d.F
		for r := 0; r < hi-lo; r++ {
			copy(s.hfwd[r*H:(r+1)*H], s.hx[r*K:r*K+H])
		}
		n.run(avx2, 1, chunk, s)
		s.hcat[2*H] = 1
		for r := 0; r < hi-lo; r++ {
			copy(s.hcat[:H], s.hfwd[r*H:(r+1)*H])
			copy(s.hcat[H:2*H], s.hx[r*K:r*K+H])
			matVecT(s.logits, s.hcat, n.wdt)
			i := lo + r
			cls[i] = softmaxInto(out[i*d.C:(i+1)*d.C], s.logits)
		}
	}
}

// run reads the windows of chunk (at most serveChunk) in direction dir (0
// forward, 1 backward) and leaves their last hidden states in the first H
// columns of s.hx.
func (n *bilstmNet) run(avx2 bool, dir int, chunk []float32, s *bilstmScratch) {
	d := n.d
	F, H, G, K := d.F, d.H, 4*d.H, d.H+d.F
	rows := len(chunk) / (d.T * F)
	hx, c, g := s.hx[:rows*K], s.c[:rows*H], s.g[:rows*G]
	clear(hx)
	clear(c)
	stepBias := n.stepBias[dir]
	a := blas32.General{Rows: rows, Cols: K, Stride: K, Data: hx}
	gm := blas32.General{Rows: rows, Cols: G, Stride: G, Data: g}
	for step := 0; step < d.T; step++ {
		t := step
		if dir == 1 {
			t = d.T - 1 - step
		}
		sb := stepBias[t*G : (t+1)*G]
		for r := 0; r < rows; r++ {
			copy(hx[r*K+H:(r+1)*K], chunk[(r*d.T+t)*F:(r*d.T+t+1)*F])
			copy(g[r*G:(r+1)*G], sb)
		}
		if avx2 {
			sgemmAccAVX2(&g[0], &hx[0], &n.w[dir].Data[0], rows, K, G)
			for r := 0; r < rows; r++ {
				lstmCellAVX2(&g[r*G], &c[r*H], &hx[r*K], H)
			}
			continue
		}
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, a, n.w[dir], 1, gm)
		for r := 0; r < rows; r++ {
			gr := g[r*G : (r+1)*G : (r+1)*G]
			gi, gf, gg, gout := gr[:H], gr[H:2*H], gr[2*H:3*H], gr[3*H:4*H]
			hr, cr := hx[r*K:r*K+H], c[r*H:(r+1)*H]
			gf, gg, gout, cr = gf[:len(hr)], gg[:len(hr)], gout[:len(hr)], cr[:len(hr)]
			for j := range hr {
				cj := sigmoidTab(gf[j])*cr[j] + sigmoidTab(gi[j])*tanhTab(gg[j])
				cr[j] = cj
				hr[j] = sigmoidTab(gout[j]) * tanhTab(cj)
			}
		}
	}
}

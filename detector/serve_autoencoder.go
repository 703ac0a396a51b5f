package detector

import (
	"fmt"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// aeNet is the plain-Go scoring form of an Autoencoder, built once from the
// flat weights (aeDims layout). Immutable and safe for concurrent use:
// scratch buffers come from a sync.Pool.
//
// Rows are scored in chunks of up to serveChunk: each layer is one
// single-threaded gonum SGEMM of the chunk's activations, with a constant-1
// column appended, by the layer's (in+1) × out matrix as stored in the flat
// vector. Every output element sums its terms in a fixed order that does not
// depend on the other rows, so a row's score is the same whatever else is in
// the batch.
type aeNet struct {
	d            aeDims
	shift, scale []float32
	layers       []blas32.General // (in_l+1) × out_l, views of the weights
	scratch      sync.Pool        // *[]blas32.General: per layer input, serveChunk × (size+1)
}

func newAENet(d aeDims, w []float32) (*aeNet, error) {
	if len(w) != d.size() {
		return nil, fmt.Errorf("%w: autoencoder weights: got %d values, want %d for %+v", ErrShape, len(w), d.size(), d)
	}
	w = append([]float32(nil), w...)
	n := &aeNet{d: d, shift: w[:d.F:d.F], scale: w[d.F : 2*d.F : 2*d.F]}
	s := d.sizes()
	off := 2 * d.F
	for l := 0; l+1 < len(s); l++ {
		in, out := s[l]+1, s[l+1]
		n.layers = append(n.layers, blas32.General{Rows: in, Cols: out, Stride: out, Data: w[off : off+in*out]})
		off += in * out
	}
	n.scratch.New = func() any {
		bufs := make([]blas32.General, len(s))
		for l, sz := range s {
			b := blas32.General{Rows: serveChunk, Cols: sz + 1, Stride: sz + 1, Data: make([]float32, serveChunk*(sz+1))}
			for r := 0; r < serveChunk; r++ {
				b.Data[r*(sz+1)+sz] = 1
			}
			bufs[l] = b
		}
		return &bufs
	}
	return n, nil
}

// transform writes the network input for one raw row x into u (both F).
func (n *aeNet) transform(u, x []float32) {
	u = u[:len(x)]
	shift, scale := n.shift[:len(x)], n.scale[:len(x)]
	if n.d.LogEps > 0 {
		eps := float32(n.d.LogEps)
		for j, v := range x {
			if !(v > 0) { // also maps NaN to 0
				v = 0
			}
			u[j] = (logf(v+eps) - shift[j]) * scale[j]
		}
		return
	}
	for j, v := range x {
		u[j] = (v - shift[j]) * scale[j]
	}
}

// scores writes the reconstruction error of each row of x (rows of F
// values) into out. Large batches are split across up to GOMAXPROCS
// goroutines.
func (n *aeNet) scores(x []float32, out []float64) {
	F := n.d.F
	rows := len(out)
	workers := min(runtime.GOMAXPROCS(0), rows/(4*minParallelRows))
	if workers <= 1 {
		n.scoresSerial(x, out)
		return
	}
	splitRange(rows, workers, func(lo, hi int) { n.scoresSerial(x[lo*F:hi*F], out[lo:hi]) })
}

func (n *aeNet) scoresSerial(x []float32, out []float64) {
	F := n.d.F
	bp := n.scratch.Get().(*[]blas32.General)
	defer n.scratch.Put(bp)
	bufs := *bp
	last := len(n.layers) - 1
	for lo := 0; lo < len(out); lo += serveChunk {
		rows := min(serveChunk, len(out)-lo)
		in := bufs[0]
		for r := 0; r < rows; r++ {
			n.transform(in.Data[r*in.Stride:r*in.Stride+F], x[(lo+r)*F:(lo+r+1)*F])
		}
		for l, w := range n.layers {
			a, c := bufs[l], bufs[l+1]
			a.Rows = rows
			c.Rows, c.Cols = rows, w.Cols // leaves the constant-1 column alone
			blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, a, w, 0, c)
			if l < last {
				for r := 0; r < rows; r++ {
					row := c.Data[r*c.Stride : r*c.Stride+c.Cols]
					for j, v := range row {
						row[j] = tanhTab(v)
					}
				}
			}
		}
		rec := bufs[len(bufs)-1]
		for r := 0; r < rows; r++ {
			u := in.Data[r*in.Stride : r*in.Stride+F]
			o := rec.Data[r*rec.Stride : r*rec.Stride+F]
			var se float32
			for j, v := range u {
				e := o[j] - v
				se += e * e
			}
			out[lo+r] = float64(se) / float64(F)
		}
	}
}

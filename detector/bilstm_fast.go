package detector

import (
	"runtime"
	"sync"
)

// bilstmTrainer is the BiLSTM's fast training engine: the forward and
// backward passes in plain Go on the serving path's kernels (sgemmAcc,
// lstmCellTrain: AVX2 + FMA where the CPU has them, their bit-identical Go
// reference elsewhere), Adam as gorgonia does it (adam.go), and mini-batches
// split over the cores.
//
// Determinism: a mini-batch is cut into trainShards shards, a number fixed
// here and not by GOMAXPROCS; each shard sums its rows' gradients in row
// order, and the shards' sums are added in shard order, whichever goroutine
// computed them. With the kernels giving the same bits on every CPU and the
// softmax and loss on expDet/logDet, a seeded run gives the same weights on
// any machine, with any number of cores.
//
// Parameters are kept in a packed layout that suits the kernels (see
// bilstmPacked) and converted from and to the flat bilstmDims layout at the
// edges (Adam is elementwise, so the layout does not change its result).
type bilstmTrainer struct {
	d    bilstmDims
	avx2 bool
	pk   bilstmPacked
	w    []float32 // packed weights
	grad []float32 // packed gradient of the last step, summed over shards
	opt  *adam     // nil until the first step

	// Derived from w after every update.
	stepBias [2][]float32 // T × 4H: bias plus the step's positional row
	whT      [2][]float32 // 4H × H: the h-rows of W transposed, for dh

	shards, evalShards []*bilstmShard
}

// trainShards is the number of parts a mini-batch is cut into; it fixes
// the order of the gradient sum, so it must not depend on the machine.
const trainShards = 4

// bilstmPacked describes the packed weight layout, per direction: W
// ((H+F) × 4H: rows 0..H-1 multiply h_{t-1}, rows H..H+F-1 the step's
// features; columns gate·H+j for gates i, f, g, o), then the bias (4H), then
// P positional rows (P × 4H); after both directions the dense layer as in
// the flat layout ((2H+1) × C). toFlat[i] is the flat index of packed
// weight i.
type bilstmPacked struct {
	K, G, dirSize int
	toFlat        []int32
}

func newBiLSTMPacked(d bilstmDims) bilstmPacked {
	H, F := d.H, d.F
	p := bilstmPacked{K: H + F, G: 4 * H}
	p.dirSize = (p.K + 1 + d.P) * p.G
	p.toFlat = make([]int32, d.size())
	for dir := 0; dir < 2; dir++ {
		for gate := 0; gate < 4; gate++ {
			for r := 0; r < d.gateRows(); r++ {
				var row int // packed row within the direction
				switch {
				case r < F:
					row = H + r
				case r == F:
					row = p.K
				case r < d.inRows():
					row = p.K + 1 + (r - F - 1)
				default:
					row = r - d.inRows()
				}
				for j := 0; j < H; j++ {
					p.toFlat[dir*p.dirSize+row*p.G+gate*H+j] = int32(d.gateOff(dir, gate) + r*H + j)
				}
			}
		}
	}
	for i := d.denseOff(); i < d.size(); i++ {
		p.toFlat[i] = int32(i)
	}
	return p
}

func (p bilstmPacked) w(dir int) int    { return dir * p.dirSize }
func (p bilstmPacked) bias(dir int) int { return dir*p.dirSize + p.K*p.G }
func (p bilstmPacked) pos(dir int) int  { return dir*p.dirSize + (p.K+1)*p.G }
func (p bilstmPacked) dense() int       { return 2 * p.dirSize }

// pack copies flat weights into the packed layout.
func (p bilstmPacked) pack(dst, flat []float32) {
	for i, f := range p.toFlat {
		dst[i] = flat[f]
	}
}

// unpack copies packed weights into the flat layout.
func (p bilstmPacked) unpack(dst, packed []float32) {
	for i, f := range p.toFlat {
		dst[f] = packed[i]
	}
}

// bilstmShard holds one shard's activations and gradient. Buffers are
// sized for cap rows.
type bilstmShard struct {
	cap int
	// Per direction, per step s (in the direction's reading order):
	hx  [2][]float32 // T × cap × K: the step's input [h_{s-1}, x_t]
	act [2][]float32 // T × cap × 4H: gate activations
	c   [2][]float32 // (T+1) × cap × H: cell states, c[0] = 0
	tc  [2][]float32 // T × cap × H: tanh of the cell states
	hT  [2][]float32 // cap × H: the last hidden state

	logits []float32 // cap × C
	p      []float64 // C: one row's softmax
	// Backward scratch.
	dA, dh, dhPrev, dhFwd, dc, hxT, colsum, dlogit, dhcat []float32

	grad []float32 // packed gradient, summed over the shard's rows
	loss float64   // Σ of the rows' weighted cross-entropy
}

func newBiLSTMShard(d bilstmDims, cap int) *bilstmShard {
	K, G, H := d.H+d.F, 4*d.H, d.H
	s := &bilstmShard{cap: cap, logits: make([]float32, cap*d.C), p: make([]float64, d.C)}
	for dir := 0; dir < 2; dir++ {
		s.hx[dir] = make([]float32, d.T*cap*K)
		s.act[dir] = make([]float32, d.T*cap*G)
		s.c[dir] = make([]float32, (d.T+1)*cap*H)
		s.tc[dir] = make([]float32, d.T*cap*H)
		s.hT[dir] = make([]float32, cap*H)
	}
	s.dA = make([]float32, cap*G)
	s.dh, s.dhPrev, s.dhFwd, s.dc = make([]float32, cap*H), make([]float32, cap*H), make([]float32, cap*H), make([]float32, cap*H)
	s.hxT = make([]float32, K*cap)
	s.colsum = make([]float32, G)
	s.dlogit = make([]float32, d.C)
	s.dhcat = make([]float32, 2*H+1)
	s.grad = make([]float32, d.size())
	return s
}

// newBiLSTMTrainer returns an engine starting from the flat weights w.
// avx2 chooses the assembly kernels (ignored where they cannot run); the
// result is the same bits either way.
func newBiLSTMTrainer(d bilstmDims, w []float32, avx2 bool) *bilstmTrainer {
	t := &bilstmTrainer{d: d, avx2: avx2 && haveAVX2FMA, pk: newBiLSTMPacked(d)}
	t.w = make([]float32, d.size())
	t.grad = make([]float32, d.size())
	for dir := 0; dir < 2; dir++ {
		t.stepBias[dir] = make([]float32, d.T*4*d.H)
		t.whT[dir] = make([]float32, 4*d.H*d.H)
	}
	t.setWeights(w)
	return t
}

// setWeights replaces the weights (flat layout); the optimiser's state is
// kept.
func (t *bilstmTrainer) setWeights(w []float32) {
	t.pk.pack(t.w, w)
	t.derive()
}

// weights returns the weights in the flat layout.
func (t *bilstmTrainer) weights() []float32 {
	out := make([]float32, t.d.size())
	t.pk.unpack(out, t.w)
	return out
}

// derive recomputes stepBias and whT from w.
func (t *bilstmTrainer) derive() {
	d, pk := t.d, t.pk
	H, G := d.H, pk.G
	for dir := 0; dir < 2; dir++ {
		bias := t.w[pk.bias(dir) : pk.bias(dir)+G]
		for s := 0; s < d.T; s++ {
			row := t.stepBias[dir][s*G : (s+1)*G]
			copy(row, bias)
			if d.P > 0 {
				for j, v := range t.w[pk.pos(dir)+s*G : pk.pos(dir)+(s+1)*G] {
					row[j] += v
				}
			}
		}
		W := t.w[pk.w(dir):]
		wt := t.whT[dir]
		for k := 0; k < H; k++ {
			for j := 0; j < G; j++ {
				wt[j*H+k] = W[k*G+j]
			}
		}
	}
}

// shardsFor returns n shards of at least cap rows each from pool,
// allocating them when pool has too few or too small ones.
func (t *bilstmTrainer) shardsFor(pool *[]*bilstmShard, n, cap int) []*bilstmShard {
	if len(*pool) < n || (*pool)[0].cap < cap {
		*pool = make([]*bilstmShard, n)
		for i := range *pool {
			(*pool)[i] = newBiLSTMShard(t.d, cap)
		}
	}
	return (*pool)[:n]
}

// parallel runs f(i) for i < n on up to GOMAXPROCS goroutines. Which
// goroutine runs which i must not matter to the result. A panic in f is
// re-raised in the caller's goroutine (goWorkers).
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	goWorkers(workers, func(w int) {
		for i := w; i < n; i += workers {
			f(i)
		}
	})
}

// gradient computes the class-weighted mean cross-entropy of the windows
// idx of x (labels y) and its gradient into t.grad, as the gorgonia graph
// defines it: Σ_r w_r·CE_r / Σ_r w_r with w_r = classW[y_r].
func (t *bilstmTrainer) gradient(x Seqs, y []int, idx []int, classW []float32) float64 {
	var wsum float64
	for _, i := range idx {
		wsum += float64(classW[y[i]])
	}
	per := (len(idx) + trainShards - 1) / trainShards
	shards := t.shardsFor(&t.shards, trainShards, per)
	parallel(trainShards, func(s int) {
		lo, hi := min(s*per, len(idx)), min((s+1)*per, len(idx))
		t.shardGradient(shards[s], x, y, idx[lo:hi], classW, wsum)
	})
	copy(t.grad, shards[0].grad)
	loss := shards[0].loss
	for _, s := range shards[1:] {
		for i, v := range s.grad {
			t.grad[i] += v
		}
		loss += s.loss
	}
	return loss
}

// update applies an Adam step at rate lr with the gradient of the last
// call to gradient.
func (t *bilstmTrainer) update(lr float64) {
	if t.opt == nil {
		t.opt = newAdam(lr, len(t.w))
	}
	t.opt.lr = lr
	t.opt.step(t.w, t.grad)
	t.derive()
}

// shardGradient runs forward and backward over the windows idx and leaves
// their summed gradient in s.grad and loss in s.loss.
func (t *bilstmTrainer) shardGradient(s *bilstmShard, x Seqs, y []int, idx []int, classW []float32, wsum float64) {
	clear(s.grad)
	s.loss = 0
	n := len(idx)
	if n == 0 {
		return
	}
	t.forward(s, x, idx)
	d := t.d
	H, C := d.H, d.C
	dense := t.w[t.pk.dense():]
	gdense := s.grad[t.pk.dense():]
	// Output layer: softmax cross-entropy, its gradient w.r.t. the logits,
	// the dense weights and the two last hidden states (the forward one
	// kept in dhFwd while the backward direction runs).
	for r := 0; r < n; r++ {
		yr := y[idx[r]]
		wr := float64(classW[yr]) / wsum
		logits := s.logits[r*C : (r+1)*C]
		lse := softmaxDet(s.p, logits)
		s.loss += wr * (lse - float64(logits[yr]))
		for c := range s.dlogit {
			g := s.p[c]
			if c == yr {
				g--
			}
			s.dlogit[c] = float32(wr * g)
		}
		hcat := s.hcat(r, H)
		for k, hv := range hcat {
			gk := gdense[k*C : (k+1)*C : (k+1)*C]
			wk := dense[k*C : (k+1)*C : (k+1)*C]
			var dk float32
			for c, g := range s.dlogit {
				gk[c] = fma32(hv, g, gk[c])
				dk = fma32(wk[c], g, dk)
			}
			s.dhcat[k] = dk
		}
		copy(s.dhFwd[r*H:(r+1)*H], s.dhcat[:H])
		copy(s.dh[r*H:(r+1)*H], s.dhcat[H:2*H])
	}
	t.backward(s, 1, n)
	copy(s.dh[:n*H], s.dhFwd[:n*H])
	t.backward(s, 0, n)
}

// hcat returns [h_fwd, h_bwd, 1] of row r of the last forward pass, in the
// shard's dhcat-sized scratch (dhcat itself is filled after this is read).
func (s *bilstmShard) hcat(r, H int) []float32 {
	buf := s.colsum[:2*H+1] // 4H >= 2H+1 for H >= 1
	copy(buf[:H], s.hT[0][r*H:(r+1)*H])
	copy(buf[H:2*H], s.hT[1][r*H:(r+1)*H])
	buf[2*H] = 1
	return buf
}

// forward runs both directions over the windows idx and the dense layer,
// leaving the logits in s.logits and every step's state for backward.
func (t *bilstmTrainer) forward(s *bilstmShard, x Seqs, idx []int) {
	d := t.d
	n := len(idx)
	F, H, G, K, C := d.F, d.H, 4*d.H, d.H+d.F, d.C
	for dir := 0; dir < 2; dir++ {
		W := t.w[t.pk.w(dir) : t.pk.w(dir)+K*G]
		clear(s.c[dir][:n*H]) // c before the first step
		for st := 0; st < d.T; st++ {
			tt := st
			if dir == 1 {
				tt = d.T - 1 - st
			}
			hx := s.hx[dir][st*s.cap*K : st*s.cap*K+n*K]
			act := s.act[dir][st*s.cap*G : st*s.cap*G+n*G]
			sb := t.stepBias[dir][tt*G : (tt+1)*G]
			for r, i := range idx {
				row := hx[r*K : (r+1)*K]
				if st == 0 {
					clear(row[:H])
				}
				copy(row[H:], x.At(i)[tt*F:(tt+1)*F])
				copy(act[r*G:(r+1)*G], sb)
			}
			sgemmAcc(t.avx2, act, hx, W, n, K, G)
			cprev := s.c[dir][st*s.cap*H:]
			cnext := s.c[dir][(st+1)*s.cap*H:]
			tc := s.tc[dir][st*s.cap*H:]
			for r := 0; r < n; r++ {
				var h []float32
				if st+1 < d.T {
					h = s.hx[dir][((st+1)*s.cap+r)*K : ((st+1)*s.cap+r)*K+H]
				} else {
					h = s.hT[dir][r*H : (r+1)*H]
				}
				lstmCellTrain(t.avx2, act[r*G:(r+1)*G], cprev[r*H:(r+1)*H], cnext[r*H:(r+1)*H], tc[r*H:(r+1)*H], h)
			}
		}
	}
	dense := t.w[t.pk.dense():]
	for r := 0; r < n; r++ {
		hcat := s.hcat(r, H)
		logits := s.logits[r*C : (r+1)*C]
		clear(logits)
		for k, hv := range hcat {
			wk := dense[k*C : (k+1)*C : (k+1)*C]
			for c := range logits {
				logits[c] = fma32(hv, wk[c], logits[c])
			}
		}
	}
}

// backward runs direction dir backwards through the n rows' steps, from
// the gradient w.r.t. its last hidden state in s.dh, adding the gradients
// of the direction's weights into s.grad.
func (t *bilstmTrainer) backward(s *bilstmShard, dir, n int) {
	d, pk := t.d, t.pk
	H, G, K := d.H, 4*d.H, d.H+d.F
	gW := s.grad[pk.w(dir) : pk.w(dir)+K*G]
	gBias := s.grad[pk.bias(dir) : pk.bias(dir)+G]
	dh, dhPrev, dc, dA := s.dh[:n*H], s.dhPrev[:n*H], s.dc[:n*H], s.dA[:n*G]
	clear(dc)
	for st := d.T - 1; st >= 0; st-- {
		tt := st
		if dir == 1 {
			tt = d.T - 1 - st
		}
		act := s.act[dir][st*s.cap*G:]
		cprev := s.c[dir][st*s.cap*H:]
		tc := s.tc[dir][st*s.cap*H:]
		for r := 0; r < n; r++ {
			lstmCellBackward(act[r*G:(r+1)*G], cprev[r*H:(r+1)*H], tc[r*H:(r+1)*H],
				dh[r*H:(r+1)*H], dc[r*H:(r+1)*H], dA[r*G:(r+1)*G])
		}
		// dW += [h_{s-1}, x_t]ᵀ · dA
		hx := s.hx[dir][st*s.cap*K : st*s.cap*K+n*K]
		hxT := s.hxT[:K*n]
		for r := 0; r < n; r++ {
			for k, v := range hx[r*K : (r+1)*K] {
				hxT[k*n+r] = v
			}
		}
		sgemmAcc(t.avx2, gW, hxT, dA, K, n, G)
		// The bias and the step's positional row see the column sums.
		cs := s.colsum[:G]
		copy(cs, dA[:G])
		for r := 1; r < n; r++ {
			for j, v := range dA[r*G : (r+1)*G] {
				cs[j] += v
			}
		}
		for j, v := range cs {
			gBias[j] += v
		}
		if d.P > 0 {
			gp := s.grad[pk.pos(dir)+tt*G : pk.pos(dir)+(tt+1)*G]
			for j, v := range cs {
				gp[j] += v
			}
		}
		if st == 0 {
			break
		}
		// dh_{s-1} = dA · W_hᵀ
		clear(dhPrev)
		sgemmAcc(t.avx2, dhPrev, dA, t.whT[dir], n, G, H)
		dh, dhPrev = dhPrev, dh
	}
}

// lstmCellBackward is the backward pass of one LSTM cell update for one
// row: from the gate activations act [σ(i) | σ(f) | tanh(g) | σ(o)], the
// previous cell state cprev, tanh of the new one tc, and the gradients
// w.r.t. the new hidden state dh and new cell state dc, it writes the
// gradient w.r.t. the gate pre-activations into dA and replaces dc with
// the gradient w.r.t. cprev. The derivatives are those of the exact
// functions at the computed values (σ' = σ(1−σ), tanh' = 1−tanh²), which
// the rational approximations match to a few ulps.
func lstmCellBackward(act, cprev, tc, dh, dc, dA []float32) {
	H := len(dh)
	si, sf, tg, so := act[:H], act[H:2*H], act[2*H:3*H], act[3*H:4*H]
	ai, af, ag, ao := dA[:H], dA[H:2*H], dA[2*H:3*H], dA[3*H:4*H]
	cprev, tc, dc = cprev[:H], tc[:H], dc[:H]
	for j, dhj := range dh {
		t := tc[j]
		// Products that feed a sum are rounded explicitly: no fusing (see
		// kernels.go), so both kernel sets and every compiler agree.
		dcj := dc[j] + float32(float32(dhj*so[j])*float32(1-float32(t*t)))
		ao[j] = float32(dhj*t) * float32(so[j]*float32(1-so[j]))
		ai[j] = float32(dcj*tg[j]) * float32(si[j]*float32(1-si[j]))
		af[j] = float32(dcj*cprev[j]) * float32(sf[j]*float32(1-sf[j]))
		ag[j] = float32(dcj*si[j]) * float32(1-float32(tg[j]*tg[j]))
		dc[j] = float32(dcj * sf[j])
	}
}

// softmaxDet writes the softmax of logits into p (same length) and returns
// log Σ exp(logits), in float64 on expDet/logDet so that neither depends on
// the CPU.
func softmaxDet(p []float64, logits []float32) float64 {
	mx := logits[0]
	for _, v := range logits[1:] {
		if v > mx {
			mx = v
		}
	}
	p = p[:len(logits)]
	var sum float64
	for c, v := range logits {
		p[c] = expDet(float64(v) - float64(mx))
		sum += p[c]
	}
	for c := range p {
		p[c] /= sum
	}
	return float64(mx) + logDet(sum)
}

// probs writes the class probabilities (C per window) of every window of x
// into out and the arg-max classes into cls, with the training engine's
// forward pass: the same values on every CPU, which is what the metrics
// written into a model file need. Windows are independent of each other.
func (t *bilstmTrainer) probs(x Seqs, out []float32, cls []int) {
	const chunk = 64
	chunks := (x.N + chunk - 1) / chunk
	workers := min(runtime.GOMAXPROCS(0), chunks, trainShards)
	shards := t.shardsFor(&t.evalShards, max(workers, 1), chunk)
	C := t.d.C
	var next int
	var mu sync.Mutex
	parallel(len(shards), func(w int) {
		s := shards[w]
		idx := make([]int, 0, chunk)
		for {
			mu.Lock()
			k := next
			next++
			mu.Unlock()
			if k >= chunks {
				return
			}
			lo, hi := k*chunk, min((k+1)*chunk, x.N)
			idx = idx[:0]
			for i := lo; i < hi; i++ {
				idx = append(idx, i)
			}
			t.forward(s, x, idx)
			for r, i := range idx {
				logits := s.logits[r*C : (r+1)*C]
				softmaxDet(s.p, logits)
				best := 0
				for c, v := range logits {
					if v > logits[best] {
						best = c
					}
					out[i*C+c] = float32(s.p[c])
				}
				cls[i] = best
			}
		}
	})
}

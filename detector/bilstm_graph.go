package detector

import (
	"fmt"
	"sync"

	gg "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// bilstmGraph is the gorgonia form of a BiLSTM at one fixed batch size, used
// for training (and, in tests and the benchmark, as the reference the plain-Go
// serving path is checked against). A graph and its TapeMachine are not safe
// for concurrent use; callers serialise.
//
// Layout of the input, chosen around gorgonia v0.9.18's traps:
//   - x is [T, B, F+1+P]: time on the leading axis, so each step is one
//     Slice(x, S(t)) of a 3-D node on axis 0, with t < 256 (bilstmDims.validate
//     refuses more: slice bounds are hashed as single bytes, so bounds t and
//     t+256 would be merged into one node and silently read the wrong step).
//     After the F features of every step come the constant 1 that multiplies
//     the bias row of each gate matrix (so no broadcasting op is needed) and
//     the P-wide positional one-hot.
//   - gates are four separate matrices per direction, so no op slices the
//     gate pre-activations; Concat's gradient slices at most F+1+P+H or 2H+1
//     columns, also kept below 256.
//   - SoftMax and LogSoftMax of the same node hash alike and would be
//     merged: a training graph uses LogSoftMax only.
//   - y is [B, C] holding w_class/Σw on the true class of each row (zero for
//     padding rows), so the loss −Σ y⊙log softmax(logits) is the
//     class-weighted mean cross-entropy and masking is free. It is already a
//     mean: never combine it with the solver's WithBatchSize, which would
//     divide by the batch size a second time.
type bilstmGraph struct {
	d      bilstmDims
	batch  int
	dt     tensor.Dtype
	g      *gg.ExprGraph
	x, y   *gg.Node
	params gg.Nodes // 8 gate matrices (dir-major, gates i,f,g,o), then dense
	probs  *gg.Node
	cost   *gg.Node // nil for a forward-only graph
	vm     gg.VM

	xT, yT *tensor.Dense
}

// newBiLSTMGraph builds the graph. With train set it adds the loss and its
// gradient with respect to every parameter and binds dual values for a
// solver; otherwise it computes probabilities only.
func newBiLSTMGraph(d bilstmDims, batch int, dt tensor.Dtype, train bool) (*bilstmGraph, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	if batch <= 0 {
		return nil, fmt.Errorf("%w: bilstm graph batch %d", ErrShape, batch)
	}
	b := &bilstmGraph{d: d, batch: batch, dt: dt, g: gg.NewGraph()}
	g := b.g
	H, C := d.H, d.C
	b.xT = tensor.New(tensor.WithShape(d.T, batch, d.inRows()), tensor.Of(dt))
	b.x = gg.NewTensor(g, dt, 3, gg.WithShape(d.T, batch, d.inRows()), gg.WithName("x"), gg.WithValue(b.xT))
	b.yT = tensor.New(tensor.WithShape(batch, C), tensor.Of(dt))
	b.y = gg.NewMatrix(g, dt, gg.WithShape(batch, C), gg.WithName("y"), gg.WithValue(b.yT))
	ones := gg.NewMatrix(g, dt, gg.WithShape(batch, 1), gg.WithName("ones"), gg.WithValue(filled(dt, 1, batch, 1)))
	zeros := gg.NewMatrix(g, dt, gg.WithShape(batch, H), gg.WithName("h0"), gg.WithValue(filled(dt, 0, batch, H)))

	for dir := 0; dir < 2; dir++ {
		for gate := 0; gate < 4; gate++ {
			name := fmt.Sprintf("w_%s_%c", [2]string{"fwd", "bwd"}[dir], "ifgo"[gate])
			b.params = append(b.params, gg.NewMatrix(g, dt, gg.WithShape(d.gateRows(), H), gg.WithName(name),
				gg.WithValue(filled(dt, 0, d.gateRows(), H))))
		}
	}
	dense := gg.NewMatrix(g, dt, gg.WithShape(2*H+1, C), gg.WithName("w_dense"), gg.WithValue(filled(dt, 0, 2*H+1, C)))
	b.params = append(b.params, dense)

	var last [2]*gg.Node
	for dir := 0; dir < 2; dir++ {
		h, c := zeros, (*gg.Node)(nil)
		w := b.params[dir*4 : dir*4+4]
		for step := 0; step < d.T; step++ {
			t := step
			if dir == 1 {
				t = d.T - 1 - step
			}
			xt, err := gg.Slice(b.x, gg.S(t)) // [B, F+1+P]
			if err != nil {
				return nil, fmt.Errorf("bilstm graph: slice step %d: %w", t, err)
			}
			z := gg.Must(gg.Concat(1, xt, h)) // [B, F+1+P+H]
			gi := gg.Must(gg.Sigmoid(gg.Must(gg.Mul(z, w[0]))))
			gf := gg.Must(gg.Sigmoid(gg.Must(gg.Mul(z, w[1]))))
			gc := gg.Must(gg.Tanh(gg.Must(gg.Mul(z, w[2]))))
			gout := gg.Must(gg.Sigmoid(gg.Must(gg.Mul(z, w[3]))))
			in := gg.Must(gg.HadamardProd(gi, gc))
			if c == nil {
				c = in
			} else {
				c = gg.Must(gg.Add(gg.Must(gg.HadamardProd(gf, c)), in))
			}
			h = gg.Must(gg.HadamardProd(gout, gg.Must(gg.Tanh(c))))
		}
		last[dir] = h
	}
	hcat := gg.Must(gg.Concat(1, last[0], last[1], ones)) // [B, 2H+1]
	logits := gg.Must(gg.Mul(hcat, dense))                // [B, C]
	if !train {
		b.probs = gg.Must(gg.SoftMax(logits, 1))
		b.vm = gg.NewTapeMachine(g)
		return b, nil
	}
	// SoftMax and LogSoftMax of one node hash alike in v0.9.18 (the hash
	// ignores isLog) and would be merged into one node: a training graph
	// therefore has LogSoftMax only.
	logp := gg.Must(gg.LogSoftMax(logits, 1))
	b.probs = gg.Must(gg.Exp(logp))
	b.cost = gg.Must(gg.Neg(gg.Must(gg.Sum(gg.Must(gg.HadamardProd(logp, b.y))))))
	if _, err := gg.Grad(b.cost, b.params...); err != nil {
		return nil, fmt.Errorf("bilstm graph: gradient: %w", err)
	}
	b.vm = gg.NewTapeMachine(g, gg.BindDualValues(b.params...))
	return b, nil
}

// filled returns a tensor of shape shp whose every element is v.
func filled(dt tensor.Dtype, v float64, shp ...int) *tensor.Dense {
	t := tensor.New(tensor.WithShape(shp...), tensor.Of(dt))
	switch data := t.Data().(type) {
	case []float32:
		for i := range data {
			data[i] = float32(v)
		}
	case []float64:
		for i := range data {
			data[i] = v
		}
	}
	return t
}

// setWeights copies the flat weights (bilstmDims layout) into the graph's
// parameter values.
func (b *bilstmGraph) setWeights(w []float64) {
	off := 0
	for _, p := range b.params {
		switch data := p.Value().Data().(type) {
		case []float32:
			for i := range data {
				data[i] = float32(w[off+i])
			}
			off += len(data)
		case []float64:
			off += copy(data, w[off:])
		}
	}
}

// weights returns the graph's parameter values as one flat vector.
func (b *bilstmGraph) weights() []float64 {
	out := make([]float64, 0, b.d.size())
	for _, p := range b.params {
		switch data := p.Value().Data().(type) {
		case []float32:
			for _, v := range data {
				out = append(out, float64(v))
			}
		case []float64:
			out = append(out, data...)
		}
	}
	return out
}

// grads returns the gradient of the cost with respect to every parameter,
// flat, after a run of a training graph.
func (b *bilstmGraph) grads() ([]float64, error) {
	out := make([]float64, 0, b.d.size())
	for _, p := range b.params {
		gv, err := p.Grad()
		if err != nil {
			return nil, fmt.Errorf("bilstm graph: grad of %s: %w", p.Name(), err)
		}
		switch data := gv.Data().(type) {
		case []float32:
			for _, v := range data {
				out = append(out, float64(v))
			}
		case []float64:
			out = append(out, data...)
		}
	}
	return out, nil
}

// load fills the input tensors with the windows idx of x (len(idx) <=
// batch) and, when y is non-nil, the weighted one-hot targets; rows past
// len(idx) are padding (zero features, zero target weight).
func (b *bilstmGraph) load(x Seqs, idx []int, y []int, classW []float32) {
	d := b.d
	in := d.inRows()
	var wsum float64
	for _, i := range idx {
		if y != nil {
			wsum += float64(classW[y[i]])
		}
	}
	// The constant columns (bias 1, positional one-hot) of every row.
	consts := func(t, r int) (bias, pos int) {
		base := (t*b.batch + r) * in
		return base + d.F, base + d.F + 1 + t
	}
	switch xd := b.xT.Data().(type) {
	case []float32:
		clear(xd)
		for r := 0; r < b.batch; r++ {
			for t := 0; t < d.T; t++ {
				bias, pos := consts(t, r)
				xd[bias] = 1
				if d.P > 0 {
					xd[pos] = 1
				}
				if r < len(idx) {
					copy(xd[bias-d.F:bias], x.At(idx[r])[t*d.F:(t+1)*d.F])
				}
			}
		}
	case []float64:
		clear(xd)
		for r := 0; r < b.batch; r++ {
			for t := 0; t < d.T; t++ {
				bias, pos := consts(t, r)
				xd[bias] = 1
				if d.P > 0 {
					xd[pos] = 1
				}
				if r < len(idx) {
					for k, v := range x.At(idx[r])[t*d.F : (t+1)*d.F] {
						xd[bias-d.F+k] = float64(v)
					}
				}
			}
		}
	}
	if y == nil {
		return
	}
	switch yd := b.yT.Data().(type) {
	case []float32:
		clear(yd)
		for r, i := range idx {
			yd[r*d.C+y[i]] = float32(float64(classW[y[i]]) / wsum)
		}
	case []float64:
		clear(yd)
		for r, i := range idx {
			yd[r*d.C+y[i]] = float64(classW[y[i]]) / wsum
		}
	}
}

// run executes the graph once on the loaded inputs and returns the cost
// (0 for a forward-only graph).
func (b *bilstmGraph) run() (float64, error) {
	b.vm.Reset()
	if err := b.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("bilstm graph: run: %w", err)
	}
	if b.cost == nil {
		return 0, nil
	}
	switch v := b.cost.Value().Data().(type) {
	case float32:
		return float64(v), nil
	case float64:
		return v, nil
	}
	return 0, fmt.Errorf("bilstm graph: unexpected cost type %T", b.cost.Value().Data())
}

// probsInto copies the first n rows of the last run's probabilities into out
// (n·C values).
func (b *bilstmGraph) probsInto(out []float32, n int) {
	switch v := b.probs.Value().Data().(type) {
	case []float32:
		copy(out, v[:n*b.d.C])
	case []float64:
		for i := range out[:n*b.d.C] {
			out[i] = float32(v[i])
		}
	}
}

// GorgoniaPredictor scores windows with a forward-only gorgonia graph over
// a BiLSTM's weights: the reference the serving path (BiLSTM.Predict) is
// tested and measured against. Probs serialises its calls, because one
// graph (one TapeMachine) is not safe for concurrent use: to run graphs in
// parallel, make one GorgoniaPredictor per goroutine.
type GorgoniaPredictor struct {
	mu sync.Mutex
	g  *bilstmGraph
}

// NewGorgoniaPredictor builds a forward graph of batch windows over a copy
// of m's current weights: later changes to m do not reach it. m must have
// weights (else ErrNotFitted) and batch be positive.
func NewGorgoniaPredictor(m *BiLSTM, batch int) (*GorgoniaPredictor, error) {
	if m.w == nil {
		return nil, ErrNotFitted
	}
	if batch <= 0 {
		return nil, fmt.Errorf("%w: gorgonia predictor batch %d", ErrShape, batch)
	}
	g, err := newBiLSTMGraph(m.d, batch, tensor.Float32, false)
	if err != nil {
		return nil, err
	}
	w64 := make([]float64, len(m.w))
	for i, v := range m.w {
		w64[i] = float64(v)
	}
	g.setWeights(w64)
	return &GorgoniaPredictor{g: g}, nil
}

// Probs returns the class probabilities of every window of x: x.N rows of
// C values, row-major, in x's order. x must have the model's T and F (else
// an error wrapping ErrShape); it is cut into batches of the graph's size,
// the last one padded.
func (p *GorgoniaPredictor) Probs(x Seqs) ([]float32, error) {
	if err := x.Validate(); err != nil {
		return nil, err
	}
	if x.T != p.g.d.T || x.F != p.g.d.F {
		return nil, fmt.Errorf("%w: gorgonia predictor expects T=%d F=%d, got T=%d F=%d", ErrShape, p.g.d.T, p.g.d.F, x.T, x.F)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]float32, x.N*p.g.d.C)
	idx := make([]int, 0, p.g.batch)
	for lo := 0; lo < x.N; lo += p.g.batch {
		hi := min(lo+p.g.batch, x.N)
		idx = idx[:0]
		for i := lo; i < hi; i++ {
			idx = append(idx, i)
		}
		p.g.load(x, idx, nil, nil)
		if _, err := p.g.run(); err != nil {
			return nil, err
		}
		p.g.probsInto(out[lo*p.g.d.C:], hi-lo)
	}
	return out, nil
}

package detector

import (
	"fmt"

	gg "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// aeGraph is the gorgonia training graph of an autoencoder at one fixed
// batch size. Its input is already transformed (aeDims.transform); each
// layer appends a constant-1 column so that the bias is the last row of the
// layer's matrix (no broadcasting op). The loss is the mean squared error
// over the batch and the features, already a mean: never combine it with
// the solver's WithBatchSize. Not safe for concurrent use.
type aeGraph struct {
	d      aeDims
	batch  int
	g      *gg.ExprGraph
	xT     *tensor.Dense
	params gg.Nodes
	out    *gg.Node
	cost   *gg.Node
	vm     gg.VM
}

func newAEGraph(d aeDims, batch int, dt tensor.Dtype, train bool) (*aeGraph, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	a := &aeGraph{d: d, batch: batch, g: gg.NewGraph()}
	g := a.g
	a.xT = tensor.New(tensor.WithShape(batch, d.F), tensor.Of(dt))
	x := gg.NewMatrix(g, dt, gg.WithShape(batch, d.F), gg.WithName("x"), gg.WithValue(a.xT))
	ones := gg.NewMatrix(g, dt, gg.WithShape(batch, 1), gg.WithName("ones"), gg.WithValue(filled(dt, 1, batch, 1)))
	sizes := d.sizes()
	h := x
	for l := 0; l+1 < len(sizes); l++ {
		w := gg.NewMatrix(g, dt, gg.WithShape(sizes[l]+1, sizes[l+1]), gg.WithName(fmt.Sprintf("w%d", l)),
			gg.WithValue(filled(dt, 0, sizes[l]+1, sizes[l+1])))
		a.params = append(a.params, w)
		h = gg.Must(gg.Mul(gg.Must(gg.Concat(1, h, ones)), w))
		if l+2 < len(sizes) {
			h = gg.Must(gg.Tanh(h))
		}
	}
	a.out = h
	if train {
		a.cost = gg.Must(gg.Mean(gg.Must(gg.Square(gg.Must(gg.Sub(h, x))))))
		if _, err := gg.Grad(a.cost, a.params...); err != nil {
			return nil, fmt.Errorf("autoencoder graph: gradient: %w", err)
		}
		a.vm = gg.NewTapeMachine(g, gg.BindDualValues(a.params...))
	} else {
		a.vm = gg.NewTapeMachine(g)
	}
	return a, nil
}

// setWeights copies the layer part of a flat autoencoder weight vector.
func (a *aeGraph) setWeights(layers []float32) {
	off := 0
	for _, p := range a.params {
		switch data := p.Value().Data().(type) {
		case []float32:
			off += copy(data, layers[off:])
		case []float64:
			for i := range data {
				data[i] = float64(layers[off+i])
			}
			off += len(data)
		}
	}
}

// layers returns the graph's parameters as the layer part of the flat
// weight vector.
func (a *aeGraph) layers() []float32 {
	out := make([]float32, 0, a.d.size())
	for _, p := range a.params {
		switch data := p.Value().Data().(type) {
		case []float32:
			out = append(out, data...)
		case []float64:
			for _, v := range data {
				out = append(out, float32(v))
			}
		}
	}
	return out
}

// load fills the input with the transformed rows idx of u (rows of F values).
func (a *aeGraph) load(u []float32, idx []int) {
	F := a.d.F
	switch xd := a.xT.Data().(type) {
	case []float32:
		clear(xd)
		for r, i := range idx {
			copy(xd[r*F:(r+1)*F], u[i*F:(i+1)*F])
		}
	case []float64:
		clear(xd)
		for r, i := range idx {
			for k := 0; k < F; k++ {
				xd[r*F+k] = float64(u[i*F+k])
			}
		}
	}
}

func (a *aeGraph) run() (float64, error) {
	a.vm.Reset()
	if err := a.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("autoencoder graph: run: %w", err)
	}
	if a.cost == nil {
		return 0, nil
	}
	switch v := a.cost.Value().Data().(type) {
	case float32:
		return float64(v), nil
	case float64:
		return v, nil
	}
	return 0, fmt.Errorf("autoencoder graph: unexpected cost type %T", a.cost.Value().Data())
}

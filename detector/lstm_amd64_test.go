//go:build !purego

package detector

import (
	"math"
	"testing"
)

func needAVX2(t *testing.T) {
	t.Helper()
	if !haveAVX2FMA {
		t.Skip("this CPU lacks AVX2 or FMA: the portable serving path is used and tested instead")
	}
}

// TestSgemmAccAVX2 checks the kernel against a float64 product for widths
// that exercise both column loops (64 at a time, then 8) and several rows.
func TestSgemmAccAVX2(t *testing.T) {
	needAVX2(t)
	r := newRand(3, 0)
	for _, sz := range [][3]int{{1, 1, 8}, {3, 33, 128}, {5, 17, 72}, {2, 9, 200}, {64, 33, 128}, {4, 1, 64}} {
		rows, k, n := sz[0], sz[1], sz[2]
		a, b, c := make([]float32, rows*k), make([]float32, k*n), make([]float32, rows*n)
		for _, v := range [][]float32{a, b, c} {
			for i := range v {
				v[i] = 2*r.Float32() - 1
			}
		}
		want := make([]float64, len(c))
		for i := range rows {
			for j := range n {
				s := float64(c[i*n+j])
				for l := range k {
					s += float64(a[i*k+l]) * float64(b[l*n+j])
				}
				want[i*n+j] = s
			}
		}
		sgemmAccAVX2(&c[0], &a[0], &b[0], rows, k, n)
		for i, w := range want {
			if d := math.Abs(float64(c[i]) - w); d > 1e-5*float64(k) {
				t.Fatalf("rows=%d k=%d n=%d: c[%d] = %v, want %v", rows, k, n, i, c[i], w)
			}
		}
	}
}

// TestLSTMCellAVX2 checks the cell update, and with it the kernel's tanh
// and σ, against float64 math over pre-activations from -20 to 20.
func TestLSTMCellAVX2(t *testing.T) {
	needAVX2(t)
	const H = 16
	r := newRand(4, 0)
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	var worst float64
	for trial := range 2000 {
		gates, c, h := make([]float32, 4*H), make([]float32, H), make([]float32, H)
		scale := float32(1 + trial%20) // from ±1 to ±20
		for i := range gates {
			gates[i] = scale * (2*r.Float32() - 1)
		}
		for i := range c {
			c[i] = 4 * (2*r.Float32() - 1)
		}
		c0 := append([]float32(nil), c...)
		lstmCellAVX2(&gates[0], &c[0], &h[0], H)
		for j := range H {
			cj := sig(float64(gates[H+j]))*float64(c0[j]) + sig(float64(gates[j]))*math.Tanh(float64(gates[2*H+j]))
			hj := sig(float64(gates[3*H+j])) * math.Tanh(cj)
			worst = max(worst, math.Abs(float64(c[j])-cj), math.Abs(float64(h[j])-hj))
		}
	}
	// The rational tanh is good to a few float32 ulps; the table it
	// replaces to 8e-7.
	if worst > 2e-6 {
		t.Fatalf("max |error| of the cell update = %g, want <= 2e-6", worst)
	}
	t.Logf("max |error| of the cell update: %.2g", worst)
}

// TestBiLSTMKernelsAgree scores the shipped model's sample data with both
// serving paths and with the training engine's forward pass (PredictExact,
// the CPU-independent figures a model file records): the classes must be the
// same everywhere. The AVX2 serving path computes what the engine computes
// up to the dense layer's summation order, so it stays within 1e-6 of it;
// the portable serving path's table activations are good to about 4e-7
// each, which 35 steps of the trained default model carry up to about 2e-5
// in a probability (6e-5 allowed).
func TestBiLSTMKernelsAgree(t *testing.T) {
	needAVX2(t)
	var nets [2]*Detector
	for i := range nets {
		d, err := DefaultDetector()
		if err != nil {
			t.Fatal(err)
		}
		nets[i] = d
	}
	m, ok := nets[1].Model.(*BiLSTM)
	if !ok || !m.net.avx2 {
		t.Fatalf("the default model is %T; want a BiLSTM on the AVX2 path", nets[1].Model)
	}
	m.net.avx2 = false
	flows, _ := loadAll(t, "nf-bot-iot-v2", LoadOptions{}, nfSample)
	fast, err := nets[0].Detect(flows)
	if err != nil {
		t.Fatal(err)
	}
	table, err := nets[1].Detect(flows)
	if err != nil {
		t.Fatal(err)
	}
	exact, err := m.PredictExact(nets[1].Pipeline.Transform(flows))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		preds []Prediction
		tol   float64
	}{{"portable serving", table, 6e-5}, {"training engine", exact, 1e-6}} {
		var maxDiff float64
		for i := range fast {
			if fast[i].Class != c.preds[i].Class {
				t.Errorf("flow %d: class %d with AVX2, %d on the %s path", i, fast[i].Class, c.preds[i].Class, c.name)
			}
			for k := range fast[i].Probs {
				maxDiff = math.Max(maxDiff, math.Abs(float64(fast[i].Probs[k]-c.preds[i].Probs[k])))
			}
		}
		if maxDiff > c.tol {
			t.Errorf("max |Δp| between AVX2 serving and the %s path = %g, want <= %g", c.name, maxDiff, c.tol)
		}
		t.Logf("%d flows: max |Δp| AVX2 serving vs %s = %.2g", len(flows), c.name, maxDiff)
	}
}

// TestKernelsBitIdentical holds the assembly to its Go reference
// (kernels.go) bit for bit: the FMA of crafted and random operands, the
// product over every column blocking (64, 32 and 8 at a time), and both
// cell kernels over pre-activations from -20 to 20, beyond the clamp.
func TestKernelsBitIdentical(t *testing.T) {
	needAVX2(t)
	for _, c := range fmaCases() {
		cc, want := []float32{c[2], 0, 0, 0, 0, 0, 0, 0}, fma32(c[0], c[1], c[2])
		b := []float32{c[1], 0, 0, 0, 0, 0, 0, 0}
		sgemmAccAVX2(&cc[0], &c[0], &b[0], 1, 1, 8)
		if math.Float32bits(cc[0]) != math.Float32bits(want) {
			t.Errorf("FMA(%g, %g, %g): assembly %g, fma32 %g", c[0], c[1], c[2], cc[0], want)
		}
	}
	r := newRand(5, 0)
	for _, sz := range [][3]int{{1, 1, 8}, {3, 33, 128}, {5, 17, 72}, {2, 9, 200}, {16, 128, 32}, {33, 16, 128}, {4, 1, 96}, {7, 40, 40}} {
		rows, k, n := sz[0], sz[1], sz[2]
		a, b, c := make([]float32, rows*k), make([]float32, k*n), make([]float32, rows*n)
		for _, v := range [][]float32{a, b, c} {
			for i := range v {
				v[i] = float32(math.Ldexp(2*r.Float64()-1, r.IntN(30)-15))
			}
		}
		ref := append([]float32(nil), c...)
		sgemmAccAVX2(&c[0], &a[0], &b[0], rows, k, n)
		sgemmAccGo(ref, a, b, rows, k, n)
		for i := range c {
			if math.Float32bits(c[i]) != math.Float32bits(ref[i]) {
				t.Fatalf("rows=%d k=%d n=%d: c[%d] assembly %g, Go %g", rows, k, n, i, c[i], ref[i])
			}
		}
	}
	const H = 16
	for trial := range 3000 {
		gates := make([]float32, 4*H)
		scale := float32(1 + trial%20)
		for i := range gates {
			gates[i] = scale * (2*r.Float32() - 1)
		}
		if trial == 0 {
			gates[3] = float32(math.NaN())
			gates[4] = float32(math.Inf(-1))
		}
		cprev := make([]float32, H)
		for i := range cprev {
			cprev[i] = 4 * (2*r.Float32() - 1)
		}
		// Serving cell (in place) and training cell, assembly and Go.
		gA, cA, hA := append([]float32(nil), gates...), append([]float32(nil), cprev...), make([]float32, H)
		lstmCellAVX2(&gA[0], &cA[0], &hA[0], H)
		gG, cG, hG := append([]float32(nil), gates...), append([]float32(nil), cprev...), make([]float32, H)
		lstmCellGo(gG, cG, hG)
		gT, cT, tcT, hT := append([]float32(nil), gates...), make([]float32, H), make([]float32, H), make([]float32, H)
		lstmCellTrainAVX2(&gT[0], &cprev[0], &cT[0], &tcT[0], &hT[0], H)
		gR, cR, tcR, hR := append([]float32(nil), gates...), make([]float32, H), make([]float32, H), make([]float32, H)
		lstmCellTrainGo(gR, cprev, cR, tcR, hR)
		same := func(what string, x, y []float32) {
			t.Helper()
			for j := range x {
				if math.Float32bits(x[j]) != math.Float32bits(y[j]) {
					t.Fatalf("trial %d: %s[%d]: %g vs %g", trial, what, j, x[j], y[j])
				}
			}
		}
		same("serving c (asm vs Go)", cA, cG)
		same("serving h (asm vs Go)", hA, hG)
		same("training c (asm vs serving asm)", cT, cA)
		same("training h (asm vs serving asm)", hT, hA)
		same("training c (asm vs Go)", cT, cR)
		same("training h (asm vs Go)", hT, hR)
		same("training tanh(c) (asm vs Go)", tcT, tcR)
		same("activations (asm vs Go)", gT, gR)
	}
}

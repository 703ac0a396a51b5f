package detector

import (
	"math"
	"math/big"
	"testing"
)

// fmaExact is x·y+z rounded once to float32 (nearest, ties to even), by
// exact big.Float arithmetic: the oracle for fma32.
func fmaExact(x, y, z float32) float32 {
	p := new(big.Float).SetPrec(200).SetFloat64(float64(x))
	p.Mul(p, new(big.Float).SetPrec(200).SetFloat64(float64(y)))
	p.Add(p, new(big.Float).SetPrec(200).SetFloat64(float64(z)))
	f, _ := p.Float32()
	return f
}

// fmaCases are operands whose float64 sum lands exactly halfway between
// two float32 values although the exact sum does not: float32(x·y+z) in
// float64 rounds them the wrong way, a correct FMA does not.
func fmaCases() [][3]float32 {
	x := float32(math.Ldexp(1+0x1p-23, -24)) // 2^-24·(1+2^-23)
	y := float32(1 - 0x1p-23)                // x·y = 2^-24 − 2^-70
	var out [][3]float32
	for _, z := range []float32{1 + 0x1p-23, 1 + 3*0x1p-23, 1.5 + 0x1p-23, -(1 + 0x1p-23)} {
		sx := x
		if z < 0 {
			sx = -x
		}
		out = append(out, [3]float32{sx, y, z})
	}
	// Subnormal results, where float32's rounding point is not bit 29.
	out = append(out, [3]float32{0x1p-75, 0x1p-75 * 1.75, 0x1p-149}, [3]float32{-0x1p-70, 0x1p-70, 0x1p-140})
	return out
}

func TestFMA32(t *testing.T) {
	naiveWrong := 0
	for _, c := range fmaCases() {
		want := fmaExact(c[0], c[1], c[2])
		if got := fma32(c[0], c[1], c[2]); math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("fma32(%g, %g, %g) = %g, want %g", c[0], c[1], c[2], got, want)
		}
		if float32(float64(c[0])*float64(c[1])+float64(c[2])) != want {
			naiveWrong++
		}
	}
	if naiveWrong == 0 {
		t.Error("no crafted case trips the naive float64 FMA: the cases test nothing")
	}
	r := newRand(21, 0)
	for i := 0; i < 200000; i++ {
		// Operands over a wide range of exponents, so that products are
		// often far smaller or larger than the addend.
		v := func() float32 {
			return float32(math.Ldexp(2*r.Float64()-1, r.IntN(120)-60))
		}
		x, y, z := v(), v(), v()
		if want, got := fmaExact(x, y, z), fma32(x, y, z); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", x, y, z, got, want)
		}
	}
}

// TestTanhRational bounds the rational tanh (the assembly's, see
// kernels.go) against math.Tanh and pins its clamp.
func TestTanhRational(t *testing.T) {
	var worstT, worstS float64
	for x := -12.0; x <= 12; x += 0.00071 {
		worstT = math.Max(worstT, math.Abs(float64(tanhRational(float32(x)))-math.Tanh(float64(float32(x)))))
		s := 1 / (1 + math.Exp(-float64(float32(x))))
		worstS = math.Max(worstS, math.Abs(float64(sigmoidRational(float32(x)))-s))
	}
	t.Logf("max |error|: tanh %.2g, sigmoid %.2g", worstT, worstS)
	if worstT > 1e-6 || worstS > 1e-6 {
		t.Errorf("max |error| tanh %.2g, sigmoid %.2g, want <= 1e-6", worstT, worstS)
	}
	hi := tanhRational(tanhClamp)
	for _, x := range []float32{tanhClamp, 8, 1e30, float32(math.Inf(1)), float32(math.NaN())} {
		if got := tanhRational(x); got != hi {
			t.Errorf("tanhRational(%g) = %g, want the clamped %g", x, got, hi)
		}
	}
	if got := tanhRational(float32(math.Inf(-1))); got != -hi {
		t.Errorf("tanhRational(-Inf) = %g, want %g", got, -hi)
	}
	if tanhRational(0) != 0 {
		t.Errorf("tanhRational(0) = %g", tanhRational(0))
	}
}

// TestLSTMCellGoMatchesMath checks the Go reference cell against float64
// math, as TestLSTMCellAVX2 checks the assembly (which must then give the
// same bits: TestKernelsBitIdentical).
func TestLSTMCellGoMatchesMath(t *testing.T) {
	const H = 12
	r := newRand(4, 0)
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	var worst float64
	for trial := range 500 {
		gates, c, h := make([]float32, 4*H), make([]float32, H), make([]float32, H)
		scale := float32(1 + trial%20)
		for i := range gates {
			gates[i] = scale * (2*r.Float32() - 1)
		}
		for i := range c {
			c[i] = 4 * (2*r.Float32() - 1)
		}
		g0, c0 := append([]float32(nil), gates...), append([]float32(nil), c...)
		lstmCellGo(gates, c, h)
		for j := range H {
			cj := sig(float64(g0[H+j]))*float64(c0[j]) + sig(float64(g0[j]))*math.Tanh(float64(g0[2*H+j]))
			hj := sig(float64(g0[3*H+j])) * math.Tanh(cj)
			worst = max(worst, math.Abs(float64(c[j])-cj), math.Abs(float64(h[j])-hj))
		}
	}
	if worst > 2e-6 {
		t.Fatalf("max |error| of the Go cell = %g, want <= 2e-6", worst)
	}
}

func TestExpLogDet(t *testing.T) {
	r := newRand(9, 0)
	for i := 0; i < 100000; i++ {
		x := (2*r.Float64() - 1) * 700
		if got, want := expDet(x), math.Exp(x); math.Abs(got-want) > 5e-16*want {
			t.Fatalf("expDet(%g) = %g, want %g", x, got, want)
		}
		y := math.Ldexp(r.Float64()+0.5, r.IntN(200)-100)
		if got, want := logDet(y), math.Log(y); math.Abs(got-want) > 5e-16*math.Max(1, math.Abs(want)) {
			t.Fatalf("logDet(%g) = %g, want %g", y, got, want)
		}
	}
	if expDet(0) != 1 || logDet(1) != 0 || expDet(math.Inf(-1)) != 0 || !math.IsInf(logDet(0), -1) {
		t.Error("special values")
	}
}

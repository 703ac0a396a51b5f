package detector

import "math"

// This file is the Go reference of the AVX2 + FMA kernels in lstm_amd64.s,
// written so that it gives the same bits: every fused multiply-add of the
// assembly is an fma32 here, every plain product an explicitly rounded
// float32 product, in the same order. The training engine (bilstm_fast.go,
// autoencoder_fast.go) runs on either and so trains the same model, byte for
// byte, on a CPU with AVX2 and FMA and on one without (or another
// architecture, or a purego build): that is what lets `make model` rebuild
// the committed default model on any machine. The assembly is about ten
// times faster; TestKernelsBitIdentical holds the two together.
//
// Explicit float32(...) conversions around products are not decoration:
// the Go spec lets the compiler fuse x*y+z into one FMA (it does on arm64,
// and on amd64 with GOAMD64=v3), and a conversion is what forbids it.

// fma32 returns x·y+z rounded once to float32, as VFMADD*PS computes it,
// without relying on an FMA instruction. x·y is exact in float64 (24+24
// significant bits), so s = x·y+z rounded to float64 is one rounding; the
// conversion to float32 is a second one, which can only go wrong when s
// lands exactly halfway between two float32 values while the exact sum was
// not there (or when the result is a float32 subnormal, whose rounding
// point is elsewhere). Those rare cases are redone with round-to-odd: the
// exact error of the float64 sum (Knuth's TwoSum) says which side of s the
// exact value lies on, and moving s one float64 ulp towards it before the
// conversion makes float32 rounding see the right side.
func fma32(x, y, z float32) float32 {
	s := float64(x)*float64(y) + float64(z)
	if b := math.Float64bits(s); b&fmaLow29 == fmaHalf29 || b<<1-1 < fmaMinNorm-1 {
		return fma32Slow(x, y, z, s)
	}
	return float32(s)
}

const (
	fmaLow29   = 1<<29 - 1          // the float64 mantissa bits below float32's
	fmaHalf29  = 1 << 28            // ... holding exactly half a float32 ulp
	fmaMinNorm = (1023 - 126) << 53 // b<<1 below this: |s| < 2^-126, a float32 subnormal or 0 (0 is exact: b<<1-1 wraps round)
)

// fma32Slow rounds the exact x·y+z to float32 given s = x·y+z rounded to
// float64, by round-to-odd (see fma32).
func fma32Slow(x, y, z float32, s float64) float32 {
	if s == 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return float32(s)
	}
	p, zz := float64(x)*float64(y), float64(z)
	bv := s - p
	e := (p - (s - bv)) + (zz - bv) // p+z = s+e exactly
	if e == 0 {
		return float32(s)
	}
	b := math.Float64bits(s)
	if (e < 0) != (s < 0) {
		b-- // |p+z| < |s|: truncation towards zero is one ulp below s
	}
	return float32(math.Float64frombits(b | 1))
}

// The rational tanh of the assembly kernels (TANH in lstm_amd64.s): x is
// clamped to ±tanhClamp, where the approximation reaches ±1 in float32,
// then tanh(x) ≈ x·P(x²)/Q(x²) with P of degree 6 and Q of degree 3 in x²
// (the minimax coefficients Eigen uses for float32; good to a few ulps).
const (
	tanhClamp = 7.90531110763549805
	tanhA13   = -2.76076847742355e-16
	tanhA11   = 2.00018790482477e-13
	tanhA9    = -8.60467152213735e-11
	tanhA7    = 5.12229709037114e-08
	tanhA5    = 1.48572235717979e-05
	tanhA3    = 6.37261928875436e-04
	tanhA1    = 4.89352455891786e-03
	tanhB6    = 1.19825839466702e-06
	tanhB4    = 1.18534705686654e-04
	tanhB2    = 2.26843463243900e-03
	tanhB0    = 4.89352518554385e-03
)

// tanhRational is TANH of lstm_amd64.s, bit for bit. The clamp follows
// VMINPS/VMAXPS, which return their second (memory) operand when the first
// is NaN: NaN maps to tanh(+clamp), not to NaN.
func tanhRational(x float32) float32 {
	if !(x < tanhClamp) {
		x = tanhClamp
	}
	if !(x > -tanhClamp) {
		x = -tanhClamp
	}
	x2 := float32(x * x)
	p := fma32(x2, tanhA13, tanhA11)
	p = fma32(x2, p, tanhA9)
	p = fma32(x2, p, tanhA7)
	p = fma32(x2, p, tanhA5)
	p = fma32(x2, p, tanhA3)
	p = fma32(x2, p, tanhA1)
	x = float32(x * p)
	q := fma32(x2, tanhB6, tanhB4)
	q = fma32(x2, q, tanhB2)
	q = fma32(x2, q, tanhB0)
	return x / q
}

// sigmoidRational is SIGMOID of lstm_amd64.s: σ(x) = tanh(x/2)/2 + 1/2.
func sigmoidRational(x float32) float32 {
	return fma32(tanhRational(float32(x*0.5)), 0.5, 0.5)
}

// sgemmAccGo is sgemmAccAVX2 in Go: for each of rows rows r,
// c[r·n : r·n+n] += Σ_l a[r·k+l] · b[l·n : l·n+n], each element summed over
// l in order with one rounding per step, as the assembly does. Any n.
func sgemmAccGo(c, a, b []float32, rows, k, n int) {
	save := make([]float32, n)
	for r := 0; r < rows; r++ {
		cr := c[r*n : (r+1)*n : (r+1)*n]
		ar := a[r*k : (r+1)*k : (r+1)*k]
		for l, av := range ar {
			br := b[l*n : (l+1)*n : (l+1)*n]
			br = br[:len(cr)]
			// fma32 by hand, with its rare slow path out of the loop (a call
			// inside it costs more than the arithmetic): the loop flags an
			// element whose double rounding may be wrong, and the row is
			// then redone from a copy with fma32.
			copy(save, cr)
			a64 := float64(av)
			// The smallest distance from a float32 midpoint and the smallest
			// magnitude seen, kept with branch-free min.
			mid, mag := uint64(math.MaxUint64), uint64(math.MaxUint64)
			for j, bv := range br {
				s := a64*float64(bv) + float64(cr[j])
				bits := math.Float64bits(s)
				mid = min(mid, (bits^fmaHalf29)&fmaLow29)
				mag = min(mag, bits<<1-1) // 0 wraps round: a zero sum is exact
				cr[j] = float32(s)
			}
			if mid == 0 || mag < fmaMinNorm-1 {
				for j, bv := range br {
					cr[j] = fma32(av, bv, save[j])
				}
			}
		}
	}
}

// sgemmAcc is sgemmAccAVX2 where avx2 is set and n is a multiple of 8, and
// sgemmAccGo otherwise: the same bits either way.
func sgemmAcc(avx2 bool, c, a, b []float32, rows, k, n int) {
	if rows == 0 || k == 0 || n == 0 {
		return
	}
	_ = c[rows*n-1]
	_ = a[rows*k-1]
	_ = b[k*n-1]
	if avx2 && n%8 == 0 {
		sgemmAccAVX2(&c[0], &a[0], &b[0], rows, k, n)
		return
	}
	sgemmAccGo(c, a, b, rows, k, n)
}

// lstmCellGo is lstmCellAVX2 in Go, bit for bit: gates holds the gate
// pre-activations [i | f | g | o] (len(c) each), c the cell state (updated
// in place), and h receives σ(o)·tanh(c).
func lstmCellGo(gates, c, h []float32) {
	lstmCellTrainGo(gates[:4*len(c):4*len(c)], c, c, nil, h)
}

// lstmCellTrainGo is lstmCellTrainAVX2 in Go, bit for bit: the cell update
// of lstmCellGo reading the previous state from cprev and writing the new
// one to c (they may alias), and keeping what the backward pass needs: the
// gate activations [σ(i) | σ(f) | tanh(g) | σ(o)] replace the
// pre-activations in gates, and tc (unless nil) receives tanh(c).
func lstmCellTrainGo(gates, cprev, c, tc, h []float32) {
	H := len(c)
	gi, gf, gg, gout := gates[:H], gates[H:2*H], gates[2*H:3*H], gates[3*H:4*H]
	cprev, h = cprev[:H], h[:H]
	for j := range c {
		si := sigmoidRational(gi[j])
		sf := sigmoidRational(gf[j])
		tg := tanhRational(gg[j])
		so := sigmoidRational(gout[j])
		gi[j], gf[j], gg[j], gout[j] = si, sf, tg, so
		cj := fma32(sf, cprev[j], float32(si*tg))
		c[j] = cj
		t := tanhRational(cj)
		if tc != nil {
			tc[j] = t
		}
		h[j] = float32(so * t)
	}
}

// lstmCellTrain runs lstmCellTrainAVX2 where avx2 is set (len(c) a multiple
// of 8) and lstmCellTrainGo otherwise.
func lstmCellTrain(avx2 bool, gates, cprev, c, tc, h []float32) {
	H := len(c)
	if avx2 && H%8 == 0 && H > 0 {
		_, _, _, _ = gates[4*H-1], cprev[H-1], tc[H-1], h[H-1]
		lstmCellTrainAVX2(&gates[0], &cprev[0], &c[0], &tc[0], &h[0], H)
		return
	}
	lstmCellTrainGo(gates, cprev, c, tc, h)
}

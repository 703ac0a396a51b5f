package federated

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// randomDelta is a reproducible delta with coordinates of mixed scales, as
// the layers of a model have.
func randomDelta(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * math.Pow(10, float64(i%3)-2))
	}
	return v
}

func TestQ8RoundTripErrorBound(t *testing.T) {
	for _, n := range []int{1, 255, 256, 257, 1000} {
		v := randomDelta(uint64(n), n)
		c := Compression{Encoding: EncQ8}
		p, err := c.Encode(v, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != Q8Size(n) {
			t.Fatalf("n=%d: %d bytes, Q8Size says %d", n, len(p), Q8Size(n))
		}
		got, err := Decode(EncQ8, p, n)
		if err != nil {
			t.Fatal(err)
		}
		for lo := 0; lo < n; lo += Q8Chunk {
			hi := min(lo+Q8Chunk, n)
			mn, mx := v[lo], v[lo]
			for _, x := range v[lo:hi] {
				mn, mx = min(mn, x), max(mx, x)
			}
			// Half a quantization step, plus float32 rounding of the step
			// and of the decoded value.
			bound := (float64(mx)-float64(mn))/255/2*(1+1e-6) + 1e-7*math.Max(math.Abs(float64(mn)), math.Abs(float64(mx)))
			for i := lo; i < hi; i++ {
				if e := math.Abs(float64(got[i]) - float64(v[i])); e > bound {
					t.Fatalf("n=%d coordinate %d: error %g above bound %g", n, i, e, bound)
				}
			}
		}
	}
}

func TestQ8ConstantChunkIsExact(t *testing.T) {
	v := []float32{0.25, 0.25, 0.25}
	p, _ := Compression{Encoding: EncQ8}.Encode(v, nil)
	got, _ := Decode(EncQ8, p, 3)
	for i := range v {
		if got[i] != v[i] {
			t.Fatalf("got %v, want %v", got, v)
		}
	}
}

func TestTopKKeepsTheLargestExactly(t *testing.T) {
	v := []float32{0.1, -5, 0.2, 3, 0, -0.3, 4, 0.05}
	c := Compression{Encoding: EncTopK, TopK: 0.375} // k = 3
	p, err := c.Encode(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(EncTopK, p, len(v))
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0, -5, 0, 3, 0, 0, 4, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	// uvarint k, 3 one-byte gaps, 3 float32.
	if len(p) != 1+3+12 {
		t.Errorf("%d bytes, want 16", len(p))
	}
}

// TestErrorFeedbackLosesNothing: over rounds, what was sent plus what is
// still held equals what was meant to be sent.
func TestErrorFeedbackLosesNothing(t *testing.T) {
	const n, rounds = 600, 8
	for _, c := range []Compression{{Encoding: EncTopK, TopK: 0.05}, {Encoding: EncTopKQ8, TopK: 0.1}, {Encoding: EncQ8}} {
		var ef ErrorFeedback
		raw := make([]float64, n)
		sent := make([]float64, n)
		for r := range rounds {
			d := randomDelta(uint64(100+r), n)
			for i, x := range d {
				raw[i] += float64(x)
			}
			p, err := c.Encode(d, &ef)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(c.Encoding, p, n)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range got {
				sent[i] += float64(x)
			}
		}
		for i := range raw {
			if e := math.Abs(sent[i] + float64(ef.Residual[i]) - raw[i]); e > 1e-5*(1+math.Abs(raw[i])) {
				t.Fatalf("%s coordinate %d: sent %g + residual %g != raw %g", c.Encoding, i, sent[i], ef.Residual[i], raw[i])
			}
		}
	}
}

// TestByteCounts are the sizes the targets are about, against the
// f32 baseline of a 10,000-weight delta.
func TestByteCounts(t *testing.T) {
	const n = 10000
	v := randomDelta(7, n)
	size := func(c Compression) int {
		p, err := c.Encode(v, nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(p)
	}
	f32 := size(Compression{Encoding: EncF32})
	if f32 != 4*n {
		t.Fatalf("f32: %d bytes", f32)
	}
	q8 := size(Compression{Encoding: EncQ8})
	if q8 != n+8*40 { // 40 chunks of 256 (the last one partial)
		t.Errorf("q8: %d bytes", q8)
	}
	topkq8 := size(Compression{Encoding: EncTopKQ8, TopK: 0.05})
	if saving := 1 - float64(topkq8)/float64(f32); saving < 0.9 {
		t.Errorf("topk-q8 at 5%%: %d bytes, saving %.1f%%, want >= 90%%", topkq8, 100*saving)
	}
	t.Logf("bytes for %d weights: f32 %d, q8 %d (%.1f%% saved), topk-q8 5%% %d (%.1f%% saved)",
		n, f32, q8, 100*(1-float64(q8)/float64(f32)), topkq8, 100*(1-float64(topkq8)/float64(f32)))
}

func TestDecodeRefusesWhatEncodeCannotMake(t *testing.T) {
	nan := binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.NaN())))
	q8 := func(mn, scale float32) []byte {
		b := binary.LittleEndian.AppendUint32(nil, math.Float32bits(mn))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(scale))
		return append(b, 1)
	}
	tests := []struct {
		name    string
		enc     Encoding
		payload []byte
		n       int
		want    error
	}{
		{"f32 short", EncF32, make([]byte, 7), 2, ErrEncoding},
		{"f32 trailing", EncF32, make([]byte, 9), 2, ErrEncoding},
		{"f32 NaN", EncF32, nan, 1, ErrNonFinite},
		{"unknown", "zip", nil, 0, ErrEncoding},
		{"q8 short", EncQ8, make([]byte, 8), 1, ErrEncoding},
		{"q8 negative scale", EncQ8, q8(0, -1), 1, ErrEncoding},
		{"q8 NaN min", EncQ8, q8(float32(math.NaN()), 1), 1, ErrEncoding},
		{"q8 overflows", EncQ8, append(q8(math.MaxFloat32, math.MaxFloat32)[:8], 255), 1, ErrNonFinite},
		{"topk k > n", EncTopK, []byte{3, 0, 0, 0}, 2, ErrEncoding},
		{"topk k = 0", EncTopK, []byte{0}, 2, ErrEncoding},
		{"topk index out of range", EncTopK, append([]byte{1, 2}, make([]byte, 4)...), 2, ErrEncoding},
		{"topk non-minimal varint", EncTopK, append([]byte{1, 0x80, 0x00}, make([]byte, 4)...), 2, ErrEncoding},
		{"topk truncated", EncTopK, []byte{2, 0}, 2, ErrEncoding},
		{"topk trailing", EncTopK, append([]byte{1, 0}, make([]byte, 5)...), 2, ErrEncoding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.enc, tc.payload, tc.n); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestEncodeRefusesNonFiniteAndBadPolicy(t *testing.T) {
	if _, err := (Compression{Encoding: EncQ8}).Encode([]float32{1, float32(math.Inf(1))}, nil); !errors.Is(err, ErrNonFinite) {
		t.Errorf("inf: %v", err)
	}
	if _, err := (Compression{Encoding: EncTopK}).Encode([]float32{1}, nil); !errors.Is(err, ErrPolicy) {
		t.Errorf("topk without fraction: %v", err)
	}
	if _, err := (Compression{Encoding: EncQ8}).Encode([]float32{1}, &ErrorFeedback{Residual: []float32{1, 2}}); !errors.Is(err, ErrShape) {
		t.Errorf("residual of another length: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, enc := range []Encoding{EncF32, EncQ8, EncTopK, EncTopKQ8} {
		c := Compression{Encoding: enc}
		if enc == EncTopK || enc == EncTopKQ8 {
			c.TopK = 0.3
		}
		p, _ := c.Encode(randomDelta(1, 20), nil)
		f.Add(string(enc), p, 20)
	}
	f.Fuzz(func(t *testing.T, enc string, payload []byte, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		v, err := Decode(Encoding(enc), payload, n)
		if err != nil {
			return
		}
		// Whatever decodes has n finite values, and f32 payloads re-encode
		// to themselves.
		if len(v) != n || firstNonFinite(v) >= 0 {
			t.Fatalf("decoded %d values (want %d) or a non-finite one", len(v), n)
		}
		if Encoding(enc) == EncF32 {
			p, _ := Compression{Encoding: EncF32}.Encode(v, nil)
			if string(p) != string(payload) {
				t.Fatal("f32 did not re-encode to itself")
			}
		}
	})
}

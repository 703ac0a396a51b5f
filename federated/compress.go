package federated

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
)

// Encoding names how an update's delta is laid out in Update.Payload.
// Every encoding is deterministic: the same delta (and error-feedback state)
// gives the same bytes. All multi-byte values in payloads are little-endian.
type Encoding string

const (
	// EncF32: n float32 values, 4n bytes. The uncompressed baseline.
	EncF32 Encoding = "f32"
	// EncQ8: 8-bit linear quantization in chunks of Q8Chunk coordinates.
	// Each chunk is float32 min, float32 scale, then one byte per
	// coordinate; a code c decodes to min + c·scale. Size: Q8Size(n).
	EncQ8 Encoding = "q8"
	// EncTopK: the k coordinates of largest magnitude. uvarint k, then k
	// uvarint index gaps (index_j − index_{j−1} − 1 with index_{−1} = −1,
	// so indices are strictly increasing), then k float32 values.
	EncTopK Encoding = "topk"
	// EncTopKQ8: as EncTopK, but the k values are an EncQ8 block.
	EncTopKQ8 Encoding = "topk-q8"
)

// Q8Chunk is the number of coordinates that share one (min, scale) pair in
// EncQ8. Smaller chunks follow the local range of the weights more closely
// (a smaller error) at 8 bytes of overhead per chunk: with 256 the payload
// is n + 8·⌈n/256⌉ bytes, 25.8% of float32.
const Q8Chunk = 256

// Q8Size is the exact byte length of an EncQ8 payload of n coordinates.
func Q8Size(n int) int { return n + 8*((n+Q8Chunk-1)/Q8Chunk) }

// Compression is how a round asks sites to encode their updates.
type Compression struct {
	Encoding Encoding `json:"encoding"`
	// TopK is the fraction of coordinates sent by the top-k encodings, in
	// (0, 1]; k = max(1, ⌈TopK·n⌉).
	TopK float64 `json:"topk,omitempty"`
}

// Validate reports whether the encoding is known and TopK fits it.
func (c Compression) Validate() error {
	switch c.Encoding {
	case EncF32, EncQ8:
		if c.TopK != 0 {
			return fmt.Errorf("%w: topk fraction %v given for encoding %q", ErrPolicy, c.TopK, c.Encoding)
		}
	case EncTopK, EncTopKQ8:
		if !(c.TopK > 0 && c.TopK <= 1) {
			return fmt.Errorf("%w: encoding %q needs a topk fraction in (0,1], got %v", ErrPolicy, c.Encoding, c.TopK)
		}
	default:
		return fmt.Errorf("%w: unknown encoding %q", ErrEncoding, c.Encoding)
	}
	return nil
}

// K is the number of coordinates a top-k encoding keeps out of n.
func (c Compression) K(n int) int {
	if n == 0 {
		return 0
	}
	k := int(math.Ceil(c.TopK * float64(n)))
	return min(max(k, 1), n)
}

// ErrorFeedback is the state a site keeps between rounds so that what lossy
// compression leaves out is sent later rather than lost: the residual is
// added to the next delta before it is encoded, and whatever that encoding
// does not carry becomes the new residual. Over rounds, the sum of the
// decoded updates plus the residual equals the sum of the raw deltas (up to
// float32 rounding). The site persists it with its key; a nil or empty
// Residual starts from zero.
type ErrorFeedback struct {
	Residual []float32 `json:"residual,omitempty"`
}

// Encode encodes delta with c. With ef non-nil, ef.Residual is added first
// and replaced by what the payload does not carry (error feedback); delta
// itself is not modified. Non-finite values are refused (ErrNonFinite).
func (c Compression) Encode(delta []float32, ef *ErrorFeedback) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	v := append([]float32(nil), delta...)
	if ef != nil && ef.Residual != nil {
		if len(ef.Residual) != len(v) {
			return nil, fmt.Errorf("%w: error-feedback residual has %d coordinates, delta %d", ErrShape, len(ef.Residual), len(v))
		}
		for i, r := range ef.Residual {
			v[i] += r
		}
	}
	if i := firstNonFinite(v); i >= 0 {
		return nil, fmt.Errorf("%w: coordinate %d is %v", ErrNonFinite, i, v[i])
	}
	var out []byte
	switch c.Encoding {
	case EncF32:
		out = appendF32(nil, v)
	case EncQ8:
		out = appendQ8(nil, v)
	case EncTopK, EncTopKQ8:
		idx := topK(v, c.K(len(v)))
		vals := make([]float32, len(idx))
		for j, i := range idx {
			vals[j] = v[i]
		}
		out = appendIndices(nil, idx)
		if c.Encoding == EncTopK {
			out = appendF32(out, vals)
		} else {
			out = appendQ8(out, vals)
		}
	}
	if ef != nil {
		sent, err := Decode(c.Encoding, out, len(v))
		if err != nil {
			return nil, fmt.Errorf("federated: decoding our own %s payload: %w", c.Encoding, err)
		}
		ef.Residual = v
		for i := range v {
			ef.Residual[i] = v[i] - sent[i]
		}
	}
	return out, nil
}

// Decode decodes a payload of encoding enc into n coordinates. It refuses,
// with an error wrapping ErrEncoding, any payload that is not exactly what
// Encode could produce for n coordinates in layout (wrong length, trailing
// bytes, indices out of range or not increasing, non-minimal varints, a
// negative or non-finite scale); decoded values that are not finite give
// ErrNonFinite.
func Decode(enc Encoding, payload []byte, n int) ([]float32, error) {
	if n < 0 {
		return nil, fmt.Errorf("%w: negative length %d", ErrShape, n)
	}
	var out []float32
	var err error
	switch enc {
	case EncF32:
		if len(payload) != 4*n {
			return nil, fmt.Errorf("%w: f32 payload of %d bytes for %d coordinates (want %d)", ErrEncoding, len(payload), n, 4*n)
		}
		out = readF32(payload, n)
	case EncQ8:
		out, err = readQ8(payload, n)
	case EncTopK, EncTopKQ8:
		out, err = readTopK(enc, payload, n)
	default:
		return nil, fmt.Errorf("%w: unknown encoding %q", ErrEncoding, enc)
	}
	if err != nil {
		return nil, err
	}
	if i := firstNonFinite(out); i >= 0 {
		return nil, fmt.Errorf("%w: coordinate %d decodes to %v", ErrNonFinite, i, out[i])
	}
	return out, nil
}

func firstNonFinite(v []float32) int {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return i
		}
	}
	return -1
}

func appendF32(b []byte, v []float32) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func readF32(b []byte, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// appendQ8 quantizes v chunk by chunk: scale = (max−min)/255 rounded to
// float32, code = round((x−min)/scale) clamped to [0,255], computed in
// float64. A chunk of equal values has scale 0 and codes 0.
func appendQ8(b []byte, v []float32) []byte {
	for lo := 0; lo < len(v); lo += Q8Chunk {
		chunk := v[lo:min(lo+Q8Chunk, len(v))]
		mn, mx := chunk[0], chunk[0]
		for _, x := range chunk {
			mn, mx = min(mn, x), max(mx, x)
		}
		scale := float32((float64(mx) - float64(mn)) / 255)
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(mn))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(scale))
		for _, x := range chunk {
			var code float64
			if scale > 0 {
				code = math.Round((float64(x) - float64(mn)) / float64(scale))
			}
			b = append(b, byte(min(max(code, 0), 255)))
		}
	}
	return b
}

// readQ8 decodes exactly Q8Size(n) bytes.
func readQ8(b []byte, n int) ([]float32, error) {
	if len(b) != Q8Size(n) {
		return nil, fmt.Errorf("%w: q8 payload of %d bytes for %d coordinates (want %d)", ErrEncoding, len(b), n, Q8Size(n))
	}
	out := make([]float32, n)
	for lo := 0; lo < n; lo += Q8Chunk {
		hi := min(lo+Q8Chunk, n)
		mn := float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		scale := float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4:])))
		if math.IsNaN(mn) || math.IsInf(mn, 0) || !(scale >= 0) || math.IsInf(scale, 0) {
			return nil, fmt.Errorf("%w: q8 chunk at %d has min %v, scale %v", ErrEncoding, lo, mn, scale)
		}
		for i, c := range b[8 : 8+hi-lo] {
			out[lo+i] = float32(mn + float64(c)*scale)
		}
		b = b[8+hi-lo:]
	}
	return out, nil
}

// topK returns the indices of the k largest |v[i]|, ascending. Ties go to
// the lower index, so the choice is deterministic.
func topK(v []float32, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		return math.Abs(float64(v[idx[a]])) > math.Abs(float64(v[idx[b]]))
	})
	idx = idx[:k]
	sort.Ints(idx)
	return idx
}

func appendIndices(b []byte, idx []int) []byte {
	b = binary.AppendUvarint(b, uint64(len(idx)))
	prev := -1
	for _, i := range idx {
		b = binary.AppendUvarint(b, uint64(i-prev-1))
		prev = i
	}
	return b
}

// readUvarint reads one minimal uvarint.
func readUvarint(b []byte) (uint64, int, error) {
	x, m := binary.Uvarint(b)
	if m <= 0 {
		return 0, 0, fmt.Errorf("%w: truncated or overlong varint", ErrEncoding)
	}
	var tmp [binary.MaxVarintLen64]byte
	if binary.PutUvarint(tmp[:], x) != m {
		return 0, 0, fmt.Errorf("%w: non-minimal varint", ErrEncoding)
	}
	return x, m, nil
}

func readTopK(enc Encoding, b []byte, n int) ([]float32, error) {
	k64, m, err := readUvarint(b)
	if err != nil {
		return nil, err
	}
	b = b[m:]
	if k64 > uint64(n) || (n > 0 && k64 == 0) {
		return nil, fmt.Errorf("%w: %s payload keeps %d of %d coordinates", ErrEncoding, enc, k64, n)
	}
	k := int(k64)
	idx := make([]int, k)
	prev := -1
	for j := range idx {
		gap, m, err := readUvarint(b)
		if err != nil {
			return nil, err
		}
		b = b[m:]
		if gap >= uint64(n-prev-1) {
			return nil, fmt.Errorf("%w: %s index out of range (n=%d)", ErrEncoding, enc, n)
		}
		prev += int(gap) + 1
		idx[j] = prev
	}
	var vals []float32
	if enc == EncTopK {
		if len(b) != 4*k {
			return nil, fmt.Errorf("%w: topk values take %d bytes, want %d", ErrEncoding, len(b), 4*k)
		}
		vals = readF32(b, k)
	} else {
		if vals, err = readQ8(b, k); err != nil {
			return nil, err
		}
	}
	out := make([]float32, n)
	for j, i := range idx {
		out[i] = vals[j]
	}
	return out, nil
}

package ingest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/ingest"
)

// reference is the definition: RFC 8785 of the body's JSON.
func reference(t testing.TB, b ingest.AlertBody) []byte {
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	c, err := anchor.Canonicalize(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func bodyFrom(sensor, class, key, val string, score float64, at int64, imputed int) ingest.AlertBody {
	return ingest.AlertBody{
		Type: "alert", ObservedAt: time.UnixMicro(at).UTC(), Sensor: sensor,
		Flow:        ingest.FlowTuple{SrcAddr: netip.MustParseAddr("10.0.0.1"), SrcPort: 1, DstAddr: netip.MustParseAddr("::1"), DstPort: 65535, Proto: 6},
		CommunityID: "1:abc+/=", Features: map[string]string{key: val, "IN_BYTES": "1e400", "z": "<&>"},
		Class: class, Score: score, Risk: 37.5, Severity: ingest.SeverityHigh, Model: ingest.ModelRef{ID: "ab", Version: "v\"1\\"},
		Imputed: imputed,
	}
}

// Canonical.s fast path gives exactly anchor.Canonicalize's bytes.
func TestFastCanonicalMatchesJCS(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("aZ09 \"\\/<>&\x00\x01\x08\x09\x0a\x0c\x0d\x1f\x7f{}[]:,'é\u2028")
	str := func() string {
		n := r.IntN(12)
		var b bytes.Buffer
		for range n {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	scores := []float64{0, 1, 0.5, 1e-7, 1e-6, 123456789012345680000, 1e21, 5e-324, math.MaxFloat64, 0.1 + 0.2, 0.999999940395355, 1.0 / 3}
	for i := range 5000 {
		score := scores[i%len(scores)]
		if i >= len(scores) {
			score = r.Float64() * math.Pow(10, float64(r.IntN(40)-20))
		}
		// Imputed: mostly 0 (absent), else up to the most features a
		// record may have, and the extremes of an int.
		imputed := []int{0, 0, 1, r.IntN(513), math.MaxInt, 1<<53 + 1}[r.IntN(6)]
		b := bodyFrom(str(), str(), str()+"k", str(), score, r.Int64N(1<<50), imputed)
		b.Risk = []float64{0, 100, 0.1, 99.9, 50}[i%5]
		if i%3 == 0 {
			b.Risk = float64(r.IntN(1001)) / 10
		}
		// The id: nil or random; the submitting key: absent or random.
		if i%4 != 0 {
			b.ID = uuid.UUID(randBytes16(r))
		}
		if i%2 == 0 {
			k := uuid.UUID(randBytes16(r))
			b.SubmittedBy = &k
		}
		// Vary every member the encoder branches on: unset and zoned
		// addresses, no Community ID, no features, -0, non-UTC times
		// with nanoseconds, the whole port range.
		switch i % 7 {
		case 1:
			b.Flow.SrcAddr, b.Flow.DstAddr = netip.Addr{}, netip.Addr{}
		case 2:
			b.Flow.DstAddr = netip.MustParseAddr("fe80::1").WithZone(str() + "z")
			b.Flow.SrcAddr = netip.MustParseAddr("::ffff:10.1.2.3")
		case 3:
			b.CommunityID, b.Features = "", nil
		case 4:
			b.Features = map[string]string{}
			b.Score = math.Copysign(0, -1)
		case 5:
			b.ObservedAt = time.Unix(r.Int64N(1<<34), r.Int64N(1e9)).In(time.FixedZone("x", -(r.IntN(48)-24)*1800))
		case 6:
			b.Flow.SrcPort, b.Flow.DstPort, b.Flow.Proto = uint16(r.Uint32()), 0, uint8(r.Uint32())
			b.Score = -score
		}
		got, err := ingest.Canonical(b)
		if err != nil {
			t.Fatal(err)
		}
		if want := reference(t, b); !bytes.Equal(got, want) {
			t.Fatalf("body %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func FuzzCanonical(f *testing.F) {
	f.Add("s", "DoS", "k", "v", 0.5, int64(0), 0)
	f.Add("\u2028", "\ud7ff", "\U0001F600", "\ue000", 1e21, int64(1), 3)
	f.Add("s", "DoS", "k", "v", 0.5, int64(0), -1)
	f.Fuzz(func(t *testing.T, sensor, class, key, val string, score float64, at int64, imputed int) {
		if math.IsNaN(score) || math.IsInf(score, 0) || at < 0 || at > 1<<55 {
			return
		}
		b := bodyFrom(sensor, class, key, val, score, at, imputed)
		got, err := ingest.Canonical(b)
		if err != nil {
			return
		}
		raw, _ := json.Marshal(b)
		want, err := anchor.Canonicalize(raw)
		if err != nil {
			t.Fatalf("Canonical accepted what Canonicalize refuses: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}

// A negative imputed count is no count: Canonical refuses it.
func TestCanonicalRefusesNegativeImputed(t *testing.T) {
	b := bodyFrom("s", "DoS", "k", "v", 0.5, 0, -1)
	if _, err := ingest.Canonical(b); !errors.Is(err, ingest.ErrInvalidAlert) {
		t.Fatalf("err %v, want ErrInvalidAlert", err)
	}
}

func randBytes16(r *rand.Rand) [16]byte {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

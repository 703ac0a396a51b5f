package detector

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// streamFixture is a window-mode model and flows of one source whose rows
// are all different, so a window tells which flows it holds.
func streamFixture(t *testing.T) (*Detector, []*Flow) {
	t.Helper()
	flows, _ := loadAll(t, "nf-bot-iot-v2", LoadOptions{}, nfSample)
	res, err := Train(flows, TrainOptions{Dataset: "nf-bot-iot-v2", Model: "kmeans", TestFraction: 0.3, Seed: 2,
		Pipeline: PipelineConfig{Input: InputWindow, Window: 4}})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Detector
	count := map[string]int{}
	for _, f := range flows {
		count[f.Key]++
	}
	var key string
	for k, n := range count {
		if n > count[key] {
			key = k
		}
	}
	var one []*Flow
	var seen [][]float32
	row := make([]float32, len(d.Pipeline.Features))
	for _, f := range flows {
		if f.Key != key {
			continue
		}
		d.Pipeline.Row(f, row)
		if slices.ContainsFunc(seen, func(r []float32) bool { return slices.Equal(r, row) }) {
			continue
		}
		seen = append(seen, slices.Clone(row))
		one = append(one, f)
	}
	if len(one) < 20 {
		t.Fatalf("only %d distinct flows from source %s", len(one), key)
	}
	return d, one
}

// Concurrent calls for one source behave as if they came one after the
// other: each call's first window continues exactly one earlier call (no
// two calls build on the same history, and only the first starts afresh).
func TestStreamConcurrentCallsOneSource(t *testing.T) {
	d, flows := streamFixture(t)
	s := d.NewStream(StreamOptions{})
	nf := len(d.Pipeline.Features)
	T := d.Pipeline.Window
	// prev is the row before the call's first flow in its window, own that
	// flow's row, last the row of the call's last flow. A fresh window pads
	// with the first flow's row, so prev == own exactly when the call saw no
	// history (rows of different flows all differ).
	type call struct{ prev, own, last []float32 }
	calls := make([]call, 0, len(flows)/2)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for lo := 0; lo+2 <= len(flows); lo += 2 {
		batch := flows[lo : lo+2]
		wg.Go(func() {
			x := s.windows("", batch)
			first, last := x.At(0), x.At(1)
			c := call{prev: slices.Clone(first[(T-2)*nf : (T-1)*nf]), own: slices.Clone(first[(T-1)*nf:]),
				last: slices.Clone(last[(T-1)*nf:])}
			mu.Lock()
			calls = append(calls, c)
			mu.Unlock()
		})
	}
	wg.Wait()
	fresh := 0
	used := map[int]bool{}
	for i, c := range calls {
		pred := slices.IndexFunc(calls, func(o call) bool { return slices.Equal(o.last, c.prev) })
		switch {
		case pred < 0 && slices.Equal(c.prev, c.own):
			fresh++
		case pred < 0:
			t.Fatalf("call %d continues no other call", i)
		case used[pred]:
			t.Fatalf("calls %d and another both continue call %d: one missed the other's flows", i, pred)
		default:
			used[pred] = true
		}
	}
	if fresh != 1 {
		t.Fatalf("%d calls started with no history, want 1", fresh)
	}
}

// A source's window is forgotten after the TTL without flows.
func TestStreamTTL(t *testing.T) {
	d, flows := streamFixture(t)
	now := time.Unix(1000, 0)
	s := d.NewStream(StreamOptions{TTL: time.Minute, MaxKeys: 10, Now: func() time.Time { return now }})
	fresh := d.NewStream(StreamOptions{})
	if _, err := s.Detect(flows[:3]); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	got, err := s.Detect(flows[3:5])
	if err != nil {
		t.Fatal(err)
	}
	want, err := fresh.Detect(flows[3:5])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, want, func(a, b Prediction) bool { return a.Score == b.Score }) {
		t.Fatal("a window older than the TTL still counted")
	}
	if s.Keys() != 1 {
		t.Fatalf("%d keys remembered", s.Keys())
	}
}

// Windows are kept per scope (sensor): the same source seen by two sensors
// has two windows; and the memory bound caps the sources kept.
func TestStreamScopesAndByteBound(t *testing.T) {
	d, flows := streamFixture(t)
	s := d.NewStream(StreamOptions{})
	fresh := d.NewStream(StreamOptions{})
	if _, err := s.DetectIn("sensor-a", flows[:3]); err != nil {
		t.Fatal(err)
	}
	got, err := s.DetectIn("sensor-b", flows[3:5])
	if err != nil {
		t.Fatal(err)
	}
	want, err := fresh.DetectIn("sensor-b", flows[3:5])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, want, func(a, b Prediction) bool { return a.Score == b.Score }) {
		t.Fatal("sensor-b's windows reached into sensor-a's flows")
	}
	per := d.Pipeline.Window*len(d.Pipeline.Features)*4 + 128
	small := d.NewStream(StreamOptions{MaxBytes: int64(3 * per)})
	for i, f := range flows[:10] {
		if _, err := small.DetectIn(string(rune('a'+i)), []*Flow{f}); err != nil {
			t.Fatal(err)
		}
	}
	if small.Keys() != 3 {
		t.Fatalf("%d sources kept within a 3-source byte bound", small.Keys())
	}
}

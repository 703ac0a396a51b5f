package api

import (
	"testing"
	"time"

	"github.com/idsledger/idsledger/detector"
)

// Windows keep the last n flows per source, at most maxKeys sources, and
// forget a source after ttl.
func TestWindowStoreBounds(t *testing.T) {
	w := newWindowStore(2, 2, time.Hour)
	f := func(key string) *detector.Flow { return &detector.Flow{Key: key} }
	a1, a2, a3, b1 := f("a"), f("a"), f("a"), f("b")
	w.remember([]*detector.Flow{a1, a2, b1, a3})
	if h := w.history([]*detector.Flow{f("a")}); len(h) != 2 || h[0] != a2 || h[1] != a3 {
		t.Fatalf("history of a: %v", h)
	}
	if h := w.history([]*detector.Flow{f("b"), f("b")}); len(h) != 1 || h[0] != b1 {
		t.Fatalf("history of b: %v", h)
	}
	w.remember([]*detector.Flow{f("c")}) // evicts b, the least recently seen key
	if len(w.byKey) != 2 || w.byKey["b"] != nil || w.byKey["a"] == nil {
		t.Fatalf("keys after eviction: %d, b kept: %v", len(w.byKey), w.byKey["b"] != nil)
	}
	short := newWindowStore(2, 10, time.Nanosecond)
	short.remember([]*detector.Flow{f("x")})
	time.Sleep(time.Millisecond)
	if h := short.history([]*detector.Flow{f("x")}); len(h) != 0 {
		t.Fatalf("expired window returned %d flows", len(h))
	}
}

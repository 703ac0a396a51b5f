package webhook

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/storage"
)

// The queue behaves as a plain bounded FIFO slice would, through random
// pushes and pops that cross its compaction threshold many times.
func TestQueueMatchesAPlainFIFO(t *testing.T) {
	const maxCount, maxBytes = 3000, 150000
	q := newQueue(storage.Webhook{}, maxCount, maxBytes)
	var ref []delivery
	refBytes := 0
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	for i := range 200000 {
		if rng.IntN(100) < 52 {
			d := delivery{id: uuid.New(), payload: make([]byte, rng.IntN(100))}
			fits := len(ref) < maxCount && refBytes+len(d.payload) <= maxBytes
			if got := q.push(d); got != fits {
				t.Fatalf("op %d: push accepted %v, want %v (%d queued, %d bytes)", i, got, fits, len(ref), refBytes)
			}
			if fits {
				ref = append(ref, d)
				refBytes += len(d.payload)
			}
		} else if len(ref) > 0 {
			d, ok := q.pop(ctx)
			if !ok || d.id != ref[0].id {
				t.Fatalf("op %d: popped %v %v, want %v", i, d.id, ok, ref[0].id)
			}
			refBytes -= len(ref[0].payload)
			ref = ref[1:]
		}
		if n, b := q.size(); n != len(ref) || b != refBytes {
			t.Fatalf("op %d: size %d/%d bytes, want %d/%d", i, n, b, len(ref), refBytes)
		}
	}
}

// pop waits for a push, and gives up when its context ends.
func TestQueuePopWaits(t *testing.T) {
	q := newQueue(storage.Webhook{}, 10, 1000)
	got := make(chan uuid.UUID)
	go func() {
		d, _ := q.pop(context.Background())
		got <- d.id
	}()
	d := delivery{id: uuid.New()}
	q.push(d)
	if id := <-got; id != d.id {
		t.Fatalf("popped %v, want %v", id, d.id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, ok := q.pop(ctx); ok {
		t.Fatal("pop on an empty queue with an ended context returned a delivery")
	}
}

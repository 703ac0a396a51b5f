package anchor_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/internal/fakes"
)

// stallingOutbox is a worker's view of the outbox while it stalls: its
// first non-empty Pending answers, then blocks until release is closed, as
// a process frozen between reading the outbox and preparing a batch would;
// and its lease never reports the lock lost (the watch is frozen too).
type stallingOutbox struct {
	anchor.Outbox
	once    sync.Once
	stalled chan struct{} // closed once Pending has answered and stalls
	release chan struct{}
}

func newStallingOutbox(o anchor.Outbox) *stallingOutbox {
	return &stallingOutbox{Outbox: o, stalled: make(chan struct{}), release: make(chan struct{})}
}

type frozenLease struct{ anchor.Lease }

func (frozenLease) Lost() <-chan struct{} { return nil }

func (s *stallingOutbox) TryLock(ctx context.Context) (anchor.Lease, error) {
	l, err := s.Outbox.TryLock(ctx)
	if err != nil {
		return nil, err
	}
	return frozenLease{l}, nil
}

func (s *stallingOutbox) Pending(ctx context.Context, limit int) ([]anchor.PendingRecord, error) {
	recs, err := s.Outbox.Pending(ctx, limit)
	if err == nil && len(recs) > 0 {
		s.once.Do(func() {
			close(s.stalled)
			<-s.release
		})
	}
	return recs, err
}

// A worker that stalls between reading the outbox and preparing a batch,
// and loses its lock meanwhile, must not prepare (or anchor) the records
// that the next holder of the lock has anchored since: its writes carry a
// fence that the new lease has made stale.
func TestStalledFormerHolderCannotWrite(t *testing.T) {
	ctx := context.Background()
	reg := simRegistry(t)
	o := fakes.NewOutbox()
	const n = 20
	for i := range n {
		o.Add(t, fmt.Sprintf(`{"i":%d}`, i))
	}
	cfg := testConfig(anchor.ModeBatch)
	cfg.MaxWait = time.Millisecond
	time.Sleep(2 * cfg.MaxWait) // old enough to make a batch at once

	stall := newStallingOutbox(o)
	first, err := anchor.NewWorker(stall, reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	select {
	case <-stall.stalled:
	case err := <-done:
		t.Fatalf("first worker stopped: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("first worker never read the outbox")
	}

	// Its session dies; another worker takes the lock and anchors it all.
	o.ReleaseLock()
	second, err := anchor.NewWorker(o, reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, second, o, n)
	batches := len(o.AllBatches())

	// The first wakes up with the records it read, now anchored.
	close(stall.release)
	var stopped error
	select {
	case stopped = <-done:
	case <-time.After(10 * time.Second):
	}
	if got := len(o.AllBatches()); got != batches {
		t.Fatalf("%d batches after the stale worker woke, %d before: it prepared records anchored already", got, batches)
	}
	if !errors.Is(stopped, anchor.ErrLockLost) {
		t.Fatalf("the first worker: %v, want ErrLockLost", stopped)
	}
	leaves := 0
	for _, b := range o.AllBatches() {
		leaves += b.LeafCount
		if _, ok, err := reg.Batch(ctx, b.ID); !ok || err != nil {
			t.Fatalf("batch %d not on chain: %v", b.ID, err)
		}
	}
	if leaves != n {
		t.Fatalf("%d leaves in batches for %d records", leaves, n)
	}
	if _, ok, _ := reg.Batch(ctx, uint64(batches+1)); ok {
		t.Fatal("the stale worker anchored a batch")
	}
	verifyAll(t, o, reg)
}

package anchor_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/internal/fakes"
	"github.com/idsledger/idsledger/internal/testenv"
)

// reorgSetup anchors n records in one batch on a fresh simulated chain and
// returns the chain, its registry, the outbox and the hash of the block
// before the anchor (the fork point for a reorg).
func reorgSetup(t *testing.T, n int) (*chain.Simulated, *chain.Registry, *fakes.Outbox, common.Hash) {
	t.Helper()
	ctx := context.Background()
	sim, err := chain.NewSimulated()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	c, err := sim.Open(ctx, &fakes.ChainMeta{})
	if err != nil {
		t.Fatal(err)
	}
	parent, err := sim.Backend.Client().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := fakes.NewOutbox()
	for i := range n {
		o.Add(t, fmt.Sprintf(`{"i":%d}`, i))
	}
	cfg := recheckConfig()
	cfg.RecheckInterval = -1
	time.Sleep(2 * cfg.MaxWait)
	w, err := anchor.NewWorker(o, c.Registry, cfg)
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, w, o, n)
	if bs := o.AllBatches(); len(bs) != 1 || bs[0].Status != anchor.BatchConfirmed {
		t.Fatalf("batches %+v", bs)
	}
	return sim, c.Registry, o, parent.Hash()
}

func recheckConfig() anchor.WorkerConfig {
	cfg := testConfig(anchor.ModeBatch)
	cfg.MaxWait = time.Millisecond
	cfg.RecheckInterval = 20 * time.Millisecond
	return cfg
}

// startWorker runs a worker until the test ends, and returns its result
// channel.
func startWorker(t *testing.T, o anchor.Outbox, reg anchor.Registry, cfg anchor.WorkerConfig) <-chan error {
	t.Helper()
	w, err := anchor.NewWorker(o, reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, finished := make(chan error, 1), make(chan struct{})
	go func() { done <- w.Run(ctx); close(finished) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(time.Minute):
			t.Error("worker did not stop")
		}
	})
	return done
}

// A reorg drops the anchoring transaction for good: the re-check finds the
// anchor gone from the chain, orphans the batch, and the records, pending
// meanwhile, are anchored again under a new batch id; every one verifies.
func TestRecheckReanchorsWhenAReorgDropsTheTransaction(t *testing.T) {
	ctx := context.Background()
	const n = 10
	sim, reg, o, parent := reorgSetup(t, n)

	// The chain goes back to before the anchor, and the transaction is
	// thrown away (no node holds it), then the chain moves on.
	if err := sim.Backend.Fork(parent); err != nil {
		t.Fatal(err)
	}
	sim.Backend.Rollback()
	for range 3 {
		sim.Backend.Commit()
	}
	if _, ok, err := reg.Batch(ctx, 1); ok || err != nil {
		t.Fatalf("batch 1 still on chain after the reorg: %v", err)
	}

	startWorker(t, o, reg, recheckConfig())
	testenv.Eventually(t, time.Minute, "the records anchored again", func() bool {
		bs := o.AllBatches()
		return len(bs) == 2 && bs[0].Status == anchor.BatchOrphaned && bs[1].Status == anchor.BatchConfirmed && o.Count("anchored") == n
	})
	verifyAll(t, o, reg)
	if _, ok, _ := reg.Batch(ctx, 1); ok {
		t.Fatal("the orphaned batch is on chain")
	}
	if b := o.AllBatches()[1]; b.LeafCount != n {
		t.Fatalf("new batch %+v", b)
	}
}

// A reorg moves the anchoring transaction to another block (it went back
// to the pool and was mined again): the re-check records the new block.
func TestRecheckFollowsAMovedTransaction(t *testing.T) {
	ctx := context.Background()
	const n = 5
	sim, reg, o, parent := reorgSetup(t, n)
	old := o.AllBatches()[0].Inclusion

	if err := sim.Backend.Fork(parent); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, "the transaction mined again", func() bool {
		sim.Backend.Commit()
		b, ok, err := reg.Batch(ctx, 1)
		return err == nil && ok && b.BlockNumber > 0
	})
	moved, ok, err := reg.BatchInclusion(ctx, 1)
	if err != nil || !ok || moved.BlockHash == old.BlockHash {
		t.Fatalf("inclusion after the reorg %+v %v %v, before %+v", moved, ok, err, old)
	}

	startWorker(t, o, reg, recheckConfig())
	testenv.Eventually(t, time.Minute, "the new block recorded", func() bool {
		return o.AllBatches()[0].Inclusion.BlockHash == moved.BlockHash
	})
	if bs := o.AllBatches(); len(bs) != 1 || bs[0].Status != anchor.BatchConfirmed || bs[0].Inclusion.Tx != old.Tx {
		t.Fatalf("batches %+v", bs)
	}
	verifyAll(t, o, reg)
}

// rebuiltRegistry answers batch reads with another root, as a chain rebuilt
// with doctored roots would.
type rebuiltRegistry struct{ anchor.Registry }

func (r rebuiltRegistry) Batch(ctx context.Context, id uint64) (anchor.OnChainBatch, bool, error) {
	b, ok, err := r.Registry.Batch(ctx, id)
	b.Root[0] ^= 0xff
	return b, ok, err
}

// Another root under a confirmed batch's id stops the worker with
// ErrChainConflict; nothing is orphaned or anchored again.
func TestRecheckStopsOnAnotherRoot(t *testing.T) {
	const n = 5
	_, reg, o, _ := reorgSetup(t, n)
	done := startWorker(t, o, rebuiltRegistry{reg}, recheckConfig())
	select {
	case err := <-done:
		if !errors.Is(err, anchor.ErrChainConflict) {
			t.Fatalf("worker: %v, want ErrChainConflict", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the worker did not stop")
	}
	if bs := o.AllBatches(); len(bs) != 1 || bs[0].Status != anchor.BatchConfirmed || o.Count("anchored") != n {
		t.Fatalf("batches %+v", bs)
	}
}

// anchorBatches anchors k batches of two records each, one unit of work
// after another (so each is in its own block), on a fresh simulated chain,
// and returns the chain, its registry, the outbox and the hash of the block
// before the first anchor.
func anchorBatches(t *testing.T, k int) (*chain.Simulated, *chain.Registry, *fakes.Outbox, common.Hash) {
	t.Helper()
	sim, reg, o, parent := reorgSetup(t, 2)
	cfg := recheckConfig()
	cfg.RecheckInterval = -1
	for i := 1; i < k; i++ {
		o.Add(t, fmt.Sprintf(`{"batch":%d,"i":0}`, i))
		o.Add(t, fmt.Sprintf(`{"batch":%d,"i":1}`, i))
		time.Sleep(2 * cfg.MaxWait)
		w, err := anchor.NewWorker(o, reg, cfg)
		if err != nil {
			t.Fatal(err)
		}
		runUntil(t, w, o, 2*(i+1))
	}
	bs := o.AllBatches()
	if len(bs) != k {
		t.Fatalf("%d batches, want %d", len(bs), k)
	}
	for i := 1; i < k; i++ {
		if bs[i].Inclusion.BlockNumber <= bs[i-1].Inclusion.BlockNumber {
			t.Fatalf("batches %d and %d in blocks %d and %d", i, i+1, bs[i-1].Inclusion.BlockNumber, bs[i].Inclusion.BlockNumber)
		}
	}
	return sim, reg, o, parent
}

// dropAll reorganises the chain back to parent and throws the anchoring
// transactions away, then moves the chain on.
func dropAll(t *testing.T, sim *chain.Simulated, parent common.Hash) {
	t.Helper()
	if err := sim.Backend.Fork(parent); err != nil {
		t.Fatal(err)
	}
	sim.Backend.Rollback()
	for range 3 {
		sim.Backend.Commit()
	}
}

// runRecheckFrom asks a new worker to re-check from block (when not nil),
// then runs it until the test ends.
func runRecheckFrom(t *testing.T, o *fakes.Outbox, reg anchor.Registry, cfg anchor.WorkerConfig, block *uint64) *anchor.Worker {
	t.Helper()
	w, err := anchor.NewWorker(o, reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if block != nil {
		if err := w.RecheckFrom(context.Background(), *block); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return w
}

// RecheckFrom re-checks every confirmed batch from the block asked for,
// not a sample: with the periodic re-check off and a pass bounded to two
// batches, a reorg that drops five anchors gets all five orphaned (after
// the two passes the rule asks for) and their records anchored again.
func TestRecheckFromSettlesEveryBatchOfTheRange(t *testing.T) {
	const k = 5
	sim, reg, o, parent := anchorBatches(t, k)
	first := o.AllBatches()[0].Inclusion.BlockNumber
	dropAll(t, sim, parent)

	cfg := recheckConfig()
	cfg.RecheckInterval = -1 // only the range asked for
	cfg.RecheckBatches = 2
	cfg.RecheckRangeRetry = 20 * time.Millisecond
	runRecheckFrom(t, o, reg, cfg, &first)
	testenv.Eventually(t, time.Minute, "every batch of the range orphaned and its records anchored again", func() bool {
		orphaned := 0
		for _, b := range o.AllBatches() {
			if b.Status == anchor.BatchOrphaned {
				orphaned++
			}
		}
		return orphaned == k && o.Count("anchored") == 2*k
	})
	verifyAll(t, o, reg)
}

// RecheckFrom leaves alone the batches recorded below the block asked for:
// of two dropped anchors, only the one in the range is orphaned.
func TestRecheckFromLeavesBatchesBelowTheRange(t *testing.T) {
	sim, reg, o, parent := anchorBatches(t, 2)
	second := o.AllBatches()[1].Inclusion.BlockNumber
	dropAll(t, sim, parent)

	cfg := recheckConfig()
	cfg.RecheckInterval = -1
	cfg.RecheckRangeRetry = 20 * time.Millisecond
	runRecheckFrom(t, o, reg, cfg, &second)
	testenv.Eventually(t, time.Minute, "the second batch orphaned and anchored again", func() bool {
		bs := o.AllBatches()
		return len(bs) == 3 && bs[1].Status == anchor.BatchOrphaned && bs[2].Status == anchor.BatchConfirmed
	})
	if b := o.AllBatches()[0]; b.Status != anchor.BatchConfirmed {
		t.Fatalf("the batch below the range is %s", b.Status)
	}
}

// A request made while the worker runs (the chain hunter noticing a reorg
// later) is taken up between units of work.
func TestRecheckFromWhileRunning(t *testing.T) {
	sim, reg, o, parent := anchorBatches(t, 2)
	first := o.AllBatches()[0].Inclusion.BlockNumber
	cfg := recheckConfig()
	cfg.RecheckInterval = -1
	cfg.RecheckRangeRetry = 20 * time.Millisecond
	w := runRecheckFrom(t, o, reg, cfg, nil)
	dropAll(t, sim, parent)
	time.Sleep(50 * time.Millisecond)
	if bs := o.AllBatches(); bs[0].Status != anchor.BatchConfirmed || bs[1].Status != anchor.BatchConfirmed {
		t.Fatalf("batches re-checked before anyone asked: %+v", bs)
	}
	if err := w.RecheckFrom(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, "both batches orphaned and their records anchored again", func() bool {
		bs := o.AllBatches()
		return len(bs) >= 3 && bs[0].Status == anchor.BatchOrphaned && bs[1].Status == anchor.BatchOrphaned && o.Count("anchored") == 4
	})
	verifyAll(t, o, reg)
}

// A request outlives the worker it was made to: asked of a worker that
// never runs (an instance that crashed, or one that does not hold the
// anchoring lock), it is served by the next worker over the same outbox,
// and cleared once settled.
func TestRecheckFromIsKeptForTheNextWorker(t *testing.T) {
	sim, reg, o, parent := anchorBatches(t, 2)
	first := o.AllBatches()[0].Inclusion.BlockNumber
	dropAll(t, sim, parent)

	cfg := recheckConfig()
	cfg.RecheckInterval = -1 // only the range asked for
	cfg.RecheckRangeRetry = 20 * time.Millisecond
	gone, err := anchor.NewWorker(o, reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := gone.RecheckFrom(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	runRecheckFrom(t, o, reg, cfg, nil)
	testenv.Eventually(t, time.Minute, "both dropped batches orphaned and anchored again", func() bool {
		orphaned := 0
		for _, b := range o.AllBatches() {
			if b.Status == anchor.BatchOrphaned {
				orphaned++
			}
		}
		return orphaned == 2 && o.Count("anchored") == 4
	})
	testenv.Eventually(t, time.Minute, "the kept request cleared", func() bool {
		_, asked, err := o.RecheckRequested(context.Background())
		return err == nil && !asked
	})
}

package chainhunt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/internal/fakes"
	"github.com/idsledger/idsledger/internal/testenv"
)

// outboxBatches is KnownBatches over an anchor outbox: the database's
// batches, as serve's Store would answer.
type outboxBatches struct{ o *fakes.Outbox }

func (k outboxBatches) Batch(ctx context.Context, id uint64) (common.Hash, bool, error) {
	b, err := k.o.Batch(ctx, id)
	if errors.Is(err, anchor.ErrNotFound) {
		return common.Hash{}, false, nil
	}
	return common.Hash(b.Root), err == nil, err
}

// The hunter and the anchoring worker together: a reorg drops the block
// that anchored a batch; the hunter raises chain.reorg and asks the worker
// to re-check from it; the worker orphans the batch and anchors its
// records again under a new batch id, which the hunter then sees as a
// batch the database knows. No registry rule fires on any of it.
func TestHunterAndWorkerRecoverADroppedAnchor(t *testing.T) {
	ctx := context.Background()
	c := newTestChain(t)
	o := fakes.NewOutbox()
	cfg := anchor.DefaultWorkerConfig()
	cfg.MaxBatch, cfg.MaxWait, cfg.PollInterval = 64, time.Millisecond, 5*time.Millisecond
	cfg.RetryMin, cfg.RetryMax = 5*time.Millisecond, 50*time.Millisecond
	cfg.RecheckInterval = -1 // only what the hunter asks for
	cfg.RecheckRangeRetry = 20 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(testLogOut, nil))
	w, err := anchor.NewWorker(o, c.reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	wctx, stopWorker := context.WithCancel(ctx)
	werr := make(chan error, 1)
	go func() { werr <- w.Run(wctx) }()
	defer func() {
		stopWorker()
		if err := <-werr; err != nil {
			t.Errorf("worker: %v", err)
		}
	}()

	parent, err := c.client.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	for i := range n {
		o.Add(t, fmt.Sprintf(`{"i":%d}`, i))
	}
	w.Notify()
	testenv.Eventually(t, time.Minute, "the records anchored", func() bool { return o.Count("anchored") == n })
	anchoredIn := o.AllBatches()[0].Inclusion.BlockNumber

	store, rc := newMemStore(), &recorder{}
	h, _ := runHunter(t, c, c.config(), store, outboxBatches{o}, recheckBoth{rc, w})
	waitProcessed(t, h, c.head(t))

	// The chain goes back to before the anchor, its transaction thrown
	// away, and moves on past it.
	if err := c.sim.Backend.Fork(parent.Hash()); err != nil {
		t.Fatal(err)
	}
	c.sim.Backend.Rollback()
	for range anchoredIn - parent.Number.Uint64() + 2 {
		c.mine()
	}
	testenv.Eventually(t, time.Minute, "the records anchored again and the hunter past them", func() bool {
		bs := o.AllBatches()
		if len(bs) != 2 || bs[0].Status != anchor.BatchOrphaned || bs[1].Status != anchor.BatchConfirmed || o.Count("anchored") != n {
			return false
		}
		return h.Stats().Processed >= bs[1].Inclusion.BlockNumber
	})
	if got := rc.asked(); len(got) == 0 || got[0] > anchoredIn {
		t.Fatalf("re-check asked from %v; the anchor was in block %d", got, anchoredIn)
	}
	testenv.Eventually(t, time.Minute, "the reorg alert stored", func() bool { return len(store.stored(RuleReorg)) >= 1 })
	for _, a := range store.stored("") {
		if a.Rule != RuleReorg {
			t.Errorf("alert %s: %s", a.Rule, a.Summary)
		}
	}
	v := anchor.NewVerifier(o, c.reg)
	for _, id := range o.IDs() {
		p, err := v.Verify(ctx, id)
		if err != nil || p.Status != anchor.StatusVerified {
			t.Fatalf("record %x: %v %+v", id, err, p)
		}
	}
}

// recheckBoth records a request, then passes it to the worker.
type recheckBoth struct {
	rec *recorder
	w   *anchor.Worker
}

func (r recheckBoth) RecheckFrom(ctx context.Context, block uint64) error {
	if err := r.rec.RecheckFrom(ctx, block); err != nil {
		return err
	}
	return r.w.RecheckFrom(ctx, block)
}

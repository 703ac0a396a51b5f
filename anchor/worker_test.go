package anchor_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/internal/fakes"
	"github.com/idsledger/idsledger/internal/testenv"
)

// crashingRegistry fails at a chosen point, as a process killed there would
// leave things.
type crashingRegistry struct {
	anchor.Registry
	mu         sync.Mutex
	sends      int
	afterSend  bool // fail after the transaction was handed to the node
	beforeSend bool // fail before sending anything
	dead       bool // crashed: every later call fails too
}

func (c *crashingRegistry) isDead() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dead
}

func (c *crashingRegistry) WaitIncluded(ctx context.Context, tx anchor.Hash, n uint64, replaced func(anchor.Sent)) (anchor.Inclusion, error) {
	if c.isDead() {
		return anchor.Inclusion{}, errCrash
	}
	return c.Registry.WaitIncluded(ctx, tx, n, replaced)
}

func (c *crashingRegistry) BatchInclusion(ctx context.Context, id uint64) (anchor.Inclusion, bool, error) {
	if c.isDead() {
		return anchor.Inclusion{}, false, errCrash
	}
	return c.Registry.BatchInclusion(ctx, id)
}

func (c *crashingRegistry) RecordInclusion(ctx context.Context, id anchor.RecordID) (anchor.Inclusion, bool, error) {
	if c.isDead() {
		return anchor.Inclusion{}, false, errCrash
	}
	return c.Registry.RecordInclusion(ctx, id)
}

var errCrash = errors.New("simulated crash")

func (c *crashingRegistry) AnchorBatch(ctx context.Context, id uint64, root anchor.Hash, n uint32, kind uint8) (anchor.Sent, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.beforeSend || c.dead {
		c.dead = true
		return anchor.Sent{}, errCrash
	}
	s, err := c.Registry.AnchorBatch(ctx, id, root, n, kind)
	c.sends++
	if err == nil && c.afterSend {
		c.dead = true
		return anchor.Sent{}, errCrash
	}
	return s, err
}

func (c *crashingRegistry) AnchorRecord(ctx context.Context, id anchor.RecordID, h anchor.Hash, kind uint8) (anchor.Sent, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.beforeSend || c.dead {
		c.dead = true
		return anchor.Sent{}, errCrash
	}
	s, err := c.Registry.AnchorRecord(ctx, id, h, kind)
	c.sends++
	if err == nil && c.afterSend {
		c.dead = true
		return anchor.Sent{}, errCrash
	}
	return s, err
}

func simRegistry(t *testing.T) *chain.Registry {
	t.Helper()
	sim, err := chain.NewSimulated()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	c, err := sim.Open(context.Background(), &fakes.ChainMeta{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Registry
}

func testConfig(mode anchor.Mode) anchor.WorkerConfig {
	cfg := anchor.DefaultWorkerConfig()
	cfg.Mode = mode
	cfg.MaxBatch = 64
	cfg.MaxWait = 20 * time.Millisecond
	cfg.PollInterval = 5 * time.Millisecond
	cfg.RetryMin = 5 * time.Millisecond
	cfg.RetryMax = 50 * time.Millisecond
	return cfg
}

// runUntil runs the worker until every record is anchored.
func runUntil(t *testing.T, w *anchor.Worker, o *fakes.Outbox, want int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	deadline := time.After(60 * time.Second)
	for o.Count("anchored") < want {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("worker stopped early: %v", err)
		case <-deadline:
			cancel()
			t.Fatalf("timeout: %d of %d anchored", o.Count("anchored"), want)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	o.ReleaseLock()
}

func verifyAll(t *testing.T, o *fakes.Outbox, reg anchor.RegistryReader) {
	t.Helper()
	v := anchor.NewVerifier(o, reg)
	for _, id := range o.IDs() {
		p, err := v.Verify(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != anchor.StatusVerified {
			t.Fatalf("record %x: %s (%s)", id, p.Status, p.Reason)
		}
	}
}

func TestWorkerAnchorsEveryRecordOnce(t *testing.T) {
	for _, mode := range []anchor.Mode{anchor.ModeBatch, anchor.ModeRecord} {
		t.Run(string(mode), func(t *testing.T) {
			reg := simRegistry(t)
			o := fakes.NewOutbox()
			const n = 150
			for i := range n {
				o.Add(t, fmt.Sprintf(`{"i":%d,"kind":"alert"}`, i))
			}
			w, err := anchor.NewWorker(o, reg, testConfig(mode))
			if err != nil {
				t.Fatal(err)
			}
			runUntil(t, w, o, n)
			verifyAll(t, o, reg)
			if mode == anchor.ModeBatch {
				// 150 records at 64 per batch: 64, 64, then 22 after MaxWait.
				if n := len(o.AllBatches()); n != 3 {
					t.Fatalf("%d batches, want 3", n)
				}
			}
		})
	}
}

func TestWorkerRecoversFromCrash(t *testing.T) {
	tests := []struct {
		name              string
		mode              anchor.Mode
		beforeSend, after bool
		wantSends         int // transactions the crashed attempt sent
	}{
		{"batch: crash before send", anchor.ModeBatch, true, false, 0},
		{"batch: crash after send, before recording it", anchor.ModeBatch, false, true, 1},
		{"record: crash before send", anchor.ModeRecord, true, false, 0},
		{"record: crash after send, before recording it", anchor.ModeRecord, false, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			reg := simRegistry(t)
			o := fakes.NewOutbox()
			for i := range 10 {
				o.Add(t, fmt.Sprintf(`{"i":%d}`, i))
			}
			crash := &crashingRegistry{Registry: reg, beforeSend: tt.beforeSend, afterSend: tt.after}
			cfg := testConfig(tt.mode)
			cfg.MaxWait = time.Millisecond
			w, err := anchor.NewWorker(o, crash, cfg)
			if err != nil {
				t.Fatal(err)
			}
			// One unit of work that "crashes".
			ctx1, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx1) }()
			testenv.Eventually(t, time.Minute, "the crash", func() bool {
				crash.mu.Lock()
				s := crash.sends
				crash.mu.Unlock()
				open, _ := o.Unconfirmed(ctx)
				return len(open) > 0 && s >= tt.wantSends
			})
			cancel()
			<-done
			o.ReleaseLock()
			if o.Count("anchored") == 10 {
				t.Fatal("crash did not leave work behind")
			}

			// A new worker over the same outbox and chain finishes the job.
			w2, err := anchor.NewWorker(o, reg, cfg)
			if err != nil {
				t.Fatal(err)
			}
			runUntil(t, w2, o, 10)
			verifyAll(t, o, reg)
			for _, b := range o.AllBatches() {
				if b.Mode == anchor.ModeBatch {
					if _, ok, _ := reg.Batch(ctx, b.ID); !ok {
						t.Fatalf("batch %d not on chain", b.ID)
					}
				}
			}
		})
	}
}

func TestVerifyDetectsTamperingAndAuditNamesDeletions(t *testing.T) {
	ctx := context.Background()
	reg := simRegistry(t)
	o := fakes.NewOutbox()
	var ids []anchor.RecordID
	for i := range 20 {
		ids = append(ids, o.Add(t, fmt.Sprintf(`{"i":%d}`, i)))
	}
	w, err := anchor.NewWorker(o, reg, testConfig(anchor.ModeBatch))
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, w, o, 20)
	v := anchor.NewVerifier(o, reg)

	// Alter one body.
	o.Tamper(ids[3], []byte(`{"i":333}`))
	p, err := v.Verify(ctx, ids[3])
	if err != nil || p.Status != anchor.StatusTampered {
		t.Fatalf("altered record: %+v %v", p, err)
	}
	// Its neighbours still verify: proofs come from the batch's leaves.
	if p, err := v.Verify(ctx, ids[4]); err != nil || p.Status != anchor.StatusVerified {
		t.Fatalf("neighbour: %+v %v", p, err)
	}
	// Delete one record.
	rec, err := o.Record(ctx, ids[7])
	if err != nil {
		t.Fatal(err)
	}
	batchID := rec.BatchID
	o.Delete(ids[7])
	rep, err := v.Audit(ctx, batchID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Missing) != 1 || rep.Missing[0].LeafIndex != 7 || len(rep.Altered) != 1 || rep.Altered[0].LeafIndex != 3 {
		t.Fatalf("audit: %+v", rep)
	}
	if _, err := v.Verify(ctx, ids[7]); !errors.Is(err, anchor.ErrNotFound) {
		t.Fatalf("deleted record: %v", err)
	}

	// The offline verifier agrees with the online one.
	good, err := v.Verify(ctx, ids[5])
	if err != nil {
		t.Fatal(err)
	}
	off, err := anchor.VerifyOffline(ctx, reg, []byte(`{ "i" : 5 }`), *good)
	if err != nil || off.Status != anchor.StatusVerified {
		t.Fatalf("offline: %+v %v", off, err)
	}
	// Both say how deep the anchor is, and that the chain is a dev chain.
	for _, p := range []*anchor.Proof{good, off} {
		if p.Depth == 0 || p.Depth != p.HeadBlock-p.BlockNumber+1 || p.FinalizedBlock == nil || p.Finalized == nil || len(p.Warnings) != 1 {
			t.Fatalf("standing: %+v", p)
		}
	}
	// Both name the account that wrote the anchor, which a client checks.
	if good.Submitter == nil || off.Submitter == nil || anchor.Address(*off.Submitter) != anchor.Address(reg.Sender()) {
		t.Fatalf("submitter: online %v, offline %v, want %s", good.Submitter, off.Submitter, reg.Sender().Hex())
	}
	if off.RequireSubmitter(anchor.Address(reg.Sender())); off.Status != anchor.StatusVerified {
		t.Fatalf("the expected anchorer: %+v", off)
	}
	if off.RequireSubmitter(anchor.Address{0xbb}); off.Status != anchor.StatusNotAnchored {
		t.Fatalf("another anchorer: %+v", off)
	}
	off, err = anchor.VerifyOffline(ctx, reg, []byte(`{"i":6}`), *good)
	if err != nil || off.Status != anchor.StatusTampered {
		t.Fatalf("offline, wrong record: %+v %v", off, err)
	}
}

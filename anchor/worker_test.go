package anchor_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
)

// memOutbox is an in-memory anchor.Outbox and anchor.RecordSource that
// keeps the contracts the worker relies on; storage.Outbox is tested
// against PostgreSQL separately.
type memOutbox struct {
	mu      sync.Mutex
	locked  bool
	seq     int64
	records map[anchor.RecordID]*memRecord
	batches map[uint64]*anchor.Batch
	nextID  uint64
}

type memRecord struct {
	anchor.StoredRecord
	seq     int64
	leaf    anchor.Hash
	created time.Time
}

func newMemOutbox() *memOutbox {
	return &memOutbox{records: map[anchor.RecordID]*memRecord{}, batches: map[uint64]*anchor.Batch{}, nextID: 1}
}

func (o *memOutbox) add(t testing.TB, body string) anchor.RecordID {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	c, err := anchor.Canonicalize([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	o.seq++
	var id anchor.RecordID
	id[0], id[8] = 0x01, byte(o.seq)
	id[1], id[2], id[3] = byte(o.seq>>8), byte(o.seq>>16), byte(o.seq>>24)
	o.records[id] = &memRecord{
		StoredRecord: anchor.StoredRecord{ID: id, Kind: "alert", Body: c, Status: "pending", CreatedAt: time.Now()},
		seq:          o.seq, leaf: anchor.LeafHash(c), created: time.Now(),
	}
	return id
}

type memLease struct{ lost chan struct{} }

func (l *memLease) Lost() <-chan struct{} { return l.lost }
func (l *memLease) Release()              {}

func (o *memOutbox) TryLock(context.Context) (anchor.Lease, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.locked {
		return nil, anchor.ErrLockHeld
	}
	o.locked = true
	return &memLease{lost: make(chan struct{})}, nil
}

func (o *memOutbox) Pending(_ context.Context, limit int) ([]anchor.PendingRecord, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []anchor.PendingRecord
	for _, r := range o.records {
		if r.Status == "pending" {
			out = append(out, anchor.PendingRecord{ID: r.ID, Seq: r.seq, Kind: r.Kind, Leaf: r.leaf, Age: time.Since(r.created)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (o *memOutbox) Prepare(_ context.Context, plans []anchor.BatchPlan) ([]anchor.Batch, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []anchor.Batch
	for _, p := range plans {
		b := anchor.Batch{ID: o.nextID, Mode: p.Mode, Kind: p.Kind, Root: p.Root, LeafCount: len(p.Records), Status: anchor.BatchPrepared}
		o.nextID++
		for _, r := range p.Records {
			b.Leaves = append(b.Leaves, r.Leaf)
			b.RecordIDs = append(b.RecordIDs, r.ID)
		}
		o.batches[b.ID] = &b
		out = append(out, b)
	}
	return out, nil
}

func (o *memOutbox) MarkSent(_ context.Context, id uint64, s anchor.Sent) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	b := o.batches[id]
	if b == nil || b.Status == anchor.BatchConfirmed {
		return fmt.Errorf("batch %d not open", id)
	}
	b.Status, b.HasTx, b.Tx, b.TxNonce = anchor.BatchSent, true, s.Tx, s.Nonce
	return nil
}

func (o *memOutbox) Confirm(_ context.Context, cs []anchor.Confirmation) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range cs {
		b := o.batches[c.BatchID]
		if b.Status == anchor.BatchConfirmed {
			continue
		}
		b.Status, b.Inclusion, b.HasTx, b.Tx = anchor.BatchConfirmed, c.Inclusion, true, c.Inclusion.Tx
		for i, id := range c.RecordIDs {
			if r := o.records[id]; r != nil && r.Status == "pending" {
				r.Status, r.BatchID, r.LeafIndex = "anchored", c.BatchID, i
			}
		}
	}
	return nil
}

func (o *memOutbox) Unconfirmed(context.Context) ([]anchor.Batch, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []anchor.Batch
	for _, b := range o.batches {
		if b.Status != anchor.BatchConfirmed {
			out = append(out, *b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (o *memOutbox) Record(_ context.Context, id anchor.RecordID) (anchor.StoredRecord, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.records[id]
	if !ok {
		return anchor.StoredRecord{}, anchor.ErrNotFound
	}
	return r.StoredRecord, nil
}

func (o *memOutbox) Batch(_ context.Context, id uint64) (anchor.Batch, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.batches[id]
	if !ok {
		return anchor.Batch{}, anchor.ErrNotFound
	}
	return *b, nil
}

func (o *memOutbox) BatchRecords(_ context.Context, id uint64) ([]anchor.StoredRecord, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []anchor.StoredRecord
	for _, r := range o.records {
		if r.Status != "pending" && r.BatchID == id {
			out = append(out, r.StoredRecord)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LeafIndex < out[j].LeafIndex })
	return out, nil
}

func (o *memOutbox) count(status string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, r := range o.records {
		if r.Status == status {
			n++
		}
	}
	return n
}

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

func (c *crashingRegistry) WaitIncluded(ctx context.Context, tx anchor.Hash, n uint64) (anchor.Inclusion, error) {
	if c.isDead() {
		return anchor.Inclusion{}, errCrash
	}
	return c.Registry.WaitIncluded(ctx, tx, n)
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
	c, err := sim.Open(context.Background(), &nopMeta{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Registry
}

type nopMeta struct{ m *anchor.ChainMeta }

func (n *nopMeta) LoadChainMeta(context.Context) (anchor.ChainMeta, bool, error) {
	if n.m == nil {
		return anchor.ChainMeta{}, false, nil
	}
	return *n.m, true, nil
}

func (n *nopMeta) SaveChainMeta(_ context.Context, m anchor.ChainMeta) (anchor.ChainMeta, error) {
	if n.m == nil {
		n.m = &m
	}
	return *n.m, nil
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
func runUntil(t *testing.T, w *anchor.Worker, o *memOutbox, want int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	deadline := time.After(60 * time.Second)
	for o.count("anchored") < want {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("worker stopped early: %v", err)
		case <-deadline:
			cancel()
			t.Fatalf("timeout: %d of %d anchored", o.count("anchored"), want)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	o.mu.Lock()
	o.locked = false
	o.mu.Unlock()
}

func verifyAll(t *testing.T, o *memOutbox, reg anchor.RegistryReader) {
	t.Helper()
	v := anchor.NewVerifier(o, reg)
	for id := range o.records {
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
			o := newMemOutbox()
			const n = 150
			for i := range n {
				o.add(t, fmt.Sprintf(`{"i":%d,"kind":"alert"}`, i))
			}
			w, err := anchor.NewWorker(o, reg, testConfig(mode))
			if err != nil {
				t.Fatal(err)
			}
			runUntil(t, w, o, n)
			verifyAll(t, o, reg)
			if mode == anchor.ModeBatch {
				// 150 records at 64 per batch: 64, 64, then 22 after MaxWait.
				if len(o.batches) != 3 {
					t.Fatalf("%d batches, want 3", len(o.batches))
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
			o := newMemOutbox()
			for i := range 10 {
				o.add(t, fmt.Sprintf(`{"i":%d}`, i))
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
			for {
				crash.mu.Lock()
				s := crash.sends
				crash.mu.Unlock()
				open, _ := o.Unconfirmed(ctx)
				if len(open) > 0 && s >= tt.wantSends {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			cancel()
			<-done
			o.mu.Lock()
			o.locked = false
			o.mu.Unlock()
			if o.count("anchored") == 10 {
				t.Fatal("crash did not leave work behind")
			}

			// A new worker over the same outbox and chain finishes the job.
			w2, err := anchor.NewWorker(o, reg, cfg)
			if err != nil {
				t.Fatal(err)
			}
			runUntil(t, w2, o, 10)
			verifyAll(t, o, reg)
			for _, b := range o.batches {
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
	o := newMemOutbox()
	var ids []anchor.RecordID
	for i := range 20 {
		ids = append(ids, o.add(t, fmt.Sprintf(`{"i":%d}`, i)))
	}
	w, err := anchor.NewWorker(o, reg, testConfig(anchor.ModeBatch))
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, w, o, 20)
	v := anchor.NewVerifier(o, reg)

	// Alter one body.
	o.records[ids[3]].Body = []byte(`{"i":333}`)
	p, err := v.Verify(ctx, ids[3])
	if err != nil || p.Status != anchor.StatusTampered {
		t.Fatalf("altered record: %+v %v", p, err)
	}
	// Its neighbours still verify: proofs come from the batch's leaves.
	if p, err := v.Verify(ctx, ids[4]); err != nil || p.Status != anchor.StatusVerified {
		t.Fatalf("neighbour: %+v %v", p, err)
	}
	// Delete one record.
	batchID := o.records[ids[7]].BatchID
	delete(o.records, ids[7])
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
	off, err = anchor.VerifyOffline(ctx, reg, []byte(`{"i":6}`), *good)
	if err != nil || off.Status != anchor.StatusTampered {
		t.Fatalf("offline, wrong record: %+v %v", off, err)
	}
}

// Package fakes holds the in-memory test doubles that unit tests share:
// stores and outboxes that keep the contracts of the interfaces they
// implement, so that a package's logic can be tested without PostgreSQL or
// a chain. Only tests import it; the integration tests use the real parts.
package fakes

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/idsledger/idsledger/anchor"
)

// Outbox is an in-memory anchor.Outbox and anchor.RecordSource that keeps
// the contracts the anchoring worker relies on; storage.Outbox is tested
// against PostgreSQL separately. Unlike storage, Confirm skips a record
// that was deleted meanwhile.
type Outbox struct {
	mu      sync.Mutex
	locked  bool
	epoch   anchor.Fence // the latest lease's fence
	seq     int64
	records map[anchor.RecordID]*memRecord
	batches map[uint64]*anchor.Batch
	nextID  uint64
	// recheck is the kept re-check request (anchor.RecheckRequests).
	recheck *uint64
}

var _ anchor.RecheckRequests = (*Outbox)(nil)

// RequestRecheck keeps a re-check from block, lowering one kept already.
func (o *Outbox) RequestRecheck(_ context.Context, block uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.recheck == nil || block < *o.recheck {
		o.recheck = &block
	}
	return nil
}

// RecheckRequested returns the kept re-check's first block, if any.
func (o *Outbox) RecheckRequested(context.Context) (uint64, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.recheck == nil {
		return 0, false, nil
	}
	return *o.recheck, true, nil
}

// RecheckSettled clears the kept re-check if it still starts at block.
func (o *Outbox) RecheckSettled(_ context.Context, block uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.recheck != nil && *o.recheck == block {
		o.recheck = nil
	}
	return nil
}

type memRecord struct {
	anchor.StoredRecord
	seq     int64
	leaf    anchor.Hash
	created time.Time
}

// NewOutbox returns an empty outbox.
func NewOutbox() *Outbox {
	return &Outbox{records: map[anchor.RecordID]*memRecord{}, batches: map[uint64]*anchor.Batch{}, nextID: 1}
}

// Add appends a pending "alert" record with body (canonicalized) and
// returns its id.
func (o *Outbox) Add(t testing.TB, body string) anchor.RecordID {
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

type memLease struct {
	lost  chan struct{}
	fence anchor.Fence
}

func (l *memLease) Lost() <-chan struct{} { return l.lost }
func (l *memLease) Fence() anchor.Fence   { return l.fence }
func (l *memLease) Release()              {}

// TryLock takes the lock and a fence one above the last lease's.
func (o *Outbox) TryLock(context.Context) (anchor.Lease, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.locked {
		return nil, anchor.ErrLockHeld
	}
	o.locked = true
	o.epoch++
	return &memLease{lost: make(chan struct{}), fence: o.epoch}, nil
}

// fenced returns anchor.ErrLockLost unless f is the latest lease's fence.
// The caller holds o.mu.
func (o *Outbox) fenced(f anchor.Fence) error {
	if f != o.epoch {
		return fmt.Errorf("%w: lease %d fenced off by lease %d", anchor.ErrLockLost, f, o.epoch)
	}
	return nil
}

func (o *Outbox) Pending(_ context.Context, limit int) ([]anchor.PendingRecord, error) {
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

func (o *Outbox) Prepare(_ context.Context, f anchor.Fence, plans []anchor.BatchPlan) ([]anchor.Batch, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.fenced(f); err != nil {
		return nil, err
	}
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

func (o *Outbox) MarkSent(_ context.Context, f anchor.Fence, id uint64, s anchor.Sent) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.fenced(f); err != nil {
		return err
	}
	b := o.batches[id]
	if b == nil || (b.Status != anchor.BatchPrepared && b.Status != anchor.BatchSent) {
		return fmt.Errorf("batch %d not open", id)
	}
	b.Status, b.HasTx, b.Tx, b.TxNonce = anchor.BatchSent, true, s.Tx, s.Nonce
	return nil
}

func (o *Outbox) Confirm(_ context.Context, f anchor.Fence, cs []anchor.Confirmation) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.fenced(f); err != nil {
		return err
	}
	for _, c := range cs {
		b := o.batches[c.BatchID]
		if b.Status != anchor.BatchPrepared && b.Status != anchor.BatchSent {
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

func (o *Outbox) Unconfirmed(context.Context) ([]anchor.Batch, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []anchor.Batch
	for _, b := range o.batches {
		if b.Status == anchor.BatchPrepared || b.Status == anchor.BatchSent {
			out = append(out, *b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Confirmed returns confirmed batches below before (0: all), highest id
// first, without leaves and with record ids only in record mode.
func (o *Outbox) Confirmed(_ context.Context, before uint64, limit int) ([]anchor.Batch, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []anchor.Batch
	for _, b := range o.batches {
		if b.Status == anchor.BatchConfirmed && (before == 0 || b.ID < before) {
			c := *b
			c.Leaves = nil
			if c.Mode != anchor.ModeRecord {
				c.RecordIDs = nil
			}
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Reconfirm replaces a confirmed batch's inclusion.
func (o *Outbox) Reconfirm(_ context.Context, f anchor.Fence, id uint64, inc anchor.Inclusion) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.fenced(f); err != nil {
		return err
	}
	b := o.batches[id]
	if b == nil || b.Status != anchor.BatchConfirmed {
		return fmt.Errorf("batch %d not confirmed", id)
	}
	b.Inclusion, b.Tx = inc, inc.Tx
	return nil
}

// Orphan marks a confirmed batch orphaned and makes its records pending
// again.
func (o *Outbox) Orphan(_ context.Context, f anchor.Fence, id uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.fenced(f); err != nil {
		return err
	}
	b := o.batches[id]
	if b == nil || b.Status != anchor.BatchConfirmed {
		return fmt.Errorf("batch %d not confirmed", id)
	}
	b.Status = anchor.BatchOrphaned
	for _, rid := range b.RecordIDs {
		if r := o.records[rid]; r != nil && r.Status == "anchored" && r.BatchID == id {
			r.Status, r.BatchID, r.LeafIndex = "pending", 0, 0
		}
	}
	return nil
}

func (o *Outbox) Record(_ context.Context, id anchor.RecordID) (anchor.StoredRecord, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.records[id]
	if !ok {
		return anchor.StoredRecord{}, anchor.ErrNotFound
	}
	return r.StoredRecord, nil
}

func (o *Outbox) Batch(_ context.Context, id uint64) (anchor.Batch, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.batches[id]
	if !ok {
		return anchor.Batch{}, anchor.ErrNotFound
	}
	return *b, nil
}

func (o *Outbox) BatchRecords(_ context.Context, id uint64) ([]anchor.StoredRecord, error) {
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

// Count is how many records have status ("pending" or "anchored").
func (o *Outbox) Count(status string) int {
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

// ReleaseLock frees the anchoring lock, as the end of a dead worker's
// database session would.
func (o *Outbox) ReleaseLock() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.locked = false
}

// IDs returns the ids of every record.
func (o *Outbox) IDs() []anchor.RecordID {
	o.mu.Lock()
	defer o.mu.Unlock()
	ids := make([]anchor.RecordID, 0, len(o.records))
	for id := range o.records {
		ids = append(ids, id)
	}
	return ids
}

// AllBatches returns a copy of every batch row, lowest id first.
func (o *Outbox) AllBatches() []anchor.Batch {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]anchor.Batch, 0, len(o.batches))
	for _, b := range o.batches {
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Batches implements anchor.RecordSource: newest first, without leaves and
// record ids.
func (o *Outbox) Batches(_ context.Context, f anchor.BatchFilter) ([]anchor.Batch, error) {
	all := o.AllBatches()
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var out []anchor.Batch
	for i := len(all) - 1; i >= 0 && len(out) < limit; i-- {
		b := all[i]
		if (f.Before != 0 && b.ID >= f.Before) || (f.Status != "" && b.Status != f.Status) {
			continue
		}
		b.Leaves, b.RecordIDs = nil, nil
		out = append(out, b)
	}
	return out, nil
}

// Tamper replaces a record's stored body, as someone editing the row would.
func (o *Outbox) Tamper(id anchor.RecordID, body []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.records[id].Body = body
}

// Delete removes a record row.
func (o *Outbox) Delete(id anchor.RecordID) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.records, id)
}

package anchor

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Mode is how records reach the chain.
type Mode string

const (
	// ModeBatch anchors a Merkle root per batch of records (anchorBatch).
	ModeBatch Mode = "batch"
	// ModeRecord anchors each record's leaf hash with its own transaction
	// (anchor); a batch row then holds exactly one record.
	ModeRecord Mode = "record"
)

// BatchStatus is the life cycle of a batch row.
type BatchStatus string

const (
	// BatchPrepared: the batch's records are fixed; a transaction may or may
	// not have been sent (a crash can happen between the two).
	BatchPrepared BatchStatus = "prepared"
	// BatchSent: a transaction was sent and its hash recorded.
	BatchSent BatchStatus = "sent"
	// BatchConfirmed: mined and confirmed; each of its records has its
	// place (batch, leaf index) written and has left the outbox.
	BatchConfirmed BatchStatus = "confirmed"
	// BatchOrphaned: was confirmed, then its transaction vanished from the
	// chain (a reorg dropped it and no node holds it any more). Its records
	// lost their places and went back to the outbox, to be anchored again
	// under a new batch id: the registry refuses an id twice, and the old
	// transaction might yet come back.
	BatchOrphaned BatchStatus = "orphaned"
)

// Record kinds and the code each has on chain.
var kindCodes = map[string]uint8{
	"alert":        1,
	"model_update": 2,
	"global_model": 3,
	"audit_event":  4,
	"fl_round":     5,
	"chain_alert":  6,
}

// KindMixed is the on-chain kind of a batch that holds records of more than
// one kind.
const KindMixed uint8 = 255

// KindCode returns the registry's code for a record kind.
func KindCode(kind string) (uint8, error) {
	c, ok := kindCodes[kind]
	if !ok {
		return 0, fmt.Errorf("unknown record kind %q", kind)
	}
	return c, nil
}

// PendingRecord is a record waiting in the outbox.
type PendingRecord struct {
	ID   RecordID
	Seq  int64
	Kind string
	Leaf Hash
	// Age is how long the record has waited, by the database's clock.
	Age time.Duration
}

// BatchPlan is a batch the worker is about to anchor: records in leaf order.
type BatchPlan struct {
	Mode    Mode
	Kind    uint8
	Root    Hash
	Records []PendingRecord
}

// Batch is a batch row as stored.
type Batch struct {
	ID        uint64
	Mode      Mode
	Kind      uint8
	Root      Hash
	LeafCount int
	Status    BatchStatus
	// Leaves and RecordIDs are the batch's leaf hashes and record ids in leaf
	// order, as written when the batch was prepared.
	Leaves    []Hash
	RecordIDs []RecordID
	// Tx and TxNonce are set once a transaction was sent (Status sent or
	// confirmed); HasTx says whether they are.
	HasTx   bool
	Tx      Hash
	TxNonce uint64
	// Inclusion is set for confirmed batches.
	Inclusion Inclusion
}

// Confirmation is what the worker records once a batch is on chain.
type Confirmation struct {
	BatchID   uint64
	Inclusion Inclusion
	// RecordIDs are the batch's records in leaf order, as prepared.
	RecordIDs []RecordID
}

// ErrLockHeld is returned by Outbox.TryLock when another worker holds the
// anchoring lock.
var ErrLockHeld = errors.New("anchoring lock held by another worker")

// Fence is the fencing token of an anchoring lease: a number that grows
// every time the lock is taken. The outbox refuses a write that carries a
// fence older than the latest lease's, so a former holder that lost the lock
// without noticing (its session died while it stalled, and its watch has
// not fired yet) cannot write anything, however late it wakes.
type Fence uint64

// Lease is the anchoring lock held by this worker.
type Lease interface {
	// Lost is closed when the lock can no longer be trusted (its database
	// session ended); the worker must stop sending transactions.
	Lost() <-chan struct{}
	// Fence is the lease's fencing token, which every write of the
	// worker's carries.
	Fence() Fence
	// Release gives the lock back; it is safe to call more than once.
	Release()
}

// Outbox is what the anchoring worker needs from storage. Implementations
// must make each method atomic: it either happens completely or not at all.
// Every write takes the writer's Fence and fails with ErrLockLost, writing
// nothing, when a newer lease exists; the check and the write are one
// transaction.
//
// A record stays pending until the batch holding it is confirmed: the batch
// row alone (its record ids and leaves) says which records a batch in flight
// holds, so preparing and sending a batch write nothing per record, and
// confirming it writes one row per record (its place) and removes its
// outbox row. That is safe because the worker settles every unconfirmed
// batch (Reconcile) before it reads Pending again, under a lock that admits
// one worker at a time.
type Outbox interface {
	// TryLock takes the single-worker anchoring lock, or returns ErrLockHeld.
	// The lease's Fence is greater than that of every lease before it.
	TryLock(ctx context.Context) (Lease, error)
	// Pending returns up to limit pending records, lowest seq first. It
	// includes records of unconfirmed batches; call it only when there are
	// none.
	Pending(ctx context.Context, limit int) ([]PendingRecord, error)
	// Prepare writes the plans as batch rows with status prepared, each with
	// its records' ids and leaves in leaf order, in one transaction. The
	// returned batches carry the ids the database gave them, in plan order.
	Prepare(ctx context.Context, f Fence, plans []BatchPlan) ([]Batch, error)
	// MarkSent records the transaction sent for a prepared batch (status
	// sent). Calling it again with a new transaction replaces the old one.
	MarkSent(ctx context.Context, f Fence, batchID uint64, sent Sent) error
	// Confirm marks batches confirmed with their inclusion, writes the
	// batch id and leaf index of every record id the batch was prepared
	// with and removes them from the pending records, in one transaction.
	// Confirming a confirmed batch again changes nothing. A record whose row
	// was deleted meanwhile still gets its place written (it was anchored);
	// verifying it says missing, and a batch audit names it.
	Confirm(ctx context.Context, f Fence, cs []Confirmation) error
	// Unconfirmed returns every batch prepared or sent and not yet
	// confirmed, lowest id first.
	Unconfirmed(ctx context.Context) ([]Batch, error)

	// Confirmed returns up to limit confirmed batches with ids below before
	// (0: no bound), highest id first, for the re-check: without their
	// leaves, and with their record ids only in record mode.
	Confirmed(ctx context.Context, before uint64, limit int) ([]Batch, error)
	// Reconfirm replaces a confirmed batch's inclusion with inc: a reorg
	// moved its transaction to another block. It fails for a batch that is
	// not confirmed.
	Reconfirm(ctx context.Context, f Fence, batchID uint64, inc Inclusion) error
	// Orphan takes a confirmed batch back, in one transaction: its status
	// becomes orphaned, the places of its records are removed, and the
	// records return to the outbox with their original seq (pending again,
	// in their old order). It fails for a batch that is not confirmed,
	// and changes nothing then.
	Orphan(ctx context.Context, f Fence, batchID uint64) error
}

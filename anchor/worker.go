package anchor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// WorkerConfig configures the anchoring worker. The zero value of a field
// means its default (see DefaultWorkerConfig).
type WorkerConfig struct {
	// Mode is batch (one Merkle root per transaction) or record (one
	// transaction per record).
	Mode Mode
	// MaxBatch closes a batch once it holds this many records (batch mode).
	MaxBatch int
	// MaxInFlight is how many per-record transactions one unit of work
	// sends before waiting for them (record mode). Nodes limit how many
	// pending transactions one account may have; keep it modest.
	MaxInFlight int
	// MaxWait closes a batch once its oldest record has waited this long,
	// even if it is not full.
	MaxWait time.Duration
	// PollInterval is how often the outbox is read while it is empty or
	// while a batch is filling. Notify wakes the worker earlier.
	PollInterval time.Duration
	// Confirmations is how many blocks (counting the one that includes the
	// transaction) must exist before a batch counts as anchored. 0 and 1
	// both mean "mined"; Finalized waits for the chain's finalized block
	// tag instead. On a dev chain that only makes blocks when transactions
	// arrive, keep it at 1. Whatever it is, the re-check (RecheckInterval)
	// looks at confirmed batches again.
	Confirmations uint64
	// UnitTimeout bounds one unit of work (prepare, send, wait, record)
	// once Run's context is cancelled: the worker finishes the unit in hand
	// within this time, or leaves it to be reconciled on the next start.
	UnitTimeout time.Duration
	// RetryMin and RetryMax bound the exponential backoff between attempts
	// after an error.
	RetryMin, RetryMax time.Duration
	// LockRetry is how often a worker that does not hold the anchoring
	// lock tries to take it.
	LockRetry time.Duration
	// RecheckInterval is how often confirmed batches are checked against
	// the chain again (see Worker.recheck); negative turns the re-check
	// off.
	RecheckInterval time.Duration
	// RecheckBatches bounds one re-check pass: half of it goes to the most
	// recent confirmed batches, half to older ones, taken in turn from the
	// newest down, so that every batch is looked at again in time.
	RecheckBatches int
	// RecheckRangeRetry is how long a range of batches asked for by
	// RecheckFrom waits before it is checked again while some of its
	// batches are not settled yet (an anchor missing once, a transaction
	// still in the pool).
	RecheckRangeRetry time.Duration
	// Logger receives progress and errors; nil means slog.Default().
	Logger *slog.Logger
	// OnConfirmed, when set, is called after each unit of work is recorded
	// as anchored (for metrics and benchmarks). It must not block.
	OnConfirmed func(batches []Batch, cs []Confirmation)
	// OnRechecked, when set, is called after each re-check pass with how
	// many batches had each outcome (RecheckOK, RecheckMoved, ...). It must
	// not block.
	OnRechecked func(outcomes map[RecheckOutcome]int)
}

// DefaultWorkerConfig returns the defaults: batch mode, 4096 records or 1 s
// per batch, 1 confirmation, a re-check of 32 confirmed batches a minute,
// and a range asked for by RecheckFrom checked again every 5 s until
// settled.
func DefaultWorkerConfig() WorkerConfig {
	return WorkerConfig{
		Mode:          ModeBatch,
		MaxBatch:      4096,
		MaxInFlight:   64,
		MaxWait:       time.Second,
		PollInterval:  50 * time.Millisecond,
		Confirmations: 1,
		UnitTimeout:   2 * time.Minute,
		RetryMin:      100 * time.Millisecond,
		RetryMax:      30 * time.Second,
		LockRetry:     5 * time.Second,

		RecheckInterval: time.Minute,
		RecheckBatches:  32,

		RecheckRangeRetry: 5 * time.Second,
	}
}

func (c WorkerConfig) withDefaults() (WorkerConfig, error) {
	d := DefaultWorkerConfig()
	if c.Mode == "" {
		c.Mode = d.Mode
	}
	if c.Mode != ModeBatch && c.Mode != ModeRecord {
		return c, fmt.Errorf("anchor: unknown mode %q", c.Mode)
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = d.MaxBatch
	}
	if c.MaxBatch > 1<<20 {
		return c, fmt.Errorf("anchor: batch size %d too large", c.MaxBatch)
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = d.MaxInFlight
	}
	if c.MaxWait <= 0 {
		c.MaxWait = d.MaxWait
	}
	if c.PollInterval <= 0 {
		c.PollInterval = min(d.PollInterval, c.MaxWait/4)
	}
	if c.Confirmations == 0 {
		c.Confirmations = 1
	}
	if c.UnitTimeout <= 0 {
		c.UnitTimeout = d.UnitTimeout
	}
	if c.RetryMin <= 0 {
		c.RetryMin = d.RetryMin
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = max(d.RetryMax, c.RetryMin)
	}
	if c.LockRetry <= 0 {
		c.LockRetry = d.LockRetry
	}
	if c.RecheckInterval == 0 {
		c.RecheckInterval = d.RecheckInterval
	}
	if c.RecheckBatches <= 0 {
		c.RecheckBatches = d.RecheckBatches
	}
	if c.RecheckRangeRetry <= 0 {
		c.RecheckRangeRetry = d.RecheckRangeRetry
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// ErrChainConflict means the registry holds a batch or record anchor under
// one of this database's ids with a different root: the registry is shared
// with another database, or the database was restored from an old backup.
// The worker stops; anchoring more would be unsafe.
var ErrChainConflict = errors.New("registry holds a different anchor under this database's id")

// ErrLockLost means the worker's anchoring lock ended while it was running,
// or (from an Outbox write) that a newer lease has fenced this one off.
var ErrLockLost = errors.New("anchoring lock lost")

// Worker moves records from the outbox to the registry. Only one worker
// anchors at a time across every instance sharing the database: Run holds
// the outbox's lock while it works.
//
// Crash safety: a batch's records are written into a prepared batch row
// (whose id is the on-chain batch id) before any transaction is sent, and
// before reading the outbox again every unconfirmed batch is reconciled
// against the registry: confirmed if the registry holds it with the same
// root, sent again under the same id if it does not. The registry refuses
// duplicate ids, so no batch is anchored twice; a record is anchored again
// (under a new id) only when a reorg dropped its batch (recheckPass).
type Worker struct {
	out  Outbox
	reg  Registry
	cfg  WorkerConfig
	log  *slog.Logger
	wake chan struct{}
	// fence is the fencing token of the lease Run holds; every write to
	// the outbox carries it.
	fence Fence
	// recheck is the re-check's state between passes (used by Run's
	// goroutine only).
	recheck recheckState
	// ranges holds the ranges asked for by RecheckFrom (shared with its
	// callers).
	ranges rangeRequests
}

// NewWorker returns a worker over an outbox and a registry.
func NewWorker(out Outbox, reg Registry, cfg WorkerConfig) (*Worker, error) {
	if out == nil || reg == nil {
		return nil, errors.New("anchor: worker needs an outbox and a registry")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Worker{
		out:  out,
		reg:  reg,
		cfg:  cfg,
		log:  cfg.Logger.With("component", "anchor", "mode", string(cfg.Mode)),
		wake: make(chan struct{}, 1),
	}, nil
}

// Notify tells the worker that records were added, so that a full batch
// does not wait for the next poll. It never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run anchors until ctx is cancelled, then returns nil after finishing the
// unit of work in hand (or after UnitTimeout, leaving it for reconciliation).
// It waits for the anchoring lock while another worker holds it, and
// between units re-checks confirmed batches every RecheckInterval. It
// returns an error only for conditions that retrying cannot fix:
// ErrChainConflict, ErrLockLost (the lock ended, or a newer lease fenced
// this one off).
func (w *Worker) Run(ctx context.Context) error {
	lease, err := w.acquire(ctx)
	if lease == nil {
		return err
	}
	defer lease.Release()
	w.fence = lease.Fence()
	w.log.Info("anchoring lock taken", "fence", uint64(w.fence))

	bo := w.backoff()
	reconciled := false
	lastRecheck := time.Now()
	for {
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-lease.Lost():
			return ErrLockLost
		default:
		}
		var err error
		switch {
		case !reconciled:
			err = w.unit(ctx, lease, func(uctx context.Context) error {
				if err := w.loadRecheckRequest(uctx); err != nil {
					return err
				}
				return w.Reconcile(uctx)
			})
			reconciled = err == nil
		case w.ranges.due(time.Now()):
			// Between units: no batch is in flight.
			err = w.unit(ctx, lease, w.rangePass)
		case w.cfg.RecheckInterval > 0 && time.Since(lastRecheck) >= w.cfg.RecheckInterval:
			// Between units: no batch is in flight.
			lastRecheck = time.Now()
			err = w.unit(ctx, lease, func(uctx context.Context) error {
				// A range another instance's follower asked for
				// since: served from the next pass on.
				if err := w.loadRecheckRequest(uctx); err != nil {
					return err
				}
				return w.recheckPass(uctx)
			})
		default:
			var idle time.Duration
			err = w.unit(ctx, lease, func(uctx context.Context) error {
				var e error
				idle, e = w.step(uctx)
				return e
			})
			if err == nil && idle > 0 {
				w.sleep(ctx, idle)
			}
		}
		switch {
		case err == nil:
			bo.Reset()
		case errors.Is(err, ErrChainConflict):
			return err
		case errors.Is(err, ErrLockLost):
			return err
		case ctx.Err() != nil:
			return nil
		default:
			d := bo.NextBackOff()
			w.log.Warn("anchoring failed; retrying", "err", err, "in", d)
			// A failed unit may have left batches prepared or sent.
			reconciled = false
			w.sleep(ctx, d)
		}
	}
}

// unit runs f with a context that survives cancellation of ctx for up to
// UnitTimeout, but ends at once if the lock is lost.
func (w *Worker) unit(ctx context.Context, lease Lease, f func(context.Context) error) error {
	uctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-lease.Lost():
			cancel(ErrLockLost)
		case <-ctx.Done():
			select {
			case <-time.After(w.cfg.UnitTimeout):
				cancel(context.DeadlineExceeded)
			case <-lease.Lost():
				cancel(ErrLockLost)
			case <-stop:
			}
		case <-stop:
		}
	}()
	err := f(uctx)
	if cause := context.Cause(uctx); err != nil && errors.Is(cause, ErrLockLost) {
		return fmt.Errorf("%w: %v", ErrLockLost, err)
	}
	return err
}

func (w *Worker) acquire(ctx context.Context) (Lease, error) {
	logged := false
	for {
		lease, err := w.out.TryLock(ctx)
		if err == nil {
			return lease, nil
		}
		if !errors.Is(err, ErrLockHeld) {
			w.log.Warn("cannot take anchoring lock", "err", err)
		} else if !logged {
			w.log.Info("another worker holds the anchoring lock; waiting")
			logged = true
		}
		if !w.sleep(ctx, w.cfg.LockRetry) {
			return nil, nil
		}
	}
}

// sleep waits d, a Notify, or the end of ctx; it reports whether ctx is
// still live.
func (w *Worker) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-w.wake:
	case <-t.C:
	}
	return true
}

// step anchors at most one unit of work: one batch in batch mode, up to
// MaxInFlight single-record transactions in record mode. When the outbox holds
// nothing ready (empty, or a batch still filling) it anchors nothing and
// returns how long to wait before looking again.
func (w *Worker) step(ctx context.Context) (idle time.Duration, err error) {
	limit := w.cfg.MaxBatch
	if w.cfg.Mode == ModeRecord {
		limit = w.cfg.MaxInFlight
	}
	recs, err := w.out.Pending(ctx, limit)
	if err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	if len(recs) == 0 {
		return w.cfg.PollInterval, nil
	}
	if w.cfg.Mode == ModeBatch && len(recs) < limit && recs[0].Age < w.cfg.MaxWait {
		// Not full and not old enough: wait for more, or for the age limit.
		return max(time.Millisecond, min(w.cfg.PollInterval, w.cfg.MaxWait-recs[0].Age)), nil
	}
	plans, err := w.plan(recs)
	if err != nil {
		return 0, err
	}
	batches, err := w.out.Prepare(ctx, w.fence, plans)
	if err != nil {
		return 0, fmt.Errorf("prepare batch: %w", err)
	}
	return 0, w.anchor(ctx, batches)
}

// plan turns pending records (seq order) into batch plans.
func (w *Worker) plan(recs []PendingRecord) ([]BatchPlan, error) {
	if w.cfg.Mode == ModeRecord {
		plans := make([]BatchPlan, len(recs))
		for i, r := range recs {
			k, err := KindCode(r.Kind)
			if err != nil {
				return nil, fmt.Errorf("record %x: %w", r.ID, err)
			}
			plans[i] = BatchPlan{Mode: ModeRecord, Kind: k, Root: r.Leaf, Records: recs[i : i+1]}
		}
		return plans, nil
	}
	leaves := make([]Hash, len(recs))
	kind := uint8(0)
	for i, r := range recs {
		leaves[i] = r.Leaf
		k, err := KindCode(r.Kind)
		if err != nil {
			return nil, fmt.Errorf("record %x: %w", r.ID, err)
		}
		if i == 0 {
			kind = k
		} else if k != kind {
			kind = KindMixed
		}
	}
	root, err := Root(leaves)
	if err != nil {
		return nil, fmt.Errorf("batch root: %w", err)
	}
	return []BatchPlan{{Mode: ModeBatch, Kind: kind, Root: root, Records: recs}}, nil
}

// anchor sends one transaction per batch, waits for all of them and records
// the result in one database transaction.
func (w *Worker) anchor(ctx context.Context, batches []Batch) error {
	sent := make([]Sent, len(batches))
	known := make([]bool, len(batches)) // already on chain: sent[i] unused
	cs := make([]Confirmation, 0, len(batches))
	for i, b := range batches {
		s, err := w.send(ctx, b)
		if errors.Is(err, ErrAlreadyAnchored) {
			known[i] = true
			continue
		}
		if err != nil {
			return err
		}
		sent[i] = s
		if err := w.out.MarkSent(ctx, w.fence, b.ID, s); err != nil {
			return fmt.Errorf("batch %d: record sent tx: %w", b.ID, err)
		}
	}
	for i, b := range batches {
		var (
			inc Inclusion
			err error
		)
		if known[i] {
			inc, err = w.onChain(ctx, b)
		} else {
			inc, err = w.reg.WaitIncluded(ctx, sent[i].Tx, w.cfg.Confirmations, w.markReplaced(ctx, b.ID))
			if errors.Is(err, ErrReverted) {
				// Most likely a concurrent earlier attempt won; the
				// registry says which.
				inc, err = w.onChain(ctx, b)
			}
		}
		if err != nil {
			return fmt.Errorf("batch %d: %w", b.ID, err)
		}
		cs = append(cs, Confirmation{BatchID: b.ID, Inclusion: inc, RecordIDs: b.RecordIDs})
	}
	if err := w.out.Confirm(ctx, w.fence, cs); err != nil {
		return fmt.Errorf("record confirmation: %w", err)
	}
	if w.cfg.OnConfirmed != nil {
		w.cfg.OnConfirmed(batches, cs)
	}
	w.log.Debug("anchored", "batches", len(batches), "first", batches[0].ID, "block", cs[0].Inclusion.BlockNumber)
	return nil
}

func (w *Worker) send(ctx context.Context, b Batch) (Sent, error) {
	switch b.Mode {
	case ModeRecord:
		if len(b.RecordIDs) != 1 {
			return Sent{}, fmt.Errorf("batch %d: per-record batch with %d records", b.ID, len(b.RecordIDs))
		}
		s, err := w.reg.AnchorRecord(ctx, b.RecordIDs[0], b.Root, b.Kind)
		if err != nil {
			return s, fmt.Errorf("anchor record %x (batch %d): %w", b.RecordIDs[0], b.ID, err)
		}
		return s, nil
	default:
		s, err := w.reg.AnchorBatch(ctx, b.ID, b.Root, uint32(b.LeafCount), b.Kind)
		if err != nil {
			return s, fmt.Errorf("anchor batch %d: %w", b.ID, err)
		}
		return s, nil
	}
}

// markReplaced records a replacement transaction of batch id as the one
// sent, so that after a crash the batch is looked for under the latest.
// Failing to is no harm: the registry is the judge when a recorded
// transaction is gone.
func (w *Worker) markReplaced(ctx context.Context, id uint64) func(Sent) {
	return func(s Sent) {
		w.log.Info("stuck transaction replaced with higher fees", "batch", id, "tx", fmt.Sprintf("%x", s.Tx), "nonce", s.Nonce)
		if err := w.out.MarkSent(ctx, w.fence, id, s); err != nil {
			w.log.Warn("cannot record replacement transaction", "batch", id, "err", err)
		}
	}
}

// registryHolds reads batch b from the registry: true when it holds b's
// root, false when it holds nothing under b's id, and ErrChainConflict when
// it holds another root (or b's root with another leaf count).
func (w *Worker) registryHolds(ctx context.Context, b Batch) (bool, error) {
	var (
		root  Hash
		found bool
		err   error
	)
	if b.Mode == ModeRecord {
		if len(b.RecordIDs) != 1 {
			return false, fmt.Errorf("per-record batch with %d record ids", len(b.RecordIDs))
		}
		var r OnChainRecord
		r, found, err = w.reg.Record(ctx, b.RecordIDs[0])
		root = r.Hash
	} else {
		var ob OnChainBatch
		ob, found, err = w.reg.Batch(ctx, b.ID)
		root = ob.Root
		if err == nil && found && root == b.Root && int(ob.LeafCount) != b.LeafCount {
			return false, fmt.Errorf("%w: batch %d has %d leaves on chain, %d in the database",
				ErrChainConflict, b.ID, ob.LeafCount, b.LeafCount)
		}
	}
	if err != nil {
		return false, fmt.Errorf("read registry: %w", err)
	}
	if found && root != b.Root {
		return false, fmt.Errorf("%w: batch %d root %x on chain, %x in the database", ErrChainConflict, b.ID, root, b.Root)
	}
	return found, nil
}

// onChain reads batch b from the registry and returns its confirmed
// inclusion when the registry holds it with b's root. It returns
// ErrChainConflict when the registry holds a different root, and ErrDropped
// when it holds nothing.
func (w *Worker) onChain(ctx context.Context, b Batch) (Inclusion, error) {
	found, err := w.registryHolds(ctx, b)
	if err != nil {
		return Inclusion{}, err
	}
	if !found {
		return Inclusion{}, ErrDropped
	}
	var (
		inc Inclusion
		ok  bool
	)
	if b.Mode == ModeRecord {
		inc, ok, err = w.reg.RecordInclusion(ctx, b.RecordIDs[0])
	} else {
		inc, ok, err = w.reg.BatchInclusion(ctx, b.ID)
	}
	if err != nil {
		return Inclusion{}, fmt.Errorf("find anchoring transaction: %w", err)
	}
	if !ok {
		return Inclusion{}, ErrDropped
	}
	return w.reg.WaitIncluded(ctx, inc.Tx, w.cfg.Confirmations, w.markReplaced(ctx, b.ID))
}

// Reconcile settles every unconfirmed batch against the registry: a batch
// the registry holds with the same root is confirmed; a batch whose
// transaction is still pending is waited for; any other is sent again under
// the same id. Run calls it before anchoring anything new and after every
// error, under its lease (its writes carry the lease's fence).
func (w *Worker) Reconcile(ctx context.Context) error {
	open, err := w.out.Unconfirmed(ctx)
	if err != nil {
		return fmt.Errorf("read unconfirmed batches: %w", err)
	}
	if len(open) > 0 {
		w.log.Info("reconciling unconfirmed batches", "count", len(open), "first", open[0].ID)
	}
	var resend []Batch
	for _, b := range open {
		inc, err := w.settle(ctx, b)
		if errors.Is(err, ErrDropped) {
			resend = append(resend, b)
			continue
		}
		if err != nil {
			return fmt.Errorf("batch %d: %w", b.ID, err)
		}
		c := []Confirmation{{BatchID: b.ID, Inclusion: inc, RecordIDs: b.RecordIDs}}
		if err := w.out.Confirm(ctx, w.fence, c); err != nil {
			return fmt.Errorf("batch %d: record confirmation: %w", b.ID, err)
		}
		if w.cfg.OnConfirmed != nil {
			w.cfg.OnConfirmed([]Batch{b}, c)
		}
	}
	// Resend in chunks the size of a normal unit of work.
	for len(resend) > 0 {
		// Batches go one per unit; per-record anchors in runs of up to
		// MaxInFlight, as in normal operation.
		n := 1
		for n < len(resend) && n < w.cfg.MaxInFlight && resend[0].Mode == ModeRecord && resend[n].Mode == ModeRecord {
			n++
		}
		w.log.Info("sending batch again", "batch", resend[0].ID, "count", n)
		if err := w.anchor(ctx, resend[:n]); err != nil {
			return err
		}
		resend = resend[n:]
	}
	return nil
}

// settle finds out whether an unconfirmed batch is on chain. It returns
// ErrDropped when the batch has to be sent again.
func (w *Worker) settle(ctx context.Context, b Batch) (Inclusion, error) {
	if b.HasTx {
		inc, err := w.reg.WaitIncluded(ctx, b.Tx, w.cfg.Confirmations, w.markReplaced(ctx, b.ID))
		if err == nil {
			return inc, nil
		}
		if !errors.Is(err, ErrDropped) && !errors.Is(err, ErrReverted) {
			return Inclusion{}, err
		}
	}
	// No transaction recorded (crash between send and MarkSent), or it
	// failed: the registry is the judge.
	return w.onChain(ctx, b)
}

// backoff is the delay between failed units: RetryMin doubling to
// RetryMax, ±20% jitter so that instances do not retry in step.
func (w *Worker) backoff() *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{InitialInterval: w.cfg.RetryMin, RandomizationFactor: 0.2,
		Multiplier: 2, MaxInterval: w.cfg.RetryMax}
}

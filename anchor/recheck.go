package anchor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// RecheckOutcome is what the re-check found for one confirmed batch.
type RecheckOutcome string

const (
	// RecheckOK: the recorded block is still canonical and the registry
	// holds the batch's root.
	RecheckOK RecheckOutcome = "ok"
	// RecheckMoved: a reorg moved the anchoring transaction to another
	// block; the batch's inclusion was updated.
	RecheckMoved RecheckOutcome = "moved"
	// RecheckWaiting: the registry holds no anchor for the batch now, but
	// its transaction may come back (the node still knows it, or it was
	// missing only once so far); the next pass looks again.
	RecheckWaiting RecheckOutcome = "waiting"
	// RecheckOrphaned: the anchor is gone from the chain and its
	// transaction with it, on two passes in a row: the batch was orphaned
	// and its records returned to the outbox, to be anchored again.
	RecheckOrphaned RecheckOutcome = "orphaned"
	// RecheckConflict: the registry holds another root under the batch's
	// id (a rebuilt chain, a registry shared with another database); the
	// worker stops with ErrChainConflict.
	RecheckConflict RecheckOutcome = "conflict"
)

// recheckState is what the re-check keeps between passes.
type recheckState struct {
	// cursor is where the walk through older batches goes on: the next
	// pass looks at batches with lower ids (0: start again from the top).
	cursor uint64
	// missing holds the batches whose anchor was missing from the chain
	// on the last pass they were looked at, with when.
	missing map[uint64]time.Time
}

// recheckPass checks up to RecheckBatches confirmed batches against the
// chain again: half of them the most recent (the likeliest to be undone
// by a reorg), half older ones, walking down from the newest in turns (a
// rebuilt chain can change any of them).
//
// For each batch the registry is read afresh, and the block it was
// confirmed in looked up on the canonical chain. When the block is still
// canonical and the registry holds the batch's root, all is well. A root
// other than ours is a chain conflict: the pass stops with
// ErrChainConflict, which stops the worker. When the registry holds our
// root from another block, a reorg moved the transaction there, and the
// batch's inclusion is updated (Reconfirm). When the registry holds nothing,
// the batch is waited for as long as the node still knows its transaction
// (it is likely mined again); when the transaction is unknown on two passes
// in a row, the batch is orphaned (Orphan): its records are pending again
// and are anchored again by the next units of work, under a new batch id,
// and the key's nonce is read from the node again.
//
// A pass runs between units of work, so no batch is in flight, and its
// writes carry the lease's fence like every other write of the worker.
func (w *Worker) recheckPass(ctx context.Context) error {
	half := max(1, w.cfg.RecheckBatches/2)
	recent, err := w.out.Confirmed(ctx, 0, half)
	if err != nil {
		return fmt.Errorf("re-check: read confirmed batches: %w", err)
	}
	if len(recent) == 0 {
		return nil
	}
	batches := recent
	lowest := recent[len(recent)-1].ID
	if w.recheck.cursor == 0 || w.recheck.cursor > lowest {
		w.recheck.cursor = lowest
	}
	older, err := w.out.Confirmed(ctx, w.recheck.cursor, half)
	if err != nil {
		return fmt.Errorf("re-check: read confirmed batches: %w", err)
	}
	if len(older) < half {
		w.recheck.cursor = 0 // the bottom: start from the top next time
	} else {
		w.recheck.cursor = older[len(older)-1].ID
	}
	batches = append(batches, older...)

	outcomes, err := w.recheckBatches(ctx, batches)
	if err != nil {
		return err
	}
	w.log.Debug("re-checked confirmed batches", "batches", len(batches), "outcomes", outcomes)
	return nil
}

// recheckBatches re-checks each of batches (recheckBatch), counts the
// outcomes and reports them to OnRechecked, and reads the nonce afresh when
// a batch was orphaned. It stops at the first error.
func (w *Worker) recheckBatches(ctx context.Context, batches []Batch) (map[RecheckOutcome]int, error) {
	outcomes := map[RecheckOutcome]int{}
	defer func() {
		if w.cfg.OnRechecked != nil && len(outcomes) > 0 {
			w.cfg.OnRechecked(outcomes)
		}
	}()
	orphaned := false
	for _, b := range batches {
		o, err := w.recheckBatch(ctx, b)
		if err != nil {
			if errors.Is(err, ErrChainConflict) {
				outcomes[RecheckConflict]++
				w.log.Error("re-check: the registry holds another anchor under a confirmed batch's id: the chain was rebuilt or reset, or the registry is shared; anchoring stops",
					"batch", b.ID, "block", b.Inclusion.BlockNumber, "err", err)
			}
			return outcomes, fmt.Errorf("re-check batch %d: %w", b.ID, err)
		}
		outcomes[o]++
		orphaned = orphaned || o == RecheckOrphaned
	}
	if orphaned {
		w.reg.ForgetNonce()
	}
	return outcomes, nil
}

// recheckBatch checks one confirmed batch against the chain; see
// recheckPass.
func (w *Worker) recheckBatch(ctx context.Context, b Batch) (RecheckOutcome, error) {
	found, err := w.registryHolds(ctx, b)
	if err != nil {
		return "", err
	}
	canonical, ok, err := w.reg.BlockHash(ctx, b.Inclusion.BlockNumber)
	if err != nil {
		return "", err
	}
	stillThere := ok && canonical == b.Inclusion.BlockHash
	switch {
	case found && stillThere:
		delete(w.recheck.missing, b.ID)
		return RecheckOK, nil
	case found:
		return w.moved(ctx, b)
	case stillThere:
		// The block that held the anchor is canonical, yet the registry
		// holds nothing: two nodes behind a load balancer answered, one of
		// them behind the other. Nothing to act on; look again next pass.
		w.log.Warn("re-check: the node says the batch's block is canonical but the registry holds no anchor (a lagging node?)",
			"batch", b.ID, "block", b.Inclusion.BlockNumber)
		return RecheckWaiting, nil
	}
	return w.missing(ctx, b)
}

// moved updates the inclusion of a batch whose anchor the registry holds
// from another block than recorded.
func (w *Worker) moved(ctx context.Context, b Batch) (RecheckOutcome, error) {
	var (
		inc Inclusion
		ok  bool
		err error
	)
	if b.Mode == ModeRecord {
		inc, ok, err = w.reg.RecordInclusion(ctx, b.RecordIDs[0])
	} else {
		inc, ok, err = w.reg.BatchInclusion(ctx, b.ID)
	}
	if err != nil {
		return "", fmt.Errorf("find anchoring transaction: %w", err)
	}
	if !ok {
		return RecheckWaiting, nil // gone again since the registry was read
	}
	if err := w.out.Reconfirm(ctx, w.fence, b.ID, inc); err != nil {
		return "", fmt.Errorf("record new inclusion: %w", err)
	}
	delete(w.recheck.missing, b.ID)
	w.warnIfFinal(ctx, b, "moved to another block")
	w.log.Warn("re-check: a reorg moved a confirmed batch's transaction to another block",
		"batch", b.ID, "block", b.Inclusion.BlockNumber, "new_block", inc.BlockNumber, "tx", fmt.Sprintf("%x", inc.Tx))
	return RecheckMoved, nil
}

// missing handles a confirmed batch that the registry holds no anchor for:
// wait while its transaction may come back, orphan it once it is gone.
func (w *Worker) missing(ctx context.Context, b Batch) (RecheckOutcome, error) {
	known, err := w.reg.TxKnown(ctx, b.Inclusion.Tx)
	if err != nil {
		return "", err
	}
	if w.recheck.missing == nil {
		w.recheck.missing = map[uint64]time.Time{}
	}
	since, seen := w.recheck.missing[b.ID]
	if known || !seen {
		// Still in the node's pool (a reorg put it back; it will be mined
		// again), or missing for the first time: a node behind a load
		// balancer may lag. Look again next pass.
		if !seen {
			w.recheck.missing[b.ID] = time.Now()
		}
		w.log.Warn("re-check: a confirmed batch is not on chain any more; waiting for its transaction",
			"batch", b.ID, "block", b.Inclusion.BlockNumber, "tx_known", known)
		return RecheckWaiting, nil
	}
	if err := w.out.Orphan(ctx, w.fence, b.ID); err != nil {
		return "", fmt.Errorf("orphan: %w", err)
	}
	delete(w.recheck.missing, b.ID)
	w.warnIfFinal(ctx, b, "vanished")
	w.log.Warn("re-check: a reorg dropped a confirmed batch's transaction; its records are pending again and will be anchored under a new batch id",
		"batch", b.ID, "block", b.Inclusion.BlockNumber, "records", b.LeafCount, "missing_since", since)
	return RecheckOrphaned, nil
}

// warnIfFinal logs an error when the block a batch was confirmed in had
// been finalized: finality was broken, which no honest chain does.
func (w *Worker) warnIfFinal(ctx context.Context, b Batch, what string) {
	st, ok, err := chainStatus(ctx, w.reg)
	if err != nil || !ok || !st.HasFinalized || b.Inclusion.BlockNumber > st.Finalized {
		return
	}
	w.log.Error("re-check: an anchor in a finalized block "+what+": the chain broke finality, or it was rebuilt",
		"batch", b.ID, "block", b.Inclusion.BlockNumber, "finalized", st.Finalized)
}

// rangeRequests are the block ranges RecheckFrom asked to re-check: one
// range, from the lowest block asked for up, until a pass settles it.
type rangeRequests struct {
	mu sync.Mutex
	// pending says a range is asked for; from is its first block.
	pending bool
	from    uint64
	// gen counts the requests, so that a pass that settles the range
	// clears it only if no request came in meanwhile (the chain may have
	// changed again after the pass read it).
	gen uint64
	// next is when the range is due: at once after a request, after
	// RecheckRangeRetry while some of its batches are not settled.
	next time.Time
}

// ask adds the blocks from block up to the range.
func (r *rangeRequests) ask(block uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.pending || block < r.from {
		r.from = block
	}
	r.pending = true
	r.gen++
	r.next = time.Time{}
}

// due says whether a range pass should run now.
func (r *rangeRequests) due(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending && !now.Before(r.next)
}

// take returns the range to check and the request count it answers.
func (r *rangeRequests) take() (from, gen uint64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.from, r.gen, r.pending
}

// done records the end of a pass over the range taken at gen: settled, the
// range is cleared unless asked for again meanwhile; otherwise it is due
// again at retry.
func (r *rangeRequests) done(gen uint64, settled bool, retry time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if settled && gen == r.gen {
		r.pending = false
		return
	}
	if gen == r.gen {
		r.next = retry
	}
}

// RecheckRequests is implemented by an Outbox that keeps RecheckFrom's
// requests, so that a request outlives a restart and reaches the worker of
// whichever instance holds the anchoring lock.
type RecheckRequests interface {
	// RequestRecheck lowers the kept range's first block to block (or
	// starts a range there).
	RequestRecheck(ctx context.Context, block uint64) error
	// RecheckRequested returns the kept range's first block, if any.
	RecheckRequested(ctx context.Context) (block uint64, ok bool, err error)
	// RecheckSettled clears the kept range if it still starts at block (a
	// request for a lower block meanwhile keeps it).
	RecheckSettled(ctx context.Context, block uint64) error
}

// loadRecheckRequest adds the range the Outbox keeps, if it keeps one, to
// the ranges to re-check: asked for before a restart, or by another
// instance's follower.
func (w *Worker) loadRecheckRequest(ctx context.Context) error {
	kept, ok := w.out.(RecheckRequests)
	if !ok {
		return nil
	}
	block, asked, err := kept.RecheckRequested(ctx)
	if err != nil {
		return fmt.Errorf("read the kept re-check request: %w", err)
	}
	if asked {
		w.ranges.ask(block)
	}
	return nil
}

// RecheckFrom asks the worker to re-check against the chain, on its next
// pass between units of work, every confirmed batch recorded in block
// number block or above, rather than only the batches the periodic re-check
// samples: a chain follower saw a reorganisation replace the blocks from
// block up. Each batch is handled as by the periodic re-check (see
// recheckPass): kept, moved to its new block, or, once its transaction is
// gone on two passes in a row, orphaned and its records anchored again. The
// range is checked again every RecheckRangeRetry until every batch in it is
// settled (none is waiting for its transaction). Requests add up: the range
// starts at the lowest block asked for. An Outbox that implements
// RecheckRequests keeps the request until it is settled, so that a restart
// or another instance's worker serves it.
//
// It never blocks; it works whether or not Run is running (a request made
// before Run is handled once Run holds the lock). It returns an error only
// when ctx is done.
func (w *Worker) RecheckFrom(ctx context.Context, block uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if kept, ok := w.out.(RecheckRequests); ok {
		if err := kept.RequestRecheck(ctx, block); err != nil {
			return fmt.Errorf("keep the re-check from block %d: %w", block, err)
		}
	}
	w.ranges.ask(block)
	w.log.Info("re-check of confirmed batches asked for", "from_block", block)
	w.Notify()
	return nil
}

// rangePass re-checks every confirmed batch in the range asked for by
// RecheckFrom. Batches are read from the newest down; the walk stops after
// a whole page of batches recorded below the range. Batch ids grow with the
// blocks their batches were confirmed in (one unit of work after another),
// and a reorg moves a batch only to a later block, so the batches of the
// range are among the newest; the page of margin covers batches whose order
// a move changed.
func (w *Worker) rangePass(ctx context.Context) error {
	from, gen, ok := w.ranges.take()
	if !ok {
		return nil
	}
	page := max(1, w.cfg.RecheckBatches)
	var inRange []Batch
	for before := uint64(0); ; {
		bs, err := w.out.Confirmed(ctx, before, page)
		if err != nil {
			return fmt.Errorf("re-check from block %d: read confirmed batches: %w", from, err)
		}
		below := 0
		for _, b := range bs {
			if b.Inclusion.BlockNumber >= from {
				inRange = append(inRange, b)
			} else {
				below++
			}
		}
		if len(bs) < page || below == len(bs) {
			break
		}
		before = bs[len(bs)-1].ID
	}
	outcomes, err := w.recheckBatches(ctx, inRange)
	if err != nil {
		return err
	}
	settled := outcomes[RecheckWaiting] == 0
	if kept, ok := w.out.(RecheckRequests); ok && settled {
		if err := kept.RecheckSettled(ctx, from); err != nil {
			return fmt.Errorf("re-check from block %d: clear the kept request: %w", from, err)
		}
	}
	w.ranges.done(gen, settled, time.Now().Add(w.cfg.RecheckRangeRetry))
	w.log.Info("re-checked the confirmed batches of a replaced range", "from_block", from,
		"batches", len(inRange), "outcomes", outcomes, "settled", settled)
	return nil
}

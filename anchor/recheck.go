package anchor

import (
	"context"
	"errors"
	"fmt"
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
			return fmt.Errorf("re-check batch %d: %w", b.ID, err)
		}
		outcomes[o]++
		orphaned = orphaned || o == RecheckOrphaned
	}
	if orphaned {
		w.reg.ForgetNonce()
	}
	w.log.Debug("re-checked confirmed batches", "batches", len(batches), "outcomes", outcomes)
	return nil
}

// recheckBatch checks one confirmed batch against the chain; see
// recheckPass.
func (w *Worker) recheckBatch(ctx context.Context, b Batch) (RecheckOutcome, error) {
	var (
		root  Hash
		found bool
		err   error
	)
	if b.Mode == ModeRecord {
		if len(b.RecordIDs) != 1 {
			return "", fmt.Errorf("per-record batch with %d record ids", len(b.RecordIDs))
		}
		var r OnChainRecord
		r, found, err = w.reg.Record(ctx, b.RecordIDs[0])
		root = r.Hash
	} else {
		var ob OnChainBatch
		ob, found, err = w.reg.Batch(ctx, b.ID)
		root = ob.Root
		if err == nil && found && ob.Root == b.Root && int(ob.LeafCount) != b.LeafCount {
			return "", fmt.Errorf("%w: batch %d has %d leaves on chain, %d in the database", ErrChainConflict, b.ID, ob.LeafCount, b.LeafCount)
		}
	}
	if err != nil {
		return "", fmt.Errorf("read registry: %w", err)
	}
	if found && root != b.Root {
		return "", fmt.Errorf("%w: batch %d root %x on chain, %x in the database", ErrChainConflict, b.ID, root, b.Root)
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

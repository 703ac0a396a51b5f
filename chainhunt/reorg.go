package chainhunt

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// reorg handles a reorganisation noticed at the tip of the processed
// blocks. It walks back through them to the last one still canonical (the
// common ancestor), raises a chain.reorg alert naming the replaced blocks,
// undoes their changes to the account aggregates and baselines, asks the
// anchoring side to re-check from the first replaced block, and rewinds so
// that the next round processes the new branch.
//
// When no kept block is canonical any more the reorg is deeper than the
// window: the alert is critical and says so, the kept blocks are undone
// (changes older than the window cannot be), the re-check starts from the
// oldest kept block, and the hunter goes on from there.
func (h *Hunter) reorg(ctx context.Context) error {
	anc := -1
	newHashes := make([]common.Hash, len(h.blocks))
	for i := len(h.blocks) - 1; i >= 0; i-- {
		canon, err := h.canonicalHash(ctx, h.blocks[i].Number)
		if err != nil {
			return err
		}
		if canon == h.blocks[i].Hash || h.blocks[i].Hash == (common.Hash{}) {
			// Still canonical, or a position without a hash (after a reorg
			// deeper than the window): the common ancestor.
			anc = i
			break
		}
		newHashes[i] = canon
	}
	replaced := h.blocks[anc+1:]
	if len(replaced) == 0 {
		return nil // the tip is canonical after all (a node answering late)
	}
	first := replaced[0]
	deep := anc < 0
	alert, err := h.reorgAlert(ctx, replaced, newHashes[anc+1:], deep)
	if err != nil {
		return err
	}
	if err := alert.Validate(); err != nil {
		return err
	}
	// Ask for the re-check before changing anything: if the request
	// fails, the next round finds the same reorg and asks again.
	if h.rechecker != nil {
		if err := h.rechecker.RecheckFrom(ctx, first.Number); err != nil {
			return fmt.Errorf("ask for a re-check from block %d: %w", first.Number, err)
		}
	}

	// Undo the replaced blocks, the newest first.
	for i := len(h.blocks) - 1; i > anc; i-- {
		if err := h.restoreAccounts(h.undo[i]); err != nil {
			return fmt.Errorf("block %d: %w", h.blocks[i].Number, err)
		}
	}
	h.baseline.dropFrom(first.Number)
	// An account scored in a replaced block is scored afresh on the new
	// branch (its verdict would otherwise stay with a block that is gone
	// for ScoreEvery blocks); what it was due for changed in replaced
	// blocks only, which are undone.
	for a, last := range h.lastScored {
		if last >= first.Number {
			delete(h.lastScored, a)
			delete(h.scoreDue, a)
		}
	}
	h.blocks, h.undo = h.blocks[:anc+1], h.undo[:anc+1]
	if deep && first.Number > 0 {
		// Go on from the oldest replaced block, whatever its parent: the
		// position is kept without a hash (the new branch may not even
		// reach it yet), which the next block is not checked against.
		h.blocks = []BlockRef{{Number: first.Number - 1}}
		h.undo = []blockUndo{{}}
	}
	h.pending = append(h.pending, alert)
	h.sinceCommit++ // the rewound position is progress to commit
	h.updateStats(func(s *Stats) {
		s.Reorgs++
		if len(h.blocks) > 0 {
			s.Processed = h.blocks[len(h.blocks)-1].Number
		}
	})
	h.log.Warn("chain reorganisation", "depth", len(replaced), "first_replaced", first.Number, "deeper_than_window", deep)
	return nil
}

// reorgAlert describes a reorganisation that replaced the given blocks by
// blocks with the given hashes (zero where the new chain is shorter). It
// fails when the node does not give the block time: an alert without one
// cannot be stored (Canonical), and would fail every later commit.
func (h *Hunter) reorgAlert(ctx context.Context, replaced []BlockRef, newHashes []common.Hash, deep bool) (Alert, error) {
	first := replaced[0]
	var old, repl []string
	for i, r := range replaced {
		old = append(old, strconv.FormatUint(r.Number, 10)+":"+r.Hash.Hex())
		nh := "(none)"
		if newHashes[i] != (common.Hash{}) {
			nh = newHashes[i].Hex()
		}
		repl = append(repl, strconv.FormatUint(r.Number, 10)+":"+nh)
	}
	ev := map[string]string{
		"depth":           strconv.Itoa(len(replaced)),
		"first_replaced":  strconv.FormatUint(first.Number, 10),
		"replaced_blocks": strings.Join(old, ","),
		"new_blocks":      strings.Join(repl, ","),
		"window":          strconv.Itoa(h.cfg.Window),
	}
	a := Alert{
		ChainID: h.cfg.ChainID, Subject: SubjectBlock, Method: MethodRule, Rule: RuleReorg, Class: RuleReorg,
		Severity: "high", Score: 1, BlockNumber: first.Number, BlockHash: first.Hash, Evidence: ev,
		Summary: fmt.Sprintf("a chain reorganisation replaced %d processed blocks from block %d: transactions in them, anchors included, may be gone", len(replaced), first.Number),
	}
	if deep {
		a.Severity = "critical"
		ev["deeper_than_window"] = "true"
		a.Summary = fmt.Sprintf("a chain reorganisation replaced every one of the %d blocks the hunter keeps, from block %d: it is deeper than the window, so how deep is unknown and older changes cannot be undone", len(replaced), first.Number)
	}
	hd, err := h.client.HeaderByNumber(ctx, new(big.Int).SetUint64(first.Number))
	if err != nil {
		return a, fmt.Errorf("reorg from block %d: read its time: %w", first.Number, err)
	}
	a.BlockTime = time.Unix(int64(hd.Time), 0).UTC()
	return a, nil
}

package chaintraffic

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// commit seals a block when the chain is the simulated backend.
func (g *gen) commit() {
	if g.cfg.Commit != nil {
		g.cfg.Commit()
	}
}

// nonce returns a's next nonce, asking the node the first time.
func (g *gen) nonce(ctx context.Context, a *actor) (uint64, error) {
	if !a.haveNonce {
		n, err := g.client.PendingNonceAt(ctx, a.addr)
		if err != nil {
			return 0, fmt.Errorf("chaintraffic: nonce of %s: %w", a.addr.Hex(), err)
		}
		a.nonce, a.haveNonce = n, true
	}
	return a.nonce, nil
}

// send signs rec's transaction (To, Value, data, gas) from a, sends it and
// appends rec to *list; the receipt fills in the rest at the next sync. The
// sender's budget is charged the value and the gas reserve.
func (g *gen) send(ctx context.Context, a *actor, rec *Tx, data []byte, gas uint64, list *[]Tx) error {
	rec.From = a.addr
	if rec.Value == nil {
		rec.Value = new(big.Int)
	}
	var lastErr error
	for try := 0; try < 3; try++ {
		n, err := g.nonce(ctx, a)
		if err != nil {
			return err
		}
		tx, err := types.SignNewTx(a.key, g.signer, &types.DynamicFeeTx{
			ChainID: g.chainID, Nonce: n, GasTipCap: g.tip, GasFeeCap: g.feeCap, Gas: g.limit(gas),
			To: rec.To, Value: rec.Value, Data: data,
		})
		if err != nil {
			return fmt.Errorf("chaintraffic: sign: %w", err)
		}
		if lastErr = g.client.SendTransaction(ctx, tx); lastErr == nil {
			a.nonce++
			rec.Hash = tx.Hash()
			*list = append(*list, *rec)
			g.pend = append(g.pend, pending{hash: tx.Hash(), list: list, idx: len(*list) - 1})
			a.out.Add(a.out, rec.Value)
			a.out.Add(a.out, gasReserve(gas))
			return nil
		}
		if !a.shared || ctx.Err() != nil {
			break
		}
		// Someone else sends from this key: ask the node for the nonce again.
		a.haveNonce = false
	}
	return fmt.Errorf("chaintraffic: send %s from %s: %w", rec.Kind, a.addr.Hex(), lastErr)
}

// sync waits for the receipt of every transaction sent since the last
// sync, fills in the manifest from them, folds the value sent and received
// into the balances and refreshes the fee.
func (g *gen) sync(ctx context.Context) error {
	if len(g.pend) > 0 {
		g.commit()
		for _, p := range g.pend {
			r, err := g.receipt(ctx, p.hash)
			if err != nil {
				return err
			}
			t := &(*p.list)[p.idx]
			t.Block, t.Status, t.GasUsed = r.BlockNumber.Uint64(), r.Status, r.GasUsed
			if t.To == nil && r.ContractAddress != (common.Address{}) {
				c := r.ContractAddress
				t.Contract = &c
			}
			g.m.LastBlock = max(g.m.LastBlock, t.Block)
		}
		g.pend = g.pend[:0]
	}
	for _, a := range g.actors {
		a.settle()
	}
	return g.refreshFees(ctx)
}

// settle folds what a sent and received since the last sync into its
// balances.
func (a *actor) settle() {
	a.bal.Add(a.bal.Sub(a.bal, a.out), a.in)
	a.tok.Add(a.tok.Sub(a.tok, a.tokOut), a.tokIn)
	a.out.SetInt64(0)
	a.in.SetInt64(0)
	a.tokOut.SetInt64(0)
	a.tokIn.SetInt64(0)
}

// receipt waits for the receipt of hash, sealing blocks meanwhile on the
// simulated backend.
func (g *gen) receipt(ctx context.Context, hash common.Hash) (*types.Receipt, error) {
	deadline := time.Now().Add(receiptTimeout)
	wait := 2 * time.Millisecond
	for {
		r, err := g.client.TransactionReceipt(ctx, hash)
		if err == nil {
			return r, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("chaintraffic: transaction %s not mined after %s: %w", hash.Hex(), receiptTimeout, err)
		}
		g.commit()
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// refreshFees prices the next transactions from the latest base fee and
// the node's suggested tip: a fee cap of twice the base fee plus the tip.
func (g *gen) refreshFees(ctx context.Context) error {
	head, err := g.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return fmt.Errorf("chaintraffic: head: %w", err)
	}
	tip, err := g.client.SuggestGasTipCap(ctx)
	if err != nil {
		return fmt.Errorf("chaintraffic: suggest tip: %w", err)
	}
	base := head.BaseFee
	if base == nil {
		base = new(big.Int)
	}
	g.tip = tip
	g.feeCap = new(big.Int).Add(new(big.Int).Mul(base, big.NewInt(2)), tip)
	return nil
}

// wait waits d before a normal event: cfg.Wait's way when set, else in
// real time.
func (g *gen) wait(ctx context.Context, d time.Duration) error {
	if g.cfg.Wait == nil {
		return sleep(ctx, d)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return g.cfg.Wait(d)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

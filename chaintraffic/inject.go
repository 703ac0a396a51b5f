package chaintraffic

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// inject sends one injection, between two syncs so that balances are known
// and its transactions are mined before normal traffic resumes.
func (g *gen) inject(ctx context.Context, in *injector) error {
	if err := g.sync(ctx); err != nil {
		return err
	}
	g.m.Injections = append(g.m.Injections, Injection{Pattern: in.pattern, Anomalous: []common.Address{}, Transactions: []Tx{}})
	rec := &g.m.Injections[len(g.m.Injections)-1]
	g.cfg.Log("chain-traffic: injecting %s", in.pattern)
	var err error
	switch in.pattern {
	case Drain:
		err = g.drain(ctx, in, rec)
	case Flood:
		err = g.flood(ctx, in, rec)
	case Phishing:
		err = g.phishing(ctx, in, rec)
	case RegistryRogueCall:
		err = g.rogueCall(ctx, in, rec)
	case RegistryRoleChange:
		err = g.roleChange(ctx, in, rec)
	case RegistryForeignBatch:
		err = g.foreignBatch(ctx, in, rec)
	default:
		err = fmt.Errorf("chaintraffic: unknown pattern %q", in.pattern)
	}
	if err == nil {
		err = g.sync(ctx)
	}
	for _, tx := range rec.Transactions {
		if rec.FirstBlock == 0 || tx.Block < rec.FirstBlock {
			rec.FirstBlock = tx.Block
		}
		rec.LastBlock = max(rec.LastBlock, tx.Block)
	}
	if err != nil {
		return fmt.Errorf("chaintraffic: %s: %w", in.pattern, err)
	}
	return nil
}

// drain: the drainer sends all its ether to DrainFanout fresh accounts, as
// fast as it can, and sweeps its tokens to the first of them.
func (g *gen) drain(ctx context.Context, in *injector, rec *Injection) error {
	d := in.actors["drainer"]
	rec.Anomalous = append(rec.Anomalous, d.addr)
	k := g.cfg.DrainFanout
	left := frac(d.spendable(gasTransfer*uint64(k)+gasToken), 0.995)
	each := new(big.Int).Div(left, big.NewInt(int64(k)))
	if each.Sign() <= 0 {
		rec.Skipped = "the drainer holds nothing to drain"
		return nil
	}
	for i := range k {
		to := g.key("drain_target", i)
		addr := crypto.PubkeyToAddress(to.PublicKey)
		rec.Counterparties = append(rec.Counterparties, addr)
		// Uneven parts, as a script splitting a balance would make; the
		// last takes the rest.
		v := frac(each, 0.8+0.2*in.rng.Float64())
		if i == k-1 {
			v = new(big.Int).Set(left)
		}
		left.Sub(left, v)
		if err := g.send(ctx, d, &Tx{Kind: KindEther, To: &addr, Value: v}, nil, gasTransfer, &rec.Transactions); err != nil {
			return err
		}
	}
	if tokens := new(big.Int).Sub(d.tok, d.tokOut); tokens.Sign() > 0 {
		to, tokenAt := rec.Counterparties[0], g.tokenAt
		tx := &Tx{Kind: KindTokenTransfer, To: &tokenAt, Value: new(big.Int), TokenTo: &to, TokenValue: tokens}
		if err := g.send(ctx, d, tx, g.token.PackTransfer(to, tokens), gasToken, &rec.Transactions); err != nil {
			return err
		}
		d.tokOut.Add(d.tokOut, tokens)
	}
	d.drained = true
	g.commit()
	return nil
}

// flood: one account sends FloodTxs tiny transfers to a few sinks at once.
func (g *gen) flood(ctx context.Context, in *injector, rec *Injection) error {
	f := in.actors["flooder"]
	rec.Anomalous = append(rec.Anomalous, f.addr)
	sinks := make([]common.Address, 1+in.rng.IntN(3))
	for i := range sinks {
		sinks[i] = crypto.PubkeyToAddress(g.key("flood_sink", i).PublicKey)
	}
	rec.Counterparties = append(rec.Counterparties, sinks...)
	for i := range g.cfg.FloodTxs {
		to := sinks[in.rng.IntN(len(sinks))]
		v := big.NewInt(1_000_000_000 + in.rng.Int64N(1_000_000_000_000))
		if err := g.send(ctx, f, &Tx{Kind: KindEther, To: &to, Value: v}, nil, gasTransfer, &rec.Transactions); err != nil {
			return err
		}
		if i%50 == 49 {
			g.commit()
		}
	}
	g.commit()
	return nil
}

// phishing: PhishingVictims normal accounts each send the phishing account
// a small amount; once mined, it forwards what it collected to a fresh
// account in one or two transfers.
func (g *gen) phishing(ctx context.Context, in *injector, rec *Injection) error {
	p := in.actors["phisher"]
	rec.Anomalous = append(rec.Anomalous, p.addr)
	victims := in.rng.Perm(g.cfg.Accounts)[:g.cfg.PhishingVictims]
	collected := new(big.Int)
	for _, vi := range victims {
		v := g.normal[vi]
		amount := lognormal(in.rng, 0.02, 0.8, 18)
		if c := frac(v.spendable(gasTransfer), 0.3); amount.Cmp(c) > 0 {
			amount = c
		}
		if amount.Sign() <= 0 {
			continue
		}
		rec.Counterparties = append(rec.Counterparties, v.addr)
		to := p.addr
		if err := g.send(ctx, v, &Tx{Kind: KindEther, To: &to, Value: amount}, nil, gasTransfer, &rec.Transactions); err != nil {
			return err
		}
		p.in.Add(p.in, amount)
		collected.Add(collected, amount)
		if in.rng.Float64() < 0.3 {
			g.commit()
		}
	}
	if err := g.sync(ctx); err != nil {
		return err
	}
	cashout := crypto.PubkeyToAddress(g.key("phishing_cashout", 0).PublicKey)
	rec.Counterparties = append(rec.Counterparties, cashout)
	parts := 1 + in.rng.IntN(2)
	each := new(big.Int).Div(frac(collected, 0.95), big.NewInt(int64(parts)))
	for range parts {
		if err := g.send(ctx, p, &Tx{Kind: KindEther, To: &cashout, Value: each}, nil, gasTransfer, &rec.Transactions); err != nil {
			return err
		}
	}
	g.commit()
	return nil
}

// rogueCall: an account without the anchoring role calls anchor and
// anchorBatch, sent without gas estimation (which would refuse them), so
// that they are mined and revert.
func (g *gen) rogueCall(ctx context.Context, in *injector, rec *Injection) error {
	r := in.actors["rogue"]
	rec.Anomalous = append(rec.Anomalous, r.addr)
	regAt := g.regAt
	for i := range g.cfg.RogueCalls {
		var root [32]byte
		fillRandom(in.rng, root[:])
		var (
			data []byte
			kind TxKind
		)
		if i%2 == 0 {
			var id [16]byte
			fillRandom(in.rng, id[:])
			data, kind = g.reg.PackAnchor(id, root, 1), KindAnchor
		} else {
			data, kind = g.reg.PackAnchorBatch(foreignBatchBase+in.rng.Uint64N(1<<40), root, 1+uint32(in.rng.IntN(4096)), 1), KindAnchorBatch
		}
		if err := g.send(ctx, r, &Tx{Kind: kind, To: &regAt, Value: new(big.Int)}, data, gasRegistry, &rec.Transactions); err != nil {
			return err
		}
	}
	g.commit()
	return nil
}

// registryOwner returns the registry's owner, and whether it is the
// funder (else the role patterns are skipped, with a reason in rec).
func (g *gen) registryOwner(ctx context.Context, rec *Injection) (bool, error) {
	out, err := g.client.CallContract(ctx, ethereum.CallMsg{To: &g.regAt, Data: g.reg.PackOwner()}, nil)
	if err != nil {
		return false, fmt.Errorf("registry owner: %w", err)
	}
	owner, err := g.reg.UnpackOwner(out)
	if err != nil {
		return false, fmt.Errorf("registry owner: %w", err)
	}
	rec.Counterparties = append(rec.Counterparties, owner)
	if owner != g.funder.addr {
		rec.Skipped = fmt.Sprintf("the funding key %s is not the registry owner %s", g.funder.addr.Hex(), owner.Hex())
		return false, nil
	}
	return true, nil
}

// roleChange: the owner grants the anchoring role to a fresh account and
// revokes it, then transfers ownership to another fresh account, which
// transfers it straight back. If the way back fails, the error names the
// temporary owner, whose key the same seed derives again.
func (g *gen) roleChange(ctx context.Context, in *injector, rec *Injection) error {
	if ok, err := g.registryOwner(ctx, rec); err != nil || !ok {
		return err
	}
	grantee := crypto.PubkeyToAddress(g.key("grantee", 0).PublicKey)
	newOwner := in.actors["new_owner"]
	rec.Anomalous = append(rec.Anomalous, grantee, newOwner.addr)
	regAt := g.regAt
	steps := []struct {
		from *actor
		kind TxKind
		data []byte
	}{
		{g.funder, KindGrantAnchorer, g.reg.PackGrantAnchorer(grantee)},
		{g.funder, KindRevokeAnchorer, g.reg.PackRevokeAnchorer(grantee)},
		{g.funder, KindTransferOwnership, g.reg.PackTransferOwnership(newOwner.addr)},
		{newOwner, KindTransferOwnership, g.reg.PackTransferOwnership(g.funder.addr)},
	}
	for i, s := range steps {
		if err := g.send(ctx, s.from, &Tx{Kind: s.kind, To: &regAt, Value: new(big.Int)}, s.data, gasRegistry, &rec.Transactions); err != nil {
			if i == 3 {
				return fmt.Errorf("registry ownership left with %s, whose key chain-traffic derives from seed %d (actor new_owner): %w", newOwner.addr.Hex(), g.cfg.Seed, err)
			}
			return err
		}
		// Each step is mined before the next: a grant must precede its
		// revoke, and the new owner must own before it can hand back.
		if err := g.sync(ctx); err != nil {
			return err
		}
	}
	return nil
}

// foreignBatch: the owner grants the role to a fresh account, which
// anchors a batch with an id the service never assigns; the owner then
// revokes the role.
func (g *gen) foreignBatch(ctx context.Context, in *injector, rec *Injection) error {
	if ok, err := g.registryOwner(ctx, rec); err != nil || !ok {
		return err
	}
	a := in.actors["foreign"]
	rec.Anomalous = append(rec.Anomalous, a.addr)
	b := ForeignBatch{ID: foreignBatchBase + in.rng.Uint64N(1<<40), LeafCount: 1 + uint32(in.rng.IntN(4096)), Kind: 1}
	fillRandom(in.rng, b.Root[:])
	rec.ForeignBatches = append(rec.ForeignBatches, b)
	regAt := g.regAt
	steps := []struct {
		from *actor
		kind TxKind
		data []byte
	}{
		{g.funder, KindGrantAnchorer, g.reg.PackGrantAnchorer(a.addr)},
		{a, KindAnchorBatch, g.reg.PackAnchorBatch(b.ID, b.Root, b.LeafCount, b.Kind)},
		{g.funder, KindRevokeAnchorer, g.reg.PackRevokeAnchorer(a.addr)},
	}
	for _, s := range steps {
		if err := g.send(ctx, s.from, &Tx{Kind: s.kind, To: &regAt, Value: new(big.Int)}, s.data, gasRegistry, &rec.Transactions); err != nil {
			return err
		}
		if err := g.sync(ctx); err != nil {
			return err
		}
	}
	return nil
}

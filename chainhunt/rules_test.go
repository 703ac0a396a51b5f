package chainhunt

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/internal/testenv"
)

// anchorNormally anchors batch id with a random root the way the service
// does (through the registry client, from the anchorer), and records it
// as known.
func anchorNormally(t *testing.T, c *testChain, known *knownBatches, id uint64) {
	t.Helper()
	ctx := context.Background()
	var root [32]byte
	if _, err := rand.Read(root[:]); err != nil {
		t.Fatal(err)
	}
	known.add(id, root)
	s, err := c.reg.AnchorBatch(ctx, id, root, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.reg.WaitIncluded(ctx, s.Tx, 1, nil); err != nil {
		t.Fatal(err)
	}
}

// ruleHit is a rule alert as the tests expect it.
type ruleHit struct {
	rule string
	tx   common.Hash
}

// hits lists the rule alerts stored, in order.
func hits(s *memStore) []ruleHit {
	var out []ruleHit
	for _, a := range s.stored("") {
		out = append(out, ruleHit{a.Rule, a.TxHash})
	}
	return out
}

// Every registry rule fires on its crafted case, and none on the service's
// own anchoring.
func TestRegistryRules(t *testing.T) {
	c := newTestChain(t)
	known := &knownBatches{roots: map[uint64]common.Hash{}, records: map[[16]byte]common.Hash{{1}: {0x11}}}
	for id := uint64(1); id <= 5; id++ {
		anchorNormally(t, c, known, id)
	}
	// From here on transactions from the anchorer's key are sent by the
	// test: the registry client's nonce would be stale.
	rogueKey := c.newKey(t)
	rogue := crypto.PubkeyToAddress(rogueKey.PublicKey)
	reg := &c.registry
	mined := func(tx *types.Transaction) common.Hash { c.mine(); return tx.Hash() }

	rogueCall := mined(c.send(t, rogueKey, reg, nil, registryABI.PackAnchorBatch(100, [32]byte{1}, 1, 1), gwei))
	grant := mined(c.send(t, nil, reg, nil, registryABI.PackGrantAnchorer(rogue), gwei))
	rogueBatch := mined(c.send(t, rogueKey, reg, nil, registryABI.PackAnchorBatch(100, [32]byte{1}, 1, 1), gwei))
	rogueRecord := mined(c.send(t, rogueKey, reg, nil, registryABI.PackAnchor([16]byte{2}, [32]byte{0x22}, 1), gwei))
	ownRecord := mined(c.send(t, nil, reg, nil, registryABI.PackAnchor([16]byte{1}, [32]byte{0x11}, 1), gwei))
	known.add(6, common.Hash{0xaa})
	mismatch := mined(c.send(t, nil, reg, nil, registryABI.PackAnchorBatch(6, [32]byte{0xbb}, 1, 1), gwei))
	revoke := mined(c.send(t, nil, reg, nil, registryABI.PackRevokeAnchorer(rogue), gwei))
	owner := mined(c.send(t, nil, reg, nil, registryABI.PackTransferOwnership(rogue), gwei))
	ownAnchor := mined(c.send(t, nil, reg, nil, registryABI.PackAnchorBatch(7, [32]byte{0xcc}, 1, 1), gwei))
	known.add(7, common.Hash{0xcc}) // known by the time the hunter reads it

	store := newMemStore()
	h, _ := runHunter(t, c, c.config(), store, known, nil)
	waitProcessed(t, h, c.head(t))
	testenv.Eventually(t, time.Minute, "the alerts committed", func() bool { return len(store.stored("")) >= 10 })

	want := []ruleHit{
		{RuleForeignCaller, rogueCall}, {RuleReverted, rogueCall},
		{RuleRoleChange, grant},
		{RuleForeignCaller, rogueBatch}, {RuleForeignBatch, rogueBatch},
		{RuleForeignCaller, rogueRecord}, {RuleForeignBatch, rogueRecord},
		{RuleRootMismatch, mismatch},
		{RuleRoleChange, revoke},
		{RuleRoleChange, owner},
	}
	if got := hits(store); !slices.Equal(got, want) {
		t.Fatalf("alerts\n got %v\nwant %v", got, want)
	}
	for _, a := range store.stored("") {
		if a.TxHash == ownAnchor || a.TxHash == ownRecord {
			t.Errorf("alert on the anchorer's own anchoring: %+v", a)
		}
		if a.Summary == "" || a.Severity == "" || a.Evidence["tx"] != a.TxHash.Hex() {
			t.Errorf("alert %+v", a)
		}
	}
	if a := store.stored(RuleRoleChange)[2]; a.Severity != "critical" || a.Evidence["new_owner"] != rogue.Hex() {
		t.Errorf("ownership alert %+v", a)
	}
	if a := store.stored(RuleForeignBatch)[1]; a.Evidence["record_id"] != "0x02000000000000000000000000000000" {
		t.Errorf("foreign record alert %+v", a)
	}
	if a := store.stored(RuleReverted)[0]; a.Severity != "high" || a.Account != rogue {
		t.Errorf("reverted alert %+v", a)
	}
}

// The baseline rules stay silent on the service's anchoring, one
// transaction a block, and fire on a block of many transfers (gas and
// volume) and on a transaction paying far more per gas (fee).
func TestBaselineRules(t *testing.T) {
	c := newTestChain(t)
	known := &knownBatches{roots: map[uint64]common.Hash{}}
	for id := uint64(1); id <= 25; id++ {
		anchorNormally(t, c, known, id)
	}
	var first *types.Transaction
	for range 150 {
		var a common.Address
		if _, err := rand.Read(a[:]); err != nil {
			t.Fatal(err)
		}
		tx := c.send(t, nil, &a, big.NewInt(1), nil, gwei)
		if first == nil {
			first = tx
		}
	}
	c.mine()
	// The flood's block (a few of its transactions may come in the next).
	rc, err := c.sim.Backend.Client().TransactionReceipt(context.Background(), first.Hash())
	if err != nil {
		t.Fatal(err)
	}
	flood := rc.BlockNumber.Uint64()
	c.send(t, nil, &alice, big.NewInt(1), nil, 200*gwei)
	c.mine()
	pricey := c.head(t)

	cfg := c.config()
	cfg.Rules = RulesConfig{MinHistory: 20}
	store := newMemStore()
	h, _ := runHunter(t, c, cfg, store, known, nil)
	waitProcessed(t, h, c.head(t))
	testenv.Eventually(t, time.Minute, "the alerts committed", func() bool { return len(store.stored("")) >= 3 })
	var got []string
	for _, a := range store.stored("") {
		got = append(got, fmt.Sprintf("%s@%d", a.Rule, a.BlockNumber))
	}
	want := []string{
		fmt.Sprintf("%s@%d", RuleGasSpike, flood),
		fmt.Sprintf("%s@%d", RuleVolume, flood),
		fmt.Sprintf("%s@%d", RuleFeeSpike, pricey),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("alerts %v, want %v", got, want)
	}
	if n := len(store.stored(RuleVolume)[0].Evidence); n == 0 {
		t.Fatal("no evidence")
	}
}

// The baseline check: robust median and MAD, a minimum history, and the
// floors.
func TestBaselineCheck(t *testing.T) {
	c := RulesConfig{Baseline: 100, MinHistory: 10}.withDefaults()
	var s series
	for i := range 9 {
		s.add(uint64(i), 1, c.Baseline)
	}
	if sp := c.check(&s, c.Volume, 1000); sp.fires {
		t.Fatal("fired before the minimum history")
	}
	s.add(9, 1, c.Baseline)
	// Median 1, MAD 0: the floor decides, 1 + max(0, 20, 3) = 21.
	for v, fires := range map[float64]bool{2: false, 21: false, 22: true} {
		if sp := c.check(&s, c.Volume, v); sp.fires != fires || sp.threshold != 21 {
			t.Errorf("value %v: %+v, want fires=%v", v, sp, fires)
		}
	}
	// A noisy history: values 100..190 by 10: median 145, MAD 25, so the
	// threshold is 145 + 6 × 1.4826 × 25 = 367.39 (above both floors).
	var n series
	for i := range 10 {
		n.add(uint64(i), float64(100+10*i), c.Baseline)
	}
	sp := c.check(&n, Floor{Abs: 1, Rel: 1}, 367)
	if sp.median != 145 || sp.mad != 25 || sp.fires || !c.check(&n, Floor{Abs: 1, Rel: 1}, 368).fires {
		t.Fatalf("%+v", sp)
	}
	n.dropFrom(5)
	if len(n.values) != 5 {
		t.Fatalf("%d values after dropping from block 5", len(n.values))
	}
}

// huntFake runs a hunter configured by cfg over f until it caught up with
// the head, and returns its store.
func huntFake(t *testing.T, f *fakeChain, cfg Config, known KnownBatches) *memStore {
	t.Helper()
	h, store, stop := startFake(t, f, cfg, known)
	testenv.Eventually(t, time.Minute, "the hunter at the head", func() bool { return h.Stats().CaughtUp })
	stop()
	return store
}

// batchAnchoredLog is a BatchAnchored event of registry reg.
func batchAnchoredLog(reg common.Address, id uint64, root common.Hash, submitter common.Address) *types.Log {
	data := append(common.LeftPadBytes([]byte{1}, 32), common.LeftPadBytes([]byte{1}, 32)...) // leafCount 1, kind 1
	return &types.Log{Address: reg, Topics: []common.Hash{evBatch, common.BigToHash(new(big.Int).SetUint64(id)), root,
		common.BytesToHash(submitter.Bytes())}, Data: data}
}

// A contract granted the anchoring role that anchors two foreign batches
// in one transaction raises two registry.foreign_batch alerts: the
// second finding is not the first raised again, so it must not share its
// id (and be dropped as a repeat by the Store).
func TestForeignBatchesInOneTransactionAreEachAlerted(t *testing.T) {
	f := newFakeChain()
	reg, rogueContract, rogue := common.HexToAddress("0x4e6"), common.HexToAddress("0xbad"), common.HexToAddress("0xbad1")
	f.contracts[reg], f.contracts[rogueContract] = true, true
	f.add(1_700_000_000, fakeTx{from: rogue, to: &rogueContract, logs: []*types.Log{
		batchAnchoredLog(reg, 100, common.Hash{1}, rogueContract),
		batchAnchoredLog(reg, 101, common.Hash{2}, rogueContract),
	}})
	store := huntFake(t, f, Config{Registry: reg, Anchorers: []common.Address{common.HexToAddress("0xa")}},
		&knownBatches{roots: map[uint64]common.Hash{}})
	got := store.stored(RuleForeignBatch)
	var batches []string
	for _, a := range got {
		batches = append(batches, a.Evidence["batch_id"])
	}
	slices.Sort(batches)
	if !slices.Equal(batches, []string{"100", "101"}) {
		t.Fatalf("foreign batches alerted: %v, want 100 and 101", batches)
	}
}

// The service's own anchoring raises no baseline alert: in record mode the
// worker sends up to MaxInFlight (64) transactions at once after a quiet
// spell, which lands in one block as a "flood" against a baseline of one
// anchor per block. The baselines measure the other accounts' traffic (the
// registry rules watch the anchorers'); a flood from anyone else fires.
func TestBaselinesIgnoreTheServicesOwnAnchoring(t *testing.T) {
	f := newFakeChain()
	reg, anchorer, other := common.HexToAddress("0x4e6"), common.HexToAddress("0xa"), common.HexToAddress("0xb")
	f.contracts[reg] = true
	const t0 = 1_700_000_000
	n := uint64(1)
	for ; n <= 40; n++ {
		f.add(t0+12*n, fakeTx{from: anchorer, to: &reg}, fakeTx{from: other, to: &anchorer})
	}
	burst := make([]fakeTx, 64)
	for i := range burst {
		burst[i] = fakeTx{from: anchorer, to: &reg}
	}
	ownBurst := n
	f.add(t0+12*n, append(burst, fakeTx{from: other, to: &anchorer})...)
	n++
	flood := n
	f.add(t0+12*n, slices.Repeat([]fakeTx{{from: other, to: &anchorer}}, 64)...)
	store := huntFake(t, f, Config{Registry: reg, Anchorers: []common.Address{anchorer}}, nil)
	var got []string
	for _, a := range store.stored("") {
		got = append(got, fmt.Sprintf("%s@%d", a.Rule, a.BlockNumber))
	}
	if want := []string{fmt.Sprintf("%s@%d", RuleVolume, flood)}; !slices.Equal(got, want) {
		t.Fatalf("alerts %v, want %v (none at the service's own burst in block %d)", got, want, ownBurst)
	}
}

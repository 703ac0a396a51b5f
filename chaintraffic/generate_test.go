package chaintraffic_test

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"

	"github.com/idsledger/idsledger/bindings"
	"github.com/idsledger/idsledger/chaintraffic"
	"github.com/idsledger/idsledger/contracts"
)

// simChain is a simulated chain under the dev rules with one rich key.
func simChain(t *testing.T) (*simulated.Backend, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("chaintraffic funder")))
	if err != nil {
		t.Fatal(err)
	}
	alloc := types.GenesisAlloc{
		crypto.PubkeyToAddress(key.PublicKey):           {Balance: new(big.Int).Lsh(big.NewInt(1), 100)},
		crypto.PubkeyToAddress(otherOwner(t).PublicKey): {Balance: new(big.Int).Lsh(big.NewInt(1), 64)},
	}
	b := simulated.NewBackend(alloc, contracts.SimulatedOsaka)
	t.Cleanup(func() { b.Close() })
	return b, key
}

// otherOwner is a funded key of the simulated chain other than the funder.
func otherOwner(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("another owner")))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// simWait moves the simulated clock on by gaps of a second or more,
// sealing what is pending first (AdjustTime wants an empty block; a
// transaction still entering the pool can miss a commit).
func simWait(t *testing.T, b *simulated.Backend) func(time.Duration) error {
	return func(d time.Duration) error {
		if d < time.Second {
			return nil
		}
		var err error
		for range 20 {
			b.Commit()
			if err = b.AdjustTime(d); err == nil {
				return nil
			}
			time.Sleep(time.Millisecond)
		}
		t.Logf("adjust time: %v", err)
		return err
	}
}

// smallConfig is a run small enough for a unit test, with every pattern.
func smallConfig(key *ecdsa.PrivateKey, b *simulated.Backend) chaintraffic.Config {
	return chaintraffic.Config{
		Key: key, Seed: 7, Accounts: 8, Transfers: 60, TokenTransfers: 20, Creations: 2,
		Inject: chaintraffic.Patterns(), DrainFanout: 6, FloodTxs: 30, PhishingVictims: 5, RogueCalls: 3,
		Commit: func() { b.Commit() },
	}
}

// TestGenerateSimulated runs every pattern on the simulated backend and
// checks the manifest against the chain: every transaction mined with the
// sender and recipient recorded, token transfers logged, the registry
// patterns doing what they say.
func TestGenerateSimulated(t *testing.T) {
	b, key := simChain(t)
	ctx := context.Background()
	cfg := smallConfig(key, b)
	cfg.ManifestPath = filepath.Join(t.TempDir(), "manifest.json")
	cfg.Duration = 6 * time.Hour
	cfg.Wait = simWait(t, b)
	m, err := chaintraffic.Generate(ctx, b.Client(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	read, err := chaintraffic.ReadManifest(cfg.ManifestPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(read.Transactions()) != len(m.Transactions()) || read.Token != m.Token {
		t.Fatal("manifest file differs from the returned manifest")
	}
	if !m.RegistryDeployed || m.Registry == (common.Address{}) {
		t.Fatalf("no registry deployed: %+v", m.Registry)
	}
	if len(m.NormalAccounts) != 8 {
		t.Errorf("%d normal accounts, want 8", len(m.NormalAccounts))
	}
	kinds := map[chaintraffic.TxKind]int{}
	for _, tx := range m.Normal {
		kinds[tx.Kind]++
		// Values are drawn within what the sender holds: nothing normal fails.
		if tx.Status != types.ReceiptStatusSuccessful {
			t.Errorf("normal %s %s failed", tx.Kind, tx.Hash.Hex())
		}
	}
	if kinds[chaintraffic.KindEther] < 40 || kinds[chaintraffic.KindTokenTransfer] < 10 || kinds[chaintraffic.KindCreate] == 0 ||
		kinds[chaintraffic.KindApprove] == 0 || kinds[chaintraffic.KindTransferFrom] != kinds[chaintraffic.KindApprove] {
		t.Errorf("normal activity by kind: %v", kinds)
	}
	if err := chaintraffic.Check(ctx, b.Client(), m); err != nil {
		t.Fatal(err)
	}
	// The simulated clock moved over about Duration, unevenly.
	first, err := b.Client().HeaderByNumber(ctx, new(big.Int).SetUint64(m.Normal[0].Block))
	if err != nil {
		t.Fatal(err)
	}
	last, err := b.Client().HeaderByNumber(ctx, new(big.Int).SetUint64(m.Normal[len(m.Normal)-1].Block))
	if err != nil {
		t.Fatal(err)
	}
	if span := time.Duration(last.Time-first.Time) * time.Second; span < cfg.Duration/2 || span > 2*cfg.Duration {
		t.Errorf("normal activity spans %s of block time, want about %s", span, cfg.Duration)
	}
	// Check notices a manifest that lies.
	lie := *m
	lie.Normal = append([]chaintraffic.Tx(nil), m.Normal...)
	for i, tx := range lie.Normal {
		if tx.Kind == chaintraffic.KindTokenTransfer {
			lie.Normal[i].TokenValue = new(big.Int).Add(tx.TokenValue, big.NewInt(1))
			break
		}
	}
	lie.Normal[0].From = m.Funder
	if err := chaintraffic.Check(ctx, b.Client(), &lie); err == nil || !strings.Contains(err.Error(), "sender") || !strings.Contains(err.Error(), "Transfer") {
		t.Errorf("Check of a lying manifest: %v", err)
	}

	normal := map[common.Address]bool{}
	for _, a := range m.NormalAccounts {
		normal[a] = true
	}
	for _, p := range chaintraffic.Patterns() {
		in := m.Injection(p)
		if in == nil {
			t.Errorf("%s: not injected", p)
			continue
		}
		if in.Skipped != "" || len(in.Transactions) == 0 || len(in.Anomalous) == 0 {
			t.Errorf("%s: skipped %q, %d transactions, anomalous %v", p, in.Skipped, len(in.Transactions), in.Anomalous)
			continue
		}
		for _, a := range in.Anomalous {
			if normal[a] {
				t.Errorf("%s: anomalous %s is listed as normal", p, a.Hex())
			}
		}
		if in.FirstBlock == 0 || in.LastBlock < in.FirstBlock || in.LastBlock > m.LastBlock {
			t.Errorf("%s: blocks %d-%d (run %d-%d)", p, in.FirstBlock, in.LastBlock, m.FirstBlock, m.LastBlock)
		}
	}

	// Pattern shapes.
	if in := m.Injection(chaintraffic.Drain); in != nil {
		if len(in.Transactions) != 7 || len(in.Counterparties) != 6 || in.Transactions[6].Kind != chaintraffic.KindTokenTransfer {
			t.Errorf("drain: %d transactions to %d accounts, want 6 of ether to 6 and its tokens", len(in.Transactions), len(in.Counterparties))
		}
		bal, err := b.Client().BalanceAt(ctx, in.Anomalous[0], new(big.Int).SetUint64(in.LastBlock))
		if err != nil {
			t.Fatal(err)
		}
		if bal.Cmp(new(big.Int).Div(m.Setup[0].Value, big.NewInt(50))) > 0 {
			t.Errorf("drain: the drainer still holds %s wei", bal)
		}
	}
	if in := m.Injection(chaintraffic.Flood); in != nil && len(in.Transactions) != 30 {
		t.Errorf("flood: %d transactions, want 30", len(in.Transactions))
	}
	if in := m.Injection(chaintraffic.Phishing); in != nil {
		incoming, outgoing := 0, 0
		for _, tx := range in.Transactions {
			switch {
			case *tx.To == in.Anomalous[0] && normal[tx.From]:
				incoming++
			case tx.From == in.Anomalous[0]:
				outgoing++
			}
		}
		if incoming != 5 || outgoing == 0 {
			t.Errorf("phishing: %d incoming from normal accounts, %d outgoing", incoming, outgoing)
		}
	}
	reg := bindings.NewAuditRegistry()
	regc := reg.Instance(b.Client(), m.Registry)
	for _, tx := range m.Injection(chaintraffic.RegistryRogueCall).Transactions {
		if tx.Status != types.ReceiptStatusFailed || *tx.To != m.Registry {
			t.Errorf("rogue call %s: status %d to %s, want a reverted call to the registry", tx.Hash.Hex(), tx.Status, tx.To.Hex())
		}
	}
	rc := m.Injection(chaintraffic.RegistryRoleChange)
	wantKinds := []chaintraffic.TxKind{chaintraffic.KindGrantAnchorer, chaintraffic.KindRevokeAnchorer,
		chaintraffic.KindTransferOwnership, chaintraffic.KindTransferOwnership}
	var gotKinds []chaintraffic.TxKind
	for _, tx := range rc.Transactions {
		gotKinds = append(gotKinds, tx.Kind)
		if tx.Status != types.ReceiptStatusSuccessful {
			t.Errorf("role change %s (%s) failed", tx.Hash.Hex(), tx.Kind)
		}
	}
	if !reflect.DeepEqual(gotKinds, wantKinds) {
		t.Errorf("role change kinds %v, want %v", gotKinds, wantKinds)
	}
	owner, err := bind.Call(regc, nil, reg.PackOwner(), reg.UnpackOwner)
	if err != nil || owner != m.Funder {
		t.Errorf("registry owner after the run = %s, %v; want the funder back", owner.Hex(), err)
	}
	fb := m.Injection(chaintraffic.RegistryForeignBatch)
	if len(fb.ForeignBatches) != 1 {
		t.Fatalf("foreign batches: %+v", fb.ForeignBatches)
	}
	got, err := bind.Call(regc, nil, reg.PackGetBatch(fb.ForeignBatches[0].ID), reg.UnpackGetBatch)
	if err != nil || got.Root != fb.ForeignBatches[0].Root || got.Submitter != fb.Anomalous[0] {
		t.Errorf("foreign batch on chain: %+v, %v; want root %s by %s", got, err, fb.ForeignBatches[0].Root.Hex(), fb.Anomalous[0].Hex())
	}
	for _, a := range []common.Address{fb.Anomalous[0], rc.Anomalous[0]} {
		if ok, err := bind.Call(regc, nil, reg.PackIsAnchorer(a), reg.UnpackIsAnchorer); err != nil || ok {
			t.Errorf("%s still anchors after the run (%v)", a.Hex(), err)
		}
	}
}

// TestGenerateDeterministic runs one seed on two fresh chains and gets the
// same accounts and the same transactions (sender, recipient, value, kind)
// in the same order; another seed gets other accounts.
func TestGenerateDeterministic(t *testing.T) {
	ctx := context.Background()
	type shape struct {
		Kind     chaintraffic.TxKind
		From     common.Address
		To       *common.Address
		Value    string
		TokenVal string
	}
	run := func(seed int64) ([]common.Address, []shape) {
		b, key := simChain(t)
		cfg := smallConfig(key, b)
		cfg.Seed = seed
		cfg.Transfers, cfg.TokenTransfers, cfg.FloodTxs = 30, 10, 10
		cfg.Inject = []chaintraffic.Pattern{chaintraffic.Drain, chaintraffic.Phishing}
		m, err := chaintraffic.Generate(ctx, b.Client(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		var out []shape
		for _, tx := range m.Transactions() {
			s := shape{Kind: tx.Kind, From: tx.From, To: tx.To, Value: tx.Value.String()}
			if tx.TokenValue != nil {
				s.TokenVal = tx.TokenValue.String()
			}
			out = append(out, s)
		}
		return m.NormalAccounts, out
	}
	acc1, txs1 := run(11)
	acc2, txs2 := run(11)
	if !reflect.DeepEqual(acc1, acc2) || !reflect.DeepEqual(txs1, txs2) {
		t.Fatalf("seed 11 twice: different runs (%d and %d transactions)", len(txs1), len(txs2))
	}
	acc3, _ := run(12)
	if reflect.DeepEqual(acc1, acc3) {
		t.Fatal("seeds 11 and 12 made the same accounts")
	}
}

// TestParsePatterns covers the shorthands and the refusal of unknown names.
func TestParsePatterns(t *testing.T) {
	got, err := chaintraffic.ParsePatterns("registry, drain,drain")
	want := []chaintraffic.Pattern{chaintraffic.Drain, chaintraffic.RegistryRogueCall, chaintraffic.RegistryRoleChange, chaintraffic.RegistryForeignBatch}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("registry,drain,drain = %v, %v", got, err)
	}
	if got, err := chaintraffic.ParsePatterns("all"); err != nil || len(got) != len(chaintraffic.Patterns()) {
		t.Errorf("all = %v, %v", got, err)
	}
	if got, err := chaintraffic.ParsePatterns("none"); err != nil || len(got) != 0 {
		t.Errorf("none = %v, %v", got, err)
	}
	if _, err := chaintraffic.ParsePatterns("drain,ddos"); err == nil {
		t.Error("unknown pattern accepted")
	}
}

// TestGenerateForeignRegistry targets a registry someone else owns: the
// rogue calls are still made (and revert), the patterns that need the
// owner are skipped with the reason; a registry address without code is
// refused.
func TestGenerateForeignRegistry(t *testing.T) {
	ctx := context.Background()
	b, key := simChain(t)
	other := otherOwner(t)
	cfg := smallConfig(key, b)
	cfg.Transfers, cfg.TokenTransfers, cfg.Creations = 10, -1, -1
	cfg.Inject = []chaintraffic.Pattern{chaintraffic.RegistryRogueCall, chaintraffic.RegistryRoleChange, chaintraffic.RegistryForeignBatch}
	regAt, dtx, err := bind.DeployContract(bind.NewKeyedTransactor(other, big.NewInt(1337)),
		common.FromHex(bindings.AuditRegistryMetaData.Bin), b.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Commit()
	if _, err := bind.WaitDeployed(ctx, b.Client(), dtx.Hash()); err != nil {
		t.Fatal(err)
	}

	cfg.Registry = regAt
	m, err := chaintraffic.Generate(ctx, b.Client(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m.RegistryDeployed || m.Registry != regAt {
		t.Errorf("registry %s deployed %v, want the given %s", m.Registry.Hex(), m.RegistryDeployed, regAt.Hex())
	}
	if in := m.Injection(chaintraffic.RegistryRogueCall); in.Skipped != "" || len(in.Transactions) != 3 {
		t.Errorf("rogue calls: %+v", in)
	}
	for _, p := range []chaintraffic.Pattern{chaintraffic.RegistryRoleChange, chaintraffic.RegistryForeignBatch} {
		in := m.Injection(p)
		if !strings.Contains(in.Skipped, "not the registry owner") || len(in.Transactions) != 0 {
			t.Errorf("%s: skipped %q with %d transactions, want skipped for want of the owner", p, in.Skipped, len(in.Transactions))
		}
	}
	if err := chaintraffic.Check(ctx, b.Client(), m); err != nil {
		t.Fatal(err)
	}

	cfg.Seed = 9
	cfg.Registry = common.HexToAddress("0x000000000000000000000000000000000000dEaD")
	if _, err := chaintraffic.Generate(ctx, b.Client(), cfg); err == nil || !strings.Contains(err.Error(), "no contract") {
		t.Errorf("registry without code: %v", err)
	}
}

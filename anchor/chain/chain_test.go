package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/internal/fakes"
)

func newSim(t *testing.T) *Simulated {
	t.Helper()
	sim, err := NewSimulated()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRegistryAnchorBatchRoundTrip(t *testing.T) {
	ctx := ctxT(t)
	sim := newSim(t)
	meta := &fakes.ChainMeta{}
	c, err := sim.Open(ctx, meta)
	if err != nil {
		t.Fatal(err)
	}
	reg := c.Registry
	if m, ok, _ := meta.LoadChainMeta(ctx); !ok || m.Registry != reg.Address() || m.ChainID != 1337 {
		t.Fatalf("chain meta not saved: %+v", m)
	}

	root := anchor.Hash{1, 2, 3}
	if _, ok, err := reg.Batch(ctx, 7); err != nil || ok {
		t.Fatalf("Batch(7) before anchoring: ok=%v err=%v", ok, err)
	}
	sent, err := reg.AnchorBatch(ctx, 7, root, 16, 1)
	if err != nil {
		t.Fatal(err)
	}
	inc, err := reg.WaitIncluded(ctx, sent.Tx, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Tx != sent.Tx || inc.BlockNumber == 0 || inc.GasUsed == 0 || inc.BlockTime.IsZero() {
		t.Fatalf("inclusion %+v", inc)
	}
	b, ok, err := reg.Batch(ctx, 7)
	if err != nil || !ok {
		t.Fatalf("Batch(7): ok=%v err=%v", ok, err)
	}
	if b.Root != root || b.LeafCount != 16 || b.Kind != 1 || b.BlockNumber != inc.BlockNumber {
		t.Fatalf("Batch(7) = %+v, inclusion %+v", b, inc)
	}
	found, ok, err := reg.BatchInclusion(ctx, 7)
	if err != nil || !ok || found.Tx != inc.Tx || found.BlockHash != inc.BlockHash {
		t.Fatalf("BatchInclusion = %+v %v %v, want %+v", found, ok, err, inc)
	}

	if _, err := reg.AnchorBatch(ctx, 7, anchor.Hash{9}, 1, 1); !errors.Is(err, anchor.ErrAlreadyAnchored) {
		t.Fatalf("duplicate batch: err = %v, want ErrAlreadyAnchored", err)
	}
	// A refusal that is not a duplicate is reported as such.
	if _, err := reg.AnchorBatch(ctx, 8, anchor.Hash{9}, 1, 0); err == nil || errors.Is(err, anchor.ErrAlreadyAnchored) {
		t.Fatalf("kind 0: err = %v, want a revert", err)
	}
}

func TestRegistryAnchorRecordRoundTrip(t *testing.T) {
	ctx := ctxT(t)
	sim := newSim(t)
	c, err := sim.Open(ctx, &fakes.ChainMeta{})
	if err != nil {
		t.Fatal(err)
	}
	reg := c.Registry
	id := anchor.RecordID{0xaa, 0xbb}
	leaf := anchor.Hash{0xcc}
	sent, err := reg.AnchorRecord(ctx, id, leaf, 2)
	if err != nil {
		t.Fatal(err)
	}
	inc, err := reg.WaitIncluded(ctx, sent.Tx, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, ok, err := reg.Record(ctx, id)
	if err != nil || !ok || r.Hash != leaf || r.Kind != 2 {
		t.Fatalf("Record = %+v %v %v", r, ok, err)
	}
	found, ok, err := reg.RecordInclusion(ctx, id)
	if err != nil || !ok || found.Tx != inc.Tx {
		t.Fatalf("RecordInclusion = %+v %v %v, want tx %x", found, ok, err, inc.Tx)
	}
	if _, err := reg.AnchorRecord(ctx, id, leaf, 2); !errors.Is(err, anchor.ErrAlreadyAnchored) {
		t.Fatalf("duplicate record: err = %v", err)
	}
}

func TestOpenRefusesAnotherChain(t *testing.T) {
	ctx := ctxT(t)
	sim := newSim(t)
	meta := &fakes.ChainMeta{}
	c, err := sim.Open(ctx, meta)
	if err != nil {
		t.Fatal(err)
	}
	// Reopening against the same chain finds the same registry.
	c2, err := sim.Open(ctx, meta)
	if err != nil || c2.Registry.Address() != c.Registry.Address() {
		t.Fatalf("reopen: %v, registry %x want %x", err, c2.Registry.Address(), c.Registry.Address())
	}

	tests := []struct {
		name string
		edit func(*anchor.ChainMeta)
	}{
		{"other genesis", func(m *anchor.ChainMeta) { m.GenesisHash[0] ^= 1 }},
		{"other chain id", func(m *anchor.ChainMeta) { m.ChainID = 1 }},
		{"registry gone", func(m *anchor.ChainMeta) { m.Registry = anchor.Address(common.HexToAddress("0x1234")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := meta.LoadChainMeta(ctx)
			tt.edit(&m)
			other := &fakes.ChainMeta{}
			if _, err := other.SaveChainMeta(ctx, m); err != nil {
				t.Fatal(err)
			}
			_, err := sim.Open(ctx, other)
			if !errors.Is(err, ErrChainMismatch) {
				t.Fatalf("err = %v, want ErrChainMismatch", err)
			}
		})
	}
}

func TestEmbeddedKeepsAnchorsAcrossRestart(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	meta := &fakes.ChainMeta{}
	c, err := Open(ctx, Config{DataDir: dir}, meta)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := c.Registry.AnchorBatch(ctx, 1, anchor.Hash{1}, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Registry.WaitIncluded(ctx, sent.Tx, 1, nil); err != nil {
		t.Fatal(err)
	}
	addr, fed := c.Registry.Address(), c.Federation.Address()
	if fed == (common.Address{}) || c.Meta.Federation != anchor.Address(fed) {
		t.Fatalf("federation registry %s, meta %x", fed.Hex(), c.Meta.Federation)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c, err = Open(ctx, Config{DataDir: dir}, meta)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Registry.Address() != addr || c.Federation.Address() != fed {
		t.Fatalf("registries moved: %x and %x, want %x and %x", c.Registry.Address(), c.Federation.Address(), addr, fed)
	}
	b, ok, err := c.Registry.Batch(ctx, 1)
	if err != nil || !ok || b.Root != (anchor.Hash{1}) {
		t.Fatalf("batch after restart: %+v %v %v", b, ok, err)
	}
	if _, err := c.Registry.AnchorBatch(ctx, 1, anchor.Hash{1}, 4, 1); !errors.Is(err, anchor.ErrAlreadyAnchored) {
		t.Fatalf("duplicate after restart: %v", err)
	}
}

// TestDevGenesisFile keeps testdata/geth-dev-genesis.json, the genesis to
// `geth init` before `geth --dev` (dev account funded, no post-Osaka fork),
// in step with DevGenesis. IDSLEDGER_UPDATE_GENESIS=1 rewrites it.
func TestDevGenesisFile(t *testing.T) {
	key, err := crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291") // geth's DeveloperKey
	if err != nil {
		t.Fatal(err)
	}
	if crypto.PubkeyToAddress(key.PublicKey) != gethDevAccount {
		t.Fatalf("geth's dev account is %s", crypto.PubkeyToAddress(key.PublicKey).Hex())
	}
	want, err := json.MarshalIndent(GethDevGenesis(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	const path = "testdata/geth-dev-genesis.json"
	if os.Getenv("IDSLEDGER_UPDATE_GENESIS") == "1" {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date; run IDSLEDGER_UPDATE_GENESIS=1 go test ./anchor/chain -run TestDevGenesisFile", path)
	}
	var g struct {
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if _, ok := g.Config["osakaTime"]; !ok {
		t.Fatal("genesis does not enable Osaka")
	}
	for _, fork := range []string{"amsterdamTime", "bogotaTime", "ubtTime"} {
		if _, ok := g.Config[fork]; ok {
			t.Fatalf("genesis enables %s", fork)
		}
	}
}

// ChainStatus reports the head, the finalized head (the simulated beacon
// finalizes every 32 blocks, as the dev chain's) and that a chain with id
// 1337 is a development chain.
func TestRegistryChainStatus(t *testing.T) {
	ctx := ctxT(t)
	sim := newSim(t)
	c, err := sim.Open(ctx, &fakes.ChainMeta{})
	if err != nil {
		t.Fatal(err)
	}
	for range 40 {
		sim.Backend.Commit()
	}
	st, err := c.Registry.ChainStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	head, err := sim.Backend.Client().BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Head != head || !st.HasFinalized || st.Finalized != 32 || st.Dev == "" {
		t.Fatalf("status %+v, head %d", st, head)
	}
	// A reader sees the same.
	r, err := NewReader(ctx, sim.Backend.Client(), c.Registry.addr)
	if err != nil {
		t.Fatal(err)
	}
	if st2, err := r.ChainStatus(ctx); err != nil || st2 != st {
		t.Fatalf("reader status %+v %v, want %+v", st2, err, st)
	}
}

// Only development chains are called so: by their id, or by go-ethereum's
// dev genesis under whatever id.
func TestDevChain(t *testing.T) {
	gethDev := core.DeveloperGenesisBlock(11_500_000, &gethDevAccount).ToBlock().Hash()
	for _, c := range []struct {
		id      uint64
		genesis common.Hash
		dev     bool
	}{
		{1337, common.Hash{1}, true},
		{1, common.HexToHash("0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"), false},        // mainnet
		{11155111, common.HexToHash("0x25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9"), false}, // sepolia
		{4242, gethDev, true},
		{4242, GethDevGenesis().ToBlock().Hash(), true},
	} {
		if got := DevChain(c.id, c.genesis); (got != "") != c.dev {
			t.Errorf("DevChain(%d, %x) = %q, want dev %v", c.id, c.genesis, got, c.dev)
		}
	}
}

// Waiting for finality returns only once the chain's finalized head has
// reached the transaction's block (every 32 blocks on the simulated chain).
func TestWaitIncludedFinalized(t *testing.T) {
	ctx := ctxT(t)
	sim := newSim(t)
	c, err := sim.Open(ctx, &fakes.ChainMeta{})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := c.Registry.AnchorBatch(ctx, 1, anchor.Hash{1}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	mined, err := c.Registry.WaitIncluded(ctx, sent.Tx, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var final anchor.Inclusion
	go func() {
		var err error
		final, err = c.Registry.WaitIncluded(ctx, sent.Tx, anchor.Finalized, nil)
		done <- err
	}()
	for n := mined.BlockNumber; n < 32; n++ {
		select {
		case err := <-done:
			t.Fatalf("returned at head %d, before block %d was final: %v", n, mined.BlockNumber, err)
		case <-time.After(5 * time.Millisecond):
		}
		sim.Backend.Commit()
	}
	select {
	case err := <-done:
		if err != nil || final.BlockHash != mined.BlockHash {
			t.Fatalf("final inclusion %+v %v, want %+v", final, err, mined)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not final after block 32")
	}
}

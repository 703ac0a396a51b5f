package chainhunt

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/internal/testenv"
)

var (
	alice = common.HexToAddress("0xa11ce")
	bob   = common.HexToAddress("0xb0b")
)

// The hunter catches up on a history in bulk, then follows new blocks as
// they come; the aggregates it stores count every transaction once.
func TestHunterCatchesUpAndFollows(t *testing.T) {
	c := newTestChain(t)
	for range 10 {
		c.transfer(t, 1000, alice, bob)
	}
	store := newMemStore()
	h, _ := runHunter(t, c, c.config(), store, nil, nil)
	waitProcessed(t, h, c.head(t))

	for range 5 {
		c.transfer(t, 1000, alice)
	}
	waitProcessed(t, h, c.head(t))
	s := h.Stats()
	if s.Lag != 0 || s.Head != c.head(t) || s.Blocks != c.head(t)+1 {
		t.Fatalf("stats %+v, head %d", s, c.head(t))
	}
	// The deployments of the registry and of the federation registry, 10
	// blocks of two transfers and 5 of one.
	if s.Txs != 2+10*2+5 {
		t.Fatalf("%d transactions processed", s.Txs)
	}
	testenv.Eventually(t, time.Minute, "the aggregates committed", func() bool {
		return store.account(t, alice).Received.N == 15
	})
	if a := store.account(t, alice); a.ReceivedFrom[0] != c.anchorer || a.Received.Sum.Cmp(big.NewInt(15_000)) != 0 {
		t.Fatalf("alice %+v", a)
	}
	if b := store.account(t, bob); b.Received.N != 10 {
		t.Fatalf("bob received %d", b.Received.N)
	}
	if a := store.account(t, c.anchorer); a.Sent.N != 25 || a.Created.N != 2 || len(a.SentTo) != 2 {
		t.Fatalf("anchorer %+v", a)
	}
	if got := store.stored(""); len(got) != 0 {
		t.Fatalf("alerts on plain transfers: %+v", got)
	}
}

// A restart resumes from the checkpoint: the blocks before it are not
// processed again, and an alert raised again (a block read twice) is
// stored once.
func TestHunterResumesFromCheckpoint(t *testing.T) {
	c := newTestChain(t)
	rogue := c.newKey(t)
	c.send(t, rogue, &c.registry, nil, registryABI.PackAnchorBatch(7, [32]byte{1}, 1, 1), gwei)
	c.mine()
	c.transfer(t, 1, alice)
	store := newMemStore()
	h, stop := runHunter(t, c, c.config(), store, nil, nil)
	head := c.head(t)
	waitProcessed(t, h, head)
	stop()
	first := store.stored("")
	if len(first) != 2 { // the rogue call: foreign caller, reverted
		t.Fatalf("alerts %+v", first)
	}
	cp, _, _ := store.Checkpoint(context.Background(), h.cfg.ChainID)
	if last := cp.Blocks[len(cp.Blocks)-1].Number; last != head {
		t.Fatalf("checkpoint at %d, head %d", last, head)
	}

	// Restarted: only the new blocks are processed.
	c.transfer(t, 1, alice)
	c.transfer(t, 1, alice)
	h2, stop2 := runHunter(t, c, c.config(), store, nil, nil)
	waitProcessed(t, h2, c.head(t))
	stop2()
	if s := h2.Stats(); s.Blocks != c.head(t)-head {
		t.Fatalf("the restarted hunter processed %d blocks, want the %d new ones", s.Blocks, c.head(t)-head)
	}
	if a := store.account(t, alice); a.Received.N != 3 {
		t.Fatalf("alice received %d, want 3", a.Received.N)
	}

	// Restarted from an older checkpoint (as if the blocks had been read
	// again): the same alerts are raised with the same ids, and none is
	// stored twice.
	store.mu.Lock()
	old := store.cp[h.cfg.ChainID]
	old.Blocks, old.State = nil, nil
	delete(store.cp, h.cfg.ChainID)
	store.accounts = map[common.Address][]byte{}
	store.mu.Unlock()
	h3, stop3 := runHunter(t, c, c.config(), store, nil, nil)
	waitProcessed(t, h3, c.head(t))
	stop3()
	if got := store.stored(""); len(got) != 2 {
		t.Fatalf("%d alerts after reading every block again, want the 2 first", len(got))
	}
	if a := store.account(t, alice); a.Received.N != 3 {
		t.Fatalf("alice received %d, want 3", a.Received.N)
	}
}

// A node serving another chain than configured stops the hunter.
func TestHunterRefusesAnotherChain(t *testing.T) {
	c := newTestChain(t)
	cfg := c.config()
	cfg.ChainID = 999
	h, err := New(cfg, c.client, newMemStore(), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "not 999") {
		t.Fatalf("Run: %v", err)
	}
}

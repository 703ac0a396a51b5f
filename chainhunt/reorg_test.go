package chainhunt

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idsledger/idsledger/internal/testenv"
)

// forkBack replaces the last depth blocks of c by depth+1 empty blocks,
// dropping their transactions, and returns the numbers and hashes of the
// replaced blocks.
func forkBack(t *testing.T, c *testChain, depth uint64) []BlockRef {
	return forkBackTo(t, c, depth, depth+1)
}

// forkBackTo replaces the last depth blocks of c by n empty blocks.
func forkBackTo(t *testing.T, c *testChain, depth, n uint64) []BlockRef {
	t.Helper()
	ctx := context.Background()
	head := c.head(t)
	var old []BlockRef
	for n := head - depth + 1; n <= head; n++ {
		h, err := c.client.HeaderByNumber(ctx, new(big.Int).SetUint64(n))
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, BlockRef{Number: n, Hash: h.Hash()})
	}
	parent, err := c.client.HeaderByNumber(ctx, new(big.Int).SetUint64(head-depth))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.sim.Backend.Fork(parent.Hash()); err != nil {
		t.Fatal(err)
	}
	c.sim.Backend.Rollback()
	clear(c.nonces) // the replaced blocks' transactions are gone
	c.sent = nil
	for range n {
		c.mine()
	}
	return old
}

// reorgSetup makes n blocks of a transfer to alice and runs a hunter with
// cfg up to them, recording the re-checks it asks for.
func reorgSetup(t *testing.T, c *testChain, n int, cfg Config) (*Hunter, *memStore, *recorder) {
	t.Helper()
	for range n {
		c.transfer(t, 1000, alice)
	}
	store, rc := newMemStore(), &recorder{}
	h, _ := runHunter(t, c, cfg, store, nil, rc)
	waitProcessed(t, h, c.head(t))
	return h, store, rc
}

// A reorg replacing two processed blocks raises chain.reorg naming them,
// undoes their changes to the aggregates, asks for a re-check from the
// first of them, and the hunter goes on with the new branch.
func TestHunterReorg(t *testing.T) {
	c := newTestChain(t)
	h, store, rc := reorgSetup(t, c, 5, c.config())

	// Two more transfers to alice, processed, then replaced.
	c.transfer(t, 1000, alice)
	c.transfer(t, 1000, alice)
	waitProcessed(t, h, c.head(t))
	old := forkBack(t, c, 2)
	c.transfer(t, 1000, bob)
	testenv.Eventually(t, time.Minute, "the reorg alerted and the new branch processed", func() bool {
		s := h.Stats()
		return len(store.stored(RuleReorg)) == 1 && s.Processed == c.head(t) && s.Lag == 0 && store.account(t, bob).Received.N == 1
	})
	a := store.stored(RuleReorg)[0]
	if a.Evidence["depth"] != "2" || a.BlockNumber != old[0].Number || a.BlockHash != old[0].Hash || a.Severity != "high" {
		t.Fatalf("reorg alert %+v", a)
	}
	for _, r := range old {
		if !strings.Contains(a.Evidence["replaced_blocks"], r.Hash.Hex()) {
			t.Fatalf("replaced block %d not named: %s", r.Number, a.Evidence["replaced_blocks"])
		}
	}
	if got := rc.asked(); len(got) != 1 || got[0] != old[0].Number {
		t.Fatalf("re-check asked from %v, want [%d]", got, old[0].Number)
	}
	// The transfers of the replaced blocks are undone.
	if n := store.account(t, alice).Received.N; n != 5 {
		t.Fatalf("alice received %d after the reorg, want 5", n)
	}
	if s := h.Stats(); s.Reorgs != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// A reorg deeper than the window raises a critical chain.reorg that says
// so, and asks for a re-check from the oldest block kept.
func TestHunterReorgDeeperThanWindow(t *testing.T) {
	c := newTestChain(t)
	cfg := c.config()
	cfg.Window = 3
	h, store, rc := reorgSetup(t, c, 6, cfg)
	head := c.head(t)
	forkBack(t, c, 5)
	testenv.Eventually(t, time.Minute, "the reorg alerted", func() bool {
		return len(store.stored(RuleReorg)) == 1 && h.Stats().Processed == c.head(t)
	})
	a := store.stored(RuleReorg)[0]
	oldest := head - 2 // the window keeps head-2..head
	if a.Severity != "critical" || a.Evidence["deeper_than_window"] != "true" || a.BlockNumber != oldest || a.Evidence["depth"] != "3" {
		t.Fatalf("reorg alert %+v", a)
	}
	if got := rc.asked(); len(got) != 1 || got[0] != oldest {
		t.Fatalf("re-check asked from %v, want [%d]", got, oldest)
	}
}

// failingRechecker fails its first calls.
type failingRechecker struct {
	recorder
	fail int
}

func (f *failingRechecker) RecheckFrom(ctx context.Context, block uint64) error {
	f.mu.Lock()
	if f.fail > 0 {
		f.fail--
		f.mu.Unlock()
		return errors.New("anchoring side unavailable")
	}
	f.mu.Unlock()
	return f.recorder.RecheckFrom(ctx, block)
}

// failingStore fails its first commits.
type failingStore struct {
	*memStore
	mu   sync.Mutex
	fail int
}

func (f *failingStore) Commit(ctx context.Context, cp Checkpoint, alerts []Alert) ([]Alert, error) {
	f.mu.Lock()
	if f.fail > 0 {
		f.fail--
		f.mu.Unlock()
		return nil, errors.New("database unavailable")
	}
	f.mu.Unlock()
	return f.memStore.Commit(ctx, cp, alerts)
}

// A Rechecker and a Store that fail for a while lose nothing: the reorg
// is found again and the re-check asked again, and the next commit
// carries every alert and account change.
func TestHunterReorgSurvivesFailures(t *testing.T) {
	c := newTestChain(t)
	for range 4 {
		c.transfer(t, 1000, alice)
	}
	mem := newMemStore()
	store := &failingStore{memStore: mem}
	rc := &failingRechecker{fail: 2}
	h, _ := runHunter(t, c, c.config(), store, nil, rc)
	waitProcessed(t, h, c.head(t))
	store.mu.Lock()
	store.fail = 3
	store.mu.Unlock()
	old := forkBack(t, c, 2)
	c.transfer(t, 1000, bob)
	testenv.Eventually(t, time.Minute, "the reorg stored and the new branch processed", func() bool {
		return len(mem.stored(RuleReorg)) == 1 && mem.account(t, bob).Received.N == 1
	})
	if got := rc.asked(); len(got) != 1 || got[0] != old[0].Number {
		t.Fatalf("re-check asked from %v, want [%d]", got, old[0].Number)
	}
	if n := mem.account(t, alice).Received.N; n != 2 {
		t.Fatalf("alice received %d, want 2", n)
	}
}

// A reorg onto a branch of the same length, with nothing after it, is
// noticed while the hunter waits at the head: its last block is no longer
// canonical.
func TestHunterReorgSameLength(t *testing.T) {
	c := newTestChain(t)
	h, store, rc := reorgSetup(t, c, 3, c.config())
	head := c.head(t)
	old := forkBackTo(t, c, 1, 1)
	if c.head(t) != head {
		t.Fatalf("head %d, want %d", c.head(t), head)
	}
	testenv.Eventually(t, time.Minute, "the reorg alerted", func() bool {
		return len(store.stored(RuleReorg)) == 1 && h.Stats().Processed == head
	})
	if a := store.stored(RuleReorg)[0]; a.BlockHash != old[0].Hash || a.Evidence["depth"] != "1" {
		t.Fatalf("reorg alert %+v", a)
	}
	if got := rc.asked(); len(got) != 1 || got[0] != head {
		t.Fatalf("re-check asked from %v, want [%d]", got, head)
	}
	if n := store.account(t, alice).Received.N; n != 2 {
		t.Fatalf("alice received %d, want 2", n)
	}
}

// While the Store fails the hunter stops at the next commit point rather
// than piling up what it cannot store, and goes on once the Store is back.
func TestHunterWaitsForAFailingStore(t *testing.T) {
	c := newTestChain(t)
	for range 10 {
		c.transfer(t, 1000, alice)
	}
	mem := newMemStore()
	store := &failingStore{memStore: mem, fail: 1 << 30}
	cfg := c.config()
	cfg.CommitBlocks = 2
	h, _ := runHunter(t, c, cfg, store, nil, nil)
	time.Sleep(200 * time.Millisecond)
	if s := h.Stats(); s.Blocks > 2 {
		t.Fatalf("%d blocks processed while nothing could be committed", s.Blocks)
	}
	store.mu.Lock()
	store.fail = 0
	store.mu.Unlock()
	waitProcessed(t, h, c.head(t))
	testenv.Eventually(t, time.Minute, "everything committed", func() bool { return mem.account(t, alice).Received.N == 10 })
}

package chainhunt

import (
	"context"
	"crypto/ecdsa"
	"io"
	"log/slog"
	"maps"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/internal/fakes"
	"github.com/idsledger/idsledger/internal/testenv"
)

// memStore is an in-memory Store: commits are atomic and an alert is
// stored once per ID.
type memStore struct {
	mu       sync.Mutex
	cp       map[uint64]Checkpoint
	accounts map[common.Address][]byte
	alerts   []Alert
	ids      map[uuid.UUID]bool
	commits  int
}

func newMemStore() *memStore {
	return &memStore{cp: map[uint64]Checkpoint{}, accounts: map[common.Address][]byte{}, ids: map[uuid.UUID]bool{}}
}

func (s *memStore) Checkpoint(_ context.Context, chainID uint64) (Checkpoint, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp, ok := s.cp[chainID]
	return cp, ok, nil
}

func (s *memStore) Accounts(_ context.Context, _ uint64, addrs []common.Address) (map[common.Address][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[common.Address][]byte{}
	for _, a := range addrs {
		if p, ok := s.accounts[a]; ok {
			out[a] = p
		}
	}
	return out, nil
}

func (s *memStore) Commit(_ context.Context, cp Checkpoint, alerts []Alert) ([]Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	maps.Copy(s.accounts, cp.Accounts)
	cp.Accounts = nil
	s.cp[cp.ChainID] = cp
	var stored []Alert
	for _, a := range alerts {
		if !s.ids[a.ID()] {
			s.ids[a.ID()] = true
			s.alerts = append(s.alerts, a)
			stored = append(stored, a)
		}
	}
	s.commits++
	return stored, nil
}

// stored returns the alerts stored, and those of rule.
func (s *memStore) stored(rule string) []Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Alert
	for _, a := range s.alerts {
		if rule == "" || a.Rule == rule {
			out = append(out, a)
		}
	}
	return out
}

// account decodes a stored account.
func (s *memStore) account(t testing.TB, a common.Address) *Account {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	acc := &Account{}
	if p, ok := s.accounts[a]; ok {
		if err := acc.UnmarshalBinary(p); err != nil {
			t.Fatal(err)
		}
	}
	return acc
}

// recorder is a Rechecker that records the blocks asked for.
type recorder struct {
	mu     sync.Mutex
	blocks []uint64
}

func (r *recorder) RecheckFrom(_ context.Context, block uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.blocks = append(r.blocks, block)
	return nil
}

func (r *recorder) asked() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.blocks)
}

// knownBatches is a KnownBatches and KnownRecords over maps.
type knownBatches struct {
	mu      sync.Mutex
	roots   map[uint64]common.Hash
	records map[[16]byte]common.Hash
}

func (k *knownBatches) Record(_ context.Context, id [16]byte) (common.Hash, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, ok := k.records[id]
	return r, ok, nil
}

func (k *knownBatches) Batch(_ context.Context, id uint64) (common.Hash, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, ok := k.roots[id]
	return r, ok, nil
}

func (k *knownBatches) add(id uint64, root common.Hash) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.roots[id] = root
}

// testChain is a simulated chain with the registry deployed by the funded
// key, which is the anchorer.
type testChain struct {
	sim      *chain.Simulated
	reg      *chain.Registry
	registry common.Address
	anchorer common.Address
	client   Client
	signer   types.Signer
	// nonces are the next nonces of the keys the test sent from, read
	// from the head's state on first use: the pool's pending nonce lags
	// behind a block just mined (its reset runs in the background), and a
	// transaction sent with it replaces one already mined and is dropped.
	// The registry client sends from the funded key too: tests use it,
	// and wait for what it sent, before sending from that key themselves.
	nonces map[common.Address]uint64
	// sent are the transactions sent and not yet seen mined.
	sent []common.Hash
}

func newTestChain(t testing.TB) *testChain {
	t.Helper()
	sim, err := chain.NewSimulated()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	c, err := sim.Open(context.Background(), &fakes.ChainMeta{})
	if err != nil {
		t.Fatal(err)
	}
	client, ok := sim.Backend.Client().(Client)
	if !ok {
		t.Fatal("the simulated backend's client does not satisfy Client")
	}
	id, err := client.ChainID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &testChain{sim: sim, reg: c.Registry, registry: common.Address(c.Registry.Address()),
		anchorer: crypto.PubkeyToAddress(sim.Key.PublicKey), client: client,
		signer: types.LatestSignerForChainID(id), nonces: map[common.Address]uint64{}}
}

// gwei is 10^9 wei.
const gwei = 1_000_000_000

// send signs and sends a transaction from key (the funded key when nil)
// with a fee cap of tip+100 gwei, without mining it.
func (c *testChain) send(t testing.TB, key *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte, tip int64) *types.Transaction {
	t.Helper()
	ctx := context.Background()
	if key == nil {
		key = c.sim.Key
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, ok := c.nonces[from]
	if !ok {
		n, err := c.sim.Backend.Client().NonceAt(ctx, from, nil)
		if err != nil {
			t.Fatal(err)
		}
		nonce = n
	}
	c.nonces[from] = nonce + 1
	if value == nil {
		value = new(big.Int)
	}
	tx, err := types.SignNewTx(key, c.signer, &types.DynamicFeeTx{
		Nonce: nonce, To: to, Value: value, Data: data, Gas: 500_000,
		GasTipCap: big.NewInt(tip), GasFeeCap: big.NewInt(tip + 100*gwei),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.sim.Backend.Client().SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	c.sent = append(c.sent, tx.Hash())
	return tx
}

// mine seals a block with what the test sent, and more blocks while some
// of it is left out (a block can miss transactions still entering the
// pool).
func (c *testChain) mine() {
	c.sim.Backend.Commit()
	for range 100 {
		left := c.sent[:0]
		for _, h := range c.sent {
			if r, err := c.sim.Backend.Client().TransactionReceipt(context.Background(), h); err != nil || r == nil {
				left = append(left, h)
			}
		}
		c.sent = left
		if len(left) == 0 {
			return
		}
		time.Sleep(time.Millisecond)
		c.sim.Backend.Commit()
	}
}

// transfer sends wei from the funded key to each of to, in one block.
func (c *testChain) transfer(t testing.TB, wei int64, to ...common.Address) {
	t.Helper()
	for _, a := range to {
		c.send(t, nil, &a, big.NewInt(wei), nil, gwei)
	}
	c.mine()
}

// head is the number of the head block.
func (c *testChain) head(t testing.TB) uint64 {
	t.Helper()
	h, err := c.client.HeaderByNumber(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return h.Number.Uint64()
}

// newKey returns a fresh key funded with one ether.
func (c *testChain) newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	c.transfer(t, 1e18, crypto.PubkeyToAddress(k.PublicKey))
	return k
}

// runHunter runs a hunter until the test ends (or stop is called) and
// returns it.
func runHunter(t testing.TB, c *testChain, cfg Config, store Store, known KnownBatches, rc Rechecker) (*Hunter, func()) {
	t.Helper()
	h, err := New(cfg, c.client, store, known, rc, slog.New(slog.NewTextHandler(testLogOut, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(time.Minute):
				t.Error("the hunter did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return h, stop
}

// waitProcessed waits until the hunter processed block n.
func waitProcessed(t testing.TB, h *Hunter, n uint64) {
	t.Helper()
	testenv.Eventually(t, time.Minute, "the hunter at the head", func() bool {
		s := h.Stats()
		return s.Processed >= n && s.CaughtUp
	})
}

// testConfig is a fast hunter configuration for c.
func (c *testChain) config() Config {
	return Config{Registry: c.registry, Anchorers: []common.Address{c.anchorer},
		PollInterval: 5 * time.Millisecond, Prefetch: 3, CommitBlocks: 4, CommitInterval: time.Hour}
}

// testLogOut receives the hunters' logs (os.Stderr to debug a test).
var testLogOut = io.Discard

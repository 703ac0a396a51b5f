package chainhunt

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/trie"

	"github.com/idsledger/idsledger/internal/testenv"
)

// fakeChain is a Client over blocks built by hand: transactions need no
// signatures (senders are looked up by hash), and contracts and token
// decimals are declared.
type fakeChain struct {
	mu        sync.Mutex
	blocks    []*types.Block
	receipts  [][]*types.Receipt
	senders   map[common.Hash]common.Address
	contracts map[common.Address]bool
	decimals  map[common.Address]uint8 // absent: decimals() reverts
	// failCode counts down the CodeAt calls for an address that fail (a
	// node failing midway through a block).
	failCode map[common.Address]int
	// onHeader, when set, may fail a HeaderByNumber call for block n.
	onHeader func(n uint64) error
	nonce    uint64
}

func newFakeChain() *fakeChain {
	f := &fakeChain{senders: map[common.Hash]common.Address{}, contracts: map[common.Address]bool{},
		decimals: map[common.Address]uint8{}, failCode: map[common.Address]int{}}
	f.add(0) // genesis
	return f
}

// fakeTx is a transaction of a fakeChain block: from, to (nil: a
// creation, of contract created), value, and the logs it emitted.
type fakeTx struct {
	from    common.Address
	to      *common.Address
	value   *big.Int
	created common.Address
	logs    []*types.Log
}

// add appends a block at time t with txs.
func (f *fakeChain) add(t uint64, txs ...fakeTx) {
	f.mu.Lock()
	defer f.mu.Unlock()
	hd := &types.Header{Number: big.NewInt(int64(len(f.blocks))), Time: t, GasLimit: 30_000_000, BaseFee: big.NewInt(1), Difficulty: new(big.Int)}
	if len(f.blocks) > 0 {
		hd.ParentHash = f.blocks[len(f.blocks)-1].Hash()
	}
	var body types.Body
	var rcs []*types.Receipt
	for _, x := range txs {
		f.nonce++
		value := x.value
		if value == nil {
			value = new(big.Int)
		}
		tx := types.NewTx(&types.LegacyTx{Nonce: f.nonce, To: x.to, Value: value, Gas: 100_000, GasPrice: big.NewInt(1)})
		f.senders[tx.Hash()] = x.from
		body.Transactions = append(body.Transactions, tx)
		rcs = append(rcs, &types.Receipt{Status: types.ReceiptStatusSuccessful, TxHash: tx.Hash(), GasUsed: 21_000,
			EffectiveGasPrice: big.NewInt(1), ContractAddress: x.created, Logs: x.logs})
		hd.GasUsed += 21_000
	}
	f.blocks = append(f.blocks, types.NewBlock(hd, &body, rcs, trie.NewStackTrie(nil)))
	f.receipts = append(f.receipts, rcs)
}

func (f *fakeChain) ChainID(context.Context) (*big.Int, error) { return big.NewInt(1337), nil }

func (f *fakeChain) block(n *big.Int) (*types.Block, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := len(f.blocks) - 1
	if n != nil {
		i = int(n.Int64())
	}
	if i >= len(f.blocks) {
		return nil, ethereum.NotFound
	}
	return f.blocks[i], nil
}

func (f *fakeChain) HeaderByNumber(_ context.Context, n *big.Int) (*types.Header, error) {
	f.mu.Lock()
	hook := f.onHeader
	f.mu.Unlock()
	if hook != nil && n != nil {
		if err := hook(n.Uint64()); err != nil {
			return nil, err
		}
	}
	b, err := f.block(n)
	if err != nil {
		return nil, err
	}
	return b.Header(), nil
}

func (f *fakeChain) BlockByNumber(_ context.Context, n *big.Int) (*types.Block, error) {
	return f.block(n)
}

func (f *fakeChain) BlockReceipts(_ context.Context, bn rpc.BlockNumberOrHash) ([]*types.Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, _ := bn.Hash()
	for i, b := range f.blocks {
		if b.Hash() == h {
			return f.receipts[i], nil
		}
	}
	return nil, ethereum.NotFound
}

func (f *fakeChain) TransactionSender(_ context.Context, tx *types.Transaction, _ common.Hash, _ uint) (common.Address, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.senders[tx.Hash()], nil
}

func (f *fakeChain) CodeAt(_ context.Context, a common.Address, _ *big.Int) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failCode[a] > 0 {
		f.failCode[a]--
		return nil, errors.New("node unavailable")
	}
	if f.contracts[a] {
		return []byte{0x60}, nil
	}
	return nil, nil
}

// revertError is the error a node returns for a reverted call.
type revertError struct{}

func (revertError) Error() string          { return "execution reverted" }
func (revertError) ErrorData() interface{} { return "0x" }

func (f *fakeChain) CallContract(_ context.Context, msg ethereum.CallMsg, _ *big.Int) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.decimals[*msg.To]
	if !ok {
		return nil, revertError{}
	}
	return common.LeftPadBytes([]byte{d}, 32), nil
}

var _ rpc.DataError = revertError{}

// transferLog is a Transfer(from, to, raw) log of token.
func transferLog(token, from, to common.Address, raw *big.Int) *types.Log {
	return &types.Log{Address: token, Topics: []common.Hash{transferTopic,
		common.BytesToHash(from.Bytes()), common.BytesToHash(to.Bytes())}, Data: common.LeftPadBytes(raw.Bytes(), 32)}
}

// handChain is a fakeChain holding handHistory as blocks (ether
// transactions, and Transfer logs emitted by token contracts called by an
// unrelated account, as transferFrom would), with a 6-decimal token and
// one whose decimals() reverts. It returns the chain, the account, and the
// unrelated caller.
func handChain() (f *fakeChain, self, caller common.Address) {
	A, txs, transfers := handHistory()
	f = newFakeChain()
	K, T1, T2 := *txs[2].To, transfers[0].Token, transfers[2].Token
	f.contracts[K], f.contracts[T1], f.contracts[T2] = true, true, true
	f.decimals[T1] = 6 // T2 has no decimals(): 18
	q := common.HexToAddress("0x9")
	ether := func(tx EtherTx) fakeTx {
		x := fakeTx{from: tx.From, to: tx.To, value: tx.Value}
		if tx.To == nil {
			x.created = common.HexToAddress("0xc0ffee")
		}
		return x
	}
	token := func(tr TokenTransfer, raw *big.Int) fakeTx {
		return fakeTx{from: q, to: &tr.Token, logs: []*types.Log{transferLog(tr.Token, tr.From, tr.To, raw)}}
	}
	raw := []*big.Int{big.NewInt(1_500_000), big.NewInt(500_000), milli(2000), big.NewInt(3e17)}
	const t0 = 1_700_000_000
	f.add(t0, ether(txs[0]))
	f.add(t0+600, ether(txs[1]), token(transfers[0], raw[0]))
	f.add(t0+1200, token(transfers[1], raw[1]))
	f.add(t0+1800, ether(txs[2]), ether(txs[3]))
	f.add(t0+2400, token(transfers[2], raw[2]))
	f.add(t0+3000, token(transfers[3], raw[3]))
	f.add(t0+3600, ether(txs[4]))
	f.add(t0+4200, ether(txs[5]))
	return f, A, q
}

// runFake runs a hunter over f until it processed every block.
func runFake(t *testing.T, f *fakeChain) (*Hunter, *memStore) {
	t.Helper()
	h, store, stop := startFake(t, f, Config{CommitBlocks: 3}, nil)
	last := uint64(len(f.blocks) - 1)
	testenv.Eventually(t, time.Minute, "the hunter at the head", func() bool { return h.Stats().Processed == last && h.Stats().CaughtUp })
	stop()
	return h, store
}

// startFake starts a hunter configured by cfg (polling every 5 ms) over f;
// stop ends its Run and checks it returned nil.
func startFake(t *testing.T, f *fakeChain, cfg Config, known KnownBatches) (h *Hunter, store *memStore, stop func()) {
	t.Helper()
	store = newMemStore()
	cfg.PollInterval = 5 * time.Millisecond
	h, err := New(cfg, f, store, known, nil, slog.New(slog.NewTextHandler(testLogOut, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	return h, store, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// The hunter, reading handHistory from blocks, computes the hand-derived
// features: log parsing, decimals (read, and defaulted when decimals()
// reverts), and the contract test included.
func TestHunterComputesHandFeaturesFromBlocks(t *testing.T) {
	f, A, _ := handChain()
	h, store := runFake(t, f)
	checkFeatures(t, store.account(t, A).Features(), handFeatures)
	_, _, transfers := handHistory()
	if T1, T2 := transfers[0].Token, transfers[2].Token; h.decimals[T1] != 6 || h.decimals[T2] != 18 {
		t.Fatalf("decimals %v", h.decimals)
	}
}

// A node failing midway through a block, after some accounts were
// changed, leaves no trace: the block is processed again from the
// accounts' states before it, and nothing is counted twice.
func TestHunterRetriesABlockWithoutCountingTwice(t *testing.T) {
	f, A, q := handChain()
	// Block 3: q calls token T1 (q's and T1's histories change), then the
	// recipient of the Transfer log is looked up: the node fails once.
	_, _, transfers := handHistory()
	f.failCode[transfers[1].To] = 1
	_, store := runFake(t, f)
	checkFeatures(t, store.account(t, A).Features(), handFeatures)
	if n := store.account(t, q).Sent.N; n != 4 {
		t.Fatalf("the caller sent %d transactions, want 4", n)
	}
	if f.failCode[transfers[1].To] != 0 {
		t.Fatal("the failure was not met")
	}
}

// The hunter's state survives a round trip through its encoding, and a
// damaged one is refused.
func TestHunterStateEncoding(t *testing.T) {
	f, _, _ := handChain()
	h, store := runFake(t, f)
	p := h.encodeState()
	cp, _, _ := store.Checkpoint(context.Background(), h.cfg.ChainID)
	h2, err := New(Config{}, f, store, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cp.State = p
	if err := h2.restore(cp); err != nil {
		t.Fatal(err)
	}
	if q := h2.encodeState(); !bytes.Equal(p, q) {
		t.Fatal("the state changed through a round trip")
	}
	if len(h2.undo) != len(cp.Blocks) || len(h2.baseline.gas.values) != len(cp.Blocks) {
		t.Fatalf("%d undo entries, %d baseline values, %d blocks", len(h2.undo), len(h2.baseline.gas.values), len(cp.Blocks))
	}
	for _, bad := range [][]byte{nil, {9}, p[:len(p)/2], append(slices.Clone(p), 1)} {
		cp.State = bad
		if err := h2.restore(cp); err == nil {
			t.Errorf("restored a damaged state of %d bytes", len(bad))
		}
	}
}

// A contract's history is not kept: contracts are never scored, and a
// token's or a router's set of distinct senders grows without bound
// (re-encoded for every block that touches it and kept Window times over
// in the undo log). The people's histories still name the contracts.
func TestHunterKeepsNoContractHistory(t *testing.T) {
	f := newFakeChain()
	token, pool := common.HexToAddress("0x70c"), common.HexToAddress("0x9001")
	f.contracts[token], f.contracts[pool] = true, true
	f.decimals[token] = 18
	alice, bob := common.HexToAddress("0xa11ce"), common.HexToAddress("0xb0b")
	f.add(1_700_000_000, fakeTx{from: alice, to: &token}, fakeTx{from: bob, to: &pool,
		logs: []*types.Log{transferLog(token, pool, bob, big.NewInt(5)), transferLog(token, bob, pool, big.NewInt(2))}})
	_, store := runFake(t, f)
	store.mu.Lock()
	_, hasToken := store.accounts[token]
	_, hasPool := store.accounts[pool]
	store.mu.Unlock()
	if hasToken || hasPool {
		t.Fatalf("contract histories kept: token %v, pool %v", hasToken, hasPool)
	}
	if a := store.account(t, alice); a.Sent.N != 1 || a.SentContract.N != 1 || a.SentTo[0] != token {
		t.Fatalf("alice %+v", a)
	}
	if b := store.account(t, bob); len(b.TokenReceivedFrom) != 1 || b.TokenReceivedFrom[0] != pool ||
		len(b.TokenSentToContracts) != 1 || b.TokenSentToContracts[0] != pool {
		t.Fatalf("bob %+v", b)
	}
}

// A node failing to give the first replaced block's header while a reorg
// is handled does not leave a reorg alert without its block time (which
// the Store refuses, so that every later commit failed and the hunter
// stalled): the reorg is handled again on the next round.
func TestReorgAlertKeepsItsTimeWhenTheNodeFails(t *testing.T) {
	f := newFakeChain()
	const t0 = 1_700_000_000
	for i := uint64(1); i <= 5; i++ {
		f.add(t0 + 12*i)
	}
	h, store, stop := startFake(t, f, Config{}, nil)
	testenv.Eventually(t, time.Minute, "block 5 processed", func() bool { return h.Stats().Processed == 5 })
	calls := 0
	f.mu.Lock()
	f.blocks, f.receipts = f.blocks[:5], f.receipts[:5]
	f.onHeader = func(n uint64) error {
		if n != 5 {
			return nil
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		calls++
		if calls == 2 { // the walk back read it; the alert's read fails
			return errors.New("node away")
		}
		return nil
	}
	f.mu.Unlock()
	f.add(t0 + 61) // another block 5
	f.add(t0 + 73)
	testenv.Eventually(t, time.Minute, "the new branch processed", func() bool {
		return h.Stats().Processed == 6 && len(store.stored(RuleReorg)) == 1
	})
	stop()
	for _, a := range store.stored("") {
		if _, err := Canonical(a); err != nil {
			t.Fatalf("stored %s alert: %v", a.Rule, err)
		}
	}
}

// oneScorer scores every account 1.
type oneScorer struct{}

func (oneScorer) Score([]float64) (float64, error) { return 1, nil }

// An account scored in a block a reorg replaced is scored again on the
// new branch: its only verdict must not stay with a block that is gone
// while the debounce holds for ScoreEvery blocks.
func TestReorgUndoesTheScoringDebounce(t *testing.T) {
	f := newFakeChain()
	const t0 = 1_700_000_000
	alice, bob := common.HexToAddress("0xa11ce"), common.HexToAddress("0xb0b")
	for i := uint64(1); i <= 3; i++ {
		f.add(t0 + 12*i)
	}
	f.add(t0+48, fakeTx{from: alice, to: &bob, value: big.NewInt(1)})
	h, store, stop := startFake(t, f, Config{Scorer: oneScorer{}}, nil)
	testenv.Eventually(t, time.Minute, "block 4 processed", func() bool { return h.Stats().Processed == 4 })
	f.mu.Lock()
	f.blocks, f.receipts = f.blocks[:4], f.receipts[:4]
	f.mu.Unlock()
	f.add(t0+49, fakeTx{from: alice, to: &bob, value: big.NewInt(2)}) // another block 4
	f.add(t0 + 61)
	newBlock4, _ := f.block(big.NewInt(4))
	testenv.Eventually(t, time.Minute, "the new branch processed", func() bool {
		return h.Stats().Processed == 5 && len(store.stored(RuleReorg)) == 1
	})
	stop()
	var onNew bool
	for _, a := range store.stored("") {
		if a.Method == MethodModel && a.Account == alice && a.BlockHash == newBlock4.Hash() {
			onNew = true
		}
	}
	if !onNew {
		t.Fatal("alice was not scored on the new branch's block 4")
	}
}

package chain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"io"
	"math/big"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/internal/fakes"
)

// lossyClient passes everything to a real client, but the first
// SendTransaction reaches the node and then loses its answer (io.EOF), and
// every later send of the same transaction is refused as a node refuses a
// nonce already used, by message text only.
type lossyClient struct {
	Client
	sends atomic.Int32
	nonce atomic.Pointer[uint64] // nonces of transactions that reached the node
}

func (c *lossyClient) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	switch c.sends.Add(1) {
	case 1:
		if err := c.Client.SendTransaction(ctx, tx); err != nil {
			return err
		}
		n := tx.Nonce()
		c.nonce.Store(&n)
		return io.EOF
	default:
		if n := c.nonce.Load(); n != nil && *n == tx.Nonce() {
			return errors.New("nonce too low: next nonce 1, tx nonce 0")
		}
		return c.Client.SendTransaction(ctx, tx)
	}
}

// A transaction whose answer was lost but which the node accepted counts as
// sent: it is not signed again under a new nonce (which would anchor twice
// and revert, paying for nothing).
func TestSendDoesNotResendATransactionThatGotThrough(t *testing.T) {
	sim, err := NewSimulated()
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	lossy := &lossyClient{Client: sim.Backend.Client()}
	ctx := context.Background()
	s, err := newSender(ctx, lossy, sim.Key, 0, func() { sim.Backend.Commit() })
	if err != nil {
		t.Fatal(err)
	}
	to := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	tx, err := s.send(ctx, &to, nil, big.NewInt(1))
	if err != nil {
		t.Fatal(err)
	}
	if tx.Nonce() != 0 {
		t.Fatalf("sent under nonce %d, want 0", tx.Nonce())
	}
	if _, _, err := s.wait(ctx, tx.Hash(), 1); err != nil {
		t.Fatal(err)
	}
	nonce, err := sim.Backend.Client().NonceAt(ctx, s.from, nil)
	if err != nil {
		t.Fatal(err)
	}
	if nonce != 1 {
		t.Fatalf("the key sent %d transactions, want 1", nonce)
	}
}

// transient looks at types and protocol codes, never at message text.
func TestTransientIsTyped(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{io.EOF, true},
		{rpc.HTTPError{StatusCode: http.StatusServiceUnavailable, Status: "503"}, true},
		{rpc.HTTPError{StatusCode: http.StatusBadRequest, Status: "400"}, false},
		{codeError{-32005, "limit exceeded"}, true},
		{codeError{3, "execution reverted: timeout closed 503 eof"}, false},
		{errors.New("connection reset by peer, timeout, 503, txpool is full"), false},
		{context.Canceled, false},
	} {
		if got := transient(c.err); got != c.want {
			t.Errorf("transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

type codeError struct {
	code int
	msg  string
}

func (e codeError) Error() string  { return e.msg }
func (e codeError) ErrorCode() int { return e.code }

// burner deploys a contract that burns all the gas it is given, from a key
// funded by the simulated chain's key, and returns a function that fills
// the next block with four 15M-gas calls to it paying a high tip: a full
// block, which raises the next base fee by 12.5%.
func burner(t *testing.T, ctx context.Context, sim *Simulated) (fill func()) {
	t.Helper()
	client := sim.Backend.Client()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	chainID, err := client.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	signer := types.LatestSignerForChainID(chainID)
	// 60 gwei: far above the base fees here, and under the node's 1 ether
	// cap on a transaction's fee; the tip is far ahead of the sender's.
	feeCap, tip := big.NewInt(60e9), big.NewInt(30e9)
	send := func(k *ecdsa.PrivateKey, nonce uint64, to *common.Address, gas uint64, value *big.Int, data []byte) common.Hash {
		t.Helper()
		tx, err := types.SignNewTx(k, signer, &types.DynamicFeeTx{
			ChainID: chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas, To: to, Value: value, Data: data,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := client.SendTransaction(ctx, tx); err != nil {
			t.Fatal(err)
		}
		return tx.Hash()
	}
	// A commit can miss a transaction still entering the pool.
	mine := func(h common.Hash) {
		t.Helper()
		for range 100 {
			sim.Backend.Commit()
			if _, err := client.TransactionReceipt(ctx, h); err == nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
		t.Fatalf("tx %x not mined", h)
	}
	simNonce, err := client.PendingNonceAt(ctx, crypto.PubkeyToAddress(sim.Key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	mine(send(sim.Key, simNonce, &from, 21_000, new(big.Int).Lsh(big.NewInt(1), 100), nil))
	// Runtime code INVALID, returned by its init code: a call to it fails
	// at once and so uses all the gas it was given.
	mine(send(key, 0, nil, 100_000, new(big.Int), common.FromHex("0x60fe60005360016000f3")))
	loop := crypto.CreateAddress(from, 0)
	if code, err := client.CodeAt(ctx, loop, nil); err != nil || len(code) != 1 {
		t.Fatalf("burner code %x, %v", code, err)
	}
	nonce := uint64(1)
	return func() {
		for range 4 {
			send(key, nonce, &loop, 15_000_000, new(big.Int), nil)
			nonce++
		}
		// All four in the pool before the block is built, or it has room.
		for range 1000 {
			if n, err := client.PendingNonceAt(ctx, from); err == nil && n == nonce {
				break
			}
			time.Sleep(time.Millisecond)
		}
		sim.Backend.Commit()
	}
}

// A transaction whose fee cap the base fee has overtaken is replaced, after
// the deadline, by one with the same nonce and fees bumped by at least 10%;
// the worker records the replacement, one of the versions is mined, and the
// batch is anchored and confirmed once.
func TestStuckTransactionIsReplaced(t *testing.T) {
	ctx := ctxT(t)
	sim := newSim(t)
	c, err := sim.Open(ctx, &fakes.ChainMeta{})
	if err != nil {
		t.Fatal(err)
	}
	fill := burner(t, ctx, sim)
	reg := c.Registry
	reg.s.mine = nil // blocks come from this test alone
	reg.s.replaceAfter = 300 * time.Millisecond
	client := sim.Backend.Client()
	nonceBefore, err := client.NonceAt(ctx, reg.s.from, nil)
	if err != nil {
		t.Fatal(err)
	}

	o := fakes.NewOutbox()
	o.Add(t, `{"stuck":true}`)
	cfg := anchor.DefaultWorkerConfig()
	cfg.MaxWait, cfg.PollInterval, cfg.RetryMin, cfg.RetryMax = time.Millisecond, time.Millisecond, 10*time.Millisecond, 50*time.Millisecond
	w, err := anchor.NewWorker(o, reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	batch := func() anchor.Batch {
		t.Helper()
		bs := o.AllBatches()
		if len(bs) != 1 {
			return anchor.Batch{}
		}
		return bs[0]
	}
	deadline := time.Now().Add(40 * time.Second)
	for !batch().HasTx {
		if time.Now().After(deadline) {
			t.Fatal("nothing sent")
		}
		time.Sleep(time.Millisecond)
	}
	sent := batch().Tx
	orig, _, err := client.TransactionByHash(ctx, common.Hash(sent))
	if err != nil {
		t.Fatal(err)
	}
	// Full blocks, until the base fee has passed the transaction's fee cap
	// and the worker has recorded a replacement.
	for {
		fill()
		head, err := client.HeaderByNumber(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b := batch(); b.Tx != sent && head.BaseFee.Cmp(orig.GasFeeCap()) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replacement recorded: base fee %v, the transaction's fee cap %v", head.BaseFee, orig.GasFeeCap())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Room again: a replacement fits, the original cannot.
	for o.Count("anchored") == 0 {
		sim.Backend.Commit()
		if time.Now().After(deadline) {
			t.Fatal("the replacement was not found mined")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b := batch()
	if b.Status != anchor.BatchConfirmed || b.Inclusion.Tx == sent {
		t.Fatalf("batch %+v; first sent %x", b, sent)
	}
	repl, _, err := client.TransactionByHash(ctx, common.Hash(b.Inclusion.Tx))
	if err != nil {
		t.Fatal(err)
	}
	bumped := func(old, new *big.Int) bool { return new.Cmp(new2(old, 110, 100)) >= 0 }
	if repl.Nonce() != orig.Nonce() || !bumped(orig.GasFeeCap(), repl.GasFeeCap()) || !bumped(orig.GasTipCap(), repl.GasTipCap()) {
		t.Fatalf("nonce %d fees %v/%v replaced by nonce %d fees %v/%v: not the same nonce with fees bumped by 10%%",
			orig.Nonce(), orig.GasFeeCap(), orig.GasTipCap(), repl.Nonce(), repl.GasFeeCap(), repl.GasTipCap())
	}
	if oc, ok, err := reg.Batch(ctx, b.ID); err != nil || !ok || oc.BlockNumber != b.Inclusion.BlockNumber {
		t.Fatalf("batch on chain %+v %v %v, inclusion %+v", oc, ok, err, b.Inclusion)
	}
	if n, err := client.NonceAt(ctx, reg.s.from, nil); err != nil || n != nonceBefore+1 {
		t.Fatalf("the key sent %d transactions, want 1 (%v)", n-nonceBefore, err)
	}
}

// new2 is x*num/den.
func new2(x *big.Int, num, den int64) *big.Int {
	return new(big.Int).Div(new(big.Int).Mul(x, big.NewInt(num)), big.NewInt(den))
}

// A transaction stuck since before a restart is replaced too: the new
// process's sender takes it over from the node's pool when it is waited for
// (the worker's reconciliation waits for the recorded hash).
func TestStuckTransactionFromBeforeARestartIsReplaced(t *testing.T) {
	ctx := ctxT(t)
	sim := newSim(t)
	c, err := sim.Open(ctx, &fakes.ChainMeta{})
	if err != nil {
		t.Fatal(err)
	}
	fill := burner(t, ctx, sim)
	client := sim.Backend.Client()
	c.Registry.s.mine = nil
	sent, err := c.Registry.AnchorBatch(ctx, 1, anchor.Hash{1}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	orig, _, err := client.TransactionByHash(ctx, common.Hash(sent.Tx))
	if err != nil {
		t.Fatal(err)
	}
	// The process restarts: a new sender for the same key knows nothing
	// of what the old one sent.
	s, err := newSender(ctx, client, sim.Key, 5*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.replaceAfter = 300 * time.Millisecond
	var replaced atomic.Int32
	done := make(chan error, 1)
	var mined *types.Receipt
	go func() {
		var err error
		mined, _, err = s.waitReplacing(ctx, common.Hash(sent.Tx), 1, func(*types.Transaction) { replaced.Add(1) })
		done <- err
	}()
	deadline := time.Now().Add(40 * time.Second)
	for {
		fill()
		head, err := client.HeaderByNumber(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if replaced.Load() > 0 && head.BaseFee.Cmp(orig.GasFeeCap()) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not replaced: base fee %v, fee cap %v", head.BaseFee, orig.GasFeeCap())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for {
		sim.Backend.Commit()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if mined.TxHash == common.Hash(sent.Tx) {
				t.Fatal("the original was mined, not a replacement")
			}
			if b, ok, err := c.Registry.Batch(ctx, 1); err != nil || !ok || b.BlockNumber != mined.BlockNumber.Uint64() {
				t.Fatalf("batch on chain %+v %v %v", b, ok, err)
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no version mined")
		}
	}
}

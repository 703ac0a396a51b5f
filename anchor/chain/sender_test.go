package chain

import (
	"context"
	"errors"
	"io"
	"math/big"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
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

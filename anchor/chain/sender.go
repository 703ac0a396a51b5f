package chain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/anchor"
)

// sender signs and sends transactions from one key. It owns the key's
// nonces: transactions are numbered in the order Send is called, so many can
// be in flight at once, and a node that refuses a nonce makes it start over
// from the node's pending nonce.
type sender struct {
	client  Client
	key     *ecdsa.PrivateKey
	from    common.Address
	chainID *big.Int
	signer  types.Signer
	// poll is the longest wait between two receipt checks.
	poll time.Duration
	// mine, when set, seals a block (simulated backend); it is called after
	// each send and again whenever a sent transaction is not yet mined, since
	// a commit can miss a transaction still entering the pool.
	mine func()

	mu        sync.Mutex
	nonce     uint64
	haveNonce bool
}

func newSender(ctx context.Context, client Client, key *ecdsa.PrivateKey, poll time.Duration, mine func()) (*sender, error) {
	var id *big.Int
	err := retry(ctx, func() (err error) { id, err = client.ChainID(ctx); return err })
	if err != nil {
		return nil, fmt.Errorf("chain id: %w", err)
	}
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	return &sender{
		client: client, key: key, from: crypto.PubkeyToAddress(key.PublicKey),
		chainID: id, signer: types.LatestSignerForChainID(id), poll: poll, mine: mine,
	}, nil
}

// estimateError is a gas estimation that failed because the call reverts;
// the transaction was not sent.
type estimateError struct{ err error }

func (e *estimateError) Error() string { return "estimate gas: " + e.err.Error() }
func (e *estimateError) Unwrap() error { return e.err }

// send estimates gas, prices the transaction from the latest base fee and
// the node's suggested tip, signs it with the next nonce and sends it. to nil
// creates a contract. It returns once the node accepted the transaction.
func (s *sender) send(ctx context.Context, to *common.Address, data []byte, value *big.Int) (*types.Transaction, error) {
	if value == nil {
		value = new(big.Int)
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	var gas uint64
	msg := ethereum.CallMsg{From: s.from, To: to, Data: data, Value: value}
	if err := retry(ctx, func() (err error) { gas, err = s.client.EstimateGas(ctx, msg); return err }); err != nil {
		return nil, &estimateError{err}
	}
	gas += gas/5 + 5_000 // headroom: state can change between estimate and inclusion

	var (
		head *types.Header
		tip  *big.Int
	)
	if err := retry(ctx, func() (err error) { head, err = s.client.HeaderByNumber(ctx, nil); return err }); err != nil {
		return nil, fmt.Errorf("latest header: %w", err)
	}
	if err := retry(ctx, func() (err error) { tip, err = s.client.SuggestGasTipCap(ctx); return err }); err != nil {
		return nil, fmt.Errorf("suggest tip: %w", err)
	}
	baseFee := head.BaseFee
	if baseFee == nil {
		baseFee = new(big.Int)
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(baseFee, big.NewInt(2)), tip)

	for attempt := 0; ; attempt++ {
		if !s.haveNonce {
			if err := retry(ctx, func() (err error) { s.nonce, err = s.client.PendingNonceAt(ctx, s.from); return err }); err != nil {
				return nil, fmt.Errorf("pending nonce: %w", err)
			}
			s.haveNonce = true
		}
		tx, err := types.SignNewTx(s.key, s.signer, &types.DynamicFeeTx{
			ChainID: s.chainID, Nonce: s.nonce, GasTipCap: tip, GasFeeCap: feeCap,
			Gas: gas, To: to, Value: value, Data: data,
		})
		if err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		err = retry(ctx, func() error { return s.client.SendTransaction(ctx, tx) })
		if err != nil && s.known(ctx, tx.Hash()) {
			// An earlier try of this very transaction got through (a retry
			// after a lost answer): it is sent, and must not be sent again
			// under another nonce, which would anchor twice and revert.
			err = nil
		}
		if err == nil {
			s.nonce++
			if s.mine != nil {
				s.mine()
			}
			return tx, nil
		}
		// When the node's pending nonce is not the one this transaction used,
		// the refusal was about the nonce (another process used the key, or
		// the node lost its pool): sign again from the node's view, a few
		// times. Any other refusal is returned as it is.
		s.haveNonce = false
		if attempt < 3 && s.nonceMoved(ctx, tx.Nonce()) {
			continue
		}
		return nil, fmt.Errorf("send transaction: %w", err)
	}
}

// known reports whether the node knows the transaction (pending or mined).
func (s *sender) known(ctx context.Context, hash common.Hash) bool {
	_, _, err := s.client.TransactionByHash(ctx, hash)
	return err == nil
}

// nonceMoved reports whether the node's pending nonce for the key differs
// from used.
func (s *sender) nonceMoved(ctx context.Context, used uint64) bool {
	var pending uint64
	if err := retry(ctx, func() (err error) { pending, err = s.client.PendingNonceAt(ctx, s.from); return err }); err != nil {
		return false
	}
	return pending != used
}

// settled reports whether a transaction mined in block has the given
// confirmations: that many blocks, its own included, or for
// anchor.Finalized a finalized head at or above it.
func (s *sender) settled(ctx context.Context, block, confirmations uint64) (bool, error) {
	if confirmations == anchor.Finalized {
		fin, ok, err := finalizedHead(ctx, s.client)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, anchor.ErrNoFinality
		}
		return fin >= block, nil
	}
	var head uint64
	if err := retry(ctx, func() (err error) { head, err = s.client.BlockNumber(ctx); return err }); err != nil {
		return false, fmt.Errorf("block number: %w", err)
	}
	return head+1 >= block+confirmations, nil
}

// droppedAfter is how long a transaction may be unknown to the node (no
// receipt, not in the pool) before it counts as dropped.
const droppedAfter = 3 * time.Second

// wait waits until tx is mined with the given confirmations, and returns its
// receipt and block header. See anchor.Registry.WaitIncluded.
func (s *sender) wait(ctx context.Context, hash common.Hash, confirmations uint64) (*types.Receipt, *types.Header, error) {
	if confirmations == 0 {
		confirmations = 1
	}
	poll := &backoff.ExponentialBackOff{InitialInterval: time.Millisecond, Multiplier: 2, MaxInterval: s.poll}
	var unknownSince time.Time
	for {
		r, err := s.client.TransactionReceipt(ctx, hash)
		switch {
		case err == nil:
			unknownSince = time.Time{}
			if r.Status != types.ReceiptStatusSuccessful {
				return r, nil, fmt.Errorf("tx %s: %w", hash.Hex(), anchor.ErrReverted)
			}
			settled, err := s.settled(ctx, r.BlockNumber.Uint64(), confirmations)
			if err != nil {
				return nil, nil, err
			}
			if settled {
				var h *types.Header
				if err := retry(ctx, func() (err error) { h, err = s.client.HeaderByNumber(ctx, r.BlockNumber); return err }); err != nil {
					return nil, nil, fmt.Errorf("header %d: %w", r.BlockNumber, err)
				}
				if h.Hash() == r.BlockHash {
					return r, h, nil
				}
				// Reorganised since the receipt was read: look again.
			}
		case errors.Is(err, ethereum.NotFound):
			_, _, terr := s.client.TransactionByHash(ctx, hash)
			switch {
			case terr == nil:
				unknownSince = time.Time{} // still in the pool
			case errors.Is(terr, ethereum.NotFound):
				if unknownSince.IsZero() {
					unknownSince = time.Now()
				} else if time.Since(unknownSince) > droppedAfter {
					return nil, nil, fmt.Errorf("tx %s: %w", hash.Hex(), anchor.ErrDropped)
				}
			case !transient(terr):
				return nil, nil, fmt.Errorf("tx %s: %w", hash.Hex(), terr)
			}
			if s.mine != nil {
				s.mine()
			}
		case !transient(err):
			return nil, nil, fmt.Errorf("receipt %s: %w", hash.Hex(), err)
		}
		t := time.NewTimer(poll.NextBackOff())
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		case <-t.C:
		}
	}
}

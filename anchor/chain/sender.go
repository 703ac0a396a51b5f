package chain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"slices"
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
	// replaceAfter is how long a sent transaction may stay unmined before
	// it is replaced by one with the same nonce and higher fees.
	replaceAfter time.Duration
	// durable, when set, makes the node's writes so far survive a crash
	// (the embedded chain: Embedded.Sync). A wait calls it before it
	// reports a transaction mined, since the caller records it as such.
	durable func() error

	mu        sync.Mutex // held while a nonce is chosen and used
	nonce     uint64
	haveNonce bool

	fmu     sync.Mutex
	flights map[common.Hash]*flight // by the hash of every version sent
}

// defaultReplaceAfter is how long a transaction may wait unmined before it
// is replaced: ten mainnet blocks. Its fee cap (twice the base fee, plus the
// tip) is overtaken only when the base fee has doubled, six full blocks in a
// row, which is when a replacement is due.
const defaultReplaceAfter = 2 * time.Minute

// flight is one nonce's transaction as sent, with the replacements sent in
// its place: all of them are looked for, since any one may be mined.
type flight struct {
	to          *common.Address
	data        []byte
	value       *big.Int
	gas, nonce  uint64
	tip, feeCap *big.Int
	hashes      []common.Hash // every version sent, oldest first
	last        time.Time     // when the latest version was sent
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
		replaceAfter: defaultReplaceAfter, flights: map[common.Hash]*flight{},
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

	baseFee, tip, err := s.market(ctx)
	if err != nil {
		return nil, err
	}
	feeCap := feeCapFor(baseFee, tip)

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
			s.track(tx, &flight{to: to, data: data, value: value, gas: gas, nonce: tx.Nonce(), tip: tip, feeCap: feeCap})
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
	return s.waitReplacing(ctx, hash, confirmations, nil)
}

// waitReplacing is wait, replacing the transaction with higher fees (same
// nonce) whenever it stays unmined for replaceAfter; replaced, when not nil,
// is called with each replacement. Every version's receipt is looked for.
// A transaction of this key that another sender sent (this process before a
// restart) is taken over from the node's pool; one of another key is waited
// for, never replaced.
func (s *sender) waitReplacing(ctx context.Context, hash common.Hash, confirmations uint64, replaced func(*types.Transaction)) (*types.Receipt, *types.Header, error) {
	if confirmations == 0 {
		confirmations = 1
	}
	f := s.flight(hash)
	if f == nil {
		f = s.adopt(ctx, hash)
	}
	poll := &backoff.ExponentialBackOff{InitialInterval: time.Millisecond, Multiplier: 2, MaxInterval: s.poll}
	var unknownSince time.Time
	for {
		r, err := s.receipt(ctx, s.versions(f, hash))
		switch {
		case err == nil:
			unknownSince = time.Time{}
			if r.Status != types.ReceiptStatusSuccessful {
				s.forget(f)
				return r, nil, fmt.Errorf("tx %s: %w", r.TxHash.Hex(), anchor.ErrReverted)
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
					if s.durable != nil {
						if err := s.durable(); err != nil {
							return nil, nil, fmt.Errorf("make block %d durable: %w", r.BlockNumber, err)
						}
					}
					s.forget(f)
					return r, h, nil
				}
				// Reorganised since the receipt was read: look again.
			}
		case errors.Is(err, ethereum.NotFound):
			known, terr := s.anyKnown(ctx, s.versions(f, hash))
			switch {
			case terr != nil:
				return nil, nil, fmt.Errorf("tx %s: %w", hash.Hex(), terr)
			case known:
				unknownSince = time.Time{} // still in the pool
			case unknownSince.IsZero():
				unknownSince = time.Now()
			case time.Since(unknownSince) > droppedAfter:
				s.forget(f)
				return nil, nil, fmt.Errorf("tx %s: %w", hash.Hex(), anchor.ErrDropped)
			}
			if known && f != nil && s.due(f) {
				tx, err := s.replace(ctx, f)
				if err != nil {
					if errors.Is(err, anchor.ErrDropped) {
						s.forget(f)
					}
					return nil, nil, fmt.Errorf("tx %s: %w", hash.Hex(), err)
				}
				if tx != nil && replaced != nil {
					replaced(tx)
				}
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

// receipt returns the receipt of whichever of hashes was mined;
// ethereum.NotFound when none was.
func (s *sender) receipt(ctx context.Context, hashes []common.Hash) (*types.Receipt, error) {
	for i := len(hashes) - 1; i >= 0; i-- { // the latest is the likeliest
		r, err := s.client.TransactionReceipt(ctx, hashes[i])
		if !errors.Is(err, ethereum.NotFound) {
			return r, err
		}
	}
	return nil, ethereum.NotFound
}

// anyKnown reports whether the node knows any of hashes (pending or mined).
func (s *sender) anyKnown(ctx context.Context, hashes []common.Hash) (bool, error) {
	for _, h := range hashes {
		_, _, err := s.client.TransactionByHash(ctx, h)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, ethereum.NotFound), transient(err):
		default:
			return false, err
		}
	}
	return false, nil
}

// errNonceGap: a transaction cannot be mined whatever its fees, because the
// node holds no transaction of this key for a lower nonce not yet mined (a
// reorg or the pool dropped it).
var errNonceGap = errors.New("an earlier nonce of the key is missing")

// replace sends f's transaction again under the same nonce with its tip
// and fee cap raised by at least 10% (geth's replacement rule) and the fee
// cap at least twice the current base fee plus the tip, and returns it. It
// does nothing (and returns nil) when the nonce has been mined meanwhile:
// the receipts will say by which version. It returns ErrDropped, and makes
// the next send read the node's nonce, when an earlier nonce is missing: no
// fee would get this one mined.
func (s *sender) replace(ctx context.Context, f *flight) (*types.Transaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var mined, pending uint64
	if err := retry(ctx, func() (err error) { mined, err = s.client.NonceAt(ctx, s.from, nil); return err }); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	if mined > f.nonce {
		s.fmu.Lock()
		f.last = time.Now()
		s.fmu.Unlock()
		return nil, nil
	}
	if err := retry(ctx, func() (err error) { pending, err = s.client.PendingNonceAt(ctx, s.from); return err }); err != nil {
		return nil, fmt.Errorf("pending nonce: %w", err)
	}
	if pending <= f.nonce {
		s.haveNonce = false
		return nil, fmt.Errorf("%w: %w (node's next nonce %d, this one %d)", anchor.ErrDropped, errNonceGap, pending, f.nonce)
	}
	baseFee, tip, err := s.market(ctx)
	if err != nil {
		return nil, err
	}
	s.fmu.Lock()
	tip = bigMax(bump(f.tip), tip)
	feeCap := bigMax(bump(f.feeCap), feeCapFor(baseFee, tip))
	s.fmu.Unlock()
	tx, err := types.SignNewTx(s.key, s.signer, &types.DynamicFeeTx{
		ChainID: s.chainID, Nonce: f.nonce, GasTipCap: tip, GasFeeCap: feeCap,
		Gas: f.gas, To: f.to, Value: f.value, Data: f.data,
	})
	if err != nil {
		return nil, fmt.Errorf("sign replacement: %w", err)
	}
	err = retry(ctx, func() error { return s.client.SendTransaction(ctx, tx) })
	if err != nil && !s.known(ctx, tx.Hash()) {
		if n, nerr := s.client.NonceAt(ctx, s.from, nil); nerr == nil && n > f.nonce {
			return nil, nil // mined meanwhile: the receipts will say which
		}
		return nil, fmt.Errorf("send replacement: %w", err)
	}
	s.fmu.Lock()
	f.tip, f.feeCap, f.last = tip, feeCap, time.Now()
	f.hashes = append(f.hashes, tx.Hash())
	s.flights[tx.Hash()] = f
	s.fmu.Unlock()
	if s.mine != nil {
		s.mine()
	}
	return tx, nil
}

// bump is x raised by 10% and one wei, above geth's 10% replacement rule
// however it rounds.
func bump(x *big.Int) *big.Int {
	y := new(big.Int).Mul(x, big.NewInt(11))
	y.Div(y, big.NewInt(10))
	return y.Add(y, big.NewInt(1))
}

func bigMax(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

// track remembers a transaction just sent, for replacing it.
func (s *sender) track(tx *types.Transaction, f *flight) {
	f.hashes, f.last = []common.Hash{tx.Hash()}, time.Now()
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.flights[tx.Hash()] = f
}

// adopt makes a flight of a pending transaction of this key that this
// sender did not send, read from the node, so that it can be replaced; it
// returns nil for any other (mined, unknown, another key's).
func (s *sender) adopt(ctx context.Context, hash common.Hash) *flight {
	tx, pending, err := s.client.TransactionByHash(ctx, hash)
	if err != nil || !pending {
		return nil
	}
	if from, err := types.Sender(s.signer, tx); err != nil || from != s.from {
		return nil
	}
	f := &flight{to: tx.To(), data: tx.Data(), value: tx.Value(), gas: tx.Gas(), nonce: tx.Nonce(),
		tip: tx.GasTipCap(), feeCap: tx.GasFeeCap()}
	s.track(tx, f)
	return f
}

// flight returns the flight hash belongs to, or nil for a transaction this
// sender did not send.
func (s *sender) flight(hash common.Hash) *flight {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.flights[hash]
}

// versions returns the hashes to look for: every version of f, or hash
// alone.
func (s *sender) versions(f *flight, hash common.Hash) []common.Hash {
	if f == nil {
		return []common.Hash{hash}
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return slices.Clone(f.hashes)
}

// due reports whether f's latest version has waited replaceAfter.
func (s *sender) due(f *flight) bool {
	if s.replaceAfter <= 0 {
		return false
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return time.Since(f.last) >= s.replaceAfter
}

// forget drops a settled flight.
func (s *sender) forget(f *flight) {
	if f == nil {
		return
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	for _, h := range f.hashes {
		delete(s.flights, h)
	}
}

// market reads the fees a transaction pays now: the latest block's base fee
// (0 before London) and the node's suggested tip.
func (s *sender) market(ctx context.Context) (baseFee, tip *big.Int, err error) {
	var head *types.Header
	if err := retry(ctx, func() (err error) { head, err = s.client.HeaderByNumber(ctx, nil); return err }); err != nil {
		return nil, nil, fmt.Errorf("latest header: %w", err)
	}
	if err := retry(ctx, func() (err error) { tip, err = s.client.SuggestGasTipCap(ctx); return err }); err != nil {
		return nil, nil, fmt.Errorf("suggest tip: %w", err)
	}
	baseFee = head.BaseFee
	if baseFee == nil {
		baseFee = new(big.Int)
	}
	return baseFee, tip, nil
}

// feeCapFor is the fee cap sent with tip: twice the base fee plus the tip,
// so that the transaction stays includable while the base fee doubles.
func feeCapFor(baseFee, tip *big.Int) *big.Int {
	return new(big.Int).Add(new(big.Int).Mul(baseFee, big.NewInt(2)), tip)
}

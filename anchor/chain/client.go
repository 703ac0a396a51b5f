// Package chain connects idsledger's anchoring to an Ethereum chain: an
// embedded Geth dev chain kept on disk, any JSON-RPC endpoint, or the
// in-memory simulated backend for tests. It implements anchor.Registry on
// top of the AuditRegistry bindings: gas estimation, nonce management,
// retries of transient RPC failures, waiting for receipts and confirmations,
// deployment on first start and the check that the chain a database
// remembers is still the chain it talks to.
package chain

import (
	"context"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// Client is the part of an Ethereum client the chain package uses;
// *ethclient.Client and simulated.Client both satisfy it.
type Client interface {
	bind.ContractBackend
	bind.DeployBackend
	ethereum.ChainIDReader
	ethereum.BlockNumberReader
	BalanceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (*big.Int, error)
	HeaderByHash(ctx context.Context, hash common.Hash) (*types.Header, error)
	NonceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (uint64, error)
}

// transient reports whether an RPC error is worth retrying: the network
// failed, the node is overloaded or restarting (HTTP 429, 502, 503, 504,
// JSON-RPC "limit exceeded"), or it is still indexing transactions. It
// looks at error types and protocol codes only, never at message text: a
// revert or an invalid transaction, whatever its message says, is not
// transient.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var netErr net.Error
	var httpErr rpc.HTTPError
	var rpcErr rpc.Error
	var dataErr rpc.DataError
	switch {
	case errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &httpErr):
		switch httpErr.StatusCode {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	case errors.As(err, &dataErr) && dataErr.ErrorData() == txIndexingData:
		return true
	case errors.As(err, &rpcErr):
		return rpcErr.ErrorCode() == rpcLimitExceeded
	}
	return false
}

const (
	// rpcLimitExceeded is EIP-1474's JSON-RPC code for a request over the
	// node's rate or resource limits.
	rpcLimitExceeded = -32005
	// txIndexingData is the error data (not the message) geth sends while
	// its transaction index is being built (ethapi.TxIndexingError).
	txIndexingData = "transaction indexing is in progress"
)

// rpcBackoff is the backoff between tries of one RPC call: 20 ms doubling
// to 5 s, ±20% jitter.
func rpcBackoff() *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{InitialInterval: 20 * time.Millisecond, RandomizationFactor: 0.2,
		Multiplier: 2, MaxInterval: 5 * time.Second}
}

// retry calls f until it succeeds, fails with a non-transient error, has
// been tried 13 times (about 40 s), or ctx ends.
func retry(ctx context.Context, f func() error) error {
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		err := f()
		if err != nil && !transient(err) {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	}, backoff.WithBackOff(rpcBackoff()), backoff.WithMaxTries(13), backoff.WithMaxElapsedTime(0))
	return err
}

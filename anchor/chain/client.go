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
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
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

// transient reports whether an RPC error is worth retrying: the node is
// busy, restarting, still indexing transactions, or the network hiccupped.
// Reverts and invalid transactions are not transient.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{
		"transaction indexing is in progress",
		"connection refused", "connection reset", "broken pipe", "eof",
		"timeout", "timed out", "temporarily unavailable", "too many requests",
		"429", "502", "503", "504", "no such host", "i/o timeout",
		"server is shutting down", "closed", "txpool is full", "syncing",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// retry calls f until it succeeds, fails with a non-transient error, or
// ctx ends, backing off exponentially from 20 ms to 5 s.
func retry(ctx context.Context, f func() error) error {
	delay := 20 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil || !transient(err) || attempt >= 12 {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

package chainhunt

import (
	"context"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// BenchmarkHunterCatchUp measures the catch-up speed on history through
// every detector (aggregates, registry and baseline rules, a model-sized
// scorer stub): 100 blocks of 50 transfers among 200 accounts, read from
// the simulated chain's in-process RPC client.
//
//	go test ./chainhunt -run '^$' -bench CatchUp -benchtime 3x
func BenchmarkHunterCatchUp(b *testing.B) {
	c := newTestChain(b)
	var accounts []common.Address
	for i := range 200 {
		accounts = append(accounts, common.BigToAddress(big.NewInt(int64(0x1000+i))))
	}
	for blk := range 100 {
		for i := range 50 {
			to := accounts[(blk*50+i)%len(accounts)]
			c.send(b, nil, &to, big.NewInt(int64(i+1)), nil, gwei)
		}
		c.mine()
	}
	head := c.head(b)
	b.ResetTimer()
	var txs uint64
	start := time.Now()
	for range b.N {
		cfg := c.config()
		cfg.Scorer = &receivedScorer{}
		cfg.CommitBlocks = 64
		h, err := New(cfg, c.client, newMemStore(), nil, nil, slog.New(slog.NewTextHandler(testLogOut, nil)))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.Run(ctx) }()
		for h.Stats().Processed < head || !h.Stats().CaughtUp {
			time.Sleep(time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		txs += h.Stats().Txs
	}
	b.ReportMetric(float64(txs)/time.Since(start).Seconds(), "tx/s")
}

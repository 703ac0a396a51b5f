package chaintraffic

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/idsledger/idsledger/bindings"
)

// Reader is what Check reads of a chain; *ethclient.Client and
// simulated.Client both satisfy it.
type Reader interface {
	TransactionByHash(ctx context.Context, hash common.Hash) (tx *types.Transaction, isPending bool, err error)
	TransactionReceipt(ctx context.Context, hash common.Hash) (*types.Receipt, error)
}

// maxCheckErrors bounds the mismatches Check reports.
const maxCheckErrors = 20

// Check holds a manifest to the chain: every transaction must be mined in
// the block given, within the run's blocks, signed by its From, sent to its
// To with its Value and ending with its Status; a creation must have made
// its Contract; a successful token transfer or mint must have logged
// exactly its Transfer from the token. It returns the mismatches found (the
// first maxCheckErrors), nil when there are none.
func Check(ctx context.Context, c Reader, m *Manifest) error {
	signer := types.LatestSignerForChainID(new(big.Int).SetUint64(m.ChainID))
	tok := bindings.NewTestToken()
	var errs []error
	fail := func(want Tx, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s %s: %s", want.Kind, want.Hash.Hex(), fmt.Sprintf(format, args...)))
	}
	for _, want := range m.Transactions() {
		if len(errs) >= maxCheckErrors {
			errs = append(errs, errors.New("more mismatches not shown"))
			break
		}
		tx, isPending, err := c.TransactionByHash(ctx, want.Hash)
		if err != nil || isPending {
			fail(want, "not on chain (pending %v, %v)", isPending, err)
			continue
		}
		if from, err := types.Sender(signer, tx); err != nil || from != want.From {
			fail(want, "sender %s, manifest says %s", from.Hex(), want.From.Hex())
		}
		if (tx.To() == nil) != (want.To == nil) || (tx.To() != nil && *tx.To() != *want.To) {
			fail(want, "recipient %v, manifest says %v", tx.To(), want.To)
		}
		if want.Value == nil || tx.Value().Cmp(want.Value) != 0 {
			fail(want, "value %s, manifest says %v", tx.Value(), want.Value)
		}
		r, err := c.TransactionReceipt(ctx, want.Hash)
		if err != nil {
			fail(want, "receipt: %v", err)
			continue
		}
		if r.BlockNumber.Uint64() != want.Block || r.Status != want.Status {
			fail(want, "block %d status %d, manifest says %d %d", r.BlockNumber, r.Status, want.Block, want.Status)
		}
		if want.Block < m.FirstBlock || want.Block > m.LastBlock {
			fail(want, "block %d outside the run's %d-%d", want.Block, m.FirstBlock, m.LastBlock)
		}
		if want.To == nil && r.Status == types.ReceiptStatusSuccessful && (want.Contract == nil || *want.Contract != r.ContractAddress) {
			fail(want, "created %s, manifest says %v", r.ContractAddress.Hex(), want.Contract)
		}
		if want.TokenTo == nil || want.Status != types.ReceiptStatusSuccessful {
			continue
		}
		if len(r.Logs) != 1 || r.Logs[0].Address != m.Token {
			fail(want, "%d logs, want one Transfer from token %s", len(r.Logs), m.Token.Hex())
			continue
		}
		ev, err := tok.UnpackTransferEvent(r.Logs[0])
		if err != nil {
			fail(want, "Transfer log: %v", err)
			continue
		}
		wantFrom := want.From
		switch {
		case want.Kind == KindMint:
			wantFrom = common.Address{}
		case want.TokenFrom != nil:
			wantFrom = *want.TokenFrom
		}
		if ev.From != wantFrom || ev.To != *want.TokenTo || want.TokenValue == nil || ev.Value.Cmp(want.TokenValue) != 0 {
			fail(want, "Transfer %s→%s %s, manifest says %s→%s %v",
				ev.From.Hex(), ev.To.Hex(), ev.Value, wantFrom.Hex(), want.TokenTo.Hex(), want.TokenValue)
		}
	}
	return errors.Join(errs...)
}

package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/bindings"
)

// Registry is the AuditRegistry contract at one address, read through a
// client and written with one key. It implements anchor.Registry.
type Registry struct {
	client  Client
	abi     *bindings.AuditRegistry
	addr    common.Address
	chainID uint64
	s       *sender // nil for a read-only registry

	genMu sync.Mutex
	gen   common.Hash // genesis block hash, once read
}

var _ anchor.Registry = (*Registry)(nil)

// NewReader returns a read-only view of the registry at addr, as the
// offline verifier needs it. Its write methods fail.
func NewReader(ctx context.Context, client Client, addr common.Address) (*Registry, error) {
	var id *big.Int
	if err := retry(ctx, func() (err error) { id, err = client.ChainID(ctx); return err }); err != nil {
		return nil, fmt.Errorf("chain id: %w", err)
	}
	r := &Registry{client: client, abi: bindings.NewAuditRegistry(), addr: addr, chainID: id.Uint64()}
	if err := r.checkCode(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func newRegistry(client Client, addr common.Address, s *sender) *Registry {
	return &Registry{client: client, abi: bindings.NewAuditRegistry(), addr: addr, chainID: s.chainID.Uint64(), s: s}
}

// ErrNoRegistry means there is no contract at the registry address.
var ErrNoRegistry = errors.New("no registry contract at this address")

func (r *Registry) checkCode(ctx context.Context) error {
	var code []byte
	if err := retry(ctx, func() (err error) { code, err = r.client.CodeAt(ctx, r.addr, nil); return err }); err != nil {
		return fmt.Errorf("registry code: %w", err)
	}
	if len(code) == 0 {
		return fmt.Errorf("%s on chain %d: %w", r.addr.Hex(), r.chainID, ErrNoRegistry)
	}
	return nil
}

// ChainID implements anchor.RegistryReader.
func (r *Registry) ChainID() uint64 { return r.chainID }

// Address implements anchor.RegistryReader.
func (r *Registry) Address() anchor.Address { return anchor.Address(r.addr) }

// Sender is the account the registry writes from (zero for a reader).
func (r *Registry) Sender() common.Address {
	if r.s == nil {
		return common.Address{}
	}
	return r.s.from
}

func (r *Registry) call(ctx context.Context, data []byte) ([]byte, error) {
	var out []byte
	msg := ethereum.CallMsg{To: &r.addr, Data: data}
	err := retry(ctx, func() (err error) { out, err = r.client.CallContract(ctx, msg, nil); return err })
	return out, err
}

// Batch implements anchor.RegistryReader.
func (r *Registry) Batch(ctx context.Context, id uint64) (anchor.OnChainBatch, bool, error) {
	out, err := r.call(ctx, r.abi.PackGetBatch(id))
	if err != nil {
		return anchor.OnChainBatch{}, false, fmt.Errorf("getBatch(%d): %w", id, err)
	}
	b, err := r.abi.UnpackGetBatch(out)
	if err != nil {
		return anchor.OnChainBatch{}, false, fmt.Errorf("getBatch(%d): %w", id, err)
	}
	if b.Root == (anchor.Hash{}) {
		return anchor.OnChainBatch{}, false, nil
	}
	return anchor.OnChainBatch{
		Root: b.Root, LeafCount: b.LeafCount, Kind: b.Kind,
		BlockNumber: b.BlockNumber, BlockTime: time.Unix(int64(b.Timestamp), 0).UTC(),
		Submitter: anchor.Address(b.Submitter),
	}, true, nil
}

// Record implements anchor.RegistryReader.
func (r *Registry) Record(ctx context.Context, id anchor.RecordID) (anchor.OnChainRecord, bool, error) {
	out, err := r.call(ctx, r.abi.PackGetRecord(id))
	if err != nil {
		return anchor.OnChainRecord{}, false, fmt.Errorf("getRecord(%x): %w", id, err)
	}
	a, err := r.abi.UnpackGetRecord(out)
	if err != nil {
		return anchor.OnChainRecord{}, false, fmt.Errorf("getRecord(%x): %w", id, err)
	}
	if a.Hash == (anchor.Hash{}) {
		return anchor.OnChainRecord{}, false, nil
	}
	return anchor.OnChainRecord{
		Hash: a.Hash, Kind: a.Kind,
		BlockNumber: a.BlockNumber, BlockTime: time.Unix(int64(a.Timestamp), 0).UTC(),
		Submitter: anchor.Address(a.Submitter),
	}, true, nil
}

var errReadOnly = errors.New("registry opened read-only")

// AnchorBatch implements anchor.Registry.
func (r *Registry) AnchorBatch(ctx context.Context, id uint64, root anchor.Hash, leafCount uint32, kind uint8) (anchor.Sent, error) {
	return r.transact(ctx, r.abi.PackAnchorBatch(id, root, leafCount, kind), func() (bool, error) {
		_, ok, err := r.Batch(ctx, id)
		return ok, err
	})
}

// AnchorRecord implements anchor.Registry.
func (r *Registry) AnchorRecord(ctx context.Context, id anchor.RecordID, hash anchor.Hash, kind uint8) (anchor.Sent, error) {
	return r.transact(ctx, r.abi.PackAnchor(id, hash, kind), func() (bool, error) {
		_, ok, err := r.Record(ctx, id)
		return ok, err
	})
}

// transact sends data to the registry. When gas estimation reverts, exists
// tells a duplicate (ErrAlreadyAnchored) from any other refusal.
func (r *Registry) transact(ctx context.Context, data []byte, exists func() (bool, error)) (anchor.Sent, error) {
	if r.s == nil {
		return anchor.Sent{}, errReadOnly
	}
	tx, err := r.s.send(ctx, &r.addr, data, nil)
	var est *estimateError
	if errors.As(err, &est) {
		if ok, xerr := exists(); xerr == nil && ok {
			return anchor.Sent{}, anchor.ErrAlreadyAnchored
		}
		return anchor.Sent{}, r.explain(err)
	}
	if err != nil {
		return anchor.Sent{}, err
	}
	return anchor.Sent{Tx: tx.Hash(), Nonce: tx.Nonce()}, nil
}

// explain adds the contract's custom error, when the node returned one.
func (r *Registry) explain(err error) error {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return err
	}
	s, ok := de.ErrorData().(string)
	if !ok {
		return err
	}
	raw := common.FromHex(s)
	if len(raw) < 4 {
		return err
	}
	if v, uerr := r.abi.UnpackError(raw); uerr == nil {
		return fmt.Errorf("%w (%T%+v)", err, v, v)
	}
	return err
}

// WaitIncluded implements anchor.Registry.
func (r *Registry) WaitIncluded(ctx context.Context, tx anchor.Hash, confirmations uint64, replaced func(anchor.Sent)) (anchor.Inclusion, error) {
	if r.s == nil {
		return anchor.Inclusion{}, errReadOnly
	}
	var onReplace func(*types.Transaction)
	if replaced != nil {
		onReplace = func(t *types.Transaction) { replaced(anchor.Sent{Tx: t.Hash(), Nonce: t.Nonce()}) }
	}
	rc, h, err := r.s.waitReplacing(ctx, common.Hash(tx), confirmations, onReplace)
	if err != nil {
		return anchor.Inclusion{}, err
	}
	return inclusion(rc, h), nil
}

func inclusion(rc *types.Receipt, h *types.Header) anchor.Inclusion {
	return anchor.Inclusion{
		Tx: rc.TxHash, BlockNumber: rc.BlockNumber.Uint64(), BlockHash: rc.BlockHash,
		BlockTime: time.Unix(int64(h.Time), 0).UTC(), GasUsed: rc.GasUsed,
	}
}

// BatchInclusion implements anchor.Registry: it finds the BatchAnchored
// event in the block the registry recorded.
func (r *Registry) BatchInclusion(ctx context.Context, id uint64) (anchor.Inclusion, bool, error) {
	b, ok, err := r.Batch(ctx, id)
	if err != nil || !ok {
		return anchor.Inclusion{}, ok, err
	}
	topic := common.BigToHash(new(big.Int).SetUint64(id))
	return r.findEvent(ctx, "BatchAnchored", topic, b.BlockNumber)
}

// RecordInclusion implements anchor.Registry.
func (r *Registry) RecordInclusion(ctx context.Context, id anchor.RecordID) (anchor.Inclusion, bool, error) {
	a, ok, err := r.Record(ctx, id)
	if err != nil || !ok {
		return anchor.Inclusion{}, ok, err
	}
	var topic common.Hash // bytes16 is left-aligned in a topic
	copy(topic[:], id[:])
	return r.findEvent(ctx, "RecordAnchored", topic, a.BlockNumber)
}

func (r *Registry) findEvent(ctx context.Context, event string, topic common.Hash, block uint64) (anchor.Inclusion, bool, error) {
	ev, ok := r.abi.GetABI().Events[event]
	if !ok {
		return anchor.Inclusion{}, false, fmt.Errorf("registry ABI has no event %s", event)
	}
	n := new(big.Int).SetUint64(block)
	q := ethereum.FilterQuery{
		FromBlock: n, ToBlock: n, Addresses: []common.Address{r.addr},
		Topics: [][]common.Hash{{ev.ID}, {topic}},
	}
	var logs []types.Log
	if err := retry(ctx, func() (err error) { logs, err = r.client.FilterLogs(ctx, q); return err }); err != nil {
		return anchor.Inclusion{}, false, fmt.Errorf("%s logs in block %d: %w", event, block, err)
	}
	for _, l := range logs {
		if l.Removed {
			continue
		}
		var rc *types.Receipt
		if err := retry(ctx, func() (err error) { rc, err = r.client.TransactionReceipt(ctx, l.TxHash); return err }); err != nil {
			return anchor.Inclusion{}, false, fmt.Errorf("receipt %s: %w", l.TxHash.Hex(), err)
		}
		var h *types.Header
		if err := retry(ctx, func() (err error) { h, err = r.client.HeaderByHash(ctx, rc.BlockHash); return err }); err != nil {
			return anchor.Inclusion{}, false, fmt.Errorf("header %s: %w", rc.BlockHash.Hex(), err)
		}
		return inclusion(rc, h), true, nil
	}
	return anchor.Inclusion{}, false, fmt.Errorf("%s event for %s not found in block %d", event, topic.Hex(), block)
}

// IsAnchorer reports whether account may anchor.
func (r *Registry) IsAnchorer(ctx context.Context, account common.Address) (bool, error) {
	out, err := r.call(ctx, r.abi.PackIsAnchorer(account))
	if err != nil {
		return false, fmt.Errorf("isAnchorer: %w", err)
	}
	return r.abi.UnpackIsAnchorer(out)
}

// deploy creates a new AuditRegistry from key's account (which becomes its
// owner and first anchorer) and waits for it to be mined. It returns the
// registry and the block it was deployed in.
func deploy(ctx context.Context, s *sender) (*Registry, uint64, error) {
	tx, err := s.send(ctx, nil, common.FromHex(bindings.AuditRegistryMetaData.Bin), nil)
	if err != nil {
		return nil, 0, fmt.Errorf("deploy registry: %w", err)
	}
	rc, _, err := s.wait(ctx, tx.Hash(), 1)
	if err != nil {
		return nil, 0, fmt.Errorf("deploy registry: %w", err)
	}
	if rc.ContractAddress == (common.Address{}) {
		return nil, 0, errors.New("deploy registry: no contract address in receipt")
	}
	return newRegistry(s.client, rc.ContractAddress, s), rc.BlockNumber.Uint64(), nil
}

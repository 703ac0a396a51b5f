package anchor

import (
	"context"
	"errors"
	"time"
)

// RecordID is a record's UUID as the 16 bytes the registry stores.
type RecordID = [16]byte

// Address is an Ethereum account or contract address.
type Address = [20]byte

// Sent is a transaction the chain backend has handed to the network.
type Sent struct {
	Tx    Hash   // transaction hash
	Nonce uint64 // sender nonce the transaction uses
}

// Inclusion says where a transaction landed on the canonical chain.
type Inclusion struct {
	Tx          Hash
	BlockNumber uint64
	BlockHash   Hash
	BlockTime   time.Time
	GasUsed     uint64
}

// OnChainBatch is a batch as the registry holds it.
type OnChainBatch struct {
	Root        Hash
	LeafCount   uint32
	Kind        uint8
	BlockNumber uint64
	BlockTime   time.Time
	// Submitter is the account that anchored the batch.
	Submitter Address
}

// OnChainRecord is a per-record anchor as the registry holds it.
type OnChainRecord struct {
	Hash        Hash
	Kind        uint8
	BlockNumber uint64
	BlockTime   time.Time
	// Submitter is the account that anchored the record.
	Submitter Address
}

// Finalized, as the confirmations of Registry.WaitIncluded (and
// WorkerConfig.Confirmations), waits for the chain's finalized block tag to
// reach the transaction's block rather than for a number of blocks.
const Finalized = ^uint64(0)

// Errors a Registry reports; callers check them with errors.Is.
var (
	// ErrAlreadyAnchored: the registry refused the anchor because the batch id
	// or record id is already taken. The caller reads the registry to learn
	// whether it was this service's own earlier attempt.
	ErrAlreadyAnchored = errors.New("already anchored on chain")
	// ErrReverted: the transaction was mined but failed.
	ErrReverted = errors.New("transaction reverted")
	// ErrDropped: the transaction is neither mined nor known to the node any
	// more; it must be sent again.
	ErrDropped = errors.New("transaction dropped")
	// ErrNoFinality: Finalized was asked of a chain that has no finalized
	// block tag.
	ErrNoFinality = errors.New("the chain has no finalized block tag")
)

// RegistryReader reads the AuditRegistry contract. Every answer comes from
// the chain, never from a cache of this service's own writes.
type RegistryReader interface {
	// ChainID is the chain's EIP-155 id.
	ChainID() uint64
	// Address is the registry contract's address.
	Address() Address
	// Batch reads batch id from the registry; ok is false when the registry
	// holds no batch with that id.
	Batch(ctx context.Context, id uint64) (b OnChainBatch, ok bool, err error)
	// Record reads a per-record anchor; ok is false when there is none.
	Record(ctx context.Context, id RecordID) (r OnChainRecord, ok bool, err error)
}

// ChainStatus is where a chain stands: its head and, on chains that have
// one (proof of stake, and the dev chains here), its finalized head.
type ChainStatus struct {
	Head         uint64
	Finalized    uint64
	HasFinalized bool
	// Dev says why the chain is a development chain (chain id 1337,
	// go-ethereum's dev genesis), empty for any other: whoever runs a dev
	// chain can rebuild it with other roots that verify just as well, so
	// anchors on it prove nothing against its operator.
	Dev string
}

// ChainStatusReader is implemented by registries that can say where their
// chain stands (chain.Registry does); verification then reports how deep
// and how final an anchor is.
type ChainStatusReader interface {
	ChainStatus(ctx context.Context) (ChainStatus, error)
}

// Registry is everything the anchoring worker needs from the chain. An
// implementation estimates gas, assigns nonces, and retries transient RPC
// failures itself; errors it returns are the ones the worker must act on.
type Registry interface {
	RegistryReader
	// AnchorBatch sends anchorBatch(id, root, leafCount, kind) and returns
	// once the node has accepted the transaction, without waiting for it to
	// be mined. It returns ErrAlreadyAnchored when the registry would refuse
	// the id as a duplicate.
	AnchorBatch(ctx context.Context, id uint64, root Hash, leafCount uint32, kind uint8) (Sent, error)
	// AnchorRecord sends anchor(id, hash, kind), like AnchorBatch.
	AnchorRecord(ctx context.Context, id RecordID, hash Hash, kind uint8) (Sent, error)
	// WaitIncluded waits until tx is mined and has the given number of
	// confirmations (0 and 1 both mean "mined"; Finalized means "in a
	// finalized block"), then reports where it is. A transaction that stays
	// unmined past a deadline (its fee cap overtaken by the base fee) is
	// replaced by one with the same nonce and higher fees; replaced, when
	// not nil, is called with each replacement as it is sent, and whichever
	// of them is mined is the one reported. It returns ErrReverted for a
	// failed transaction, ErrDropped when the node no longer knows the
	// transaction, and ErrNoFinality when asked for finality on a chain
	// that has none.
	WaitIncluded(ctx context.Context, tx Hash, confirmations uint64, replaced func(Sent)) (Inclusion, error)
	// BatchInclusion finds the transaction that anchored batch id, for
	// reconciling after a crash when the transaction hash was not recorded;
	// ok is false when the batch is not on chain.
	BatchInclusion(ctx context.Context, id uint64) (inc Inclusion, ok bool, err error)
	// RecordInclusion does the same for a per-record anchor.
	RecordInclusion(ctx context.Context, id RecordID) (inc Inclusion, ok bool, err error)

	// BlockHash returns the hash of the canonical block at number; ok is
	// false when the chain is shorter.
	BlockHash(ctx context.Context, number uint64) (h Hash, ok bool, err error)
	// TxKnown reports whether the node knows transaction tx, pending or
	// mined.
	TxKnown(ctx context.Context, tx Hash) (bool, error)
	// ForgetNonce makes the next send read the key's nonce from the node:
	// transactions of the key have vanished from the chain (a reorg), so
	// the nonce it counts from is too high.
	ForgetNonce()
}

// ChainMeta is what the database remembers about the chain it anchors on.
type ChainMeta struct {
	ChainID     uint64
	GenesisHash Hash
	Registry    Address
	DeployBlock uint64
	// Federation is the FederationRegistry beside Registry (zero until one
	// was deployed: databases older than federated learning have none).
	Federation Address
}

// ChainMetaStore keeps the ChainMeta of a database.
type ChainMetaStore interface {
	// LoadChainMeta returns the stored chain meta; ok is false when the
	// database has never anchored on any chain.
	LoadChainMeta(ctx context.Context) (m ChainMeta, ok bool, err error)
	// SaveChainMeta stores m if nothing is stored yet, and returns what is
	// stored afterwards (m, or whatever another instance stored first).
	SaveChainMeta(ctx context.Context, m ChainMeta) (ChainMeta, error)
	// SaveFederation records the FederationRegistry's address if none is
	// recorded yet, and returns the one recorded afterwards (addr, or
	// another instance's).
	SaveFederation(ctx context.Context, addr Address) (Address, error)
}

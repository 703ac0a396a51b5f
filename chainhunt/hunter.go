package chainhunt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Client is the part of a node's API the hunter reads. *ethclient.Client
// satisfies it (and so does the client of go-ethereum's simulated backend,
// which embeds one).
type Client interface {
	ChainID(ctx context.Context) (*big.Int, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	BlockByNumber(ctx context.Context, number *big.Int) (*types.Block, error)
	BlockReceipts(ctx context.Context, blockNrOrHash rpc.BlockNumberOrHash) ([]*types.Receipt, error)
	// CodeAt tells contracts from other accounts (the features count
	// values sent to contracts apart).
	CodeAt(ctx context.Context, account common.Address, blockNumber *big.Int) ([]byte, error)
	// TransactionSender returns the sender the node reported with the
	// block (ethclient caches it while decoding the block: no signature
	// recovery, which would cost most of the catch-up time).
	TransactionSender(ctx context.Context, tx *types.Transaction, block common.Hash, index uint) (common.Address, error)
	// CallContract reads a token's decimals().
	CallContract(ctx context.Context, msg ethereum.CallMsg, blockNumber *big.Int) ([]byte, error)
}

// KnownBatches is the database's view of the batches this service
// anchored: the registry rules compare every BatchAnchored event with it.
type KnownBatches interface {
	// Batch returns the root of batch id and true when the database
	// knows the batch (prepared, sent, confirmed or orphaned), false when
	// it does not.
	Batch(ctx context.Context, id uint64) (root common.Hash, known bool, err error)
}

// KnownRecords is KnownBatches' counterpart for anchors made per record
// (the worker's record mode). When the KnownBatches given to New also
// implements it, RecordAnchored events are checked as BatchAnchored ones
// are.
type KnownRecords interface {
	// Record returns the hash anchored for record id and true when the
	// database knows the record, false when it does not.
	Record(ctx context.Context, id [16]byte) (hash common.Hash, known bool, err error)
}

// Config configures a Hunter. The zero value of a field means its default
// (see withDefaults).
type Config struct {
	// ChainID is the chain the hunter follows; Run checks the node
	// serves it. 0: the node's.
	ChainID uint64
	// StartBlock is the first block read when there is no checkpoint.
	StartBlock uint64
	// Registry is the AuditRegistry contract the registry rules watch, and
	// Anchorers the accounts the service anchors from: a call to the
	// registry from any other account is registry.foreign_caller, the
	// owner's included when it is a separate key (its role changes raise
	// registry.role_change as well).
	Registry  common.Address
	Anchorers []common.Address
	// Window is how many processed blocks are kept, with the undo log of
	// their account changes: a reorg up to this deep is undone exactly.
	// Default 64.
	Window int
	// PollInterval is how often the head is read once caught up.
	// Default 2 s.
	PollInterval time.Duration
	// Prefetch is how many blocks (with their receipts) are fetched ahead
	// while catching up. Default 8.
	Prefetch int
	// CommitBlocks and CommitInterval say when a checkpoint is committed:
	// after this many blocks or this long, whichever comes first, and
	// whenever the hunter catches up with the head. Defaults 256 and 5 s.
	CommitBlocks   int
	CommitInterval time.Duration
	// Rules tunes the rolling-baseline rules.
	Rules RulesConfig
	// Scorer scores the features of the accounts each block changed
	// (not contracts, the registry or the anchorers); nil turns model
	// scoring off.
	Scorer Scorer
	// Threshold is the score at or above which an account is alerted as
	// fraud. 0: the scorer's own (see Thresholder), else 0.5.
	Threshold float64
	// ScoreEvery debounces scoring: an account is scored at most once
	// every this many blocks. Default 100.
	ScoreEvery uint64
	// MaxCachedAccounts bounds the accounts kept in memory between
	// checkpoints (they are read back from the Store). Default 100,000.
	MaxCachedAccounts int
}

func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = 64
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 2 * time.Second
	}
	if c.Prefetch <= 0 {
		c.Prefetch = 8
	}
	if c.CommitBlocks <= 0 {
		c.CommitBlocks = 256
	}
	if c.CommitInterval <= 0 {
		c.CommitInterval = 5 * time.Second
	}
	if c.ScoreEvery == 0 {
		c.ScoreEvery = 100
	}
	if c.MaxCachedAccounts <= 0 {
		c.MaxCachedAccounts = 100_000
	}
	if c.Threshold <= 0 {
		c.Threshold = 0.5
		if t, ok := c.Scorer.(Thresholder); ok {
			c.Threshold = t.Threshold()
		}
	}
	c.Rules = c.Rules.withDefaults()
	return c
}

// Stats are the hunter's progress, for metrics.
type Stats struct {
	// Processed is the last block processed, Head the last head read,
	// Lag how many blocks Processed is behind Head.
	Processed, Head, Lag uint64
	// Blocks and Txs count the blocks and transactions processed since
	// the hunter started; Reorgs the reorganisations seen; Alerts the
	// alerts the Store stored.
	Blocks, Txs, Reorgs, Alerts uint64
	// CaughtUp says the hunter reached the head at least once.
	CaughtUp bool
}

// Hunter follows one chain and raises Alerts (see the package comment).
// Run drives it; Stats may be called from any goroutine.
type Hunter struct {
	cfg       Config
	client    Client
	store     Store
	known     KnownBatches
	rechecker Rechecker
	log       *slog.Logger
	anchorers map[common.Address]bool

	// The rest is Run's.

	// blocks are the last processed blocks (at most Window, oldest
	// first) and undo the prior states of the accounts each changed,
	// aligned with blocks.
	blocks []BlockRef
	undo   []blockUndo
	// accounts caches aggregates; dirty are those changed since the last
	// commit.
	accounts map[common.Address]*Account
	dirty    map[common.Address]bool
	baseline baselines
	// lastScored is the block each account was last scored in.
	lastScored map[common.Address]uint64
	// scoreDue holds the accounts changed while their debounce held, with
	// the block from which they are due for scoring.
	scoreDue map[common.Address]uint64
	// pending are the alerts raised since the last commit.
	pending     []Alert
	sinceCommit int
	lastCommit  time.Time
	contracts   *lru.Cache[common.Address, bool]
	decimals    map[common.Address]uint8

	mu    sync.Mutex
	stats Stats
}

// New returns a hunter. known and rechecker may be nil (no foreign-batch
// or root check; no re-check after a reorg); logger nil means
// slog.Default().
//
// In serve, the hunter follows the chain the anchoring worker uses:
//
//	h, err := chainhunt.New(chainhunt.Config{
//		ChainID:   registry.ChainID(),
//		Registry:  common.Address(registry.Address()),
//		Anchorers: []common.Address{registry.Sender()},
//		Scorer:    scorer, // chainhunt.NewDetectorScorer(det, version), or nil
//	}, ethClient, store, store, worker, logger)
//	go h.Run(ctx)
//
// where registry is the opened chain's *chain.Registry, ethClient the
// chain's client (chain.Chain.Client() is an *ethclient.Client for both
// --eth-rpc and the embedded chain: assert it to chainhunt.Client), store
// the PostgreSQL Store (also the KnownBatches, and the KnownRecords in
// record mode), and worker the *anchor.Worker (RecheckFrom). Run must not
// be called twice at once.
func New(cfg Config, client Client, store Store, known KnownBatches, rechecker Rechecker, logger *slog.Logger) (*Hunter, error) {
	if client == nil || store == nil {
		return nil, errors.New("chainhunt: a hunter needs a client and a store")
	}
	if logger == nil {
		logger = slog.Default()
	}
	cfg = cfg.withDefaults()
	contracts, err := lru.New[common.Address, bool](100_000)
	if err != nil {
		return nil, err
	}
	h := &Hunter{
		cfg: cfg, client: client, store: store, known: known, rechecker: rechecker,
		log:        logger.With("component", "chainhunt"),
		anchorers:  map[common.Address]bool{},
		accounts:   map[common.Address]*Account{},
		dirty:      map[common.Address]bool{},
		lastScored: map[common.Address]uint64{},
		scoreDue:   map[common.Address]uint64{},
		contracts:  contracts,
		decimals:   map[common.Address]uint8{},
	}
	for _, a := range cfg.Anchorers {
		h.anchorers[a] = true
	}
	return h, nil
}

// Stats returns the hunter's progress.
func (h *Hunter) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stats
}

func (h *Hunter) updateStats(f func(*Stats)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(&h.stats)
	if h.stats.Head > h.stats.Processed {
		h.stats.Lag = h.stats.Head - h.stats.Processed
	} else {
		h.stats.Lag = 0
	}
}

// Run follows the chain until ctx is cancelled, then commits what it
// processed and returns nil. It resumes from the Store's checkpoint (or
// StartBlock), catches up with the head in bulk, then polls for new heads
// every PollInterval. Errors reading the node or the Store are logged and
// retried; Run returns an error only when the node serves another chain
// than Config.ChainID or the checkpoint cannot be decoded.
func (h *Hunter) Run(ctx context.Context) error {
	if err := h.start(ctx); err != nil || ctx.Err() != nil {
		return err
	}
	defer func() {
		// Commit what was processed, even though ctx is done.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := h.commit(cctx); err != nil {
			h.log.Warn("final checkpoint not committed", "err", err)
		}
	}()
	for ctx.Err() == nil {
		caughtUp, err := h.round(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			h.log.Warn("following the chain failed; retrying", "err", err, "in", h.cfg.PollInterval)
		case caughtUp:
			if err := h.commit(ctx); err != nil && ctx.Err() == nil {
				h.log.Warn("checkpoint not committed; retrying", "err", err)
			}
		default:
			continue // more to catch up on
		}
		sleep(ctx, h.cfg.PollInterval)
	}
	return nil
}

// errFatal marks the errors start does not retry.
var errFatal = errors.New("chainhunt")

// start checks the chain and loads the checkpoint, retrying while the node
// or the Store fail (they may come up after the hunter). It fails for good
// when the node serves another chain or the checkpoint cannot be decoded,
// and with ctx.
func (h *Hunter) start(ctx context.Context) error {
	for {
		err := h.tryStart(ctx)
		if err == nil || errors.Is(err, errFatal) {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		h.log.Warn("cannot start following the chain; retrying", "err", err, "in", h.cfg.PollInterval)
		sleep(ctx, h.cfg.PollInterval)
	}
}

func (h *Hunter) tryStart(ctx context.Context) error {
	id, err := h.client.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("read chain id: %w", err)
	}
	if h.cfg.ChainID == 0 && id.IsUint64() {
		h.cfg.ChainID = id.Uint64()
	}
	if !id.IsUint64() || id.Uint64() != h.cfg.ChainID {
		return fmt.Errorf("%w: the node serves chain %v, not %d", errFatal, id, h.cfg.ChainID)
	}
	cp, ok, err := h.store.Checkpoint(ctx, h.cfg.ChainID)
	if err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	if ok {
		if err := h.restore(cp); err != nil {
			return fmt.Errorf("%w: checkpoint of chain %d: %w", errFatal, h.cfg.ChainID, err)
		}
		h.log.Info("resuming from checkpoint", "block", h.lastBlock().Number)
	} else {
		h.log.Info("no checkpoint: starting", "block", h.cfg.StartBlock)
	}
	h.lastCommit = time.Now()
	return nil
}

// next is the number of the next block to process.
func (h *Hunter) next() uint64 {
	if len(h.blocks) == 0 {
		return h.cfg.StartBlock
	}
	return h.blocks[len(h.blocks)-1].Number + 1
}

// sleep waits d or the end of ctx.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

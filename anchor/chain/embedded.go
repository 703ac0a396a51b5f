package chain

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/idsledger/idsledger/contracts"
)

// EmbeddedConfig configures the in-process dev chain.
type EmbeddedConfig struct {
	// DataDir keeps the chain (as `geth --datadir` would: the database is
	// under DataDir/geth). Empty means an in-memory chain lost on Close.
	DataDir string
	// Faucet is funded in the genesis block when the chain is created;
	// it is ignored when DataDir already holds a chain.
	Faucet common.Address
	// GasLimit is the genesis block gas limit; 0 means DevGasLimit.
	GasLimit uint64
	// HTTP, when set ("127.0.0.1:8545", port 0 for any), also serves the
	// chain's JSON-RPC (eth, net, web3) over HTTP, so that the offline
	// verifier and other tools can reach it.
	HTTP string
}

// Embedded is an in-process Geth dev chain: go-ethereum's node and eth
// service driven by a simulated beacon that seals a block as soon as
// transactions arrive, exactly as `geth --dev --datadir DIR` does. State is
// written out at every block (archive mode, hash scheme), but geth writes
// without syncing: a write can still sit in the database's log buffer in
// the process when the block is visible. Sync makes it durable; a chain
// opened by Open calls it before it reports a transaction mined, so a
// crash of the process (or of the machine) loses no anchor that was
// reported mined.
type Embedded struct {
	stack   *node.Node
	backend *eth.Ethereum
	beacon  *catalyst.SimulatedBeacon
	client  *ethclient.Client
}

// StartEmbedded opens (or creates) the chain under cfg.DataDir and starts
// it. Only one process can hold a data directory at a time.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.GasLimit == 0 {
		cfg.GasLimit = DevGasLimit
	}
	nodeConf := node.Config{
		Name:    "geth",
		DataDir: cfg.DataDir,
		P2P:     p2p.Config{NoDiscovery: true, MaxPeers: 0, ListenAddr: ""},
	}
	if cfg.HTTP != "" {
		host, port, err := net.SplitHostPort(cfg.HTTP)
		if err != nil {
			return nil, fmt.Errorf("embedded chain: http address: %w", err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("embedded chain: http port: %w", err)
		}
		nodeConf.HTTPHost, nodeConf.HTTPPort = host, p
		nodeConf.HTTPModules = []string{"eth", "net", "web3"}
		nodeConf.HTTPVirtualHosts = []string{"localhost", host}
		nodeConf.HTTPTimeouts = rpc.DefaultHTTPTimeouts
	}
	exists := false
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("embedded chain: %w", err)
		}
		_, err := os.Stat(filepath.Join(cfg.DataDir, "geth", "chaindata"))
		exists = err == nil
	}

	ethConf := ethconfig.Defaults
	ethConf.NetworkId = contracts.OsakaDevChainConfig().ChainID.Uint64()
	ethConf.SyncMode = ethconfig.FullSync
	ethConf.NoPruning = true
	ethConf.StateScheme = rawdb.HashScheme
	ethConf.DatabaseCache = 64
	ethConf.TrieCleanCache = 32
	ethConf.TrieDirtyCache = 0
	ethConf.SnapshotCache = 0
	ethConf.TxPool.NoLocals = true
	ethConf.Miner.PendingFeeRecipient = cfg.Faucet

	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, fmt.Errorf("embedded chain: %w", err)
	}
	fail := func(err error) (*Embedded, error) {
		stack.Close()
		return nil, fmt.Errorf("embedded chain: %w", err)
	}
	if exists {
		// A first start cut short by a crash leaves a chain database
		// whose genesis never reached the disk; go-ethereum would fill
		// it with main net's.
		if exists, err = holdsGenesis(stack); err != nil {
			return fail(err)
		}
	}
	if !exists {
		// On an existing chain the genesis stored in it is used, as
		// `geth --dev` does with a populated --datadir.
		ethConf.Genesis = DevGenesis(cfg.GasLimit, cfg.Faucet)
	}
	backend, err := eth.New(stack, &ethConf)
	if err != nil {
		return fail(err)
	}
	if !exists {
		// The new chain's genesis is made durable at once, so that a
		// chain folder without one can only be a creation that a crash
		// cut short, which the check above starts afresh.
		if err := backend.ChainDb().SyncKeyValue(); err != nil {
			return fail(err)
		}
	}
	if backend.BlockChain().Config().ChainID.Cmp(contracts.OsakaDevChainConfig().ChainID) != 0 {
		return fail(fmt.Errorf("%s holds chain %v, not a dev chain", cfg.DataDir, backend.BlockChain().Config().ChainID))
	}
	filterSystem := filters.NewFilterSystem(backend.APIBackend, filters.Config{})
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(filterSystem)}})
	beacon, err := catalyst.NewSimulatedBeacon(0, cfg.Faucet, backend)
	if err != nil {
		return fail(err)
	}
	// The dev API's loop seals a block whenever the pool gets a
	// transaction (period 0), as in geth --dev.
	catalyst.RegisterSimulatedBeaconAPIs(stack, beacon)
	stack.RegisterLifecycle(beacon)
	if err := stack.Start(); err != nil {
		return fail(err)
	}
	return &Embedded{stack: stack, backend: backend, beacon: beacon, client: ethclient.NewClient(stack.Attach())}, nil
}

// holdsGenesis reports whether the node's chain database holds a genesis
// block.
func holdsGenesis(stack *node.Node) (bool, error) {
	db, err := stack.OpenDatabaseWithOptions("chaindata", node.DatabaseOptions{Cache: 16, Handles: 16})
	if err != nil {
		return false, err
	}
	defer db.Close()
	return rawdb.ReadCanonicalHash(db, 0) != (common.Hash{}), nil
}

// HTTPEndpoint is the chain's JSON-RPC URL when EmbeddedConfig.HTTP was set.
func (e *Embedded) HTTPEndpoint() string {
	if e.stack.Config().HTTPHost == "" {
		return ""
	}
	return e.stack.HTTPEndpoint()
}

// Sync makes every block written so far survive a crash of the process
// or of the machine: it flushes the chain database's write-ahead log to
// disk (geth writes blocks without syncing).
func (e *Embedded) Sync() error { return e.backend.ChainDb().SyncKeyValue() }

// Client returns an in-process client of the chain.
func (e *Embedded) Client() *ethclient.Client { return e.client }

// Close stops the chain and flushes it to disk.
func (e *Embedded) Close() error {
	if e == nil || e.stack == nil {
		return nil
	}
	e.client.Close()
	err := e.stack.Close()
	e.stack = nil
	if errors.Is(err, node.ErrNodeStopped) {
		err = nil
	}
	return err
}

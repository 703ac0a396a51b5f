package chain

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"path/filepath"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/secretfile"
)

// Config says which chain to anchor on and with which key.
type Config struct {
	// RPC is an Ethereum JSON-RPC endpoint: http(s)://, ws(s)://, or the
	// path of a geth IPC socket. Empty means the embedded dev chain.
	RPC string
	// DataDir holds the embedded chain; default ".data/chain".
	DataDir string
	// EmbeddedHTTP also serves the embedded chain's JSON-RPC over HTTP at
	// this address (see EmbeddedConfig.HTTP).
	EmbeddedHTTP string
	// Registry is the AuditRegistry address. Zero means the address the
	// database remembers or, on first start, a newly deployed registry.
	Registry common.Address
	// Key signs transactions. When nil it is read from KeyFile.
	Key *ecdsa.PrivateKey
	// KeyFile holds the key as hex; it is created (mode 0600) when missing.
	// Default: DataDir/service.key for the embedded chain; required with
	// RPC unless Key is set.
	KeyFile string
	// FundFromDev funds the key from the node's first unlocked account
	// (the `geth --dev` developer account) when the key has no balance.
	FundFromDev bool
	// Poll is the longest wait between two receipt checks; default 10 ms
	// for the embedded chain and 100 ms over RPC.
	Poll time.Duration
	// ReplaceAfter is how long a transaction may stay unmined before it is
	// replaced by one with the same nonce and fees raised by at least 10%
	// (its fee cap overtaken by a rising base fee); default 2 minutes.
	ReplaceAfter time.Duration
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Chain is an open connection to the chain idsledger anchors on.
type Chain struct {
	// Registry is the AuditRegistry, writable with the service key.
	Registry *Registry
	// Federation is the FederationRegistry beside it (deployed on first
	// use and remembered with the chain meta), writable with the same key.
	Federation *Federation
	// Meta is what the database remembers about this chain.
	Meta anchor.ChainMeta
	// Endpoint is the JSON-RPC URL of the chain: Config.RPC, or the
	// embedded chain's HTTP endpoint (empty when it serves none).
	Endpoint string
	client   Client
	closer   func() error
}

// Client returns the chain's client.
func (c *Chain) Client() Client { return c.client }

// Close disconnects, and stops the embedded chain if there is one.
func (c *Chain) Close() error {
	if c == nil || c.closer == nil {
		return nil
	}
	err := c.closer()
	c.closer = nil
	return err
}

// ErrChainMismatch means the chain reached is not the one the database
// anchored on (different chain id or genesis block, or the registry is
// gone). The service must not start: anchoring on a new chain would make
// the old anchors unverifiable without anyone noticing.
var ErrChainMismatch = errors.New("chain does not match the one this database anchors on")

// ErrUnreachable is returned by Open when the node could not be reached or
// answered with a transient failure: trying again later may succeed.
// Every other error from Open needs a person (a wrong chain, a bad key, a
// folder another process holds).
var ErrUnreachable = errors.New("chain node unreachable")

// Open connects to the chain cfg names, checks it against what meta
// remembers, deploys the registry on first start, and makes sure the key
// may anchor. A database that remembers a different chain, or a registry
// with no code, makes Open fail with ErrChainMismatch.
func Open(ctx context.Context, cfg Config, meta anchor.ChainMetaStore) (*Chain, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.RPC == "" && cfg.DataDir == "" {
		cfg.DataDir = filepath.Join(".data", "chain")
	}
	if cfg.Key == nil {
		path := cfg.KeyFile
		if path == "" && cfg.RPC == "" {
			path = filepath.Join(cfg.DataDir, "service.key")
		}
		if path == "" {
			return nil, errors.New("an Ethereum key is needed to anchor over RPC (--eth-key-file)")
		}
		k, err := LoadOrCreateKey(path)
		if err != nil {
			return nil, err
		}
		cfg.Key = k
	}
	from := crypto.PubkeyToAddress(cfg.Key.PublicKey)

	var (
		client   Client
		raw      *rpc.Client
		closer   func() error
		durable  func() error
		endpoint = cfg.RPC
	)
	if cfg.RPC == "" {
		emb, err := StartEmbedded(EmbeddedConfig{DataDir: cfg.DataDir, Faucet: from, HTTP: cfg.EmbeddedHTTP})
		if err != nil {
			return nil, err
		}
		client, closer, durable, endpoint = emb.Client(), emb.Close, emb.Sync, emb.HTTPEndpoint()
		if cfg.Poll == 0 {
			cfg.Poll = 10 * time.Millisecond
		}
		log.Info("embedded dev chain started", "datadir", cfg.DataDir)
	} else {
		rc, err := rpc.DialContext(ctx, cfg.RPC)
		if err != nil {
			if transient(err) {
				return nil, fmt.Errorf("%w: dial: %w", ErrUnreachable, err)
			}
			return nil, fmt.Errorf("dial: %w", err)
		}
		ec := ethclient.NewClient(rc)
		client, raw, closer = ec, rc, func() error { ec.Close(); return nil }
		if cfg.Poll == 0 {
			cfg.Poll = 100 * time.Millisecond
		}
	}
	c, err := connect(ctx, connectConfig{
		client: client, raw: raw, key: cfg.Key, poll: cfg.Poll, replaceAfter: cfg.ReplaceAfter, registry: cfg.Registry,
		fundFromDev: cfg.FundFromDev, durable: durable, log: log,
	}, meta)
	if err != nil {
		closer()
		if transient(err) {
			err = fmt.Errorf("%w: %w", ErrUnreachable, err)
		}
		return nil, err
	}
	c.closer, c.Endpoint = closer, endpoint
	return c, nil
}

type connectConfig struct {
	client       Client
	raw          *rpc.Client // for eth_accounts / eth_sendTransaction; may be nil
	key          *ecdsa.PrivateKey
	mine         func()
	durable      func() error // see sender.durable
	poll         time.Duration
	replaceAfter time.Duration
	registry     common.Address
	fundFromDev  bool
	log          *slog.Logger
}

func connect(ctx context.Context, cfg connectConfig, meta anchor.ChainMetaStore) (*Chain, error) {
	if cfg.log == nil {
		cfg.log = slog.Default()
	}
	s, err := newSender(ctx, cfg.client, cfg.key, cfg.poll, cfg.mine)
	if err != nil {
		return nil, err
	}
	if cfg.replaceAfter > 0 {
		s.replaceAfter = cfg.replaceAfter
	}
	s.durable = cfg.durable
	gen, err := cfg.client.HeaderByNumber(ctx, big.NewInt(0))
	if err != nil {
		return nil, fmt.Errorf("genesis block: %w", err)
	}
	here := anchor.ChainMeta{ChainID: s.chainID.Uint64(), GenesisHash: gen.Hash()}

	if err := ensureFunds(ctx, cfg, s); err != nil {
		return nil, err
	}

	stored, known, err := meta.LoadChainMeta(ctx)
	if err != nil {
		return nil, err
	}
	var reg *Registry
	switch {
	case known:
		if stored.ChainID != here.ChainID || stored.GenesisHash != here.GenesisHash {
			return nil, fmt.Errorf("%w: the database anchors on chain %d (genesis %x, registry %x) but the node serves chain %d (genesis %x); point --eth-rpc at the original chain, or use a new database",
				ErrChainMismatch, stored.ChainID, stored.GenesisHash, stored.Registry, here.ChainID, here.GenesisHash)
		}
		if cfg.registry != (common.Address{}) && cfg.registry != common.Address(stored.Registry) {
			return nil, fmt.Errorf("%w: the database anchors on registry %x, not %s", ErrChainMismatch, stored.Registry, cfg.registry.Hex())
		}
		reg = newRegistry(cfg.client, common.Address(stored.Registry), s)
		if err := reg.checkCode(ctx); err != nil {
			if errors.Is(err, ErrNoRegistry) {
				return nil, fmt.Errorf("%w: registry %x, which holds this database's anchors, has no code on chain %d (was the chain reset?)",
					ErrChainMismatch, stored.Registry, here.ChainID)
			}
			return nil, err
		}
		here = stored
	default:
		if cfg.registry != (common.Address{}) {
			reg = newRegistry(cfg.client, cfg.registry, s)
			if err := reg.checkCode(ctx); err != nil {
				return nil, err
			}
		} else {
			var block uint64
			reg, block, err = deploy(ctx, s)
			if err != nil {
				return nil, err
			}
			here.DeployBlock = block
			cfg.log.Info("registry deployed", "address", reg.addr.Hex(), "block", block, "chain", here.ChainID)
		}
		here.Registry = anchor.Address(reg.addr)
		saved, err := meta.SaveChainMeta(ctx, here)
		if err != nil {
			return nil, err
		}
		if saved != here {
			// Another instance got there first; use what it chose.
			return connect(ctx, cfg, meta)
		}
	}
	if err := ensureAnchorer(ctx, reg); err != nil {
		return nil, err
	}
	fed, addr, err := openFederation(ctx, reg, here.Federation, meta, cfg.log)
	if err != nil {
		return nil, err
	}
	here.Federation = addr
	return &Chain{Registry: reg, Federation: fed, Meta: here, client: cfg.client}, nil
}

// openFederation opens the FederationRegistry the database remembers, or
// deploys one beside the registry and remembers it (a database from before
// federated learning gets one on its first start with this version; every
// record it anchored before stays verifiable in the AuditRegistry).
func openFederation(ctx context.Context, reg *Registry, addr anchor.Address, meta anchor.ChainMetaStore, log *slog.Logger) (*Federation, anchor.Address, error) {
	if addr != (anchor.Address{}) {
		f, err := OpenFederation(ctx, reg, common.Address(addr))
		if errors.Is(err, ErrNoRegistry) {
			return nil, addr, fmt.Errorf("%w: federation registry %x, which this database uses, has no code (was the chain reset?)", ErrChainMismatch, addr)
		}
		return f, addr, err
	}
	f, block, err := DeployFederation(ctx, reg)
	if err != nil {
		return nil, addr, err
	}
	saved, err := meta.SaveFederation(ctx, anchor.Address(f.Address()))
	if err != nil {
		return nil, addr, err
	}
	if saved != anchor.Address(f.Address()) {
		// Another instance deployed one first: use it.
		return openFederation(ctx, reg, saved, meta, log)
	}
	log.Info("federation registry deployed", "address", f.Address().Hex(), "block", block)
	return f, saved, nil
}

// ensureAnchorer grants the key the anchoring role if it lacks it and is
// the registry's owner.
func ensureAnchorer(ctx context.Context, reg *Registry) error {
	ok, err := reg.IsAnchorer(ctx, reg.s.from)
	if err != nil || ok {
		return err
	}
	out, err := reg.call(ctx, reg.abi.PackOwner())
	if err != nil {
		return fmt.Errorf("registry owner: %w", err)
	}
	owner, err := reg.abi.UnpackOwner(out)
	if err != nil {
		return fmt.Errorf("registry owner: %w", err)
	}
	if owner != reg.s.from {
		return fmt.Errorf("account %s may not anchor on registry %s: its owner %s must call grantAnchorer",
			reg.s.from.Hex(), reg.addr.Hex(), owner.Hex())
	}
	tx, err := reg.s.send(ctx, &reg.addr, reg.abi.PackGrantAnchorer(reg.s.from), nil)
	if err != nil {
		return fmt.Errorf("grant anchoring role: %w", err)
	}
	if _, _, err := reg.s.wait(ctx, tx.Hash(), 1); err != nil {
		return fmt.Errorf("grant anchoring role: %w", err)
	}
	return nil
}

// devFunding is what the service key gets from a dev account: enough for
// millions of anchors.
var devFunding = new(big.Int).Mul(big.NewInt(10_000), big.NewInt(1e18))

// ensureFunds makes sure the key can pay for gas, funding it from the
// node's dev account when allowed.
func ensureFunds(ctx context.Context, cfg connectConfig, s *sender) error {
	var bal *big.Int
	if err := retry(ctx, func() (err error) { bal, err = cfg.client.BalanceAt(ctx, s.from, nil); return err }); err != nil {
		return fmt.Errorf("balance of %s: %w", s.from.Hex(), err)
	}
	if bal.Sign() > 0 {
		return nil
	}
	if !cfg.fundFromDev || cfg.raw == nil {
		return fmt.Errorf("account %s has no funds to pay for anchoring", s.from.Hex())
	}
	dev, hash, err := FundFromDev(ctx, cfg.raw, s.from, devFunding)
	if errors.Is(err, ErrNoDevAccount) {
		return fmt.Errorf("account %s has no funds and %w", s.from.Hex(), err)
	}
	if err != nil {
		return err
	}
	if _, _, err := s.wait(ctx, hash, 1); err != nil {
		return fmt.Errorf("fund %s from dev account: %w", s.from.Hex(), err)
	}
	cfg.log.Info("service key funded from dev account", "account", s.from.Hex(), "dev", dev.Hex())
	return nil
}

// ErrNoDevAccount: the node offers no unlocked dev account to pay from
// (eth_accounts lists none, or is refused): only geth --dev and the like do.
var ErrNoDevAccount = errors.New("the node offers no dev account to fund it")

// FundFromDev sends amount wei to `to` from the node's first dev account
// (eth_accounts, eth_sendTransaction: geth --dev's unlocked account) and
// returns that account and the transaction's hash; the caller waits for it.
func FundFromDev(ctx context.Context, raw *rpc.Client, to common.Address, amount *big.Int) (dev common.Address, tx common.Hash, err error) {
	var accounts []common.Address
	if err := raw.CallContext(ctx, &accounts, "eth_accounts"); err != nil || len(accounts) == 0 {
		why := "it lists none"
		if err != nil {
			why = err.Error()
		}
		return dev, tx, fmt.Errorf("%w (eth_accounts: %s)", ErrNoDevAccount, why)
	}
	dev = accounts[0]
	if err := raw.CallContext(ctx, &tx, "eth_sendTransaction", map[string]any{
		"from": dev, "to": to, "value": (*hexutil.Big)(amount),
	}); err != nil {
		return dev, tx, fmt.Errorf("fund %s from dev account %s: %w", to.Hex(), dev.Hex(), err)
	}
	return dev, tx, nil
}

// ParseKey reads a hex secp256k1 private key (with or without 0x), as
// given in the environment (IDSLEDGER_ETH_KEY).
func ParseKey(s string) (*ecdsa.PrivateKey, error) {
	k, err := crypto.HexToECDSA(strings.TrimPrefix(strings.TrimSpace(s), "0x"))
	if err != nil {
		return nil, fmt.Errorf("ethereum key: %w", err)
	}
	return k, nil
}

// LoadOrCreateKey reads a hex secp256k1 private key from path, or creates
// one there when the file does not exist (secretfile: mode 0600, atomic;
// a file group or others may access is refused).
func LoadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	b, _, err := secretfile.LoadOrCreate(path, func() ([]byte, error) {
		k, err := crypto.GenerateKey()
		if err != nil {
			return nil, err
		}
		return []byte(hex.EncodeToString(crypto.FromECDSA(k)) + "\n"), nil
	})
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"time"

	bind "github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/chaintraffic"
)

func init() {
	registerBench(benchmark{
		name:    "chain-traffic",
		summary: "generate normal chain activity with injected anomalies for the chain hunter, and a manifest of them",
		run:     runBenchChainTraffic,
	})
}

// chainTrafficResult is the JSON object `bench chain-traffic --json` prints.
type chainTrafficResult struct {
	ChainID          uint64                              `json:"chain_id"`
	Funder           common.Address                      `json:"funder"`
	Token            common.Address                      `json:"token"`
	Registry         *common.Address                     `json:"registry,omitempty"`
	RegistryDeployed bool                                `json:"registry_deployed"`
	FirstBlock       uint64                              `json:"first_block"`
	LastBlock        uint64                              `json:"last_block"`
	Seconds          float64                             `json:"seconds"`
	Transactions     int                                 `json:"transactions"`
	TxPerSecond      float64                             `json:"transactions_per_second"`
	NormalAccounts   int                                 `json:"normal_accounts"`
	NormalByKind     map[chaintraffic.TxKind]int         `json:"normal_by_kind"`
	Injections       map[string]chainTrafficInjectionSum `json:"injections"`
	Manifest         string                              `json:"manifest"`
}

// chainTrafficInjectionSum is one injection in the --json summary.
type chainTrafficInjectionSum struct {
	Transactions int    `json:"transactions"`
	Reverted     int    `json:"reverted"`
	Anomalous    int    `json:"anomalous_accounts"`
	Skipped      string `json:"skipped,omitempty"`
}

func runBenchChainTraffic(ctx context.Context, args []string) error {
	fs := newFlagSet("bench chain-traffic", "bench chain-traffic --eth-rpc URL [--key-file F] [--registry ADDR] [--accounts N] [--transfers N] [--duration D] [--seed S] [--inject drain,flood,phishing,registry] --manifest OUT.json [--json]")
	rpcURL := fs.String("eth-rpc", "", "Ethereum JSON-RPC endpoint: a node, or http://ADDR for the embedded chain of serve --chain-http ADDR")
	keyFile := fs.String("key-file", "", "hex private key paying for the traffic; the registry patterns that change roles need the registry owner's (the service key: DATA_DIR/chain/service.key). Default: a fresh key funded from the node's dev account (geth --dev)")
	registry := fs.String("registry", "", "AuditRegistry the registry patterns target (the service's: the registry field of any proof); default: a fresh one deployed for the run")
	accounts := fs.Int("accounts", 40, "normal accounts")
	transfers := fs.Int("transfers", 400, "normal ether transfers")
	var tokenTransfers, creations optionalCount
	fs.Var(&tokenTransfers, "token-transfers", "`count` of normal ERC20 transfers (default: a quarter of --transfers)")
	fs.Var(&creations, "creations", "`count` of contract creations by normal accounts (default: --transfers/100 + 1)")
	duration := fs.Duration("duration", 0, "spread the normal activity over about this long (0: as fast as the chain takes it)")
	seed := fs.Int64("seed", 1, "seed of the accounts, the schedule and the values; give each run on one chain its own")
	inject := fs.String("inject", "all", "anomalies to inject: drain, flood, phishing, registry (= registry_rogue_call, registry_role_change, registry_foreign_batch), all or none, comma-separated")
	drainFanout := fs.Int("drain-fanout", 25, "fresh accounts a drain pays")
	floodTxs := fs.Int("flood-txs", 150, "transactions in a flood burst")
	victims := fs.Int("phishing-victims", 20, "normal accounts paying the phishing account")
	rogueCalls := fs.Int("rogue-calls", 3, "anchoring calls by the account without the role")
	fundEther := fs.Int64("fund", 10, "ether given to each generated account")
	manifest := fs.String("manifest", "", "where to write the manifest (JSON): the injected transactions and accounts, per pattern, and the normal ones")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a summary")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("unexpected argument %q", fs.Arg(0))
	case *rpcURL == "":
		return usagef("--eth-rpc is required (a node, or http://ADDR of `serve --chain-http ADDR`)")
	case *manifest == "":
		return usagef("--manifest is required")
	case *registry != "" && !common.IsHexAddress(*registry):
		return usagef("invalid value %q for --registry: want a 0x-prefixed address", *registry)
	case *accounts < 2:
		return usagef("--accounts must be at least 2")
	case *transfers < 0 || *drainFanout < 1 || *floodTxs < 1 || *victims < 1 || *rogueCalls < 1:
		return usagef("--transfers must not be negative; --drain-fanout, --flood-txs, --phishing-victims and --rogue-calls must be positive")
	case *duration < 0:
		return usagef("--duration must not be negative")
	case *fundEther < 1:
		return usagef("--fund must be at least 1 ether")
	}
	patterns, err := chaintraffic.ParsePatterns(*inject)
	if err != nil {
		return usagef("--inject: %v", err)
	}
	var key *ecdsa.PrivateKey
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return usagef("--key-file: %v", err)
		}
		if key, err = chain.ParseKey(string(b)); err != nil {
			return usagef("--key-file %s: %v", *keyFile, err)
		}
	}

	rc, err := rpc.DialContext(ctx, *rpcURL)
	if err != nil {
		return fmt.Errorf("dial %s: %w", *rpcURL, err)
	}
	client := ethclient.NewClient(rc)
	defer client.Close()
	// The generator's accounts have keys derived from --seed, which the
	// manifest names: on a chain whose ether or registry matter, anyone
	// could take what they hold. It runs on development chains only.
	if err := requireDevChain(ctx, client); err != nil {
		return err
	}

	cfg := chaintraffic.Config{
		Key: key, Seed: *seed, Accounts: *accounts, Transfers: *transfers, Duration: *duration, Inject: patterns, DrainFanout: *drainFanout,
		FloodTxs: *floodTxs, PhishingVictims: *victims, RogueCalls: *rogueCalls,
		Fund:         new(big.Int).Mul(big.NewInt(*fundEther), big.NewInt(1e18)),
		ManifestPath: *manifest,
		Log:          func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) },
	}
	cfg.TokenTransfers = tokenTransfers.config()
	cfg.Creations = creations.config()
	if *transfers == 0 {
		cfg.Transfers = -1
	}
	if *registry != "" {
		cfg.Registry = common.HexToAddress(*registry)
	}
	if cfg.Key == nil {
		if cfg.Key, err = fundFromDevAccount(ctx, rc, client, cfg); err != nil {
			return err
		}
	}

	start := time.Now()
	m, err := chaintraffic.Generate(ctx, client, cfg)
	if err != nil {
		if m != nil {
			return fmt.Errorf("%w (the manifest in %s holds what was sent)", err, *manifest)
		}
		return err
	}
	secs := time.Since(start).Seconds()
	res := chainTrafficResult{
		ChainID: m.ChainID, Funder: m.Funder, Token: m.Token, RegistryDeployed: m.RegistryDeployed,
		FirstBlock: m.FirstBlock, LastBlock: m.LastBlock, Seconds: secs, Transactions: len(m.Transactions()),
		NormalAccounts: len(m.NormalAccounts), NormalByKind: map[chaintraffic.TxKind]int{},
		Injections: map[string]chainTrafficInjectionSum{}, Manifest: *manifest,
	}
	if m.Registry != (common.Address{}) {
		r := m.Registry
		res.Registry = &r
	}
	if secs > 0 {
		res.TxPerSecond = float64(res.Transactions) / secs
	}
	for _, tx := range m.Normal {
		res.NormalByKind[tx.Kind]++
	}
	for _, in := range m.Injections {
		s := chainTrafficInjectionSum{Transactions: len(in.Transactions), Anomalous: len(in.Anomalous), Skipped: in.Skipped}
		for _, tx := range in.Transactions {
			if tx.Status == 0 {
				s.Reverted++
			}
		}
		res.Injections[string(in.Pattern)] = s
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Printf("chain %d, blocks %d-%d: %d transactions in %.1f s (%.0f/s)\n", res.ChainID, res.FirstBlock, res.LastBlock,
		res.Transactions, secs, res.TxPerSecond)
	fmt.Printf("normal: %d accounts; %d ether transfers, %d token transfers (%d more through allowances), %d creations (token %s)\n",
		res.NormalAccounts, res.NormalByKind[chaintraffic.KindEther], res.NormalByKind[chaintraffic.KindTokenTransfer],
		res.NormalByKind[chaintraffic.KindTransferFrom], res.NormalByKind[chaintraffic.KindCreate], m.Token.Hex())
	for _, in := range m.Injections {
		s := res.Injections[string(in.Pattern)]
		if s.Skipped != "" {
			fmt.Printf("%-24s skipped: %s\n", in.Pattern, s.Skipped)
			continue
		}
		fmt.Printf("%-24s %4d transactions (%d reverted), anomalous %d account(s), blocks %d-%d\n", in.Pattern,
			s.Transactions, s.Reverted, s.Anomalous, in.FirstBlock, in.LastBlock)
	}
	fmt.Printf("manifest: %s\n", *manifest)
	return nil
}

// optionalCount is a count flag whose default is computed from others:
// unset, it prints no default and means chaintraffic's.
type optionalCount struct {
	n   int
	set bool
}

func (c *optionalCount) String() string {
	if c == nil || !c.set {
		return ""
	}
	return strconv.Itoa(c.n)
}

func (c *optionalCount) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return errors.New("want a count, 0 or more")
	}
	c.n, c.set = n, true
	return nil
}

// config is the count in chaintraffic's convention: 0 for the default,
// negative for none.
func (c *optionalCount) config() int {
	switch {
	case !c.set:
		return 0
	case c.n == 0:
		return -1
	}
	return c.n
}

// fundFromDevAccount makes a fresh key and funds it from the node's first
// unlocked account (geth --dev's developer account) with enough for the
// run.
func fundFromDevAccount(ctx context.Context, rc *rpc.Client, client *ethclient.Client, cfg chaintraffic.Config) (*ecdsa.PrivateKey, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	addr := crypto.PubkeyToAddress(key.PublicKey)
	// Every generated account's fund, with room for the extra actors of the
	// injections and for gas.
	amount := new(big.Int).Mul(cfg.Fund, big.NewInt(int64(cfg.Accounts+len(cfg.Inject)+2)))
	dev, hash, err := chain.FundFromDev(ctx, rc, addr, amount)
	if errors.Is(err, chain.ErrNoDevAccount) {
		return nil, usagef("--key-file is needed: %v; against `serve --chain-http`, give the service key (DATA_DIR/chain/service.key)", err)
	}
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := bind.WaitMined(wctx, client, hash); err != nil {
		return nil, fmt.Errorf("fund a key from dev account: transaction %s: %w", hash.Hex(), err)
	}
	fmt.Fprintf(os.Stderr, "chain-traffic: key %s funded from dev account %s\n", addr.Hex(), dev.Hex())
	return key, nil
}

// requireDevChain refuses a chain that is not a development chain (see
// chain.DevChain).
func requireDevChain(ctx context.Context, client interface {
	ChainID(context.Context) (*big.Int, error)
	HeaderByNumber(context.Context, *big.Int) (*types.Header, error)
}) error {
	id, err := client.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("read the chain id: %w", err)
	}
	genesis, err := client.HeaderByNumber(ctx, big.NewInt(0))
	if err != nil {
		return fmt.Errorf("read the genesis block: %w", err)
	}
	if chain.DevChain(id.Uint64(), genesis.Hash()) == "" {
		return fmt.Errorf("chain %d is not a development chain: chain-traffic's accounts have keys anyone can derive from the seed, so it runs only on geth --dev, the embedded chain or a simulated one", id)
	}
	return nil
}

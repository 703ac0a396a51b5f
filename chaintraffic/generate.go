// Package chaintraffic generates traffic for a chain hunter to hunt in:
// realistic normal activity on an Ethereum chain (ether transfers among
// many accounts with heavy-tailed values and uneven activity, ERC20
// transfers through a TestToken it deploys, occasional contract creations)
// with named anomalies injected at seeded points (see Pattern), and a
// Manifest recording which transactions and accounts are which, so that a
// test can measure a hunter's precision and recall per pattern.
//
// The run is deterministic per seed: the same accounts (keys derived from
// the seed), the same schedule of events, senders, receivers and values.
// Transaction hashes and block numbers depend on the chain as well. Running
// twice with one seed on one chain reuses the accounts, which then are not
// fresh any more: give each run on a chain its own seed.
package chaintraffic

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/bindings"
)

// Client is the part of an Ethereum client Generate uses; *ethclient.Client
// and simulated.Client both satisfy it.
type Client interface {
	ethereum.ChainIDReader
	ethereum.TransactionSender
	ethereum.ContractCaller
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	EstimateGas(ctx context.Context, call ethereum.CallMsg) (uint64, error)
	BalanceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (*big.Int, error)
	CodeAt(ctx context.Context, account common.Address, blockNumber *big.Int) ([]byte, error)
	TransactionReceipt(ctx context.Context, hash common.Hash) (*types.Receipt, error)
}

// Config configures Generate. Zero counts take the defaults given; a
// negative count means none.
type Config struct {
	// Key pays for everything: it funds the generated accounts and deploys
	// the token (and the registry when Registry is zero). For the registry
	// role patterns it must be the registry's owner (the service key, on
	// a chain the service anchors on), otherwise they are skipped.
	Key *ecdsa.PrivateKey
	// Seed makes the run reproducible.
	Seed int64
	// Accounts is the number of normal accounts; default 40.
	Accounts int
	// Transfers is the number of normal ether transfers; default 400.
	Transfers int
	// TokenTransfers is the number of normal token transfers; default
	// Transfers/4.
	TokenTransfers int
	// Creations is the number of contract creations by normal accounts;
	// default Transfers/100 + 1.
	Creations int
	// Duration spreads the normal activity over about this long, with
	// uneven gaps (bursts and lulls); 0 sends as fast as the chain takes it.
	Duration time.Duration
	// Inject lists the anomalies to inject, each once.
	Inject []Pattern
	// Registry is the AuditRegistry the registry patterns target; zero
	// deploys a fresh one (owned by Key) when one is needed.
	Registry common.Address
	// DrainFanout is how many fresh accounts a drain pays; default 25.
	DrainFanout int
	// FloodTxs is the size of a flood burst; default 150.
	FloodTxs int
	// PhishingVictims is how many normal accounts pay the phishing
	// account; default 20 (at most Accounts).
	PhishingVictims int
	// RogueCalls is how many anchoring calls the rogue account makes;
	// default 3.
	RogueCalls int
	// Fund is the ether given to each generated account, in wei; default
	// 10 ether.
	Fund *big.Int
	// Commit, when set, seals a block (the simulated backend); it is called
	// now and then while sending and while waiting for receipts.
	Commit func()
	// Log, when set, receives progress lines.
	Log func(format string, args ...any)
	// ManifestPath, when set, is where Generate writes the manifest (also
	// when it fails part way: what was sent and mined by then).
	ManifestPath string
}

const (
	// gasBudgetPrice is the gas price an account's budget reserves per unit
	// of gas: fixed, so that the values drawn do not depend on the chain's
	// fees. A dev chain's fee cap (twice the base fee plus the tip) stays far
	// below it.
	gasBudgetPrice = 10_000_000_000 // 10 gwei
	gasTransfer    = 21_000
	gasToken       = 90_000
	gasCreate      = 1_500_000
	gasRegistry    = 250_000
	// gasDeployRegistry is the budget of an AuditRegistry deployment.
	gasDeployRegistry = 2_500_000
	// syncEvery is how many normal events are sent before Generate waits for
	// their receipts: incoming value counts toward a balance only then.
	syncEvery = 25
	// receiptTimeout is how long a transaction may stay unmined.
	receiptTimeout = 2 * time.Minute
	// foreignBatchBase is where foreign batch ids start: far above any id
	// the service's database assigns.
	foreignBatchBase = uint64(1) << 48
)

var ether = big.NewInt(1_000_000_000_000_000_000)

// Generate sends the traffic cfg describes through client and returns its
// manifest. It funds and uses accounts derived from cfg.Seed, deploys a
// TestToken, then sends normal events with the injections at seeded points
// among them, waiting for every transaction to be mined.
func Generate(ctx context.Context, client Client, cfg Config) (*Manifest, error) {
	if cfg.Key == nil {
		return nil, errors.New("chaintraffic: no funding key")
	}
	cfg = withDefaults(cfg)
	g := &gen{client: client, cfg: cfg, token: bindings.NewTestToken(), reg: bindings.NewAuditRegistry(),
		limits: map[uint64]uint64{}}
	m, err := g.run(ctx)
	if m != nil {
		m.Finished = time.Now().UTC()
		if cfg.ManifestPath != "" {
			if werr := m.WriteFile(cfg.ManifestPath); werr != nil && err == nil {
				err = werr
			}
		}
	}
	return m, err
}

func withDefaults(cfg Config) Config {
	def := func(v *int, d int) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0:
			*v = 0
		}
	}
	def(&cfg.Accounts, 40)
	def(&cfg.Transfers, 400)
	def(&cfg.TokenTransfers, cfg.Transfers/4)
	def(&cfg.Creations, cfg.Transfers/100+1)
	def(&cfg.DrainFanout, 25)
	def(&cfg.FloodTxs, 150)
	def(&cfg.PhishingVictims, 20)
	def(&cfg.RogueCalls, 3)
	if cfg.Accounts < 2 {
		cfg.Accounts = 2
	}
	cfg.PhishingVictims = min(cfg.PhishingVictims, cfg.Accounts)
	if cfg.Fund == nil || cfg.Fund.Sign() <= 0 {
		cfg.Fund = new(big.Int).Mul(big.NewInt(10), ether)
	}
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	return cfg
}

// actor is an account Generate sends from (or to).
type actor struct {
	key  *ecdsa.PrivateKey
	addr common.Address
	// nonce is the next nonce; known once the actor first sends.
	nonce     uint64
	haveNonce bool
	// shared: someone else may send from this key too (the funder, when it
	// is the service key); a refused nonce is fetched again.
	shared bool
	// bal is the ether balance as of the last sync, a lower bound of the
	// chain's (gas is reserved at gasBudgetPrice); out and in are the value
	// sent and received since (out with its gas reserve).
	bal, out, in *big.Int
	// tok, tokOut, tokIn are the same for the token.
	tok, tokOut, tokIn *big.Int
	// drained: it has drained its balance and sends nothing more.
	drained bool
}

func newActor(key *ecdsa.PrivateKey) *actor {
	return &actor{key: key, addr: crypto.PubkeyToAddress(key.PublicKey),
		bal: new(big.Int), out: new(big.Int), in: new(big.Int),
		tok: new(big.Int), tokOut: new(big.Int), tokIn: new(big.Int)}
}

// spendable is what a can still send now: its balance as of the last sync
// less what it sent since and the gas reserve of gas more.
func (a *actor) spendable(gas uint64) *big.Int {
	s := new(big.Int).Sub(a.bal, a.out)
	return s.Sub(s, gasReserve(gas))
}

func gasReserve(gas uint64) *big.Int {
	return new(big.Int).Mul(new(big.Int).SetUint64(gas), big.NewInt(gasBudgetPrice))
}

// pending is a sent transaction waiting for its receipt; rec is filled in
// when it comes.
type pending struct {
	hash common.Hash
	list *[]Tx
	idx  int
}

type gen struct {
	client  Client
	cfg     Config
	token   *bindings.TestToken
	reg     *bindings.AuditRegistry
	chainID *big.Int
	signer  types.Signer
	feeCap  *big.Int
	tip     *big.Int

	limits   map[uint64]uint64 // gas limit by nominal gas (calibrate)
	funder   *actor
	normal   []*actor // normal accounts, then the drainer when drain is injected
	actors   []*actor // every actor whose balance is tracked
	tokenAt  common.Address
	regAt    common.Address
	pend     []pending
	rng      *rand.Rand // the normal schedule
	commitRn *rand.Rand // when to seal a block (simulated backend)
	m        *Manifest
}

// key derives the i-th key of role label from the seed.
func (g *gen) key(label string, i int) *ecdsa.PrivateKey {
	for n := 0; ; n++ {
		h := crypto.Keccak256([]byte(fmt.Sprintf("idsledger chain-traffic/%d/%s/%d/%d", g.cfg.Seed, label, i, n)))
		if k, err := crypto.ToECDSA(h); err == nil {
			return k
		}
	}
}

// rngFor is a random stream of its own for label, so that one part of the
// run (an injection that is skipped, say) cannot shift another's draws.
func (g *gen) rngFor(label string) *rand.Rand {
	h := crypto.Keccak256([]byte(fmt.Sprintf("idsledger chain-traffic/%d/rng/%s", g.cfg.Seed, label)))
	return rand.New(rand.NewPCG(new(big.Int).SetBytes(h[:8]).Uint64(), new(big.Int).SetBytes(h[8:16]).Uint64()))
}

func (g *gen) run(ctx context.Context) (*Manifest, error) {
	var err error
	if g.chainID, err = g.client.ChainID(ctx); err != nil {
		return nil, fmt.Errorf("chaintraffic: chain id: %w", err)
	}
	g.signer = types.LatestSignerForChainID(g.chainID)
	g.funder = newActor(g.cfg.Key)
	g.funder.shared = true
	g.rng = g.rngFor("normal")
	g.commitRn = g.rngFor("commit")
	head, err := g.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("chaintraffic: head: %w", err)
	}
	g.m = &Manifest{Version: ManifestVersion, Seed: g.cfg.Seed, ChainID: g.chainID.Uint64(), Funder: g.funder.addr,
		FirstBlock: head.Number.Uint64() + 1, Started: time.Now().UTC(), NormalAccounts: []common.Address{},
		Setup: []Tx{}, Normal: []Tx{}}
	if err := g.refreshFees(ctx); err != nil {
		return g.m, err
	}

	inj := g.planInjections()
	// Room for every injection up front: pending receipts point into
	// their transaction lists.
	g.m.Injections = make([]Injection, 0, len(inj))
	if err := g.setup(ctx, inj); err != nil {
		return g.m, err
	}
	if err := g.normalRun(ctx, inj); err != nil {
		return g.m, err
	}
	return g.m, nil
}

// injector is one planned injection: the actors it uses (funded at setup)
// and where in the normal schedule it goes.
type injector struct {
	pattern Pattern
	at      int // before this normal event
	actors  map[string]*actor
	rng     *rand.Rand
}

func (g *gen) planInjections() []*injector {
	events := g.cfg.Transfers + g.cfg.TokenTransfers + g.cfg.Creations
	var out []*injector
	for _, p := range g.cfg.Inject {
		in := &injector{pattern: p, rng: g.rngFor(string(p)), actors: map[string]*actor{}}
		lo, hi := events/10, events*9/10
		in.at = lo
		if hi > lo {
			in.at = lo + in.rng.IntN(hi-lo)
		}
		// The actors that need ether up front, funded at setup.
		switch p {
		case Drain:
			in.actors["drainer"] = newActor(g.key("drainer", 0))
		case Flood:
			in.actors["flooder"] = newActor(g.key("flooder", 0))
		case Phishing:
			in.actors["phisher"] = newActor(g.key("phisher", 0))
		case RegistryRogueCall:
			in.actors["rogue"] = newActor(g.key("rogue", 0))
		case RegistryRoleChange:
			in.actors["new_owner"] = newActor(g.key("new_owner", 0))
		case RegistryForeignBatch:
			in.actors["foreign"] = newActor(g.key("foreign", 0))
		}
		out = append(out, in)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out
}

func (in *injector) funded() []*actor {
	keys := make([]string, 0, len(in.actors))
	for k := range in.actors {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]*actor, 0, len(keys))
	for _, k := range keys {
		out = append(out, in.actors[k])
	}
	return out
}

// setup funds every account that sends, deploys the token (and the
// registry if needed), mints tokens to the normal accounts and waits for
// all of it.
func (g *gen) setup(ctx context.Context, inj []*injector) error {
	for i := range g.cfg.Accounts {
		a := newActor(g.key("account", i))
		g.normal = append(g.normal, a)
		g.m.NormalAccounts = append(g.m.NormalAccounts, a.addr)
	}
	funded := slices.Clone(g.normal)
	g.actors = append(g.actors, g.funder)
	needRegistry := false
	for _, in := range inj {
		funded = append(funded, in.funded()...)
		if d := in.actors["drainer"]; d != nil {
			// The drainer has a normal history before it drains.
			g.normal = append(g.normal, d)
		}
		needRegistry = needRegistry || slices.Contains(registryPatterns, in.pattern)
	}
	g.actors = append(g.actors, funded...)
	need := new(big.Int).Mul(g.cfg.Fund, big.NewInt(int64(len(funded)+1)))
	bal, err := g.client.BalanceAt(ctx, g.funder.addr, nil)
	if err != nil {
		return fmt.Errorf("chaintraffic: funder balance: %w", err)
	}
	if bal.Cmp(need) < 0 {
		return fmt.Errorf("chaintraffic: funder %s holds %s wei, the run needs about %s", g.funder.addr.Hex(), bal, need)
	}
	g.cfg.Log("chain-traffic: funding %d accounts from %s", len(funded), g.funder.addr.Hex())
	for _, a := range funded {
		to := a.addr
		if err := g.send(ctx, g.funder, &Tx{Kind: KindFund, To: &to, Value: new(big.Int).Set(g.cfg.Fund)}, nil, gasTransfer, &g.m.Setup); err != nil {
			return err
		}
		a.in.Add(a.in, g.cfg.Fund)
	}

	tokenNonce, err := g.nonce(ctx, g.funder)
	if err != nil {
		return err
	}
	g.tokenAt = crypto.CreateAddress(g.funder.addr, tokenNonce)
	g.m.Token = g.tokenAt
	data := append(common.FromHex(bindings.TestTokenMetaData.Bin), g.token.PackConstructor("Traffic Token", "TRAFFIC")...)
	if err := g.calibrate(ctx, gasCreate, data, nil); err != nil {
		return err
	}
	if err := g.send(ctx, g.funder, &Tx{Kind: KindDeployToken, Value: new(big.Int)}, data, gasCreate, &g.m.Setup); err != nil {
		return err
	}
	if needRegistry {
		if err := g.openRegistry(ctx); err != nil {
			return err
		}
	}
	if err := g.sync(ctx); err != nil {
		return err
	}
	// A first mint to a fresh account writes as much fresh storage as a
	// token transfer to one; the registry's calls are priced in proportion.
	fresh := crypto.PubkeyToAddress(g.key("calibration", 0).PublicKey)
	if err := g.calibrate(ctx, gasToken, g.token.PackMint(fresh, big.NewInt(1)), &g.tokenAt); err != nil {
		return err
	}
	g.limits[gasRegistry] = gasRegistry * g.limits[gasToken] / gasToken
	mintRng := g.rngFor("mint")
	for _, a := range g.normal {
		amount := lognormal(mintRng, 10_000, 1.5, 18)
		to := a.addr
		tokenAt := g.tokenAt
		rec := &Tx{Kind: KindMint, To: &tokenAt, Value: new(big.Int), TokenTo: &to, TokenValue: amount}
		if err := g.send(ctx, g.funder, rec, g.token.PackMint(to, amount), gasToken, &g.m.Setup); err != nil {
			return err
		}
		a.tokIn.Add(a.tokIn, amount)
	}
	if err := g.sync(ctx); err != nil {
		return err
	}
	for _, tx := range g.m.Setup {
		if tx.Status != types.ReceiptStatusSuccessful {
			return fmt.Errorf("chaintraffic: setup transaction %s (%s) failed", tx.Hash.Hex(), tx.Kind)
		}
	}
	g.cfg.Log("chain-traffic: token %s deployed, %d accounts funded", g.tokenAt.Hex(), len(funded))
	return nil
}

// calibrate sets the gas limit of the transactions budgeted nominal gas
// from the node's estimate of a call from the funder: half as much again,
// and never below nominal. The budgets (gasReserve) stay nominal, so that
// the values drawn do not depend on the chain; the limits follow the
// chain's rules (geth --dev without idsledger's genesis charges fresh
// storage several times what mainnet does).
func (g *gen) calibrate(ctx context.Context, nominal uint64, data []byte, to *common.Address) error {
	est, err := g.client.EstimateGas(ctx, ethereum.CallMsg{From: g.funder.addr, To: to, Data: data})
	if err != nil {
		return fmt.Errorf("chaintraffic: estimate gas: %w", err)
	}
	g.limits[nominal] = max(nominal, est+est/2)
	return nil
}

// limit is the gas limit of a transaction budgeted nominal gas.
func (g *gen) limit(nominal uint64) uint64 {
	if l, ok := g.limits[nominal]; ok {
		return l
	}
	return nominal
}

// openRegistry uses cfg.Registry, checking it has code, or deploys a
// fresh AuditRegistry owned by the funder.
func (g *gen) openRegistry(ctx context.Context) error {
	if g.cfg.Registry != (common.Address{}) {
		code, err := g.client.CodeAt(ctx, g.cfg.Registry, nil)
		if err != nil {
			return fmt.Errorf("chaintraffic: registry code: %w", err)
		}
		if len(code) == 0 {
			return fmt.Errorf("chaintraffic: no contract at registry address %s", g.cfg.Registry.Hex())
		}
		g.regAt = g.cfg.Registry
		g.m.Registry = g.regAt
		return nil
	}
	n, err := g.nonce(ctx, g.funder)
	if err != nil {
		return err
	}
	g.regAt = crypto.CreateAddress(g.funder.addr, n)
	g.m.Registry, g.m.RegistryDeployed = g.regAt, true
	data := common.FromHex(bindings.AuditRegistryMetaData.Bin)
	if err := g.calibrate(ctx, gasDeployRegistry, data, nil); err != nil {
		return err
	}
	return g.send(ctx, g.funder, &Tx{Kind: KindDeployRegistry, Value: new(big.Int)}, data, gasDeployRegistry, &g.m.Setup)
}

// normalRun sends the normal events, the injections at their points among
// them, and waits for the last receipts.
func (g *gen) normalRun(ctx context.Context, inj []*injector) error {
	kinds := make([]TxKind, 0, g.cfg.Transfers+g.cfg.TokenTransfers+g.cfg.Creations)
	for range g.cfg.Transfers {
		kinds = append(kinds, KindEther)
	}
	for range g.cfg.TokenTransfers {
		kinds = append(kinds, KindTokenTransfer)
	}
	for range g.cfg.Creations {
		kinds = append(kinds, KindCreate)
	}
	g.rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	gaps := g.gaps(len(kinds))
	weights := zipfWeights(g.rng, len(g.normal), 1.1)
	contacts := make([][]int, len(g.normal))
	for i := range contacts {
		for range 2 + g.rng.IntN(5) {
			if j := pick(g.rng, weights); j != i {
				contacts[i] = append(contacts[i], j)
			}
		}
	}

	next := 0
	for i, kind := range kinds {
		for next < len(inj) && inj[next].at <= i {
			if err := g.inject(ctx, inj[next]); err != nil {
				return err
			}
			next++
		}
		if i > 0 && i%syncEvery == 0 {
			if err := g.sync(ctx); err != nil {
				return err
			}
			g.cfg.Log("chain-traffic: %d/%d normal events, %d/%d injections", i, len(kinds), next, len(inj))
		}
		if err := sleep(ctx, gaps[i]); err != nil {
			return err
		}
		from := pick(g.rng, weights)
		to := pick(g.rng, weights)
		if len(contacts[from]) > 0 && g.rng.Float64() < 0.65 {
			to = contacts[from][g.rng.IntN(len(contacts[from]))]
		}
		if to == from {
			to = (to + 1 + g.rng.IntN(len(g.normal)-1)) % len(g.normal)
		}
		if err := g.normalEvent(ctx, kind, i, g.normal[from], g.normal[to]); err != nil {
			return err
		}
		if g.cfg.Commit != nil && g.commitRn.Float64() < 0.3 {
			g.cfg.Commit()
		}
	}
	for ; next < len(inj); next++ {
		if err := g.inject(ctx, inj[next]); err != nil {
			return err
		}
	}
	if err := g.sync(ctx); err != nil {
		return err
	}
	g.cfg.Log("chain-traffic: done: %d normal transactions, %d injections, blocks %d-%d",
		len(g.m.Normal), len(g.m.Injections), g.m.FirstBlock, g.m.LastBlock)
	return nil
}

// normalEvent sends one normal event (the value drawn whatever happens,
// so that the schedule does not depend on balances on chain).
func (g *gen) normalEvent(ctx context.Context, kind TxKind, i int, from, to *actor) error {
	switch kind {
	case KindEther:
		v := lognormal(g.rng, 0.05, 2.0, 18)
		if from.drained {
			return nil
		}
		if c := frac(from.spendable(gasTransfer), 0.3); v.Cmp(c) > 0 {
			v = c
		}
		if v.Sign() <= 0 {
			return nil
		}
		dst := to.addr
		if err := g.send(ctx, from, &Tx{Kind: KindEther, To: &dst, Value: v}, nil, gasTransfer, &g.m.Normal); err != nil {
			return err
		}
		to.in.Add(to.in, v)
	case KindTokenTransfer:
		v := lognormal(g.rng, 50, 2.0, 18)
		if from.drained {
			return nil
		}
		avail := new(big.Int).Sub(from.tok, from.tokOut)
		if c := frac(avail, 0.5); v.Cmp(c) > 0 {
			v = c
		}
		if v.Sign() <= 0 || from.spendable(gasToken).Sign() <= 0 {
			return nil
		}
		dst, tokenAt := to.addr, g.tokenAt
		rec := &Tx{Kind: KindTokenTransfer, To: &tokenAt, Value: new(big.Int), TokenTo: &dst, TokenValue: v}
		if err := g.send(ctx, from, rec, g.token.PackTransfer(dst, v), gasToken, &g.m.Normal); err != nil {
			return err
		}
		from.tokOut.Add(from.tokOut, v)
		to.tokIn.Add(to.tokIn, v)
	case KindCreate:
		if from.drained || from.spendable(gasCreate).Sign() <= 0 {
			return nil
		}
		data := append(common.FromHex(bindings.TestTokenMetaData.Bin),
			g.token.PackConstructor(fmt.Sprintf("Side Token %d", i), fmt.Sprintf("SIDE%d", i))...)
		return g.send(ctx, from, &Tx{Kind: KindCreate, Value: new(big.Int)}, data, gasCreate, &g.m.Normal)
	}
	return nil
}

// gaps are the waits before each of n events: exponential, with one in ten
// stretched (a lull) and runs of near-zero gaps (bursts), scaled to sum to
// cfg.Duration. All zero when Duration is.
func (g *gen) gaps(n int) []time.Duration {
	out := make([]time.Duration, n)
	gr := g.rngFor("timing")
	raw := make([]float64, n)
	sum := 0.0
	for i := range raw {
		x := gr.ExpFloat64()
		switch r := gr.Float64(); {
		case r < 0.1:
			x *= 6
		case r < 0.35:
			x *= 0.05
		}
		raw[i] = x
		sum += x
	}
	if g.cfg.Duration <= 0 || sum == 0 {
		return out
	}
	for i, x := range raw {
		out[i] = time.Duration(float64(g.cfg.Duration) * x / sum)
	}
	return out
}

// inject sends one injection, between two syncs so that balances are known
// and its transactions are mined before normal traffic resumes.
func (g *gen) inject(ctx context.Context, in *injector) error {
	if err := g.sync(ctx); err != nil {
		return err
	}
	g.m.Injections = append(g.m.Injections, Injection{Pattern: in.pattern, Anomalous: []common.Address{}, Transactions: []Tx{}})
	rec := &g.m.Injections[len(g.m.Injections)-1]
	g.cfg.Log("chain-traffic: injecting %s", in.pattern)
	var err error
	switch in.pattern {
	case Drain:
		err = g.drain(ctx, in, rec)
	case Flood:
		err = g.flood(ctx, in, rec)
	case Phishing:
		err = g.phishing(ctx, in, rec)
	case RegistryRogueCall:
		err = g.rogueCall(ctx, in, rec)
	case RegistryRoleChange:
		err = g.roleChange(ctx, in, rec)
	case RegistryForeignBatch:
		err = g.foreignBatch(ctx, in, rec)
	default:
		err = fmt.Errorf("chaintraffic: unknown pattern %q", in.pattern)
	}
	if err == nil {
		err = g.sync(ctx)
	}
	for _, tx := range rec.Transactions {
		if rec.FirstBlock == 0 || tx.Block < rec.FirstBlock {
			rec.FirstBlock = tx.Block
		}
		rec.LastBlock = max(rec.LastBlock, tx.Block)
	}
	if err != nil {
		return fmt.Errorf("chaintraffic: %s: %w", in.pattern, err)
	}
	return nil
}

// drain: the drainer sends all it holds to DrainFanout fresh accounts, as
// fast as it can.
func (g *gen) drain(ctx context.Context, in *injector, rec *Injection) error {
	d := in.actors["drainer"]
	rec.Anomalous = append(rec.Anomalous, d.addr)
	k := g.cfg.DrainFanout
	left := frac(d.spendable(gasTransfer*uint64(k)), 0.995)
	each := new(big.Int).Div(left, big.NewInt(int64(k)))
	if each.Sign() <= 0 {
		rec.Skipped = "the drainer holds nothing to drain"
		return nil
	}
	for i := range k {
		to := g.key("drain_target", i)
		addr := crypto.PubkeyToAddress(to.PublicKey)
		rec.Counterparties = append(rec.Counterparties, addr)
		// Uneven parts, as a script splitting a balance would make; the
		// last takes the rest.
		v := frac(each, 0.8+0.2*in.rng.Float64())
		if i == k-1 {
			v = new(big.Int).Set(left)
		}
		left.Sub(left, v)
		if err := g.send(ctx, d, &Tx{Kind: KindEther, To: &addr, Value: v}, nil, gasTransfer, &rec.Transactions); err != nil {
			return err
		}
	}
	d.drained = true
	g.commit()
	return nil
}

// flood: one account sends FloodTxs tiny transfers to a few sinks at once.
func (g *gen) flood(ctx context.Context, in *injector, rec *Injection) error {
	f := in.actors["flooder"]
	rec.Anomalous = append(rec.Anomalous, f.addr)
	sinks := make([]common.Address, 1+in.rng.IntN(3))
	for i := range sinks {
		sinks[i] = crypto.PubkeyToAddress(g.key("flood_sink", i).PublicKey)
	}
	rec.Counterparties = append(rec.Counterparties, sinks...)
	for i := range g.cfg.FloodTxs {
		to := sinks[in.rng.IntN(len(sinks))]
		v := big.NewInt(1_000_000_000 + in.rng.Int64N(1_000_000_000_000))
		if err := g.send(ctx, f, &Tx{Kind: KindEther, To: &to, Value: v}, nil, gasTransfer, &rec.Transactions); err != nil {
			return err
		}
		if i%50 == 49 {
			g.commit()
		}
	}
	g.commit()
	return nil
}

// phishing: PhishingVictims normal accounts each send the phishing account
// a small amount; once mined, it forwards what it collected to a fresh
// account in one or two transfers.
func (g *gen) phishing(ctx context.Context, in *injector, rec *Injection) error {
	p := in.actors["phisher"]
	rec.Anomalous = append(rec.Anomalous, p.addr)
	victims := in.rng.Perm(g.cfg.Accounts)[:g.cfg.PhishingVictims]
	collected := new(big.Int)
	for _, vi := range victims {
		v := g.normal[vi]
		amount := lognormal(in.rng, 0.02, 0.8, 18)
		if c := frac(v.spendable(gasTransfer), 0.3); amount.Cmp(c) > 0 {
			amount = c
		}
		if amount.Sign() <= 0 {
			continue
		}
		rec.Counterparties = append(rec.Counterparties, v.addr)
		to := p.addr
		if err := g.send(ctx, v, &Tx{Kind: KindEther, To: &to, Value: amount}, nil, gasTransfer, &rec.Transactions); err != nil {
			return err
		}
		p.in.Add(p.in, amount)
		collected.Add(collected, amount)
		if in.rng.Float64() < 0.3 {
			g.commit()
		}
	}
	if err := g.sync(ctx); err != nil {
		return err
	}
	cashout := crypto.PubkeyToAddress(g.key("phishing_cashout", 0).PublicKey)
	rec.Counterparties = append(rec.Counterparties, cashout)
	parts := 1 + in.rng.IntN(2)
	each := new(big.Int).Div(frac(collected, 0.95), big.NewInt(int64(parts)))
	for range parts {
		if err := g.send(ctx, p, &Tx{Kind: KindEther, To: &cashout, Value: each}, nil, gasTransfer, &rec.Transactions); err != nil {
			return err
		}
	}
	g.commit()
	return nil
}

// rogueCall: an account without the anchoring role calls anchor and
// anchorBatch, sent without gas estimation (which would refuse them), so
// that they are mined and revert.
func (g *gen) rogueCall(ctx context.Context, in *injector, rec *Injection) error {
	r := in.actors["rogue"]
	rec.Anomalous = append(rec.Anomalous, r.addr)
	regAt := g.regAt
	for i := range g.cfg.RogueCalls {
		var root [32]byte
		fillRandom(in.rng, root[:])
		var (
			data []byte
			kind TxKind
		)
		if i%2 == 0 {
			var id [16]byte
			fillRandom(in.rng, id[:])
			data, kind = g.reg.PackAnchor(id, root, 1), KindAnchor
		} else {
			data, kind = g.reg.PackAnchorBatch(foreignBatchBase+in.rng.Uint64N(1<<40), root, 1+uint32(in.rng.IntN(4096)), 1), KindAnchorBatch
		}
		if err := g.send(ctx, r, &Tx{Kind: kind, To: &regAt, Value: new(big.Int)}, data, gasRegistry, &rec.Transactions); err != nil {
			return err
		}
	}
	g.commit()
	return nil
}

// registryOwner returns the registry's owner, and whether it is the
// funder (else the role patterns are skipped, with a reason in rec).
func (g *gen) registryOwner(ctx context.Context, rec *Injection) (bool, error) {
	out, err := g.client.CallContract(ctx, ethereum.CallMsg{To: &g.regAt, Data: g.reg.PackOwner()}, nil)
	if err != nil {
		return false, fmt.Errorf("registry owner: %w", err)
	}
	owner, err := g.reg.UnpackOwner(out)
	if err != nil {
		return false, fmt.Errorf("registry owner: %w", err)
	}
	rec.Counterparties = append(rec.Counterparties, owner)
	if owner != g.funder.addr {
		rec.Skipped = fmt.Sprintf("the funding key %s is not the registry owner %s", g.funder.addr.Hex(), owner.Hex())
		return false, nil
	}
	return true, nil
}

// roleChange: the owner grants the anchoring role to a fresh account and
// revokes it, then transfers ownership to another fresh account, which
// transfers it straight back. If the way back fails, the error carries the
// temporary owner's key so that a person can finish it.
func (g *gen) roleChange(ctx context.Context, in *injector, rec *Injection) error {
	if ok, err := g.registryOwner(ctx, rec); err != nil || !ok {
		return err
	}
	grantee := crypto.PubkeyToAddress(g.key("grantee", 0).PublicKey)
	newOwner := in.actors["new_owner"]
	rec.Anomalous = append(rec.Anomalous, grantee, newOwner.addr)
	regAt := g.regAt
	steps := []struct {
		from *actor
		kind TxKind
		data []byte
	}{
		{g.funder, KindGrantAnchorer, g.reg.PackGrantAnchorer(grantee)},
		{g.funder, KindRevokeAnchorer, g.reg.PackRevokeAnchorer(grantee)},
		{g.funder, KindTransferOwnership, g.reg.PackTransferOwnership(newOwner.addr)},
		{newOwner, KindTransferOwnership, g.reg.PackTransferOwnership(g.funder.addr)},
	}
	for i, s := range steps {
		if err := g.send(ctx, s.from, &Tx{Kind: s.kind, To: &regAt, Value: new(big.Int)}, s.data, gasRegistry, &rec.Transactions); err != nil {
			if i == 3 {
				return fmt.Errorf("registry ownership left with %s (key %x): %w", newOwner.addr.Hex(), crypto.FromECDSA(newOwner.key), err)
			}
			return err
		}
		// Each step is mined before the next: a grant must precede its
		// revoke, and the new owner must own before it can hand back.
		if err := g.sync(ctx); err != nil {
			return err
		}
	}
	return nil
}

// foreignBatch: the owner grants the role to a fresh account, which
// anchors a batch with an id the service never assigns; the owner then
// revokes the role.
func (g *gen) foreignBatch(ctx context.Context, in *injector, rec *Injection) error {
	if ok, err := g.registryOwner(ctx, rec); err != nil || !ok {
		return err
	}
	a := in.actors["foreign"]
	rec.Anomalous = append(rec.Anomalous, a.addr)
	b := ForeignBatch{ID: foreignBatchBase + in.rng.Uint64N(1<<40), LeafCount: 1 + uint32(in.rng.IntN(4096)), Kind: 1}
	fillRandom(in.rng, b.Root[:])
	rec.ForeignBatches = append(rec.ForeignBatches, b)
	regAt := g.regAt
	steps := []struct {
		from *actor
		kind TxKind
		data []byte
	}{
		{g.funder, KindGrantAnchorer, g.reg.PackGrantAnchorer(a.addr)},
		{a, KindAnchorBatch, g.reg.PackAnchorBatch(b.ID, b.Root, b.LeafCount, b.Kind)},
		{g.funder, KindRevokeAnchorer, g.reg.PackRevokeAnchorer(a.addr)},
	}
	for _, s := range steps {
		if err := g.send(ctx, s.from, &Tx{Kind: s.kind, To: &regAt, Value: new(big.Int)}, s.data, gasRegistry, &rec.Transactions); err != nil {
			return err
		}
		if err := g.sync(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) commit() {
	if g.cfg.Commit != nil {
		g.cfg.Commit()
	}
}

// nonce returns a's next nonce, asking the node the first time.
func (g *gen) nonce(ctx context.Context, a *actor) (uint64, error) {
	if !a.haveNonce {
		n, err := g.client.PendingNonceAt(ctx, a.addr)
		if err != nil {
			return 0, fmt.Errorf("chaintraffic: nonce of %s: %w", a.addr.Hex(), err)
		}
		a.nonce, a.haveNonce = n, true
	}
	return a.nonce, nil
}

// send signs rec's transaction (To, Value, data, gas) from a, sends it and
// appends rec to *list; the receipt fills in the rest at the next sync. The
// sender's budget is charged the value and the gas reserve.
func (g *gen) send(ctx context.Context, a *actor, rec *Tx, data []byte, gas uint64, list *[]Tx) error {
	rec.From = a.addr
	if rec.Value == nil {
		rec.Value = new(big.Int)
	}
	var lastErr error
	for try := 0; try < 3; try++ {
		n, err := g.nonce(ctx, a)
		if err != nil {
			return err
		}
		tx, err := types.SignNewTx(a.key, g.signer, &types.DynamicFeeTx{
			ChainID: g.chainID, Nonce: n, GasTipCap: g.tip, GasFeeCap: g.feeCap, Gas: g.limit(gas),
			To: rec.To, Value: rec.Value, Data: data,
		})
		if err != nil {
			return fmt.Errorf("chaintraffic: sign: %w", err)
		}
		if lastErr = g.client.SendTransaction(ctx, tx); lastErr == nil {
			a.nonce++
			rec.Hash = tx.Hash()
			*list = append(*list, *rec)
			g.pend = append(g.pend, pending{hash: tx.Hash(), list: list, idx: len(*list) - 1})
			a.out.Add(a.out, rec.Value)
			a.out.Add(a.out, gasReserve(gas))
			return nil
		}
		if !a.shared || ctx.Err() != nil {
			break
		}
		// Someone else sends from this key: ask the node for the nonce again.
		a.haveNonce = false
	}
	return fmt.Errorf("chaintraffic: send %s from %s: %w", rec.Kind, a.addr.Hex(), lastErr)
}

// sync waits for the receipt of every transaction sent since the last
// sync, fills in the manifest from them, folds the value sent and received
// into the balances and refreshes the fee.
func (g *gen) sync(ctx context.Context) error {
	if len(g.pend) > 0 {
		g.commit()
		for _, p := range g.pend {
			r, err := g.receipt(ctx, p.hash)
			if err != nil {
				return err
			}
			t := &(*p.list)[p.idx]
			t.Block, t.Status, t.GasUsed = r.BlockNumber.Uint64(), r.Status, r.GasUsed
			if t.To == nil && r.ContractAddress != (common.Address{}) {
				c := r.ContractAddress
				t.Contract = &c
			}
			g.m.LastBlock = max(g.m.LastBlock, t.Block)
		}
		g.pend = g.pend[:0]
	}
	for _, a := range g.actors {
		a.settle()
	}
	return g.refreshFees(ctx)
}

// settle folds what a sent and received since the last sync into its
// balances.
func (a *actor) settle() {
	a.bal.Add(a.bal.Sub(a.bal, a.out), a.in)
	a.tok.Add(a.tok.Sub(a.tok, a.tokOut), a.tokIn)
	a.out.SetInt64(0)
	a.in.SetInt64(0)
	a.tokOut.SetInt64(0)
	a.tokIn.SetInt64(0)
}

// receipt waits for the receipt of hash, sealing blocks meanwhile on the
// simulated backend.
func (g *gen) receipt(ctx context.Context, hash common.Hash) (*types.Receipt, error) {
	deadline := time.Now().Add(receiptTimeout)
	wait := 2 * time.Millisecond
	for {
		r, err := g.client.TransactionReceipt(ctx, hash)
		if err == nil {
			return r, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("chaintraffic: transaction %s not mined after %s: %w", hash.Hex(), receiptTimeout, err)
		}
		g.commit()
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// refreshFees prices the next transactions from the latest base fee and
// the node's suggested tip: a fee cap of twice the base fee plus the tip.
func (g *gen) refreshFees(ctx context.Context) error {
	head, err := g.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return fmt.Errorf("chaintraffic: head: %w", err)
	}
	tip, err := g.client.SuggestGasTipCap(ctx)
	if err != nil {
		return fmt.Errorf("chaintraffic: suggest tip: %w", err)
	}
	base := head.BaseFee
	if base == nil {
		base = new(big.Int)
	}
	g.tip = tip
	g.feeCap = new(big.Int).Add(new(big.Int).Mul(base, big.NewInt(2)), tip)
	return nil
}

// lognormal draws median·e^(sigma·N(0,1)) whole units as base units of
// the given decimals: a heavy-tailed amount.
func lognormal(r *rand.Rand, median, sigma float64, decimals int) *big.Int {
	x := median * math.Exp(sigma*r.NormFloat64())
	f := new(big.Float).SetFloat64(x)
	f.Mul(f, new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)))
	v, _ := f.Int(nil)
	return v
}

// frac is x·f, to a millionth.
func frac(x *big.Int, f float64) *big.Int {
	v := new(big.Int).Mul(x, big.NewInt(int64(f*1e6)))
	return v.Quo(v, big.NewInt(1e6))
}

// zipfWeights are cumulative weights of n items, the k-th most active
// (in an order drawn from r) weighing 1/k^s: a few accounts make most of
// the traffic, most make little.
func zipfWeights(r *rand.Rand, n int, s float64) []float64 {
	rank := r.Perm(n)
	cum := make([]float64, n)
	total := 0.0
	for i := range n {
		total += 1 / math.Pow(float64(rank[i]+1), s)
		cum[i] = total
	}
	return cum
}

// pick draws an index with the cumulative weights cum.
func pick(r *rand.Rand, cum []float64) int {
	x := r.Float64() * cum[len(cum)-1]
	return min(sort.SearchFloat64s(cum, x), len(cum)-1)
}

func fillRandom(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

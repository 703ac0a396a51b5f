// Package chaintraffic generates traffic for a chain hunter to hunt in:
// realistic normal activity on an Ethereum chain (ether transfers among
// many accounts with heavy-tailed values and uneven activity, ERC20
// transfers through a TestToken it deploys, occasional contract creations)
// with named anomalies injected at seeded points (see Pattern), and a
// Manifest recording which transactions and accounts are which, so that a
// test can measure a hunter's precision and recall per pattern
// (Manifest.ScoreAccounts, Manifest.ScoreTransactions). Check holds a
// manifest to the chain it was generated on.
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
	// Transfers/4. About one in six is made through an allowance: an
	// approve, then a transferFrom by the spender to a third account.
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
	// Wait, when set, replaces the real wait of d before a normal event
	// (d is often zero). On the simulated backend it can seal what is
	// pending and move the clock on by d (Backend.AdjustTime), so that a
	// Duration of hours makes realistic block times in no time.
	Wait func(d time.Duration) error
	// Log, when set, receives progress lines.
	Log func(format string, args ...any)
	// ManifestPath, when set, is where Generate writes the manifest (also
	// when it fails part way: what was sent by then, with Block 0 for what
	// was not seen mined).
	ManifestPath string
}

const (
	// gasBudgetPrice is the gas price an account's budget reserves per unit
	// of gas: fixed, so that the values drawn do not depend on the chain's
	// fees. A dev chain's fee cap (twice the base fee plus the tip) stays far
	// below it.
	gasBudgetPrice = 10_000_000_000 // 10 gwei
	// The gas budgeted per transaction: an ether transfer, a token transfer
	// or mint, a contract creation, a registry call. The limits sent are
	// calibrated from the node's estimates (see calibrate); the budgets stay.
	gasTransfer = 21_000
	gasToken    = 90_000
	gasCreate   = 1_500_000
	gasRegistry = 250_000
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

// pending is a sent transaction waiting for its receipt; (*list)[idx], its
// manifest entry, is filled in when it comes.
type pending struct {
	hash common.Hash
	list *[]Tx
	idx  int
}

// gen is one run of Generate.
type gen struct {
	client  Client
	cfg     Config
	token   *bindings.TestToken
	reg     *bindings.AuditRegistry
	chainID *big.Int
	signer  types.Signer
	feeCap  *big.Int
	tip     *big.Int

	limits  map[uint64]uint64 // gas limit by nominal gas (calibrate)
	funder  *actor
	normal  []*actor // normal accounts, then the drainer when drain is injected
	actors  []*actor // every actor whose balance is tracked
	tokenAt common.Address
	regAt   common.Address
	pend    []pending
	// allowances are approvals waiting to be spent.
	allowances []allowance
	rng        *rand.Rand // the normal schedule
	commitRn   *rand.Rand // when to seal a block (simulated backend)
	m          *Manifest
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
	weights := zipfWeights(g.rng, len(g.normal), 0.8)
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
			if err := g.spendAllowances(ctx); err != nil {
				return err
			}
			g.cfg.Log("chain-traffic: %d/%d normal events, %d/%d injections", i, len(kinds), next, len(inj))
		}
		if err := g.wait(ctx, gaps[i]); err != nil {
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
	if err := g.spendAllowances(ctx); err != nil {
		return err
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
		// One in six goes through an allowance: from approves to, which
		// later moves the tokens on to a third account (transferFrom).
		delegated, third := g.rng.Float64() < 1.0/6, g.normal[g.rng.IntN(len(g.normal))]
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
		if delegated {
			rec := &Tx{Kind: KindApprove, To: &tokenAt, Value: new(big.Int), TokenSpender: &dst, TokenValue: v}
			if err := g.send(ctx, from, rec, g.token.PackApprove(dst, v), gasToken, &g.m.Normal); err != nil {
				return err
			}
			from.tokOut.Add(from.tokOut, v)
			g.allowances = append(g.allowances, allowance{owner: from, spender: to, recipient: third, value: v})
			return nil
		}
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

// allowance is an approval sent in normal activity, to be spent with
// transferFrom once it is mined.
type allowance struct {
	owner, spender, recipient *actor
	value                     *big.Int
}

// spendAllowances has each spender of an approval mined since move the
// tokens to its recipient (the owner's budget was charged at approval).
func (g *gen) spendAllowances(ctx context.Context) error {
	for _, al := range g.allowances {
		if al.spender.drained || al.spender.spendable(gasToken).Sign() <= 0 {
			continue
		}
		owner, dst, tokenAt := al.owner.addr, al.recipient.addr, g.tokenAt
		rec := &Tx{Kind: KindTransferFrom, To: &tokenAt, Value: new(big.Int), TokenFrom: &owner, TokenTo: &dst, TokenValue: al.value}
		if err := g.send(ctx, al.spender, rec, g.token.PackTransferFrom(owner, dst, al.value), gasToken, &g.m.Normal); err != nil {
			return err
		}
		al.recipient.tokIn.Add(al.recipient.tokIn, al.value)
	}
	g.allowances = g.allowances[:0]
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

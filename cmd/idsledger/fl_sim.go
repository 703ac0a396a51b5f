package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/flsim"
)

func init() {
	register(command{
		name:    "fl-sim",
		summary: "simulate a federation: N sites (some attacking) against a real coordinator, figures per round",
		run:     runFLSim,
	})
}

// simEnv is what fl-sim's coordinator is run with: the command's own
// settings, beside the flsim.Setup the simulation computes.
type simEnv struct {
	// DatabaseURL names the PostgreSQL server on which the coordinator
	// creates (and drops) a scratch database, as `bench anchor` does.
	DatabaseURL string
	// EthRPC is a chain to use instead of the embedded dev chain ("":
	// embedded), with EthKeyFile its service key.
	EthRPC, EthKeyFile string
	// Verbose shows the service's own log (info and above) on stderr.
	Verbose bool
}

// simCoordinator starts the coordinator fl-sim runs against: the service
// itself, in process (the API routes on a loopback port, PostgreSQL on a
// scratch database, the federation registry on the embedded chain), as an
// flsim.Coordinator (startSimService, fl_sim_service.go). Tests put the
// in-memory coordinator of internal/flfakes in its place.
var simCoordinator func(ctx context.Context, env simEnv, s flsim.Setup) (flsim.Coordinator, error)

func runFLSim(ctx context.Context, args []string) error {
	fs := newFlagSet("fl-sim", "fl-sim --sites N --rounds R --dataset KIND --data FILE... [--test FILE | --split-by COLUMN] [--partition iid|dirichlet:α|by-dst] [--model bilstm|autoencoder] "+
		"[--malicious M --attack scale:k|signflip|noise:s|labelflip|freerider] [--aggregate RULE] [--thresholds default|permissive|FILE] [--dp-sigma S --dp-clip C] [--compress none|q8|topk:p] [--json] [--report DIR]")
	var ds datasetFlags
	ds.register(fs, "")
	sites := fs.Int("sites", 4, "number of sites")
	rounds := fs.Int("rounds", 5, "number of rounds")
	var test listFlag
	fs.Var(&test, "test", "flow file each global model is evaluated on (repeatable; default: 20% of each class of --data held out)")
	splitBy := fs.String("split-by", "", "hold out the test and coordinator flows by this identifier COLUMN (a host, an account) instead of by row; never a feature")
	partition := fs.String("partition", "iid", "how the flows are split between sites: iid, dirichlet:<alpha> (label skew; small alpha, more skew) or by-dst (whole victim hosts, IPV4_DST_ADDR)")
	model := fs.String("model", "bilstm", "federated model kind: bilstm or autoencoder")
	hidden := fs.Int("hidden", 0, "hidden size of the model (0: the kind's default)")
	malicious := fs.Int("malicious", 0, "number of malicious sites (chosen at random with --seed)")
	attack := fs.String("attack", "", "what malicious sites do: scale:<k>, signflip, noise:<s>, labelflip or freerider[:<s>]")
	thresholds := fs.String("thresholds", "default", "the acceptance rule's thresholds: default (the contract's), permissive (every update passes the "+
		"anomaly, divergence and reputation tests: a federation without defences), or a JSON file in the form of GET /v1/fl/thresholds")
	aggregate := fs.String("aggregate", "fedavg", "aggregation rule: fedavg, fedavg-trust, median, trimmed:<beta>, krum:<f> or multikrum:<f>:<m>")
	dpMode := fs.String("dp", "local", "where DP noise is added when --dp-sigma/--dp-clip are given: local (at each site) or central (on the aggregate)")
	dpSigma := fs.Float64("dp-sigma", 0, "DP noise multiplier sigma (noise std sigma × clip)")
	dpClip := fs.Float64("dp-clip", 0, "DP clip norm C of each site's delta")
	compress := fs.String("compress", "none", "update encoding: none, q8, topk:<fraction> or topk-q8:<fraction>")
	epochs := fs.Int("epochs", 1, "local epochs per round (the centralized baseline trains rounds × this)")
	batch := fs.Int("batch", 64, "local mini-batch size")
	lr := fs.Float64("lr", 0, "local learning rate (0: the model's default)")
	seed := fs.Int64("seed", 1, "seed of the splits, the malicious sites, training and DP noise")
	roundDuration := fs.Duration("round-duration", 10*time.Minute, "deadline of each round (rounds close as soon as every site has sent its update)")
	parallel := fs.Int("parallel", 0, "sites training at once (0: the number of CPUs)")
	keep := fs.String("sites-dir", "", "keep the sites' data directories (keys, updates) here (default: a temporary directory, removed)")
	verbose := fs.Bool("verbose", false, "print every site's progress lines and the coordinator service's log on stderr")
	asJSON := fs.Bool("json", false, "end with one JSON object of the final figures, the centralized baseline and every round (round lines go to stderr)")
	report := fs.String("report", "", "write an HTML report with the curves into this directory")
	dbURL := fs.String("database-url", "", "PostgreSQL server; the coordinator creates and drops its own scratch database there (DATABASE_URL)")
	ethRPC := fs.String("eth-rpc", "", "Ethereum JSON-RPC endpoint for the federation registry; empty runs the embedded dev chain")
	ethKey := fs.String("eth-key-file", "", "service key for --eth-rpc")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ds.data.vals = append(ds.data.vals, fs.Args()...)
	cfg, err := simConfig(simFlags{sites: *sites, rounds: *rounds, partition: *partition, model: *model, malicious: *malicious,
		attack: *attack, aggregate: *aggregate, dpMode: *dpMode, dpSigma: *dpSigma, dpClip: *dpClip, compress: *compress,
		epochs: *epochs, batch: *batch, lr: *lr})
	if err != nil {
		return err
	}
	switch {
	case ds.dataset == "":
		return usagef("--dataset is required (%s)", strings.Join(detector.DatasetKinds(), ", "))
	case len(ds.data.vals) == 0:
		return usagef("--data is required")
	case *roundDuration <= 0:
		return usagef("--round-duration must be positive")
	case *parallel < 0:
		return usagef("--parallel must be >= 0")
	}
	if cfg.Thresholds, err = parseThresholds(*thresholds); err != nil {
		return err
	}
	if err := ds.checkSchema(ds.loadOptions()); err != nil {
		return err
	}
	if cfg.Partition.Kind == flsim.ByDst && ds.dataset != "nf-bot-iot-v2" && ds.dataset != "csv" {
		return usagef("--partition by-dst needs flows with an %s column (nf-bot-iot-v2)", flsim.DstColumn)
	}
	if *dbURL == "" {
		return usagef("no database: set DATABASE_URL or --database-url to a PostgreSQL server where fl-sim may create a scratch database; " +
			"for a private one, as `make run` starts: export DATABASE_URL=$(scripts/pgdev.sh start .data/postgres | tail -n 1)")
	}
	if err := requireDatabaseURL(*dbURL); err != nil {
		return err
	}
	cfg.Dataset, cfg.Load, cfg.Hidden, cfg.Seed, cfg.SplitBy = ds.dataset, ds.loadOptions(), *hidden, *seed, *splitBy
	cfg.RoundDuration, cfg.Parallel = *roundDuration, *parallel

	flows, _, err := ds.load(ctx, cfg.Load, false, nil)
	if err != nil {
		return err
	}
	var testFlows []*detector.Flow
	if len(test.vals) > 0 {
		if testFlows, _, err = detector.LoadFiles(ds.dataset, test.vals, cfg.Load); err != nil {
			return err
		}
	}
	cfg.Dir = *keep
	if cfg.Dir == "" {
		if cfg.Dir, err = os.MkdirTemp("", "idsledger-fl-sim-"); err != nil {
			return err
		}
		defer os.RemoveAll(cfg.Dir)
	}
	out := io.Writer(os.Stdout)
	if *asJSON {
		out = os.Stderr
	}
	if *verbose {
		cfg.SiteLog = os.Stderr
	}
	cfg.SitesReady = func(s []flsim.SiteInfo) { printSites(out, s) }
	cfg.Progress = func(r flsim.RoundFigures) { fmt.Fprintln(out, formatRound(r)) }
	env := simEnv{DatabaseURL: *dbURL, EthRPC: *ethRPC, EthKeyFile: *ethKey, Verbose: *verbose}
	res, err := flsim.Run(ctx, cfg, flows, testFlows, func(ctx context.Context, s flsim.Setup) (flsim.Coordinator, error) {
		return simCoordinator(ctx, env, s)
	})
	if err != nil {
		return err
	}
	if *report != "" {
		path, err := writeSimReport(*report, res)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "report written to %s\n", path)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printSimSummary(out, res)
	return nil
}

// simFlags are the flags that make the simulation's configuration.
type simFlags struct {
	sites, rounds, malicious, epochs, batch               int
	partition, model, attack, aggregate, dpMode, compress string
	dpSigma, dpClip, lr                                   float64
}

// simConfig checks the flags and turns them into a configuration (the
// data-dependent parts are left to the caller). Errors are usage errors.
func simConfig(f simFlags) (flsim.Config, error) {
	var cfg flsim.Config
	switch {
	case f.sites < 1:
		return cfg, usagef("--sites must be >= 1")
	case f.rounds < 1:
		return cfg, usagef("--rounds must be >= 1")
	case f.malicious < 0 || f.malicious > f.sites:
		return cfg, usagef("--malicious must be in [0, --sites]")
	case f.malicious > 0 && f.attack == "":
		return cfg, usagef("--attack is required with --malicious")
	case f.malicious == 0 && f.attack != "":
		return cfg, usagef("--attack needs --malicious M > 0")
	case f.model != "bilstm" && f.model != "autoencoder":
		return cfg, usagef("--model must be bilstm or autoencoder (the kinds that federate)")
	case f.epochs < 1:
		return cfg, usagef("--epochs must be >= 1")
	case f.batch < 1:
		return cfg, usagef("--batch must be >= 1")
	case f.lr < 0:
		return cfg, usagef("--lr must be >= 0")
	}
	var err error
	cfg.Sites, cfg.Rounds, cfg.Malicious, cfg.Model = f.sites, f.rounds, f.malicious, f.model
	if cfg.Partition, err = flsim.ParsePartition(f.partition); err != nil {
		return cfg, usagef("--partition: %v", err)
	}
	if f.attack != "" {
		if cfg.Attack, err = flsim.ParseAttack(f.attack); err != nil {
			return cfg, usagef("--attack: %v", err)
		}
	}
	p := federated.Policy{Epochs: f.epochs, BatchSize: f.batch, LearningRate: f.lr}
	if p.Rule, err = federated.ParseRule(f.aggregate); err != nil {
		return cfg, usagef("--aggregate: %v", err)
	}
	if p.Compression, err = parseCompress(f.compress); err != nil {
		return cfg, err
	}
	switch {
	case f.dpSigma == 0 && f.dpClip == 0:
		p.DP = federated.DPPolicy{Mode: federated.DPOff}
	case f.dpClip <= 0:
		return cfg, usagef("--dp-clip must be > 0 with --dp-sigma")
	case f.dpSigma < 0:
		return cfg, usagef("--dp-sigma must be >= 0")
	case f.dpMode != "local" && f.dpMode != "central":
		return cfg, usagef("--dp must be local or central")
	default:
		p.DP = federated.DPPolicy{Mode: federated.DPMode(f.dpMode), Clip: f.dpClip, Sigma: f.dpSigma}
	}
	if err := p.Validate(); err != nil {
		return cfg, usagef("%v", err)
	}
	if min := p.Rule.MinUpdates(); min > f.sites {
		return cfg, usagef("--aggregate %s needs at least %d updates a round, and there are %d sites", p.Rule, min, f.sites)
	}
	cfg.Policy = p
	// The neural models do better with every feature and, for the
	// autoencoder, its own log transform (train's defaults for them).
	cfg.Pipeline = detector.PipelineConfig{CorrThreshold: 1, LogScale: f.model != "autoencoder"}
	return cfg, nil
}

// permissiveThresholds pass every update: no anomaly or norm limit, a
// divergence band no update leaves, and no reputation test (nor loss of
// reputation). It is how fl-sim measures a federation without defences,
// as an admin would set them with PUT /v1/fl/thresholds.
func permissiveThresholds() federated.Thresholds {
	th := federated.DefaultThresholds()
	th.MaxAnomalyBp, th.MadK, th.DivSlack, th.MaxNorm = 10000, math.MaxUint16, math.MaxUint32, 0
	th.MinReputation, th.DeltaMinus = 0, 0
	return th
}

// parseThresholds reads --thresholds: nil for the contract's own.
func parseThresholds(s string) (*federated.Thresholds, error) {
	switch s {
	case "default", "":
		return nil, nil
	case "permissive":
		th := permissiveThresholds()
		return &th, nil
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return nil, usagef("--thresholds: want default, permissive or a JSON file: %v", err)
	}
	var th federated.Thresholds
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&th); err != nil {
		return nil, usagef("--thresholds %s: %v", s, err)
	}
	if err := th.Validate(); err != nil {
		return nil, usagef("--thresholds %s: %v", s, err)
	}
	return &th, nil
}

// parseCompress reads --compress.
func parseCompress(s string) (federated.Compression, error) {
	kind, arg, hasArg := strings.Cut(s, ":")
	var c federated.Compression
	switch kind {
	case "none", "f32":
		c.Encoding = federated.EncF32
	case "q8":
		c.Encoding = federated.EncQ8
	case "topk", "topk-q8":
		c.Encoding = federated.Encoding(kind)
		v, err := strconv.ParseFloat(arg, 64)
		if !hasArg || err != nil {
			return c, usagef("--compress %s needs a fraction, e.g. %s:0.05", kind, kind)
		}
		c.TopK = v
	default:
		return c, usagef("--compress must be none, q8, topk:<fraction> or topk-q8:<fraction>")
	}
	if hasArg && c.TopK == 0 {
		return c, usagef("--compress %s takes no parameter", kind)
	}
	if err := c.Validate(); err != nil {
		return c, usagef("--compress: %v", err)
	}
	return c, nil
}

func printSites(w io.Writer, sites []flsim.SiteInfo) {
	for _, s := range sites {
		mark := ""
		if s.Malicious {
			mark = " (malicious)"
		}
		classes := make([]string, 0, len(s.Classes))
		for _, c := range sortedNames(s.Classes) {
			classes = append(classes, fmt.Sprintf("%s %d", c, s.Classes[c]))
		}
		fmt.Fprintf(w, "%s%s %s: %d flows: %s", s.Name, mark, s.Address.Hex(), s.Flows, strings.Join(classes, ", "))
		if len(s.Hosts) > 0 {
			fmt.Fprintf(w, "; hosts %s", strings.Join(s.Hosts, " "))
		}
		fmt.Fprintln(w)
	}
}

// formatRound is one round's line: the figures, the traffic, the verdicts
// as honest/malicious, then each site's reputation and ε.
func formatRound(r flsim.RoundFigures) string {
	var b strings.Builder
	fmt.Fprintf(&b, "round %d %s: accuracy %.4f macro-F1 %.4f benign-FPR %.4f | up %s down %s | accepted %d/%d rejected %d/%d",
		r.Round, r.State, r.Accuracy, r.MacroF1, r.BenignFPR, sizeOf(r.BytesUp), sizeOf(r.BytesDown),
		r.Accepted.Honest, r.Accepted.Malicious, r.Rejected.Honest, r.Rejected.Malicious)
	if r.Refused != (flsim.Tally{}) {
		fmt.Fprintf(&b, " (refused %d/%d)", r.Refused.Honest, r.Refused.Malicious)
	}
	if r.Missing != (flsim.Tally{}) {
		fmt.Fprintf(&b, " missing %d/%d", r.Missing.Honest, r.Missing.Malicious)
	}
	b.WriteString(" | reputation")
	for _, s := range sortedNames(r.Reputation) {
		fmt.Fprintf(&b, " %s=%d", s, r.Reputation[s])
	}
	if len(r.Epsilon) > 0 {
		b.WriteString(" | ε")
		for _, s := range sortedNames(r.Epsilon) {
			fmt.Fprintf(&b, " %s=%.2f", s, r.Epsilon[s])
		}
	}
	if r.FailReason != "" {
		fmt.Fprintf(&b, " | %s", r.FailReason)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, " | %s", n)
	}
	fmt.Fprintf(&b, " | %.1fs", r.Seconds)
	return b.String()
}

func printSimSummary(w io.Writer, res *flsim.Result) {
	row := func(name string, acc, f1, fpr, auc detector.Float) {
		fmt.Fprintf(w, "%-34s accuracy %.4f macro-F1 %.4f benign-FPR %.4f ROC-AUC %.4f\n", name, acc, f1, fpr, auc)
	}
	fmt.Fprintln(w, "(accepted/rejected are honest/malicious sites' updates)")
	row("first global model", res.Initial.Accuracy, res.Initial.MacroF1, res.Initial.BenignFPR, res.Initial.ROCAUC)
	row(fmt.Sprintf("federated, after %d rounds", len(res.Rounds)), res.Final.Accuracy, res.Final.MacroF1, res.Final.BenignFPR, res.Final.ROCAUC)
	row(fmt.Sprintf("centralized, %d epochs", res.Centralized.Epochs), res.Centralized.Accuracy, res.Centralized.MacroF1, res.Centralized.BenignFPR,
		res.Centralized.ROCAUC)
	row("majority class ("+res.Majority.Class+")", res.Majority.Accuracy, res.Majority.MacroF1, res.Majority.BenignFPR, res.Majority.ROCAUC)
	o := res.Outcome
	fmt.Fprintf(w, "99%% of the final macro-F1 at round %d; uploaded %s (%s per update), downloaded %s; honest updates rejected %.1f%%",
		o.RoundsTo99, sizeOf(o.BytesUp), sizeOf(uint64(o.BytesUpPerUpdate)), sizeOf(o.BytesDown), 100*o.HonestRejected)
	if res.Config.Malicious > 0 {
		fmt.Fprintf(w, ", malicious accepted %.1f%%", 100*o.MaliciousAccepted)
		if o.AttackersExcluded > 0 {
			fmt.Fprintf(w, ", every attacker below the reputation threshold after round %d", o.AttackersExcluded)
		}
	}
	if o.MaxEpsilon > 0 {
		fmt.Fprintf(w, "; ε spent at most %.2f (δ = 1e-5)", o.MaxEpsilon)
	}
	fmt.Fprintln(w)
}

func writeSimReport(dir string, res *flsim.Result) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "index.html")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	err = flsim.WriteReport(f, res)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return path, err
}

func sizeOf(n uint64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

func sortedNames[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

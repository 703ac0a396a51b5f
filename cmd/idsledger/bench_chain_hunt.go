package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/chainhunt"
	"github.com/idsledger/idsledger/chaintraffic"
	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/storage"
)

func init() {
	registerBench(benchmark{
		name:    "chain-hunt",
		summary: "the chain hunter: catch-up tx/s, rule recall on injected traffic, account precision/recall, lag following the anchoring worker",
		run:     runBenchChainHunt,
	})
}

// chainHuntResult is the JSON object `bench chain-hunt --json` prints.
type chainHuntResult struct {
	Chain   string `json:"chain"`
	ChainID uint64 `json:"chain_id"`
	// Load is the machine's load average (1, 5, 15 min) when the run
	// started and when it ended: the machine may be shared.
	LoadStart string `json:"load_start,omitempty"`
	LoadEnd   string `json:"load_end,omitempty"`
	Model     string `json:"model,omitempty"`

	History chainHuntHistory `json:"history"`
	// CatchUp holds the catch-up runs over the history: rules only, then
	// all detectors (rules and the model, when --model is given).
	CatchUp []chainHuntCatchUp `json:"catch_up"`
	// CatchUpRatio is the all-detectors run's transactions per second over
	// the rules-only run's (0 without --model).
	CatchUpRatio float64 `json:"catch_up_ratio,omitempty"`
	// Registry is the recall of the registry rules per injected registry
	// pattern, and the reorganisation forced on a simulated chain.
	Registry map[chaintraffic.Pattern]chainHuntRecall `json:"registry"`
	Reorg    chainHuntReorg                           `json:"reorg"`
	// RuleFalsePositives are the rule alerts of the catch-up raised on
	// anything but an injected transaction (or, for a block rule, a block
	// outside every injection's blocks).
	RuleFalsePositives []chainHuntAlert `json:"rule_false_positives"`
	// Accounts scores the accounts the all-detectors run flagged (its
	// model alerts and any account rule alerts) against the manifest.
	Accounts *chainHuntAccounts `json:"accounts,omitempty"`
	Follow   chainHuntFollow    `json:"follow"`
}

// chainHuntHistory is the generated history the hunter catches up on.
type chainHuntHistory struct {
	Blocks       uint64                       `json:"blocks"`
	Transactions int                          `json:"transactions"`
	Seconds      float64                      `json:"seconds"`
	Injected     map[chaintraffic.Pattern]int `json:"injected_transactions"`
}

// chainHuntCatchUp is one catch-up run from block 0 to the head.
type chainHuntCatchUp struct {
	Detectors   string  `json:"detectors"`
	Blocks      uint64  `json:"blocks"`
	Txs         uint64  `json:"transactions"`
	Seconds     float64 `json:"seconds"`
	TxPerSecond float64 `json:"transactions_per_second"`
	// Runs are the transactions per second of each run; the figures
	// above are the median run's (the counts are the last run's).
	Runs        []float64 `json:"runs_transactions_per_second"`
	RuleAlerts  int       `json:"rule_alerts"`
	ModelAlerts int       `json:"model_alerts"`
}

// chainHuntRecall is how the registry rules did on one injected pattern.
type chainHuntRecall struct {
	Injected int     `json:"injected"`
	Alerted  int     `json:"alerted"`
	Recall   float64 `json:"recall"`
	// Rules counts the alerts on the pattern's transactions by rule.
	Rules map[string]int `json:"rules"`
	// Missed are the injected transactions no registry rule alerted.
	Missed  []common.Hash `json:"missed,omitempty"`
	Skipped string        `json:"skipped,omitempty"`
}

// chainHuntReorg is the forced reorganisation.
type chainHuntReorg struct {
	// Where the reorg was forced: "simulated" (go-ethereum's simulated
	// backend: the embedded chain offers no way to fork in-process).
	Chain   string `json:"chain"`
	Forced  int    `json:"forced"`
	Alerted int    `json:"alerted"`
	// Depth is the number of blocks replaced.
	Depth uint64 `json:"depth"`
	Note  string `json:"note,omitempty"`
}

// chainHuntAccounts scores the flagged accounts per pattern.
type chainHuntAccounts struct {
	Flagged int                 `json:"flagged"`
	Scores  chaintraffic.Scores `json:"scores"`
	// Threshold is the model's alert threshold on its score, and the
	// rest the model's scores of the accounts' features at the end of the
	// history: each anomalous account's, and the normal accounts' median
	// and how many of them are at or above the threshold. They say why
	// the model flags what it flags.
	Threshold         float64                 `json:"threshold"`
	AnomalousScores   []chainHuntAccountScore `json:"anomalous_scores"`
	NormalScoreP50    float64                 `json:"normal_score_p50"`
	NormalAtThreshold int                     `json:"normal_at_threshold"`
	Normal            int                     `json:"normal"`
}

// chainHuntAccountScore is an anomalous account's score.
type chainHuntAccountScore struct {
	Pattern chaintraffic.Pattern `json:"pattern"`
	Account common.Address       `json:"account"`
	Score   float64              `json:"score"`
}

// chainHuntFollow is the follow phase: the anchoring worker anchoring
// while the hunter follows the head.
type chainHuntFollow struct {
	Mode             string  `json:"mode"`
	Seconds          float64 `json:"seconds"`
	RecordsRate      float64 `json:"records_rate_offered,omitempty"`
	Records          int64   `json:"records_anchored"`
	RecordsPerSecond float64 `json:"records_per_second"`
	Batches          int64   `json:"batches"`
	Blocks           uint64  `json:"blocks"`
	BlocksPerSecond  float64 `json:"blocks_per_second"`
	Txs              uint64  `json:"transactions"`
	// PollMS is the hunter's poll interval, and the mean interval of
	// the lag samples.
	PollMS     float64 `json:"poll_ms"`
	LagSamples int     `json:"lag_samples"`
	LagP50     uint64  `json:"lag_p50_blocks"`
	LagP99     uint64  `json:"lag_p99_blocks"`
	LagMax     uint64  `json:"lag_max_blocks"`
	// FinalLag is the lag when the records stopped and the hunter was
	// given PollInterval×3 to catch up: 0 when it kept up.
	FinalLag uint64 `json:"final_lag_blocks"`
	// OwnRuleAlerts are the rule alerts raised on the blocks of the phase
	// (the service's own anchoring): the target is none.
	OwnRuleAlerts []chainHuntAlert `json:"own_rule_alerts"`
	// ModelAlerts counts the model alerts of the phase, and
	// ModelAlertsOnHistory those on accounts that took part in the history
	// (scored late: an account is scored at most once every ScoreEvery
	// blocks, so one changed near the end of the history is scored in the
	// first blocks after it).
	ModelAlerts          int `json:"model_alerts"`
	ModelAlertsOnHistory int `json:"model_alerts_on_history_accounts"`
}

// chainHuntAlert is an alert as the report lists it.
type chainHuntAlert struct {
	Rule     string            `json:"rule"`
	Block    uint64            `json:"block"`
	Tx       *common.Hash      `json:"tx,omitempty"`
	Account  *common.Address   `json:"account,omitempty"`
	Summary  string            `json:"summary"`
	Evidence map[string]string `json:"evidence,omitempty"`
}

// chainHuntFlags are the bench's settings.
type chainHuntFlags struct {
	dbURL, model, mode                                              string
	catchUpRuns                                                     int
	seed                                                            int64
	accounts, transfers, drainFanout, floodTxs, victims, rogueCalls int
	recordsRate                                                     float64
	duration, poll                                                  time.Duration
	asJSON                                                          bool
}

func runBenchChainHunt(ctx context.Context, args []string) error {
	fs := newFlagSet("bench chain-hunt", "bench chain-hunt [--model FILE] [--records-rate R] [--duration D] [--seed S] [--accounts N --transfers N ...] [--json]")
	var f chainHuntFlags
	fs.StringVar(&f.dbURL, "database-url", "", "PostgreSQL server; the benchmark creates and drops its own scratch database there (DATABASE_URL)")
	fs.StringVar(&f.model, "model", "", "ethereum-accounts model (idsledger train --dataset ethereum-accounts) scoring the accounts; empty: rules only")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the generated history")
	fs.IntVar(&f.accounts, "accounts", 40, "normal accounts of the history")
	fs.IntVar(&f.transfers, "transfers", 1500, "normal ether transfers of the history (token transfers: a quarter more)")
	fs.IntVar(&f.drainFanout, "drain-fanout", 25, "fresh accounts the drain pays")
	fs.IntVar(&f.floodTxs, "flood-txs", 150, "transactions in the flood burst")
	fs.IntVar(&f.victims, "phishing-victims", 20, "normal accounts paying the phishing account")
	fs.IntVar(&f.rogueCalls, "rogue-calls", 3, "anchoring calls by the account without the role")
	fs.StringVar(&f.mode, "mode", "batch", "the anchoring worker's mode while following: batch (a Merkle root per transaction) or record (a transaction per record)")
	fs.Float64Var(&f.recordsRate, "records-rate", 0, "records per second appended while following (0: as fast as the worker anchors them, its top rate)")
	fs.IntVar(&f.catchUpRuns, "catch-up-runs", 3, "catch-up runs of each kind (rules only, all detectors), alternated; the median is reported")
	fs.DurationVar(&f.duration, "duration", time.Minute, "length of the follow phase")
	fs.DurationVar(&f.poll, "poll", 2*time.Second, "the hunter's poll interval while following (serve's default), and the lag sampling interval")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON object instead of a summary")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := requireDatabaseURL(f.dbURL); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("unexpected argument %q", fs.Arg(0))
	case f.accounts < 2:
		return usagef("--accounts must be at least 2")
	case f.transfers < 0 || f.drainFanout < 1 || f.floodTxs < 1 || f.victims < 1 || f.rogueCalls < 1:
		return usagef("--transfers must not be negative; --drain-fanout, --flood-txs, --phishing-victims and --rogue-calls must be positive")
	case f.mode != string(anchor.ModeBatch) && f.mode != string(anchor.ModeRecord):
		return usagef("--mode must be batch or record")
	case f.catchUpRuns < 1:
		return usagef("--catch-up-runs must be at least 1")
	case f.recordsRate < 0:
		return usagef("--records-rate must not be negative")
	case f.duration <= 0 || f.poll <= 0:
		return usagef("--duration and --poll must be positive")
	}
	var scorer *chainhunt.DetectorScorer
	if f.model != "" {
		d, err := detector.LoadDetector(f.model)
		if err != nil {
			return usagef("--model: %v", err)
		}
		if scorer, err = chainhunt.NewDetectorScorer(d, ""); err != nil {
			return usagef("--model %s: %v", f.model, err)
		}
	}

	res := chainHuntResult{Chain: "embedded", LoadStart: loadAverage(), Model: f.model}
	db, closeDB, err := openScratchDatabase(ctx, f.dbURL, "idsledger_bench_")
	if err != nil {
		return err
	}
	defer closeDB()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	progress := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "chain-hunt: "+format+"\n", a...) }

	// The forced reorg runs first, on a simulated chain: its hunter
	// commits checkpoints under the same chain id as the embedded chain's.
	progress("forcing a reorg on a simulated chain")
	if res.Reorg, err = reorgPhase(ctx, db.Pool, logger); err != nil {
		return fmt.Errorf("reorg: %w", err)
	}
	if err := resetHunt(ctx, db.Pool); err != nil {
		return err
	}

	tmp, err := os.MkdirTemp("", "idsledger-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	key, err := crypto.GenerateKey()
	if err != nil {
		return err
	}
	c, err := chain.Open(ctx, chain.Config{DataDir: filepath.Join(tmp, "chain"), Key: key, Logger: logger}, storage.NewChainMeta(db.Pool))
	if err != nil {
		return err
	}
	defer c.Close()
	client, ok := c.Client().(chainhunt.Client)
	if !ok {
		return fmt.Errorf("the chain's client %T cannot feed the hunter", c.Client())
	}
	res.ChainID = c.Registry.ChainID()

	// History: normal traffic with every pattern injected, paid by the
	// service key (the registry's owner, so the role patterns run).
	progress("generating the history")
	m, err := generateHistory(ctx, c, key, f, &res.History, progress)
	if err != nil {
		return err
	}

	hcfg := chainhunt.Config{
		ChainID: res.ChainID, Registry: common.Address(c.Registry.Address()),
		Anchorers: []common.Address{c.Registry.Sender()}, PollInterval: f.poll,
	}
	hunt := storage.NewChainHunt(db.Pool)

	all, live, err := catchUpPhase(ctx, db.Pool, hcfg, client, hunt, scorer, m.LastBlock, f.catchUpRuns, logger, progress, &res)
	if err != nil {
		return err
	}
	defer live.stop()

	caught := all.store.alerts()
	res.Registry, res.RuleFalsePositives = registryRecall(m, caught)
	if scorer != nil {
		var flagged []common.Address
		for _, a := range caught {
			if a.Method == chainhunt.MethodModel || a.Subject == chainhunt.SubjectAccount {
				flagged = append(flagged, a.Account)
			}
		}
		res.Accounts = &chainHuntAccounts{Flagged: len(uniq(flagged)), Scores: m.ScoreAccounts(flagged)}
		if err := explainScores(ctx, hunt, res.ChainID, scorer, m, res.Accounts); err != nil {
			return err
		}
	}

	// Follow: the same hunter keeps following while the worker anchors.
	progress("following the head for %v while the worker anchors", f.duration)
	if err := followPhase(ctx, db.Pool, c, client, live, m, f, logger, &res.Follow); err != nil {
		return err
	}
	res.LoadEnd = loadAverage()

	if f.asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printChainHunt(&res)
	return nil
}

// generateHistory sends the history through the chain and fills h.
func generateHistory(ctx context.Context, c *chain.Chain, key *ecdsa.PrivateKey, f chainHuntFlags, h *chainHuntHistory, progress func(string, ...any)) (*chaintraffic.Manifest, error) {
	tc, ok := c.Client().(chaintraffic.Client)
	if !ok {
		return nil, fmt.Errorf("the chain's client %T cannot send traffic", c.Client())
	}
	transfers := f.transfers
	if transfers == 0 {
		transfers = -1 // chaintraffic's none
	}
	start := time.Now()
	m, err := chaintraffic.Generate(ctx, tc, chaintraffic.Config{
		Key: key, Seed: f.seed, Accounts: f.accounts, Transfers: transfers, Inject: chaintraffic.Patterns(),
		Registry: common.Address(c.Registry.Address()), DrainFanout: f.drainFanout, FloodTxs: f.floodTxs,
		PhishingVictims: f.victims, RogueCalls: f.rogueCalls,
		Log: func(format string, a ...any) { progress(format, a...) },
	})
	if err != nil {
		return nil, fmt.Errorf("generate the history: %w", err)
	}
	h.Seconds = time.Since(start).Seconds()
	h.Blocks = m.LastBlock
	h.Transactions = len(m.Transactions())
	h.Injected = map[chaintraffic.Pattern]int{}
	for _, in := range m.Injections {
		if in.Skipped != "" {
			return nil, fmt.Errorf("pattern %s skipped: %s", in.Pattern, in.Skipped)
		}
		h.Injected[in.Pattern] = len(in.Transactions)
	}
	return m, nil
}

// catchUpPhase measures catch-up: a fresh hunter from block 0 over the
// history up to head, rules only and (with a scorer) all detectors,
// alternately `runs` times after an unmeasured pass (the first reads of
// the history warm the node's caches, which would favour whichever run
// came second). It fills res.CatchUp with each kind's median run, and
// leaves the last hunter running (to follow the head) and returns it with
// its run.
func catchUpPhase(ctx context.Context, pool *pgxpool.Pool, hcfg chainhunt.Config, client chainhunt.Client, hunt *storage.ChainHunt,
	scorer *chainhunt.DetectorScorer, head uint64, runs int, logger *slog.Logger, progress func(string, ...any), res *chainHuntResult) (caughtUpRun, *runningHunter, error) {
	progress("catching up once to warm the node's caches")
	_, warm, err := catchUp(ctx, hcfg, client, hunt, logger, head)
	if err != nil {
		return caughtUpRun{}, nil, err
	}
	if err := stopAndReset(ctx, pool, warm); err != nil {
		return caughtUpRun{}, nil, err
	}
	configs, names := []chainhunt.Config{hcfg}, []string{"rules"}
	if scorer != nil {
		acfg := hcfg
		acfg.Scorer = scorer
		_, _, kind := scorer.Model()
		configs, names = append(configs, acfg), append(names, "rules+"+kind)
	}
	last := make([]caughtUpRun, len(configs))
	rates := make([][]float64, len(configs))
	var live *runningHunter
	for i := range runs {
		for j, cfg := range configs {
			progress("catching up with %s (%d/%d)", names[j], i+1, runs)
			run, h, err := catchUp(ctx, cfg, client, hunt, logger, head)
			if err != nil {
				return caughtUpRun{}, nil, err
			}
			last[j], rates[j] = run, append(rates[j], run.run.TxPerSecond)
			if i == runs-1 && j == len(configs)-1 {
				live = h
			} else if err := stopAndReset(ctx, pool, h); err != nil {
				return caughtUpRun{}, nil, err
			}
		}
	}
	for j, run := range last {
		c := run.run
		c.Detectors, c.Runs = names[j], rates[j]
		c.TxPerSecond = detector.Quantile(rates[j], 0.5)
		c.Seconds = float64(c.Txs) / c.TxPerSecond
		res.CatchUp = append(res.CatchUp, c)
	}
	if len(res.CatchUp) == 2 {
		res.CatchUpRatio = res.CatchUp[1].TxPerSecond / res.CatchUp[0].TxPerSecond
	}
	return last[len(last)-1], live, nil
}

// caughtUpRun is a catch-up run's figures and the alerts its hunter raised.
type caughtUpRun struct {
	run   chainHuntCatchUp
	store *capturingStore
}

// runningHunter is a hunter running in its own goroutine.
type runningHunter struct {
	h      *chainhunt.Hunter
	store  *capturingStore
	cancel context.CancelFunc
	done   chan error
}

// stop stops the hunter (it commits what it processed) and returns Run's
// error. It may be called more than once.
func (r *runningHunter) stop() error {
	if r == nil || r.cancel == nil {
		return nil
	}
	r.cancel()
	r.cancel = nil
	return <-r.done
}

// startHunter starts a fresh hunter over store, capturing its alerts.
func startHunter(ctx context.Context, cfg chainhunt.Config, client chainhunt.Client, hunt *storage.ChainHunt, logger *slog.Logger) (*runningHunter, error) {
	store := &capturingStore{Store: hunt, seen: map[uuid.UUID]bool{}}
	h, err := chainhunt.New(cfg, client, store, hunt, nil, logger)
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithCancel(ctx)
	r := &runningHunter{h: h, store: store, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- h.Run(hctx) }()
	return r, nil
}

// catchUp runs a fresh hunter from block 0 until it has processed head, and
// measures it. The hunter is left running.
func catchUp(ctx context.Context, cfg chainhunt.Config, client chainhunt.Client, hunt *storage.ChainHunt, logger *slog.Logger,
	head uint64) (caughtUpRun, *runningHunter, error) {
	start := time.Now()
	r, err := startHunter(ctx, cfg, client, hunt, logger)
	if err != nil {
		return caughtUpRun{}, nil, err
	}
	var st chainhunt.Stats
	for {
		st = r.h.Stats()
		if st.CaughtUp && st.Processed >= head {
			break
		}
		select {
		case err := <-r.done:
			return caughtUpRun{}, nil, fmt.Errorf("the hunter stopped while catching up: %v", err)
		case <-ctx.Done():
			r.stop()
			return caughtUpRun{}, nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	secs := time.Since(start).Seconds()
	out := caughtUpRun{run: chainHuntCatchUp{Blocks: st.Blocks, Txs: st.Txs, Seconds: secs, TxPerSecond: float64(st.Txs) / secs}, store: r.store}
	// The alerts are handed to the store at the commit that follows the
	// catch-up: wait for it.
	if err := waitFor(ctx, time.Minute, func() bool { return r.store.committedThrough() >= head }); err != nil {
		r.stop()
		return out, nil, fmt.Errorf("the catch-up's checkpoint: %w", err)
	}
	for _, a := range r.store.alerts() {
		if a.Method == chainhunt.MethodModel {
			out.run.ModelAlerts++
		} else {
			out.run.RuleAlerts++
		}
	}
	return out, r, nil
}

// waitFor polls cond until it holds, for at most d.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %v", d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// capturingStore is the PostgreSQL store, remembering every alert the
// hunter handed it (stored then or, raised again, already stored).
type capturingStore struct {
	chainhunt.Store
	through atomic.Uint64

	mu     sync.Mutex
	seen   map[uuid.UUID]bool
	raised []chainhunt.Alert
}

// Commit passes the checkpoint on and remembers its alerts.
func (s *capturingStore) Commit(ctx context.Context, cp chainhunt.Checkpoint, alerts []chainhunt.Alert) ([]chainhunt.Alert, error) {
	stored, err := s.Store.Commit(ctx, cp, alerts)
	if err != nil {
		return stored, err
	}
	s.mu.Lock()
	for _, a := range alerts {
		if id := a.ID(); !s.seen[id] {
			s.seen[id] = true
			s.raised = append(s.raised, a)
		}
	}
	s.mu.Unlock()
	if len(cp.Blocks) > 0 {
		s.through.Store(cp.Blocks[len(cp.Blocks)-1].Number)
	}
	return stored, nil
}

// committedThrough is the last block of the last checkpoint committed.
func (s *capturingStore) committedThrough() uint64 { return s.through.Load() }

// alerts returns the alerts raised so far.
func (s *capturingStore) alerts() []chainhunt.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.raised)
}

// stopAndReset stops r and forgets its state (see resetHunt).
func stopAndReset(ctx context.Context, pool *pgxpool.Pool, r *runningHunter) error {
	if err := r.stop(); err != nil {
		return fmt.Errorf("hunter: %w", err)
	}
	return resetHunt(ctx, pool)
}

// resetHunt forgets the hunter's checkpoints and accounts, so that the next
// hunter starts from block 0. (Its alerts stay: one raised again is
// recognised by its id and not stored twice.)
func resetHunt(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, `DELETE FROM chain_hunt_checkpoints; DELETE FROM chain_hunt_accounts`)
	if err != nil {
		return fmt.Errorf("reset the hunter's state: %w", err)
	}
	return nil
}

// registryRecall scores the rule alerts of the catch-up against the
// manifest: per registry pattern, the injected transactions some registry
// rule alerted; and the rule alerts on anything else.
func registryRecall(m *chaintraffic.Manifest, alerts []chainhunt.Alert) (map[chaintraffic.Pattern]chainHuntRecall, []chainHuntAlert) {
	byTx := map[common.Hash][]string{}
	for _, a := range alerts {
		if a.Method == chainhunt.MethodRule && a.TxHash != (common.Hash{}) {
			byTx[a.TxHash] = append(byTx[a.TxHash], a.Rule)
		}
	}
	out := map[chaintraffic.Pattern]chainHuntRecall{}
	injected := map[common.Hash]bool{}
	for _, in := range m.Injections {
		for _, tx := range in.Transactions {
			injected[tx.Hash] = true
		}
		if !slices.Contains([]chaintraffic.Pattern{chaintraffic.RegistryRogueCall, chaintraffic.RegistryRoleChange, chaintraffic.RegistryForeignBatch}, in.Pattern) {
			continue
		}
		r := chainHuntRecall{Rules: map[string]int{}, Skipped: in.Skipped}
		for _, tx := range in.Transactions {
			r.Injected++
			hit := false
			for _, rule := range byTx[tx.Hash] {
				r.Rules[rule]++
				hit = hit || strings.HasPrefix(rule, "registry.")
			}
			if hit {
				r.Alerted++
			} else {
				r.Missed = append(r.Missed, tx.Hash)
			}
		}
		if r.Injected > 0 {
			r.Recall = float64(r.Alerted) / float64(r.Injected)
		}
		out[in.Pattern] = r
	}
	inInjection := func(block uint64) bool {
		for _, in := range m.Injections {
			if block >= in.FirstBlock && block <= in.LastBlock {
				return true
			}
		}
		return false
	}
	fps := []chainHuntAlert{}
	for _, a := range alerts {
		switch {
		case a.Method != chainhunt.MethodRule:
		case a.TxHash != (common.Hash{}) && injected[a.TxHash]:
		case a.TxHash == (common.Hash{}) && inInjection(a.BlockNumber):
		default:
			fps = append(fps, listAlert(a))
		}
	}
	return out, fps
}

// listAlert is a as the report lists it.
func listAlert(a chainhunt.Alert) chainHuntAlert {
	out := chainHuntAlert{Rule: a.Rule, Block: a.BlockNumber, Summary: a.Summary, Evidence: a.Evidence}
	if a.TxHash != (common.Hash{}) {
		h := a.TxHash
		out.Tx = &h
	}
	if a.Account != (common.Address{}) {
		acc := a.Account
		out.Account = &acc
	}
	return out
}

func uniq(as []common.Address) []common.Address {
	slices.SortFunc(as, func(a, b common.Address) int { return a.Cmp(b) })
	return slices.Compact(as)
}

// followPhase runs the anchoring worker on the real outbox, appending
// records at f.recordsRate (or keeping a full batch waiting, so that the
// worker anchors at its top rate), while the hunter r follows the head; it
// samples the hunter's lag behind the head once per f.poll on average, at
// jittered times (uniform in 0.5–1.5 polls apart): samples on a ticker of
// the poll's own period would all see the same phase of the hunter's
// polling.
func followPhase(ctx context.Context, pool *pgxpool.Pool, c *chain.Chain, client chainhunt.Client, r *runningHunter, m *chaintraffic.Manifest,
	f chainHuntFlags, logger *slog.Logger, res *chainHuntFollow) error {
	var records, batches atomic.Int64
	wcfg := anchor.DefaultWorkerConfig()
	wcfg.Mode = anchor.Mode(f.mode)
	wcfg.Logger = logger
	wcfg.OnConfirmed = func(bs []anchor.Batch, _ []anchor.Confirmation) {
		for _, b := range bs {
			records.Add(int64(b.LeafCount))
		}
		batches.Add(int64(len(bs)))
	}
	w, err := anchor.NewWorker(storage.NewOutbox(pool), c.Registry, wcfg)
	if err != nil {
		return err
	}
	wctx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	werr := make(chan error, 1)
	go func() { werr <- w.Run(wctx) }()

	startHead, err := client.HeaderByNumber(ctx, nil)
	if err != nil {
		return err
	}
	txs0 := r.h.Stats().Txs
	start := time.Now()
	end := start.Add(f.duration)
	var lags []uint64
	nextSample := func() time.Duration { return time.Duration((0.5 + rand.Float64()) * float64(f.poll)) }
	sample := time.NewTimer(nextSample())
	defer sample.Stop()
	feed := time.NewTicker(20 * time.Millisecond)
	defer feed.Stop()
	appended := 0
	for time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-werr:
			return fmt.Errorf("the worker stopped: %v", err)
		case err := <-r.done:
			return fmt.Errorf("the hunter stopped: %v", err)
		case <-sample.C:
			lag, err := hunterLag(ctx, client, r.h)
			if err != nil {
				return err
			}
			lags = append(lags, lag)
			sample.Reset(nextSample())
		case <-feed.C:
			n, err := recordsDue(ctx, pool, f.recordsRate, time.Since(start), appended, wcfg.MaxBatch)
			if err != nil {
				return err
			}
			if n > 0 {
				if err := fillOutbox(ctx, pool, n); err != nil {
					return err
				}
				appended += n
				w.Notify()
			}
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.Records, res.Batches = records.Load(), batches.Load()
	stopWorker()
	if err := <-werr; err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	endHead, err := client.HeaderByNumber(ctx, nil)
	if err != nil {
		return err
	}
	// Let the hunter take the last blocks, then stop it: it commits.
	head := endHead.Number.Uint64()
	_ = waitFor(ctx, 3*f.poll, func() bool { return r.h.Stats().Processed >= head })
	if lag, err := hunterLag(ctx, client, r.h); err == nil {
		res.FinalLag = lag
	}
	res.Txs = r.h.Stats().Txs - txs0
	if err := r.stop(); err != nil {
		return fmt.Errorf("hunter: %w", err)
	}

	res.Mode = f.mode
	res.RecordsRate = f.recordsRate
	res.RecordsPerSecond = float64(res.Records) / res.Seconds
	res.Blocks = head - startHead.Number.Uint64()
	res.BlocksPerSecond = float64(res.Blocks) / res.Seconds
	res.PollMS = float64(f.poll) / float64(time.Millisecond)
	res.LagSamples = len(lags)
	if len(lags) > 0 {
		res.LagP50, res.LagP99, res.LagMax = detector.Quantile(lags, 0.5), detector.Quantile(lags, 0.99), slices.Max(lags)
	}
	res.OwnRuleAlerts = []chainHuntAlert{}
	inHistory := map[common.Address]bool{}
	for _, tx := range m.Transactions() {
		inHistory[tx.From] = true
		for _, a := range []*common.Address{tx.To, tx.TokenTo, tx.Contract} {
			if a != nil {
				inHistory[*a] = true
			}
		}
	}
	for _, a := range r.store.alerts() {
		if a.BlockNumber <= m.LastBlock {
			continue
		}
		if a.Method == chainhunt.MethodModel {
			res.ModelAlerts++
			if inHistory[a.Account] {
				res.ModelAlertsOnHistory++
			}
		} else {
			res.OwnRuleAlerts = append(res.OwnRuleAlerts, listAlert(a))
		}
	}
	return nil
}

// hunterLag is how many blocks the hunter's last processed block is behind
// the chain's head.
func hunterLag(ctx context.Context, client chainhunt.Client, h *chainhunt.Hunter) (uint64, error) {
	processed := h.Stats().Processed
	head, err := client.HeaderByNumber(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("read the head: %w", err)
	}
	if n := head.Number.Uint64(); n > processed {
		return n - processed, nil
	}
	return 0, nil
}

// recordsDue is how many records to append now: at rate, those due by
// elapsed beyond appended; at rate 0, a batch whenever fewer than two
// batches wait in the outbox.
func recordsDue(ctx context.Context, pool *pgxpool.Pool, rate float64, elapsed time.Duration, appended, batch int) (int, error) {
	if rate > 0 {
		return max(0, int(rate*elapsed.Seconds())-appended), nil
	}
	var waiting int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&waiting); err != nil {
		return 0, fmt.Errorf("count the outbox: %w", err)
	}
	if waiting < 2*batch {
		return batch, nil
	}
	return 0, nil
}

// reorgPhase forces a reorganisation on go-ethereum's simulated backend
// (the embedded chain offers no in-process fork) under a hunter with the
// PostgreSQL store, and counts its chain.reorg alerts.
func reorgPhase(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (chainHuntReorg, error) {
	res := chainHuntReorg{Chain: "simulated", Note: "the embedded chain offers no in-process fork: the reorg is forced on go-ethereum's simulated backend (Backend.Fork), with the same hunter and PostgreSQL store"}
	sim, err := chain.NewSimulated()
	if err != nil {
		return res, err
	}
	defer sim.Close()
	client, ok := sim.Backend.Client().(chainhunt.Client)
	if !ok {
		return res, fmt.Errorf("the simulated client cannot feed the hunter")
	}
	id, err := client.ChainID(ctx)
	if err != nil {
		return res, err
	}
	signer := types.LatestSignerForChainID(id)
	to := common.HexToAddress("0x000000000000000000000000000000000000dEaD")
	var nonce uint64
	// mine seals a block holding one transfer (so that a replaced block
	// differs from its replacement).
	mine := func() error {
		tx, err := types.SignNewTx(sim.Key, signer, &types.DynamicFeeTx{
			Nonce: nonce, To: &to, Value: big.NewInt(1), Gas: 21_000, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(100e9),
		})
		if err != nil {
			return err
		}
		if err := sim.Backend.Client().SendTransaction(ctx, tx); err != nil {
			return err
		}
		nonce++
		sim.Backend.Commit()
		return nil
	}
	for range 8 {
		if err := mine(); err != nil {
			return res, err
		}
	}
	r, err := startHunter(ctx, chainhunt.Config{PollInterval: 10 * time.Millisecond}, client, storage.NewChainHunt(pool), logger)
	if err != nil {
		return res, err
	}
	defer r.stop()
	head := func() uint64 {
		h, err := client.HeaderByNumber(ctx, nil)
		if err != nil {
			return 0
		}
		return h.Number.Uint64()
	}
	top := head()
	if err := waitFor(ctx, time.Minute, func() bool { return r.h.Stats().Processed >= top }); err != nil {
		return res, fmt.Errorf("the hunter did not reach the head: %w", err)
	}
	// Replace the last three blocks with empty ones, and go two further.
	const depth = 3
	parent, err := client.HeaderByNumber(ctx, new(big.Int).SetUint64(top-depth))
	if err != nil {
		return res, err
	}
	if err := sim.Backend.Fork(parent.Hash()); err != nil {
		return res, err
	}
	sim.Backend.Rollback()
	for range depth + 2 {
		sim.Backend.Commit()
	}
	res.Forced, res.Depth = 1, depth
	newTop := head()
	if err := waitFor(ctx, time.Minute, func() bool { return r.h.Stats().Processed >= newTop && r.h.Stats().Reorgs > 0 }); err != nil {
		return res, fmt.Errorf("the hunter did not follow the fork: %w", err)
	}
	if err := r.stop(); err != nil {
		return res, err
	}
	for _, a := range r.store.alerts() {
		if a.Rule == chainhunt.RuleReorg {
			res.Alerted++
		}
	}
	return res, nil
}

// loadAverage is the machine's load average as /proc/loadavg gives it (1,
// 5 and 15 minutes), or "" where there is none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}

// printChainHunt prints the human summary.
func printChainHunt(res *chainHuntResult) {
	fmt.Printf("chain %d (%s), load %s → %s\n", res.ChainID, res.Chain, res.LoadStart, res.LoadEnd)
	h := res.History
	fmt.Printf("history: %d transactions in %d blocks, generated in %.1f s\n", h.Transactions, h.Blocks, h.Seconds)
	for _, c := range res.CatchUp {
		fmt.Printf("catch-up, %-14s %6d tx in %.2f s = %7.0f tx/s (%d blocks; %d rule, %d model alerts)\n",
			c.Detectors+":", c.Txs, c.Seconds, c.TxPerSecond, c.Blocks, c.RuleAlerts, c.ModelAlerts)
	}
	if res.CatchUpRatio > 0 {
		fmt.Printf("catch-up, all detectors ÷ rules only: %.2f\n", res.CatchUpRatio)
	}
	patterns := make([]string, 0, len(res.Registry))
	for p := range res.Registry {
		patterns = append(patterns, string(p))
	}
	sort.Strings(patterns)
	for _, p := range patterns {
		r := res.Registry[chaintraffic.Pattern(p)]
		fmt.Printf("%-24s %d/%d injected transactions alerted (recall %.2f), rules %v\n", p, r.Alerted, r.Injected, r.Recall, r.Rules)
	}
	fmt.Printf("reorg (%s chain): %d forced (depth %d), %d chain.reorg alert(s)\n", res.Reorg.Chain, res.Reorg.Forced, res.Reorg.Depth, res.Reorg.Alerted)
	fmt.Printf("rule alerts off the injected traffic: %d\n", len(res.RuleFalsePositives))
	for _, a := range res.RuleFalsePositives {
		fmt.Printf("  %s block %d: %s\n", a.Rule, a.Block, a.Summary)
	}
	if a := res.Accounts; a != nil {
		fmt.Printf("accounts flagged: %d\n", a.Flagged)
		for _, p := range []chaintraffic.Pattern{chaintraffic.Drain, chaintraffic.Flood, chaintraffic.Phishing} {
			s := a.Scores.ByPattern[p]
			fmt.Printf("  %-9s precision %.2f recall %.2f (%d/%d anomalous accounts, %d normal accounts flagged)\n",
				p, s.Precision, s.Recall, s.TruePositives, s.Positives, s.FalsePositives)
		}
		for _, sc := range a.AnomalousScores {
			fmt.Printf("  %-9s account %s scores %.3f (threshold %.3f)\n", sc.Pattern, sc.Account.Hex(), sc.Score, a.Threshold)
		}
		fmt.Printf("  normal accounts: median score %.3f, %d of %d at or above the threshold\n", a.NormalScoreP50, a.NormalAtThreshold, a.Normal)
	}
	fl := res.Follow
	fmt.Printf("follow %.0f s, %s mode: worker anchored %d records (%.0f/s) in %d batches; %d blocks (%.1f/s), %d tx\n",
		fl.Seconds, fl.Mode, fl.Records, fl.RecordsPerSecond, fl.Batches, fl.Blocks, fl.BlocksPerSecond, fl.Txs)
	fmt.Printf("lag behind the head, sampled about every %.0f ms: p50 %d, p99 %d, max %d blocks (%d samples); at the end %d\n",
		fl.PollMS, fl.LagP50, fl.LagP99, fl.LagMax, fl.LagSamples, fl.FinalLag)
	fmt.Printf("rule alerts on the service's own anchoring: %d; model alerts: %d (%d on accounts of the history)\n",
		len(fl.OwnRuleAlerts), fl.ModelAlerts, fl.ModelAlertsOnHistory)
	for _, a := range fl.OwnRuleAlerts {
		fmt.Printf("  %s block %d: %s %v\n", a.Rule, a.Block, a.Summary, a.Evidence)
	}
}

// explainScores scores the final features of the manifest's anomalous and
// normal accounts, as the hunter stored them, into a.
func explainScores(ctx context.Context, hunt *storage.ChainHunt, chainID uint64, scorer *chainhunt.DetectorScorer, m *chaintraffic.Manifest, a *chainHuntAccounts) error {
	addrs := slices.Clone(m.NormalAccounts)
	for _, in := range m.Injections {
		addrs = append(addrs, in.Anomalous...)
	}
	stored, err := hunt.Accounts(ctx, chainID, addrs)
	if err != nil {
		return fmt.Errorf("read the accounts: %w", err)
	}
	scoreOf := func(addr common.Address) (float64, bool, error) {
		b, ok := stored[addr]
		if !ok {
			return 0, false, nil
		}
		var acc chainhunt.Account
		if err := acc.UnmarshalBinary(b); err != nil {
			return 0, false, fmt.Errorf("account %s: %w", addr.Hex(), err)
		}
		sc, err := scorer.Score(acc.Features())
		return sc, err == nil, err
	}
	a.Threshold = scorer.Threshold()
	for _, in := range m.Injections {
		if !slices.Contains([]chaintraffic.Pattern{chaintraffic.Drain, chaintraffic.Flood, chaintraffic.Phishing}, in.Pattern) {
			continue
		}
		for _, addr := range in.Anomalous {
			sc, ok, err := scoreOf(addr)
			if err != nil {
				return err
			}
			if ok {
				a.AnomalousScores = append(a.AnomalousScores, chainHuntAccountScore{Pattern: in.Pattern, Account: addr, Score: sc})
			}
		}
	}
	var normal []float64
	for _, addr := range m.NormalAccounts {
		sc, ok, err := scoreOf(addr)
		if err != nil {
			return err
		}
		if ok {
			normal = append(normal, sc)
			if sc >= a.Threshold {
				a.NormalAtThreshold++
			}
		}
	}
	a.Normal = len(normal)
	if len(normal) > 0 {
		a.NormalScoreP50 = detector.Quantile(normal, 0.5)
	}
	return nil
}

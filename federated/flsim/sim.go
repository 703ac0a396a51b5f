package flsim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/federated/flclient"
	"github.com/idsledger/idsledger/federated/flnode"
)

// Coordinator is the admin side of a running coordinator: what the
// simulation drives while its sites talk to the coordinator's HTTP API
// like any fl-node. It is the seam where the real service plugs in (the
// API routes, PostgreSQL on a scratch database, the embedded chain); the
// tests plug in a coordinator over in-memory fakes.
type Coordinator interface {
	// URL is the base URL of the coordinator's HTTP API (the OpenAPI document, api/openapi.yaml),
	// where the sites' fl-nodes connect.
	URL() string
	// Enroll enrolls a site's address under name (POST /v1/fl/sites) and
	// returns the secret of a new fl-node API key bound to it.
	Enroll(ctx context.Context, name string, site common.Address) (apiKey string, err error)
	// Open opens the next round (POST /v1/fl/rounds); the simulation
	// names the base model, the policy, the invited sites and the
	// duration. It returns the open round.
	Open(ctx context.Context, req coordinator.OpenRequest) (federated.Round, error)
	// Await blocks until round n has closed (with a new global model) or
	// failed, and returns its judgement. A round that cannot end before
	// ctx does is an error.
	Await(ctx context.Context, round uint64) (Judgement, error)
	// Model returns a model file by id (the new global model of a round).
	Model(ctx context.Context, id string) ([]byte, error)
	// Close stops the coordinator and releases what Start made (the
	// scratch database, the chain).
	Close() error
}

// Judgement is a round as it ended.
type Judgement struct {
	// Round is the round in its final state: StateClosed with NewModelID,
	// or StateFailed with FailReason; BytesUp and BytesDown count its
	// traffic.
	Round federated.Round
	// Updates are the round's judged updates, as its fl_round record
	// (coordinator.RoundRecord) lists them: site, accepted, reasons, and
	// the site's reputation after the round.
	Updates []coordinator.JudgedUpdate
	// Epsilon is each site's privacy spent so far, ε at δ = 1e-5 (the
	// coordinator's accountant; absent for a site without DP history).
	Epsilon map[common.Address]float64
	// Thresholds are the acceptance rule's thresholds the round was
	// judged with.
	Thresholds federated.Thresholds
}

// Setup is what the coordinator needs before it starts.
type Setup struct {
	// Dataset is the federation's dataset kind.
	Dataset string
	// Validation are the coordinator's own labelled flows: every update is
	// measured on them (coordinator.Options.Validation).
	Validation []*detector.Flow
	// Initial is the first global model's file (id InitialID); the
	// coordinator must hold it so round 1 can start from it.
	Initial   []byte
	InitialID string
	// Thresholds, when set, replace the contract's acceptance thresholds
	// before round 1 (as an admin's PUT /v1/fl/thresholds does).
	Thresholds *federated.Thresholds
}

// Start starts a coordinator for a simulation.
type Start func(ctx context.Context, s Setup) (Coordinator, error)

// Config is a simulation. Zero values take the defaults noted.
type Config struct {
	Sites  int
	Rounds int
	// Dataset is the flows' dataset kind (Load its options for csv).
	Dataset string
	Load    detector.LoadOptions
	// Model is the federated model kind: bilstm or autoencoder.
	Model    string
	Hidden   int
	Pipeline detector.PipelineConfig
	// Partition splits the flows between the sites.
	Partition Partition
	// Malicious sites (chosen at random with Seed) apply Attack.
	Malicious int
	Attack    Attack
	// Policy is every round's policy; Policy.Epochs must be set (the
	// centralized baseline trains Rounds × Policy.Epochs epochs).
	Policy federated.Policy
	// Thresholds, when set, are the acceptance rule's thresholds for the
	// whole simulation (Setup.Thresholds); nil keeps the contract's.
	Thresholds *federated.Thresholds
	// TestFraction of each class is held out for testing when Run gets no
	// test flows (default 0.2).
	TestFraction float64
	// CoordinatorFraction of each class of the rest is the coordinator's
	// own: its validation set and the first global model's training data
	// (default 0.1).
	CoordinatorFraction float64
	// SplitBy, when set, names an identifier column (a host, an account)
	// by which the test and coordinator splits are made: all flows with
	// one value land on the same side (detector.GroupSplit). The column
	// is never a feature.
	SplitBy string
	// InitialEpochs trains the first global model on the coordinator's
	// flows (default 1): federations start from a model, and a model
	// with no training has no threshold to start from.
	InitialEpochs int
	// LocalValid is each site's validation fraction (default 0.2).
	LocalValid float64
	// RoundDuration is each round's deadline (default 10 minutes); rounds
	// close as soon as every site has sent its update.
	RoundDuration time.Duration
	// Poll is how often sites ask for a round (default 50 ms).
	Poll time.Duration
	// Parallel bounds the sites training at once (default GOMAXPROCS).
	Parallel int
	// Dir holds the sites' data directories (required).
	Dir  string
	Seed int64
	// SitesReady, when set, gets the sites once they are enrolled (before
	// round 1); Progress every round's figures as the round ends.
	SitesReady func([]SiteInfo)
	Progress   func(RoundFigures)
	// SiteLog, when set, gets the sites' progress lines, each prefixed
	// with the site's name.
	SiteLog io.Writer
}

func (c *Config) defaults() error {
	if c.TestFraction == 0 {
		c.TestFraction = 0.2
	}
	if c.CoordinatorFraction == 0 {
		c.CoordinatorFraction = 0.1
	}
	if c.InitialEpochs == 0 {
		c.InitialEpochs = 1
	}
	if c.LocalValid == 0 {
		c.LocalValid = 0.2
	}
	if c.RoundDuration == 0 {
		c.RoundDuration = 10 * time.Minute
	}
	if c.Poll == 0 {
		c.Poll = 50 * time.Millisecond
	}
	if c.Parallel <= 0 {
		c.Parallel = runtime.GOMAXPROCS(0)
	}
	switch {
	case c.Sites < 1 || c.Rounds < 1:
		return fmt.Errorf("flsim: %d sites, %d rounds: need at least one of each", c.Sites, c.Rounds)
	case c.Malicious < 0 || c.Malicious > c.Sites:
		return fmt.Errorf("flsim: %d malicious sites of %d", c.Malicious, c.Sites)
	case c.Malicious > 0 && c.Attack.Kind == "":
		return fmt.Errorf("flsim: malicious sites need an attack")
	case !federated.Federable(c.Model):
		return fmt.Errorf("flsim: model %q cannot federate (bilstm or autoencoder)", c.Model)
	case c.Policy.Epochs < 1:
		return fmt.Errorf("flsim: the policy needs a number of local epochs")
	case c.TestFraction < 0 || c.TestFraction >= 1 || c.CoordinatorFraction <= 0 || c.CoordinatorFraction >= 1 ||
		c.LocalValid < 0 || c.LocalValid >= 1:
		return fmt.Errorf("flsim: fractions must be in (0,1)")
	case c.Dir == "":
		return fmt.Errorf("flsim: no directory for the sites")
	}
	return c.Policy.Validate()
}

// SiteInfo is one simulated site.
type SiteInfo struct {
	Name      string         `json:"name"`
	Address   common.Address `json:"address"`
	Malicious bool           `json:"malicious"`
	Flows     int            `json:"flows"`
	Classes   map[string]int `json:"classes"`
	// Hosts are the victim hosts it holds (by-dst).
	Hosts []string `json:"hosts,omitempty"`
}

// Tally counts updates of honest and of malicious sites.
type Tally struct {
	Honest    int `json:"honest"`
	Malicious int `json:"malicious"`
}

func (t *Tally) add(malicious bool) {
	if malicious {
		t.Malicious++
	} else {
		t.Honest++
	}
}

// RoundFigures is one round of a simulation.
type RoundFigures struct {
	Round      uint64          `json:"round"`
	State      federated.State `json:"state"`
	FailReason string          `json:"fail_reason,omitempty"`
	// Model is the global model after the round (the previous one when
	// the round failed); Figures are its figures on the test flows.
	Model string `json:"model"`
	Figures
	BytesUp   uint64 `json:"bytes_up"`
	BytesDown uint64 `json:"bytes_down"`
	// Accepted and Rejected count the judged updates the rule accepted
	// and rejected; Refused those the coordinator refused on submission
	// (never judged); Missing the sites that sent nothing in time.
	Accepted Tally `json:"accepted"`
	Rejected Tally `json:"rejected"`
	Refused  Tally `json:"refused"`
	Missing  Tally `json:"missing"`
	// Reputation and Epsilon are each site's after the round, by name.
	Reputation map[string]uint16  `json:"reputation"`
	Epsilon    map[string]float64 `json:"epsilon,omitempty"`
	// MinReputation is the rule's threshold the round was judged with:
	// a site below it has every update rejected.
	MinReputation uint16 `json:"min_reputation"`
	// Updates are the judged updates: who sent each, and how the
	// coordinator measured and the contract judged it.
	Updates []UpdateFigures `json:"updates,omitempty"`
	// Notes say why sites are missing (e.g. a skewed split left one with
	// nothing its model can train on).
	Notes   []string `json:"notes,omitempty"`
	Seconds float64  `json:"seconds"`
}

// UpdateFigures is one judged update.
type UpdateFigures struct {
	Site      string `json:"site"`
	Malicious bool   `json:"malicious"`
	Accepted  bool   `json:"accepted"`
	// Reasons name the rule's tests it failed (anomaly, divergence, norm,
	// reputation).
	Reasons []string `json:"reasons,omitempty"`
	// Accuracy is the coordinator's measure on its validation set,
	// Divergence and Norm the update's, as the contract judged them.
	Accuracy   float64 `json:"accuracy"`
	Divergence float64 `json:"divergence"`
	Norm       float64 `json:"norm"`
}

// CentralFigures are the centralized model's figures.
type CentralFigures struct {
	Figures
	Model     string `json:"model"`
	Epochs    int    `json:"epochs"`
	TrainRows int    `json:"train_rows"`
}

// Summary is the simulation's configuration, as reported.
type Summary struct {
	Sites       int     `json:"sites"`
	Rounds      int     `json:"rounds"`
	Dataset     string  `json:"dataset"`
	Model       string  `json:"model"`
	Partition   string  `json:"partition"`
	SplitBy     string  `json:"split_by,omitempty"`
	Malicious   int     `json:"malicious"`
	Attack      string  `json:"attack,omitempty"`
	Rule        string  `json:"aggregate"`
	DP          string  `json:"dp"`
	Compression string  `json:"compression"`
	Epochs      int     `json:"local_epochs"`
	BatchSize   int     `json:"batch_size,omitempty"`
	LR          float64 `json:"learning_rate,omitempty"`
	Seed        int64   `json:"seed"`
	TestFlows   int     `json:"test_flows"`
	CoordFlows  int     `json:"coordinator_flows"`
	// Weights is the model's number of weights (an update's coordinates).
	Weights int `json:"weights"`
	// Thresholds are the acceptance rule's, as round 1 was judged with.
	Thresholds *federated.Thresholds `json:"thresholds,omitempty"`
	// Initial is the first global model's id.
	Initial string `json:"initial_model"`
}

// Result is a whole simulation.
type Result struct {
	Config  Summary        `json:"config"`
	Sites   []SiteInfo     `json:"sites"`
	Initial Figures        `json:"initial"`
	Rounds  []RoundFigures `json:"rounds"`
	// Final are the last global model's figures.
	Final       Figures        `json:"final"`
	Majority    Baseline       `json:"majority_baseline"`
	Centralized CentralFigures `json:"centralized"`
	// Outcome are figures of the whole run, derived from the rounds.
	Outcome Outcome `json:"outcome"`
}

// Outcome sums a simulation up.
type Outcome struct {
	// RoundsTo99 is the first round whose global model reached 99% of
	// the final macro-F1.
	RoundsTo99 int `json:"rounds_to_99pct_final_macro_f1"`
	// BytesUp and BytesDown add up every round's traffic; BytesUpPerUpdate
	// is the mean upload of one judged or refused update.
	BytesUp          uint64  `json:"bytes_up"`
	BytesDown        uint64  `json:"bytes_down"`
	BytesUpPerUpdate float64 `json:"bytes_up_per_update"`
	// Honest and Malicious count every round's verdicts.
	Accepted Tally `json:"accepted"`
	Rejected Tally `json:"rejected"`
	// HonestRejected is the share of honest sites' updates rejected (or
	// refused); MaliciousAccepted the share of attackers' updates taken.
	HonestRejected    float64 `json:"honest_rejected_share"`
	MaliciousAccepted float64 `json:"malicious_accepted_share"`
	// AttackersExcluded is the first round after which every malicious
	// site's reputation is below the rule's min_reputation, so that the
	// contract rejects whatever it sends (0: not within the run, or no
	// attackers).
	AttackersExcluded int `json:"attackers_excluded_after_round,omitempty"`
	// MaxEpsilon is the largest ε (δ = 1e-5) any site spent.
	MaxEpsilon float64 `json:"max_epsilon,omitempty"`
}

// Run runs a simulation: it splits the labelled flows (test, when empty,
// is held out of them) between the coordinator and cfg.Sites sites, trains
// the first global model on the coordinator's share, starts the
// coordinator with start, enrolls the sites and runs cfg.Rounds rounds,
// each site a flnode.Node talking HTTP to the coordinator (the malicious
// ones attacking), measuring every new global model on the test flows.
// It ends with the centralized baseline.
func Run(ctx context.Context, cfg Config, flows, test []*detector.Flow, start Start) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	pool := labelledFlows(flows)
	var err error
	if len(test) == 0 {
		if pool, test, err = splitFlows(pool, cfg.TestFraction, cfg.Seed, cfg.SplitBy); err != nil {
			return nil, err
		}
	}
	var coordFlows []*detector.Flow
	pool, coordFlows, err = splitFlows(pool, cfg.CoordinatorFraction, cfg.Seed+1, cfg.SplitBy)
	if err != nil {
		return nil, err
	}
	initial, err := initialModel(cfg, coordFlows)
	if err != nil {
		return nil, err
	}
	parts, err := cfg.Partition.Split(pool, cfg.Sites, cfg.Seed)
	if err != nil {
		return nil, err
	}
	kind, _ := detector.LookupModel(cfg.Model)
	res := &Result{Config: summary(cfg, len(test), len(coordFlows)), Majority: MajorityBaseline(initial, test, kind.Supervised)}
	res.Config.Weights, res.Config.Initial = len(initial.Model.Weights()), initial.ID()
	if res.Initial, err = Evaluate(initial, test); err != nil {
		return nil, err
	}

	file, err := initial.MarshalBinary()
	if err != nil {
		return nil, err
	}
	coord, err := start(ctx, Setup{Dataset: cfg.Dataset, Validation: coordFlows, Initial: file, InitialID: initial.ID(),
		Thresholds: cfg.Thresholds})
	if err != nil {
		return nil, fmt.Errorf("start the coordinator: %w", err)
	}
	defer coord.Close()

	sites, err := newSites(ctx, cfg, coord, parts)
	if err != nil {
		return nil, err
	}
	for _, s := range sites {
		res.Sites = append(res.Sites, s.info)
	}
	if cfg.SitesReady != nil {
		cfg.SitesReady(res.Sites)
	}

	current := initial.ID()
	last := res.Initial
	reps, eps := map[string]uint16{}, map[string]float64{}
	for r := 1; r <= cfg.Rounds; r++ {
		rf, model, fig, err := runRound(ctx, cfg, coord, sites, current, test, last)
		if err != nil {
			return res, fmt.Errorf("round %d: %w", r, err)
		}
		for k, v := range rf.Reputation {
			reps[k] = v
		}
		for k, v := range rf.Epsilon {
			eps[k] = v
		}
		rf.Reputation, rf.Epsilon = cloneMap(reps), cloneMap(eps)
		current, last = model, fig
		res.Rounds = append(res.Rounds, rf)
		if cfg.Progress != nil {
			cfg.Progress(rf)
		}
	}
	res.Final = last
	res.Outcome = outcome(res)

	central, err := centralized(cfg, initial, parts, sites, test)
	if err != nil {
		return res, err
	}
	res.Centralized = central
	return res, nil
}

// site is one simulated site: its node and what is known of it.
type site struct {
	info SiteInfo
	node *flnode.Node
	seed int64
}

func newSites(ctx context.Context, cfg Config, coord Coordinator, parts [][]*detector.Flow) ([]*site, error) {
	malicious := map[int]bool{}
	for _, i := range newRand(cfg.Seed ^ 0xbad).Perm(cfg.Sites)[:cfg.Malicious] {
		malicious[i] = true
	}
	sem := make(chan struct{}, cfg.Parallel)
	counts, hosts := ClassCounts(parts), Hosts(parts)
	var sites []*site
	for i, part := range parts {
		name := fmt.Sprintf("site-%02d", i+1)
		dir := filepath.Join(cfg.Dir, name)
		key, _, err := federated.LoadOrCreateKey(flnode.KeyPath(dir))
		if err != nil {
			return nil, err
		}
		addr := crypto.PubkeyToAddress(key.PublicKey)
		token, err := coord.Enroll(ctx, name, addr)
		if err != nil {
			return nil, fmt.Errorf("enroll %s: %w", name, err)
		}
		client, err := flclient.New(coord.URL(), token, flclient.Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: time.Second})
		if err != nil {
			return nil, err
		}
		train := flnode.TrainFunc(federated.TrainUpdate)
		if malicious[i] {
			train = cfg.Attack.Wrap(train)
		}
		s := &site{seed: cfg.Seed + 1000*int64(i+1), info: SiteInfo{Name: name, Address: addr, Malicious: malicious[i],
			Flows: len(part), Classes: counts[i]}}
		if cfg.Partition.Kind == ByDst {
			s.info.Hosts = hosts[i]
		}
		var log io.Writer
		if cfg.SiteLog != nil {
			log = &prefixWriter{w: cfg.SiteLog, prefix: name + ": "}
		}
		siteIndex := uint64(i)
		s.node, err = flnode.New(flnode.Config{API: client, Dir: dir, Key: key, Dataset: cfg.Dataset, Flows: part,
			ValidFraction: cfg.LocalValid, Seed: s.seed, Poll: cfg.Poll, Log: log,
			Train: limited(sem, train),
			Noise: func(round uint64) *rand.Rand { return noiseSource(cfg.Seed, siteIndex, round) }})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		sites = append(sites, s)
	}
	return sites, nil
}

// limited lets at most cap(sem) sites train at once.
func limited(sem chan struct{}, train flnode.TrainFunc) flnode.TrainFunc {
	return func(s federated.LocalStep) (*federated.Update, federated.LocalReport, error) {
		sem <- struct{}{}
		defer func() { <-sem }()
		return train(s)
	}
}

// noiseSource is a site's local DP noise in a round: seeded, so a
// simulation is reproducible (a real site draws a secret seed).
func noiseSource(seed int64, site, round uint64) *rand.Rand {
	var b [32]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(seed))
	binary.LittleEndian.PutUint64(b[8:], site)
	binary.LittleEndian.PutUint64(b[16:], round)
	copy(b[24:], "fl-sim\x00\x00")
	return federated.NewNoiseSource(b)
}

// runRound opens a round from model current, lets every site take part,
// waits for the judgement and measures the round's model.
func runRound(ctx context.Context, cfg Config, coord Coordinator, sites []*site, current string, test []*detector.Flow, last Figures) (RoundFigures, string, Figures, error) {
	began := time.Now()
	addrs := make([]common.Address, len(sites))
	byAddr := map[common.Address]*site{}
	for i, s := range sites {
		addrs[i] = s.info.Address
		byAddr[s.info.Address] = s
	}
	round, err := coord.Open(ctx, coordinator.OpenRequest{BaseModel: current, Policy: cfg.Policy, Duration: cfg.RoundDuration, Sites: addrs})
	if err != nil {
		return RoundFigures{}, "", Figures{}, fmt.Errorf("open: %w", err)
	}
	rf := RoundFigures{Round: round.Number, Reputation: map[string]uint16{}, Epsilon: map[string]float64{}}

	// Every site takes part, concurrently; one that has not sent its
	// update by the deadline (and a grace period) is missing.
	rctx, cancel := context.WithDeadline(ctx, round.Deadline.Add(time.Minute))
	results := make([]*flnode.Result, len(sites))
	errs := make([]error, len(sites))
	notes := make([]string, len(sites))
	var wg sync.WaitGroup
	for i, s := range sites {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				r, err := s.node.Next(rctx)
				if err == nil && r.Round < round.Number {
					continue // a round of before, finished late
				}
				switch {
				case err == nil:
					results[i] = &r
				case errors.Is(err, federated.ErrTooFew):
					// Nothing to train on (say, no benign flows for an
					// autoencoder): the site sits the round out.
					notes[i] = fmt.Sprintf("%s: %v", s.info.Name, err)
				case rctx.Err() == nil:
					errs[i] = fmt.Errorf("%s: %w", s.info.Name, err)
				}
				return
			}
		}()
	}
	wg.Wait()
	cancel()
	if err := errors.Join(errs...); err != nil {
		return rf, "", Figures{}, err
	}
	for i, s := range sites {
		if notes[i] != "" {
			rf.Notes = append(rf.Notes, notes[i])
		}
		switch r := results[i]; {
		case r == nil:
			rf.Missing.add(s.info.Malicious)
		case r.Outcome == flnode.Refused || r.Outcome == flnode.Elsewhere:
			rf.Refused.add(s.info.Malicious)
			rf.Rejected.add(s.info.Malicious)
		}
	}

	j, err := coord.Await(ctx, round.Number)
	if err != nil {
		return rf, "", Figures{}, fmt.Errorf("await: %w", err)
	}
	rf.State, rf.FailReason = j.Round.State, j.Round.FailReason
	rf.MinReputation = j.Thresholds.MinReputation
	rf.BytesUp, rf.BytesDown = j.Round.BytesUp, j.Round.BytesDown
	for _, u := range j.Updates {
		s := byAddr[u.Site]
		if s == nil {
			continue
		}
		if u.Judged {
			rf.Updates = append(rf.Updates, UpdateFigures{Site: s.info.Name, Malicious: s.info.Malicious, Accepted: u.Accepted,
				Reasons: u.Reasons, Accuracy: u.Accuracy, Divergence: u.Divergence, Norm: u.Norm})
			rf.Reputation[s.info.Name] = u.Reputation
			if u.Accepted {
				rf.Accepted.add(s.info.Malicious)
			} else {
				rf.Rejected.add(s.info.Malicious)
			}
		}
	}
	for a, e := range j.Epsilon {
		if s := byAddr[a]; s != nil && !math.IsNaN(e) && !math.IsInf(e, 0) { // ∞ (σ = 0) cannot be JSON: left out
			rf.Epsilon[s.info.Name] = e
		}
	}

	model, fig := current, last
	if j.Round.State == federated.StateClosed && j.Round.NewModelID != "" {
		file, err := coord.Model(ctx, j.Round.NewModelID)
		if err != nil {
			return rf, "", Figures{}, fmt.Errorf("model %s: %w", j.Round.NewModelID, err)
		}
		if got := detector.ModelID(file); got != j.Round.NewModelID {
			return rf, "", Figures{}, fmt.Errorf("model %s: the file hashes to %s", j.Round.NewModelID, got)
		}
		d, err := detector.DecodeDetector(file)
		if err != nil {
			return rf, "", Figures{}, err
		}
		if fig, err = Evaluate(d, test); err != nil {
			return rf, "", Figures{}, err
		}
		model = d.ID()
	}
	rf.Model, rf.Figures = model, fig
	rf.Seconds = time.Since(began).Seconds()
	return rf, model, fig, nil
}

// centralized trains the baseline on the union of the sites' training
// rows, made as each site makes them.
func centralized(cfg Config, initial *detector.Detector, parts [][]*detector.Flow, sites []*site, test []*detector.Flow) (CentralFigures, error) {
	var trains, valids []detector.Labeled
	for i, part := range parts {
		tr, va, _ := flnode.LocalData(initial, part, cfg.LocalValid, sites[i].seed)
		trains, valids = append(trains, tr), append(valids, va)
	}
	train, valid := concat(trains), concat(valids)
	epochs := cfg.Rounds * cfg.Policy.Epochs
	d, err := Centralized(initial, train, valid, cfg.Policy, epochs, cfg.Seed)
	if err != nil {
		return CentralFigures{}, err
	}
	fig, err := Evaluate(d, test)
	if err != nil {
		return CentralFigures{}, err
	}
	return CentralFigures{Figures: fig, Model: d.ID(), Epochs: epochs, TrainRows: train.Len()}, nil
}

// initialModel trains the first global model on the coordinator's flows.
func initialModel(cfg Config, flows []*detector.Flow) (*detector.Detector, error) {
	res, err := detector.Train(flows, detector.TrainOptions{Dataset: cfg.Dataset, Load: cfg.Load, Model: cfg.Model, Hidden: cfg.Hidden,
		Pipeline: cfg.Pipeline, SplitBy: cfg.SplitBy, Seed: cfg.Seed,
		Train: detector.TrainConfig{Epochs: cfg.InitialEpochs, BatchSize: cfg.Policy.BatchSize, LearningRate: cfg.Policy.LearningRate, Seed: cfg.Seed}})
	if err != nil {
		return nil, fmt.Errorf("the first global model: %w", err)
	}
	return res.Detector, nil
}

func labelledFlows(flows []*detector.Flow) []*detector.Flow {
	var out []*detector.Flow
	for _, f := range flows {
		if f.Class != "" {
			out = append(out, f)
		}
	}
	return out
}

// splitFlows holds out fraction of each class (detector.StratifiedSplit),
// or, by the identifier column splitBy, of the identifiers of each class
// (detector.GroupSplit); both sides in their original order.
func splitFlows(flows []*detector.Flow, fraction float64, seed int64, splitBy string) (keep, held []*detector.Flow, err error) {
	index := map[string]int{}
	y := make([]int, len(flows))
	var groups []string
	for i, f := range flows {
		c, ok := index[f.Class]
		if !ok {
			c = len(index)
			index[f.Class] = c
		}
		y[i] = c
		if splitBy != "" {
			v, ok := f.Get(splitBy)
			if !ok {
				return nil, nil, fmt.Errorf("split by %q: %s has no such column", splitBy, f.Source)
			}
			groups = append(groups, v)
		}
	}
	a, b := detector.StratifiedSplit(y, fraction, seed)
	if splitBy != "" {
		a, b = detector.GroupSplit(y, groups, fraction, seed)
	}
	for _, i := range a {
		keep = append(keep, flows[i])
	}
	for _, i := range b {
		held = append(held, flows[i])
	}
	return keep, held, nil
}

// concat joins labelled sets of one shape.
func concat(ls []detector.Labeled) detector.Labeled {
	var out detector.Labeled
	for _, l := range ls {
		if l.Len() == 0 {
			continue
		}
		if out.X.T == 0 {
			out.X.T, out.X.F = l.X.T, l.X.F
		}
		out.X.N += l.X.N
		out.X.Data = append(out.X.Data, l.X.Data...)
		out.Y = append(out.Y, l.Y...)
	}
	return out
}

func summary(cfg Config, test, coord int) Summary {
	s := Summary{Sites: cfg.Sites, Rounds: cfg.Rounds, Dataset: cfg.Dataset, Model: cfg.Model, Partition: cfg.Partition.String(), SplitBy: cfg.SplitBy,
		Malicious: cfg.Malicious, Rule: cfg.Policy.Rule.String(), DP: string(cfg.Policy.DP.Mode),
		Compression: string(cfg.Policy.Compression.Encoding), Epochs: cfg.Policy.Epochs, BatchSize: cfg.Policy.BatchSize,
		LR: cfg.Policy.LearningRate, Seed: cfg.Seed, TestFlows: test, CoordFlows: coord, Thresholds: cfg.Thresholds}
	if cfg.Malicious > 0 {
		s.Attack = cfg.Attack.String()
	}
	if s.DP == "" {
		s.DP = string(federated.DPOff)
	}
	if p := cfg.Policy.DP; p.Mode == federated.DPLocal || p.Mode == federated.DPCentral {
		s.DP = fmt.Sprintf("%s (clip %g, sigma %g)", p.Mode, p.Clip, p.Sigma)
	}
	if c := cfg.Policy.Compression; c.TopK > 0 {
		s.Compression = fmt.Sprintf("%s:%g", c.Encoding, c.TopK)
	}
	return s
}

// outcome sums up res's rounds.
func outcome(res *Result) Outcome {
	var o Outcome
	malicious := map[string]bool{}
	for _, s := range res.Sites {
		if s.Malicious {
			malicious[s.Name] = true
		}
	}
	updates := 0
	for _, r := range res.Rounds {
		o.BytesUp += r.BytesUp
		o.BytesDown += r.BytesDown
		o.Accepted.Honest += r.Accepted.Honest
		o.Accepted.Malicious += r.Accepted.Malicious
		o.Rejected.Honest += r.Rejected.Honest
		o.Rejected.Malicious += r.Rejected.Malicious
		updates += r.Accepted.Honest + r.Accepted.Malicious + r.Rejected.Honest + r.Rejected.Malicious
		if o.RoundsTo99 == 0 && r.MacroF1 >= 0.99*res.Final.MacroF1 {
			o.RoundsTo99 = int(r.Round)
		}
		excluded := len(malicious) > 0
		for name := range malicious {
			if rep, ok := r.Reputation[name]; !ok || rep >= r.MinReputation {
				excluded = false
			}
		}
		if excluded && o.AttackersExcluded == 0 {
			o.AttackersExcluded = int(r.Round)
		}
		for _, e := range r.Epsilon {
			o.MaxEpsilon = max(o.MaxEpsilon, e)
		}
	}
	if updates > 0 {
		o.BytesUpPerUpdate = float64(o.BytesUp) / float64(updates)
	}
	if n := o.Accepted.Honest + o.Rejected.Honest; n > 0 {
		o.HonestRejected = float64(o.Rejected.Honest) / float64(n)
	}
	if n := o.Accepted.Malicious + o.Rejected.Malicious; n > 0 {
		o.MaliciousAccepted = float64(o.Accepted.Malicious) / float64(n)
	}
	return o
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// SiteNames lists sites' names in order, malicious ones marked with *.
func SiteNames(sites []SiteInfo) []string {
	out := make([]string, len(sites))
	for i, s := range sites {
		out[i] = s.Name
		if s.Malicious {
			out[i] += "*"
		}
	}
	return out
}

// sortedKeys lists a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// prefixWriter prefixes every line written through it. Sites log at once:
// logMu keeps their lines whole.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

var logMu sync.Mutex

func (p *prefixWriter) Write(b []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	for _, line := range splitLines(b) {
		if _, err := io.WriteString(p.w, p.prefix+line); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

func splitLines(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == '\n' {
			out = append(out, string(b[start:i+1]))
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, string(b[start:])+"\n")
	}
	return out
}

package flsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/flsim"
	"github.com/idsledger/idsledger/internal/flfakes"
)

var (
	flowsOnce sync.Once
	flows     []*detector.Flow
)

func sampleFlows(t *testing.T) []*detector.Flow {
	t.Helper()
	flowsOnce.Do(func() {
		var err error
		if flows, _, err = detector.LoadFiles("nf-bot-iot-v2", []string{"../../detector/testdata/nf-bot-iot-v2-sample.csv"}, detector.LoadOptions{}); err != nil {
			panic(err)
		}
	})
	return flows
}

func simConfig(t *testing.T) flsim.Config {
	p, _ := flsim.ParsePartition("iid")
	a, _ := flsim.ParseAttack("scale:50")
	return flsim.Config{Sites: 4, Rounds: 2, Dataset: "nf-bot-iot-v2", Model: "autoencoder", Partition: p, Malicious: 1, Attack: a,
		Policy: federated.Policy{Epochs: 1, BatchSize: 32, Rule: federated.Rule{Kind: federated.RuleFedAvg},
			Compression: federated.Compression{Encoding: federated.EncQ8}},
		Pipeline: detector.PipelineConfig{CorrThreshold: 1}, Dir: t.TempDir(), Seed: 3, Poll: 5 * time.Millisecond, Parallel: 2}
}

// A whole simulation against a coordinator over HTTP: every round every
// honest site's update is accepted and the booster's rejected, the model
// moves on, and the result holds the figures, the baselines, reputations
// and traffic.
func TestRunSimulation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := simConfig(t)
	var progress []flsim.RoundFigures
	cfg.Progress = func(r flsim.RoundFigures) { progress = append(progress, r) }
	var siteLog bytes.Buffer
	cfg.SiteLog = &siteLog
	res, err := flsim.Run(ctx, cfg, sampleFlows(t), nil, flfakes.StartSim)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rounds) != 2 || len(progress) != 2 || len(res.Sites) != 4 {
		t.Fatalf("%d rounds (%d reported), %d sites", len(res.Rounds), len(progress), len(res.Sites))
	}
	var bad string
	for _, s := range res.Sites {
		if s.Malicious {
			bad = s.Name
		}
	}
	prev := ""
	for _, r := range res.Rounds {
		if r.State != federated.StateClosed || r.Model == prev || r.Model == "" {
			t.Fatalf("round %d: %s (%s), model %s", r.Round, r.State, r.FailReason, r.Model)
		}
		prev = r.Model
		if r.Accepted != (flsim.Tally{Honest: 3}) || r.Rejected != (flsim.Tally{Malicious: 1}) || r.Missing != (flsim.Tally{}) {
			t.Errorf("round %d: accepted %+v, rejected %+v, missing %+v", r.Round, r.Accepted, r.Rejected, r.Missing)
		}
		if r.BytesUp != uint64(4*federated.Q8Size(res.Config.Weights)) || r.BytesDown == 0 {
			t.Errorf("round %d: %d bytes up, %d down", r.Round, r.BytesUp, r.BytesDown)
		}
		if len(r.Reputation) != 4 || r.Reputation[bad] >= r.Reputation["site-01"]+r.Reputation["site-02"] {
			t.Errorf("round %d reputations %v (malicious %s)", r.Round, r.Reputation, bad)
		}
		if math.IsNaN(float64(r.MacroF1)) {
			t.Errorf("round %d: no macro-F1", r.Round)
		}
	}
	if res.Rounds[1].Reputation[bad] >= res.Rounds[0].Reputation[bad] && res.Rounds[0].Reputation[bad] > 0 {
		t.Errorf("the attacker's reputation did not fall: %d then %d", res.Rounds[0].Reputation[bad], res.Rounds[1].Reputation[bad])
	}
	if res.Final.MacroF1 != res.Rounds[1].MacroF1 || res.Centralized.Epochs != 2 || res.Centralized.TrainRows == 0 || res.Centralized.Model == "" {
		t.Errorf("final %+v, centralized %+v", res.Final, res.Centralized)
	}
	if res.Majority.Class == "" || res.Config.TestFlows == 0 || res.Config.CoordFlows == 0 {
		t.Errorf("majority %+v, config %+v", res.Majority, res.Config)
	}
	if !strings.Contains(siteLog.String(), "site-01: round 1: samples") {
		t.Errorf("site log:\n%s", siteLog.String())
	}
	if _, err := json.Marshal(res); err != nil {
		t.Fatalf("the result does not encode: %v", err)
	}
	var page bytes.Buffer
	if err := flsim.WriteReport(&page, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Macro-F1 per round", "centralized macro-F1", "malicious rejected", bad + " (malicious)", "No differential privacy"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := strings.Count(page.String(), "<svg"); n != 3 {
		t.Errorf("%d charts, want 3 (no ε chart without DP)", n)
	}
}

// With local DP every site spends ε each round, the same for all.
func TestRunSimulationWithLocalDP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := simConfig(t)
	cfg.Malicious, cfg.Sites, cfg.Rounds = 0, 3, 2
	cfg.Policy.DP = federated.DPPolicy{Mode: federated.DPLocal, Clip: 1, Sigma: 1}
	res, err := flsim.Run(ctx, cfg, sampleFlows(t), nil, flfakes.StartSim)
	if err != nil {
		t.Fatal(err)
	}
	e1, e2 := res.Rounds[0].Epsilon, res.Rounds[1].Epsilon
	if len(e1) != 3 || len(e2) != 3 || !(e2["site-01"] > e1["site-01"]) || e1["site-01"] != e1["site-03"] {
		t.Fatalf("ε after round 1 %v, after round 2 %v", e1, e2)
	}
	var page bytes.Buffer
	if err := flsim.WriteReport(&page, res); err != nil || strings.Count(page.String(), "<svg") != 4 {
		t.Fatalf("report with DP: %v, %d charts", err, strings.Count(page.String(), "<svg"))
	}
}

func TestRunRefusesBadConfigurations(t *testing.T) {
	for name, mod := range map[string]func(*flsim.Config){
		"no sites":              func(c *flsim.Config) { c.Sites = 0 },
		"more malicious":        func(c *flsim.Config) { c.Malicious = 5 },
		"attack missing":        func(c *flsim.Config) { c.Attack = flsim.Attack{} },
		"model cannot federate": func(c *flsim.Config) { c.Model = "iforest" },
		"no local epochs":       func(c *flsim.Config) { c.Policy.Epochs = 0 },
		"bad policy":            func(c *flsim.Config) { c.Policy.Rule = federated.Rule{Kind: "krum", F: -1} },
	} {
		cfg := simConfig(t)
		mod(&cfg)
		started := false
		_, err := flsim.Run(context.Background(), cfg, sampleFlows(t), nil, func(context.Context, flsim.Setup) (flsim.Coordinator, error) {
			started = true
			return nil, errors.New("unreachable")
		})
		if err == nil || started {
			t.Errorf("%s: %v (coordinator started: %v)", name, err, started)
		}
	}
}

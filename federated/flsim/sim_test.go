package flsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/internal/fakes"
)

// fakeCoordinator is the admin side of a real coordinator over the
// in-memory store and the mirror chain, its fl-node routes served over
// real HTTP (fakes.FLAPI): everything but PostgreSQL, the contract and the
// service's own routes.
type fakeCoordinator struct {
	w      *fakes.FLWorld
	srv    *httptest.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
	setup  Setup
}

func startFake(ctx context.Context, s Setup) (Coordinator, error) {
	base, err := detector.DecodeDetector(s.Initial)
	if err != nil {
		return nil, err
	}
	if base.ID() != s.InitialID {
		return nil, fmt.Errorf("initial model %s, setup says %s", base.ID(), s.InitialID)
	}
	w, err := fakes.NewFLWorld(base, s.Validation)
	if err != nil {
		return nil, err
	}
	f := &fakeCoordinator{w: w, srv: httptest.NewServer(w.API), setup: s}
	rctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.wg.Add(1)
	go func() { defer f.wg.Done(); w.C.Run(rctx) }()
	return f, nil
}

func (f *fakeCoordinator) URL() string { return f.srv.URL }

func (f *fakeCoordinator) Enroll(ctx context.Context, name string, site common.Address) (string, error) {
	return f.w.Enroll(ctx, site, name)
}

func (f *fakeCoordinator) Open(ctx context.Context, req coordinator.OpenRequest) (federated.Round, error) {
	return f.w.Open(ctx, req)
}

func (f *fakeCoordinator) Await(ctx context.Context, n uint64) (Judgement, error) {
	for {
		r, err := f.w.Store.Round(ctx, n)
		if err != nil {
			return Judgement{}, err
		}
		if r.State == federated.StateClosed || r.State == federated.StateFailed {
			j := Judgement{Round: r, Epsilon: map[common.Address]float64{}}
			for _, rec := range f.w.Store.Records() {
				var rr coordinator.RoundRecord
				if rec.Kind == "fl_round" && json.Unmarshal(rec.Body, &rr) == nil && rr.Round == n {
					j.Updates = rr.Updates
				}
			}
			acct, err := f.w.Store.Accountant(ctx)
			if err != nil {
				return Judgement{}, err
			}
			for site := range acct.Sites {
				j.Epsilon[site], _ = acct.Epsilon(site, 1e-5)
			}
			return j, nil
		}
		select {
		case <-ctx.Done():
			return Judgement{}, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (f *fakeCoordinator) Model(ctx context.Context, id string) ([]byte, error) {
	m, err := f.w.Store.Model(ctx, id)
	return m.File, err
}

func (f *fakeCoordinator) Close() error {
	f.cancel()
	f.wg.Wait()
	f.srv.Close()
	return nil
}

func simConfig(t *testing.T) Config {
	p, _ := ParsePartition("iid")
	a, _ := ParseAttack("scale:50")
	return Config{Sites: 4, Rounds: 2, Dataset: "nf-bot-iot-v2", Model: "autoencoder", Partition: p, Malicious: 1, Attack: a,
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
	var progress []RoundFigures
	cfg.Progress = func(r RoundFigures) { progress = append(progress, r) }
	var siteLog bytes.Buffer
	cfg.SiteLog = &siteLog
	res, err := Run(ctx, cfg, loadSampleOnce(), nil, startFake)
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
		if r.Accepted != (Tally{Honest: 3}) || r.Rejected != (Tally{Malicious: 1}) || r.Missing != (Tally{}) {
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
	if err := WriteReport(&page, res); err != nil {
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
	res, err := Run(ctx, cfg, loadSampleOnce(), nil, startFake)
	if err != nil {
		t.Fatal(err)
	}
	e1, e2 := res.Rounds[0].Epsilon, res.Rounds[1].Epsilon
	if len(e1) != 3 || len(e2) != 3 || !(e2["site-01"] > e1["site-01"]) || e1["site-01"] != e1["site-03"] {
		t.Fatalf("ε after round 1 %v, after round 2 %v", e1, e2)
	}
	var page bytes.Buffer
	if err := WriteReport(&page, res); err != nil || strings.Count(page.String(), "<svg") != 4 {
		t.Fatalf("report with DP: %v, %d charts", err, strings.Count(page.String(), "<svg"))
	}
}

func TestRunRefusesBadConfigurations(t *testing.T) {
	for name, mod := range map[string]func(*Config){
		"no sites":              func(c *Config) { c.Sites = 0 },
		"more malicious":        func(c *Config) { c.Malicious = 5 },
		"attack missing":        func(c *Config) { c.Attack = Attack{} },
		"model cannot federate": func(c *Config) { c.Model = "iforest" },
		"no local epochs":       func(c *Config) { c.Policy.Epochs = 0 },
		"bad policy":            func(c *Config) { c.Policy.Rule = federated.Rule{Kind: "krum", F: -1} },
	} {
		cfg := simConfig(t)
		mod(&cfg)
		started := false
		_, err := Run(context.Background(), cfg, loadSampleOnce(), nil, func(context.Context, Setup) (Coordinator, error) {
			started = true
			return nil, errors.New("unreachable")
		})
		if err == nil || started {
			t.Errorf("%s: %v (coordinator started: %v)", name, err, started)
		}
	}
}

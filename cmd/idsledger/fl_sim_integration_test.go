//go:build integration

package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/federated/flsim"
	"github.com/idsledger/idsledger/internal/testenv"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// fl-sim end to end against the real coordinator: the service on a
// scratch database of the test cluster, the embedded chain, the API over
// loopback HTTP. Four sites of nf-bot-iot-v2 flows, one scaling its
// update by 50, two rounds: both close with new global models that the
// federation registry holds, the attacker's updates are rejected, the
// honest ones accepted, and the JSON carries the figures beside the
// centralized and majority-class baselines.
func TestFLSimAgainstTheService(t *testing.T) {
	admin := pgtest.AdminURL(t)
	data := filepath.Join(testenv.SharedDatasets(t), "nf-bot-iot-v2", "dev.csv")

	// The real coordinator, watched: before it closes (and drops its
	// database), note the models its rounds made as the store has them.
	var models []coordinator.ModelFile
	old := simCoordinator
	t.Cleanup(func() { simCoordinator = old })
	simCoordinator = func(ctx context.Context, env simEnv, s flsim.Setup) (flsim.Coordinator, error) {
		c, err := startSimService(ctx, env, s)
		if err != nil {
			return nil, err
		}
		return &watchedSim{Coordinator: c, t: t, models: &models}, nil
	}

	start := time.Now()
	var code int
	stdout, stderr := capture(t, func() {
		code = runMain([]string{"fl-sim", "--sites", "4", "--rounds", "2", "--epochs", "3", "--lr", "0.003",
			"--dataset", "nf-bot-iot-v2", "--data", data, "--partition", "iid",
			"--malicious", "1", "--attack", "scale:50", "--json", "--database-url", admin})
	})
	t.Logf("fl-sim took %s", time.Since(start).Round(time.Second))
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{"round 1 closed", "round 2 closed", "(malicious)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	var res flsim.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not the result object: %v\n%s", err, stdout)
	}
	if len(res.Sites) != 4 || len(res.Rounds) != 2 {
		t.Fatalf("%d sites, %d rounds", len(res.Sites), len(res.Rounds))
	}
	made := map[string]bool{}
	for _, r := range res.Rounds {
		if r.State != "closed" || r.Model == "" {
			t.Errorf("round %d: %s (%s), model %q", r.Round, r.State, r.FailReason, r.Model)
		}
		made[r.Model] = true
		if r.Rejected.Malicious != 1 || r.Accepted.Malicious != 0 {
			t.Errorf("round %d: the attacker's update: accepted %d, rejected %d", r.Round, r.Accepted.Malicious, r.Rejected.Malicious)
		}
		if r.Accepted.Honest == 0 || r.Accepted.Honest+r.Rejected.Honest != 3 {
			t.Errorf("round %d: honest updates accepted %d, rejected %d", r.Round, r.Accepted.Honest, r.Rejected.Honest)
		}
		if r.BytesUp == 0 || r.BytesDown == 0 || len(r.Reputation) != 4 {
			t.Errorf("round %d: up %d, down %d, reputations %v", r.Round, r.BytesUp, r.BytesDown, r.Reputation)
		}
	}
	for _, f := range []struct {
		name string
		fig  flsim.Figures
	}{{"final", res.Final}, {"centralized", res.Centralized.Figures}} {
		if f.fig.Accuracy <= 0 || f.fig.MacroF1 <= 0 || len(f.fig.Recall) == 0 {
			t.Errorf("%s: %+v", f.name, f.fig)
		}
	}
	if res.Majority.Class == "" || res.Majority.Accuracy <= 0 || res.Centralized.Epochs != 6 {
		t.Errorf("majority baseline %+v, centralized epochs %d", res.Majority, res.Centralized.Epochs)
	}
	registered := 0
	for _, m := range models {
		if made[m.ID] && m.Round > 0 {
			if !m.Registered || m.Version == 0 {
				t.Errorf("round %d's model %s: registered %v, version %d", m.Round, m.ID, m.Registered, m.Version)
			}
			registered++
		}
	}
	if registered != len(made) {
		t.Errorf("%d of the rounds' %d models are in the store", registered, len(made))
	}
}

// watchedSim is the real coordinator, noting its stored models when the
// simulation closes it (after its last round's model is registered).
type watchedSim struct {
	flsim.Coordinator
	t      *testing.T
	models *[]coordinator.ModelFile
}

func (w *watchedSim) Close() error {
	s := w.Coordinator.(*simService)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	testenv.Eventually(w.t, 30*time.Second, "the rounds' models registered", func() bool {
		ms, err := s.fed.Models(ctx)
		if err != nil {
			return false
		}
		*w.models = ms
		for _, m := range ms {
			if m.Round > 0 && !m.Registered {
				return false
			}
		}
		return true
	})
	return w.Coordinator.Close()
}

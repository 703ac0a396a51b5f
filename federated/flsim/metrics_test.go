package flsim

import (
	"math"
	"testing"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
)

func TestEvaluateAndMajorityBaseline(t *testing.T) {
	step, _ := autoencoderStep(t, federated.Compression{Encoding: federated.EncF32})
	test := loadSampleOnce()[150:]
	f, err := Evaluate(step.Global, test)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metrics.N != len(test) || f.Metrics.Task != "anomaly" {
		t.Fatalf("evaluated %d rows (%s), want %d", f.Metrics.N, f.Metrics.Task, len(test))
	}
	for _, v := range []detector.Float{f.Accuracy, f.MacroF1, f.BenignFPR} {
		if math.IsNaN(float64(v)) || v < 0 || v > 1 {
			t.Fatalf("figures %+v", f)
		}
	}
	// Theft is not a class of the model (too rare in its training flows):
	// its rows still count, as attacks.
	for _, c := range []string{"Benign", "DoS", "DDoS", "Reconnaissance"} {
		if _, ok := f.Recall[c]; !ok {
			t.Errorf("no recall for %s: %v", c, f.Recall)
		}
	}

	b := MajorityBaseline(step.Global, test, false)
	counts := ClassCounts([][]*detector.Flow{test})[0]
	if b.Class != "Benign" || math.Abs(float64(b.BenignFPR)) != 0 {
		t.Fatalf("baseline %+v for counts %v", b, counts)
	}
	if want := float64(counts["Benign"]) / float64(len(test)); math.Abs(float64(b.Accuracy)-want) > 1e-12 {
		t.Fatalf("baseline accuracy %v, want %v", b.Accuracy, want)
	}

	// A majority of attacks: the anomaly baseline alerts on everything.
	var attacks, benign []*detector.Flow
	for _, fl := range test {
		if fl.IsAttack() {
			attacks = append(attacks, fl)
		} else {
			benign = append(benign, fl)
		}
	}
	b = MajorityBaseline(step.Global, append(attacks, benign[:5]...), false)
	if b.Class == "Benign" || b.BenignFPR != 1 {
		t.Fatalf("attack-majority baseline %+v", b)
	}
}

// The centralized baseline trains a copy from the initial model for the
// whole epoch budget and leaves the initial model alone.
func TestCentralized(t *testing.T) {
	step, _ := autoencoderStep(t, federated.Compression{Encoding: federated.EncF32})
	before := step.Global.Model.Weights()
	p := step.Task.Policy
	c, err := Centralized(step.Global, step.Train, detector.Labeled{}, p, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID() == "" || c.ID() == step.Global.ID() || c.Dataset() != step.Global.Dataset() ||
		len(c.Pipeline.Features) != len(step.Global.Pipeline.Features) {
		t.Fatalf("centralized model %s from %s", c.ID(), step.Global.ID())
	}
	after := step.Global.Model.Weights()
	for i := range before {
		if before[i] != after[i] {
			t.Fatal("Centralized changed the initial model")
		}
	}
	if federated.Distance(c.Model.Weights(), before) == 0 {
		t.Fatal("centralized training changed nothing")
	}
	// More epochs, another model: the budget is the one given.
	c1, err := Centralized(step.Global, step.Train, detector.Labeled{}, p, 1, 1)
	if err != nil || c1.ID() == c.ID() {
		t.Fatalf("1 epoch: %v (same model as 3 epochs: %v)", err, c1 != nil && c1.ID() == c.ID())
	}
	if _, err := Evaluate(c, loadSampleOnce()[150:]); err != nil {
		t.Fatal(err)
	}
}

func TestOutcomeSumsTheRounds(t *testing.T) {
	res := &Result{
		Config: Summary{Malicious: 1},
		Sites:  []SiteInfo{{Name: "a"}, {Name: "b"}, {Name: "m", Malicious: true}},
		Final:  Figures{MacroF1: 0.8},
		Rounds: []RoundFigures{
			{Round: 1, Figures: Figures{MacroF1: 0.5}, BytesUp: 300, BytesDown: 30, MinReputation: 20,
				Accepted: Tally{Honest: 1}, Rejected: Tally{Honest: 1, Malicious: 1}, Reputation: map[string]uint16{"a": 55, "b": 30, "m": 30}},
			{Round: 2, Figures: Figures{MacroF1: 0.795}, BytesUp: 300, BytesDown: 30, MinReputation: 20, Epsilon: map[string]float64{"a": 2.5},
				Accepted: Tally{Honest: 2}, Rejected: Tally{Malicious: 1}, Reputation: map[string]uint16{"a": 60, "b": 35, "m": 10}},
			{Round: 3, Figures: Figures{MacroF1: 0.8}, BytesUp: 200, BytesDown: 30, MinReputation: 20, Epsilon: map[string]float64{"a": 3.5},
				Accepted: Tally{Honest: 2}, Rejected: Tally{Malicious: 1}, Reputation: map[string]uint16{"a": 65, "b": 40, "m": 0}},
		},
	}
	o := outcome(res)
	if o.RoundsTo99 != 2 || o.AttackersExcluded != 2 || o.BytesUp != 800 || o.BytesDown != 90 || o.BytesUpPerUpdate != 800.0/9 ||
		o.HonestRejected != 1.0/6 || o.MaliciousAccepted != 0 || o.MaxEpsilon != 3.5 {
		t.Fatalf("%+v", o)
	}
}

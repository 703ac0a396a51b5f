package federated

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestParseRule(t *testing.T) {
	good := map[string]Rule{
		"fedavg":        {Kind: RuleFedAvg},
		"fedavg-trust":  {Kind: RuleFedAvgTrust},
		"median":        {Kind: RuleMedian},
		"trimmed:0.1":   {Kind: RuleTrimmedMean, Beta: 0.1},
		"krum:3":        {Kind: RuleKrum, F: 3},
		"krum:0":        {Kind: RuleKrum},
		"multikrum:3:5": {Kind: RuleMultiKrum, F: 3, M: 5},
	}
	for s, want := range good {
		got, err := ParseRule(s)
		if err != nil || got != want {
			t.Errorf("ParseRule(%q) = %+v, %v; want %+v", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), s)
		}
	}
	for _, s := range []string{"", "fedavg:1", "mean", "trimmed", "trimmed:0.5", "trimmed:0", "trimmed:x",
		"krum", "krum:-1", "krum:1.5", "krum:01", "multikrum:1", "multikrum:1:0", "multikrum:1:2:3"} {
		if _, err := ParseRule(s); !errors.Is(err, ErrRule) {
			t.Errorf("ParseRule(%q): %v, want ErrRule", s, err)
		}
	}
	// JSON carries the text form.
	type policy struct {
		Rule Rule `json:"rule"`
	}
	b, err := json.Marshal(policy{Rule: Rule{Kind: RuleMultiKrum, F: 1, M: 2}})
	if err != nil || !strings.Contains(string(b), `"rule":"multikrum:1:2"`) {
		t.Errorf("json %s %v", b, err)
	}
	var p policy
	if err := json.Unmarshal(b, &p); err != nil || p.Rule != (Rule{Kind: RuleMultiKrum, F: 1, M: 2}) {
		t.Errorf("json round trip: %+v %v", p.Rule, err)
	}
	if err := json.Unmarshal([]byte(`{"rule":"krum:x"}`), &p); !errors.Is(err, ErrRule) {
		t.Errorf("bad rule in json: %v", err)
	}
}

func contributions(deltas ...[]float32) []Contribution {
	cs := make([]Contribution, len(deltas))
	for i, d := range deltas {
		cs[i] = Contribution{Site: site(i + 1), Delta: d, Samples: 1, Trust: 1}
	}
	return cs
}

func TestFedAvgWeights(t *testing.T) {
	cs := contributions([]float32{1, 0}, []float32{0, 1}, []float32{4, 4})
	cs[0].Samples, cs[1].Samples, cs[2].Samples = 1, 3, 0
	r, err := Aggregate(Rule{Kind: RuleFedAvg}, cs)
	if err != nil {
		t.Fatal(err)
	}
	if r.Delta[0] != 0.25 || r.Delta[1] != 0.75 {
		t.Errorf("fedavg = %v, want [0.25 0.75]", r.Delta)
	}
	if !slices.Equal(r.Weights, []float64{0.25, 0.75, 0}) {
		t.Errorf("weights %v, want [0.25 0.75 0]", r.Weights)
	}
	if got := CentralNoiseStd(1, 1, r.Weights); got != 0.75 {
		t.Errorf("central noise std from the weights: %v", got)
	}
	// × trust: weights 1·0.75, 3·0.25 -> equal.
	cs[0].Trust, cs[1].Trust = 0.75, 0.25
	r, _ = Aggregate(Rule{Kind: RuleFedAvgTrust}, cs)
	if r.Delta[0] != 0.5 || r.Delta[1] != 0.5 {
		t.Errorf("fedavg-trust = %v, want [0.5 0.5]", r.Delta)
	}
	if len(r.Selected) != 3 {
		t.Errorf("selected %v", r.Selected)
	}
	for i := range cs {
		cs[i].Trust = 0
	}
	if _, err := Aggregate(Rule{Kind: RuleFedAvgTrust}, cs); !errors.Is(err, ErrNoWeight) {
		t.Errorf("zero trust: %v", err)
	}
}

// honestAndAttackers: n−f honest deltas around (1, 1, …) and f attackers.
func honestAndAttackers(n, f, dim int, attack func(honest []float32) []float32) []Contribution {
	r := rand.New(rand.NewPCG(42, 0))
	var deltas [][]float32
	for range n - f {
		d := make([]float32, dim)
		for j := range d {
			d[j] = 1 + float32(r.NormFloat64()*0.1)
		}
		deltas = append(deltas, d)
	}
	for range f {
		deltas = append(deltas, attack(deltas[0]))
	}
	return contributions(deltas...)
}

func scaled(k float32) func([]float32) []float32 {
	return func(h []float32) []float32 {
		out := make([]float32, len(h))
		for i, x := range h {
			out[i] = k * x
		}
		return out
	}
}

func TestRobustRulesResistAttackers(t *testing.T) {
	const n, f, dim = 11, 3, 20
	attacks := map[string]func([]float32) []float32{
		"scaled x100":   scaled(100),
		"sign flip":     scaled(-1),
		"sign flip x10": scaled(-10),
	}
	attackers := map[common.Address]bool{site(9): true, site(10): true, site(11): true}
	for name, attack := range attacks {
		cs := honestAndAttackers(n, f, dim, attack)
		for _, rule := range []Rule{{Kind: RuleKrum, F: f}, {Kind: RuleMultiKrum, F: f, M: 5}, {Kind: RuleMedian}, {Kind: RuleTrimmedMean, Beta: 0.3}} {
			r, err := Aggregate(rule, cs)
			if err != nil {
				t.Fatalf("%s %s: %v", name, rule, err)
			}
			for _, s := range r.Selected {
				if (rule.Kind == RuleKrum || rule.Kind == RuleMultiKrum) && attackers[s] {
					t.Errorf("%s: %s selected attacker %s", name, rule, s.Hex())
				}
			}
			// Every coordinate stays near the honest 1 (noise sd 0.1).
			for j, x := range r.Delta {
				if math.Abs(float64(x)-1) > 0.35 {
					t.Errorf("%s: %s coordinate %d = %v, honest mean 1", name, rule, j, x)
					break
				}
			}
		}
		// Plain FedAvg is not robust: the test would be meaningless if it were.
		if r, _ := Aggregate(Rule{Kind: RuleFedAvg}, cs); math.Abs(float64(r.Delta[0])-1) < 0.35 {
			t.Errorf("%s: fedavg unexpectedly robust (%v)", name, r.Delta[0])
		}
	}
}

func TestKrumPicksTheCentralUpdate(t *testing.T) {
	// Five points on a line; f = 1: each scores its n−f−2 = 2 nearest.
	cs := contributions([]float32{0}, []float32{1}, []float32{2}, []float32{3}, []float32{100})
	r, err := Aggregate(Rule{Kind: RuleKrum, F: 1}, cs)
	if err != nil {
		t.Fatal(err)
	}
	// Scores: 0:1+4=5, 1:1+1=2, 2:1+1=2, 3:1+4=5, 100: 97²+98². Tie 1,2 ->
	// the lower index (site order) wins.
	if r.Delta[0] != 1 || r.Selected[0] != site(2) {
		t.Errorf("krum = %v from %v, want 1 from site 2", r.Delta, r.Selected)
	}
	r, _ = Aggregate(Rule{Kind: RuleMultiKrum, F: 1, M: 2}, cs)
	if r.Delta[0] != 1.5 || !slices.Equal(r.Weights, []float64{0.5, 0.5}) {
		t.Errorf("multikrum m=2 = %v weights %v, want 1.5 from 0.5, 0.5", r.Delta, r.Weights)
	}
}

func TestTrimmedMean(t *testing.T) {
	cs := contributions([]float32{-1000}, []float32{1}, []float32{2}, []float32{3}, []float32{1000})
	r, err := Aggregate(Rule{Kind: RuleTrimmedMean, Beta: 0.2}, cs) // trims 1 per side
	if err != nil || r.Delta[0] != 2 {
		t.Errorf("trimmed = %v, %v; want 2", r.Delta, err)
	}
}

func TestPreconditionsAreRefusedClearly(t *testing.T) {
	four := contributions([]float32{1}, []float32{2}, []float32{3}, []float32{4})
	tests := []struct {
		rule Rule
		cs   []Contribution
		msg  string
	}{
		{Rule{Kind: RuleKrum, F: 1}, four, "krum:1 needs n >= 2f+3 = 5 updates, have n=4"},
		{Rule{Kind: RuleMultiKrum, F: 0, M: 4}, four[:3], "n >= m+f = 4"},
		{Rule{Kind: RuleTrimmedMean, Beta: 0.2}, four, "needs n >= 5"},
		{Rule{Kind: RuleFedAvg}, nil, "needs at least 1 update"},
		{Rule{Kind: RuleMedian}, nil, "n=0"},
	}
	for _, tc := range tests {
		_, err := Aggregate(tc.rule, tc.cs)
		if !errors.Is(err, ErrTooFew) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s with %d: %v; want ErrTooFew saying %q", tc.rule, len(tc.cs), err, tc.msg)
		}
	}
	if _, err := Aggregate(Rule{Kind: RuleKrum, F: 1}, contributions([]float32{1}, []float32{2}, []float32{3}, []float32{4}, []float32{5})); err != nil {
		t.Errorf("krum:1 with n=5 = 2f+3: %v", err)
	}
	if _, err := Aggregate(Rule{Kind: RuleMedian}, contributions([]float32{1}, []float32{1, 2})); !errors.Is(err, ErrShape) {
		t.Errorf("ragged: %v", err)
	}
}

// TestAggregateIsDeterministic: the same contributions in any order give
// the same bits, and the inputs are left alone.
func TestAggregateIsDeterministic(t *testing.T) {
	cs := honestAndAttackers(9, 2, 500, scaled(-3))
	for i := range cs {
		cs[i].Samples = uint64(10 + i*7)
	}
	orig := slices.Clone(cs)
	for _, rule := range []Rule{{Kind: RuleFedAvg}, {Kind: RuleMedian}, {Kind: RuleTrimmedMean, Beta: 0.25}, {Kind: RuleMultiKrum, F: 2, M: 3}} {
		want, err := Aggregate(rule, cs)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for range 5 {
			shuffled := slices.Clone(cs)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			got, _ := Aggregate(rule, shuffled)
			for j := range want.Delta {
				if math.Float32bits(got.Delta[j]) != math.Float32bits(want.Delta[j]) {
					t.Fatalf("%s: order changed coordinate %d: %v vs %v", rule, j, got.Delta[j], want.Delta[j])
				}
			}
		}
	}
	for i := range cs {
		if cs[i].Site != orig[i].Site {
			t.Fatal("Aggregate reordered its input")
		}
	}
}

// TestWeightedMeanMatchesReference holds the float64 accumulation to a
// plain, obviously correct computation.
func TestWeightedMeanMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vs := make([][]float32, 7)
	ws := make([]float64, 7)
	for i := range vs {
		vs[i] = randomDelta(uint64(i), 50)
		ws[i] = r.Float64() * 100
	}
	got, err := WeightedMean(vs, ws)
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, w := range ws {
		total += w
	}
	for j := range got {
		var s float64
		for i := range vs {
			s += ws[i] * float64(vs[i][j])
		}
		if math.Abs(float64(got[j])-s/total) > 1e-6*(1+math.Abs(s/total)) {
			t.Fatalf("coordinate %d: %v, want %v", j, got[j], s/total)
		}
	}
	if _, err := WeightedMean(vs, make([]float64, 7)); !errors.Is(err, ErrNoWeight) {
		t.Errorf("zero weights: %v", err)
	}
	ws[0] = math.NaN()
	if _, err := WeightedMean(vs, ws); !errors.Is(err, ErrNoWeight) {
		t.Errorf("NaN weight: %v", err)
	}
}

package federated

import (
	"crypto/ecdsa"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/detector"
)

// tinyDetector is an initialised (not trained) model of kind over t×f
// inputs with classes Benign/Attack, wrapped in a Detector with an id.
func tinyDetector(t *testing.T, kind string, tt, f int) *detector.Detector {
	t.Helper()
	cfg := detector.ModelConfig{T: tt, F: f, Classes: []string{"Benign", "Attack"}, Hidden: 3, Seed: 1,
		Params: map[string]float64{"width": 8}}
	m, err := detector.NewModel(kind, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// One short fit gives the model its weights (and the autoencoder its
	// input transform) so the detector can be encoded and get an id.
	if err := m.Fit(syntheticData(kind, 64, tt, f, 99), detector.Labeled{}, detector.TrainConfig{Epochs: 1, BatchSize: 16, Seed: 1}, nil); err != nil {
		t.Fatal(err)
	}
	input := detector.InputRow
	if tt > 1 {
		input = detector.InputPerFlow
	}
	p := &detector.Pipeline{Dataset: "csv", Features: make([]detector.Feature, tt*f), Classes: cfg.Classes, Input: input}
	d, err := detector.NewDetector(p, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.MarshalBinary(); err != nil {
		t.Fatal(err)
	}
	return d
}

// syntheticData: for the BiLSTM, sequences whose class is whether their
// mean is above 0.5; for the autoencoder, benign rows on a line and
// attacks off it.
func syntheticData(kind string, n, tt, f int, seed uint64) detector.Labeled {
	r := rand.New(rand.NewPCG(seed, 5))
	l := detector.Labeled{X: detector.NewSeqs(n, tt, f), Y: make([]int, n)}
	for i := range n {
		row := l.X.At(i)
		if kind == "bilstm" {
			var s float32
			for j := range row {
				row[j] = r.Float32()
				s += row[j]
			}
			if s/float32(len(row)) > 0.5 {
				l.Y[i] = 1
			}
			continue
		}
		a := r.Float32()
		for j := range row {
			row[j] = 0.2 + 0.6*a*float32(j%2) + 0.01*r.Float32()
		}
		if i%4 == 0 {
			l.Y[i] = 1
			row[r.IntN(len(row))] = r.Float32()
		}
	}
	return l
}

func TestTrainUpdateAutoencoderUsesBenignRowsOnly(t *testing.T) {
	d := tinyDetector(t, "autoencoder", 1, 6)
	before := d.Model.Weights()
	key := testKey(t, 1)
	r := &Round{
		Number: 1, ChainID: 1337, BaseModelID: d.ID(), Dim: len(before), Opened: t0, Deadline: t0.Add(time.Hour), MinUpdates: 1,
		Sites:  []common.Address{crypto.PubkeyToAddress(key.PublicKey)},
		Policy: Policy{Epochs: 3, BatchSize: 16, Rule: Rule{Kind: RuleFedAvg}, Compression: Compression{Encoding: EncF32}},
	}
	if err := r.Open(); err != nil {
		t.Fatal(err)
	}
	train := syntheticData("autoencoder", 200, 1, 6, 1)
	u, rep, err := TrainUpdate(LocalStep{Task: r.Task(), Global: d, Train: train, Valid: syntheticData("autoencoder", 40, 1, 6, 2), Key: key, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Samples != 150 || u.Samples != 150 { // 1 in 4 rows is an attack
		t.Errorf("samples %d / %d, want the 150 benign rows", rep.Samples, u.Samples)
	}
	delta, err := r.Accept(u, t0)
	if err != nil {
		t.Fatalf("coordinator refused the site's update: %v", err)
	}
	if Norm(delta) == 0 {
		t.Error("training changed nothing")
	}
	after := d.Model.Weights()
	for i := range before {
		if before[i] != after[i] {
			t.Fatal("TrainUpdate modified the global model")
		}
	}
	acc, err := MeasureAccuracy(d.Model, before, delta, syntheticData("autoencoder", 40, 1, 6, 4))
	if err != nil || acc < 0 || acc > 1 {
		t.Errorf("measured accuracy %v, %v", acc, err)
	}
	if w := d.Model.Weights(); w[len(w)-1] != before[len(before)-1] {
		t.Error("MeasureAccuracy did not restore the base weights")
	}
}

func TestTrainUpdateRefuses(t *testing.T) {
	d := tinyDetector(t, "autoencoder", 1, 4)
	task := Task{Round: 1, BaseModel: testBase, Policy: Policy{Rule: Rule{Kind: RuleFedAvg}, Compression: Compression{Encoding: EncF32}}}
	step := LocalStep{Task: task, Global: d, Train: syntheticData("autoencoder", 20, 1, 4, 1), Key: testKey(t, 1)}
	if _, _, err := TrainUpdate(step); !errors.Is(err, ErrWrongBase) {
		t.Errorf("stale global model: %v", err)
	}
	step.Task.BaseModel = d.ID()
	step.Task.Policy.Compression.Encoding = "zip"
	if _, _, err := TrainUpdate(step); !errors.Is(err, ErrEncoding) {
		t.Errorf("bad policy: %v", err)
	}
	if Federable("iforest") || !Federable("bilstm") || !Federable("autoencoder") {
		t.Error("only the neural models federate")
	}
}

// TestFederatedRoundEndToEnd runs one whole round of the BiLSTM the way the
// coordinator will: four sites train with local DP and q8 with error
// feedback, one of them sends a boosted update; the coordinator accepts,
// measures, evaluates the rule, aggregates the accepted updates with
// Multi-Krum and applies the result.
func TestFederatedRoundEndToEnd(t *testing.T) {
	d := tinyDetector(t, "bilstm", 4, 1)
	base := d.Model.Weights()
	keys := []*ecdsa.PrivateKey{testKey(t, 1), testKey(t, 2), testKey(t, 3), testKey(t, 4), testKey(t, 5)}
	r := &Round{
		Number: 7, ChainID: 1337, BaseModelID: d.ID(), Dim: len(base), Opened: t0, Deadline: t0.Add(time.Hour), MinUpdates: 5,
		Policy: Policy{
			Epochs: 8, BatchSize: 16, LearningRate: 0.02,
			Rule:        Rule{Kind: RuleMultiKrum, F: 0, M: 3},
			DP:          DPPolicy{Mode: DPLocal, Clip: 5, Sigma: 0.001},
			Compression: Compression{Encoding: EncQ8},
		},
	}
	for _, k := range keys {
		r.Sites = append(r.Sites, crypto.PubkeyToAddress(k.PublicKey))
	}
	if err := r.Open(); err != nil {
		t.Fatal(err)
	}
	var deltas [][]float32
	var sites []common.Address
	var hashes []common.Hash
	var reported []float64
	for i, k := range keys {
		var ef ErrorFeedback
		u, rep, err := TrainUpdate(LocalStep{
			Task: r.Task(), Global: d, Key: k, Feedback: &ef, Seed: int64(i),
			Train: syntheticData("bilstm", 96, 4, 1, uint64(10+i)), Valid: syntheticData("bilstm", 32, 4, 1, uint64(20+i)),
			Noise: NewNoiseSource([32]byte{byte(i)}),
		})
		if err != nil {
			t.Fatal(err)
		}
		if rep.PayloadBytes != Q8Size(len(base)) || len(ef.Residual) != len(base) {
			t.Errorf("site %d: %d payload bytes, residual %d", i, rep.PayloadBytes, len(ef.Residual))
		}
		if i == 4 { // the attacker re-encodes a boosted delta and signs it
			delta, _ := Decode(u.Encoding, u.Payload, len(base))
			for j := range delta {
				delta[j] *= 50
			}
			u.Payload, _ = Compression{Encoding: EncQ8}.Encode(delta, nil)
			u.Sign(k)
		}
		delta, err := r.Accept(u, t0.Add(time.Minute))
		if err != nil {
			t.Fatalf("site %d: %v", i, err)
		}
		deltas, sites = append(deltas, delta), append(sites, u.Site)
		hashes, reported = append(hashes, u.UpdateHash()), append(reported, u.ReportedAccuracy)
	}
	if err := r.BeginClosing(t0.Add(2 * time.Minute)); err != nil {
		t.Fatal(err)
	}

	valid := syntheticData("bilstm", 64, 4, 1, 77)
	acc := make([]float64, len(deltas))
	for i, dl := range deltas {
		var err error
		if acc[i], err = MeasureAccuracy(d.Model, base, dl, valid); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("measured accuracies %.3f, reported %.3f", acc, reported)
	ms, err := Measure(sites, hashes, deltas, acc, reported)
	if err != nil {
		t.Fatal(err)
	}
	scores := make([]Score, len(ms))
	reps := map[common.Address]uint16{}
	for i, m := range ms {
		scores[i] = m.Score()
		reps[m.Site] = DefaultThresholds().RepInit
	}
	ev, err := Evaluate(DefaultThresholds(), reps, scores)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Verdicts[4].Reasons&ReasonDivergence == 0 {
		t.Errorf("the boosted update passed the divergence band: %+v (band %d)", ev.Verdicts[4], ev.DivergenceBand)
	}
	var cs []Contribution
	for i, v := range ev.Verdicts {
		if v.Accepted {
			cs = append(cs, Contribution{Site: v.Site, Delta: deltas[i], Samples: 96})
		}
	}
	if len(cs) != 4 {
		t.Fatalf("%d accepted, want the 4 honest sites: %+v", len(cs), ev.Verdicts)
	}
	res, err := Aggregate(r.Policy.Rule, cs)
	if err != nil {
		t.Fatal(err)
	}
	next, err := Apply(base, res.Delta)
	if err != nil || len(next) != len(base) {
		t.Fatal(err)
	}
	if err := d.Model.SetWeights(next); err != nil {
		t.Fatal(err)
	}
	b, err := d.MarshalBinary()
	if err != nil || len(b) == 0 {
		t.Fatal(err)
	}
	if err := r.Complete(d.ID()); err != nil {
		t.Fatal(err)
	}
	t.Logf("round %d: %d updates, %d accepted, bytes up %d (f32 would be %d), new model %s…",
		r.Number, len(r.Received), ev.Accepted, r.BytesUp, 4*len(base)*len(keys), d.ID()[:12])
}

// A site's local step weighs its classes as `idsledger train` does (the
// kind's default, sqrt of inverse frequency, for the BiLSTM), on its own
// rows; the autoencoder, unsupervised, gets none.
func TestPolicyTrainConfigWeighsClassesAsTrain(t *testing.T) {
	p := Policy{Epochs: 2, BatchSize: 8, LearningRate: 0.005, Rule: Rule{Kind: RuleFedAvg}}
	bi := tinyDetector(t, "bilstm", 4, 1)
	rows := syntheticData("bilstm", 64, 4, 1, 7)
	rows.Y = make([]int, 64)
	for i := range 8 {
		rows.Y[i] = 1 // 8 of 64 rows are attacks
	}
	tc, err := p.TrainConfig(bi.Model, rows, 3)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := detector.ClassWeightsFor("bilstm", "", rows.Y, 2)
	if tc.Epochs != 2 || tc.BatchSize != 8 || tc.LearningRate != 0.005 || tc.Seed != 3 || len(tc.ClassWeights) != 2 ||
		tc.ClassWeights[0] != want[0] || tc.ClassWeights[1] != want[1] || !(tc.ClassWeights[1] > tc.ClassWeights[0]) {
		t.Fatalf("train config %+v, want the policy's settings and class weights %v", tc, want)
	}
	ae := tinyDetector(t, "autoencoder", 1, 3)
	if tc, err := p.TrainConfig(ae.Model, syntheticData("autoencoder", 16, 1, 3, 7), 3); err != nil || tc.ClassWeights != nil {
		t.Fatalf("autoencoder: class weights %v, %v", tc.ClassWeights, err)
	}
}

package flsim

import (
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
)

func TestParseAttack(t *testing.T) {
	for _, s := range []string{"scale:10", "scale:-2.5", "signflip", "noise:0.1", "labelflip", "freerider", "freerider:0", "freerider:0.01"} {
		a, err := ParseAttack(s)
		if err != nil || a.String() != s {
			t.Errorf("%q: %+v (%s), %v", s, a, a, err)
		}
	}
	for _, s := range []string{"", "scale", "scale:", "scale:x", "scale:Inf", "noise", "noise:0", "noise:-1", "signflip:1", "labelflip:2", "freerider:-1", "boost"} {
		if _, err := ParseAttack(s); !errors.Is(err, ErrAttack) {
			t.Errorf("%q accepted (%v)", s, err)
		}
	}
}

var (
	aeOnce sync.Once
	aeBase *detector.Detector
	aeData detector.Labeled
)

// autoencoderStep is a site's step of round 1 from a small autoencoder
// trained on part of the sample, with the rest as the site's rows.
func autoencoderStep(t *testing.T, enc federated.Compression) (federated.LocalStep, *federated.Round) {
	t.Helper()
	aeOnce.Do(func() {
		flows := loadSampleOnce()
		res, err := detector.Train(flows[:150], detector.TrainOptions{Dataset: "nf-bot-iot-v2", Model: "autoencoder", Seed: 1,
			Train: detector.TrainConfig{Epochs: 1}})
		if err != nil {
			panic(err)
		}
		aeBase = res.Detector
		rest := flows[150:]
		aeData = detector.Labeled{X: aeBase.Pipeline.Transform(rest), Y: aeBase.Pipeline.Labels(rest)}
		var keep []int
		for i, y := range aeData.Y {
			if y >= 0 {
				keep = append(keep, i)
			}
		}
		aeData = aeData.Subset(keep)
	})
	key, _ := crypto.GenerateKey()
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	r := &federated.Round{Number: 1, ChainID: 1337, BaseModelID: aeBase.ID(), Dim: len(aeBase.Model.Weights()),
		Sites: []common.Address{crypto.PubkeyToAddress(key.PublicKey)}, Opened: t0, Deadline: t0.Add(time.Hour), MinUpdates: 1,
		Policy: federated.Policy{Epochs: 1, BatchSize: 32, Rule: federated.Rule{Kind: federated.RuleFedAvg}, Compression: enc}}
	if err := r.Open(); err != nil {
		t.Fatal(err)
	}
	return federated.LocalStep{Task: r.Task(), Global: aeBase, Train: aeData, Key: key, Seed: 5}, r
}

var (
	sampleMu    sync.Mutex
	sampleFlows []*detector.Flow
)

func loadSampleOnce() []*detector.Flow {
	sampleMu.Lock()
	defer sampleMu.Unlock()
	if sampleFlows == nil {
		f, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{sample}, detector.LoadOptions{})
		if err != nil {
			panic(err)
		}
		sampleFlows = f
	}
	return sampleFlows
}

func decode(t *testing.T, u *federated.Update) []float32 {
	t.Helper()
	d, err := federated.Decode(u.Encoding, u.Payload, int(u.Dim))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Every attack's update is well formed and signed by the site: the round
// takes it. What it carries is the attack's.
func TestAttacksMakeSignedUpdates(t *testing.T) {
	f32 := federated.Compression{Encoding: federated.EncF32}
	step, _ := autoencoderStep(t, f32)
	honest, hrep, err := federated.TrainUpdate(step)
	if err != nil {
		t.Fatal(err)
	}
	h := decode(t, honest)
	for _, spec := range []string{"scale:10", "signflip", "noise:0.5", "labelflip", "freerider", "freerider:0"} {
		t.Run(spec, func(t *testing.T) {
			a, _ := ParseAttack(spec)
			step, r := autoencoderStep(t, f32)
			u, rep, err := a.Wrap(federated.TrainUpdate)(step)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Accept(u, r.Opened); err != nil {
				t.Fatalf("the round refuses the attack's update: %v", err)
			}
			d := decode(t, u)
			switch a.Kind {
			case Scale:
				for i := range d {
					if d[i] != 10*h[i] {
						t.Fatalf("coordinate %d: %v, want 10 × %v", i, d[i], h[i])
					}
				}
			case SignFlip:
				for i := range d {
					if d[i] != -h[i] {
						t.Fatalf("coordinate %d: %v, want −%v", i, d[i], h[i])
					}
				}
			case Noise:
				if std := federated.Norm(d) / math.Sqrt(float64(len(d))); math.Abs(std-0.5) > 0.05 {
					t.Fatalf("noise std %.3f, want 0.5", std)
				}
			case LabelFlip:
				if u.Samples == honest.Samples || federated.Distance(d, h) == 0 {
					t.Fatalf("labelflip trained on %d rows (honest %d), distance %v", u.Samples, honest.Samples, federated.Distance(d, h))
				}
			case FreeRider:
				if u.Samples != uint64(FreeRiderClaim*step.Train.Len()) || rep.Samples != int(u.Samples) {
					t.Fatalf("free rider claims %d samples, has %d", u.Samples, step.Train.Len())
				}
				if want := a.K * math.Sqrt(float64(len(d))); math.Abs(federated.Norm(d)-want) > 0.1*want+1e-9 {
					t.Fatalf("free rider's norm %v, want about %v", federated.Norm(d), want)
				}
			}
			if a.Kind != FreeRider && a.Kind != LabelFlip && rep.Samples != hrep.Samples {
				t.Errorf("report samples %d, honest %d", rep.Samples, hrep.Samples)
			}
		})
	}
}

// Lossy encodings: the attack's delta is encoded as the round asks.
func TestAttacksFollowTheEncoding(t *testing.T) {
	for _, enc := range []federated.Compression{{Encoding: federated.EncQ8}, {Encoding: federated.EncTopK, TopK: 0.1}} {
		for _, spec := range []string{"scale:5", "noise:0.1", "freerider"} {
			a, _ := ParseAttack(spec)
			step, r := autoencoderStep(t, enc)
			u, rep, err := a.Wrap(federated.TrainUpdate)(step)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Accept(u, r.Opened); err != nil || rep.PayloadBytes != len(u.Payload) {
				t.Fatalf("%s with %s: %v (payload %d, report %d)", spec, enc.Encoding, err, len(u.Payload), rep.PayloadBytes)
			}
		}
	}
}

// The free rider never trains.
func TestFreeRiderDoesNotTrain(t *testing.T) {
	step, _ := autoencoderStep(t, federated.Compression{Encoding: federated.EncF32})
	a, _ := ParseAttack("freerider")
	called := false
	spy := func(s federated.LocalStep) (*federated.Update, federated.LocalReport, error) {
		called = true
		return federated.TrainUpdate(s)
	}
	if _, _, err := a.Wrap(spy)(step); err != nil || called {
		t.Fatalf("err %v, trained %v", err, called)
	}
}

func TestFlipLabels(t *testing.T) {
	l := detector.Labeled{X: detector.NewSeqs(5, 1, 1), Y: []int{0, 1, 2, 3, 0}}
	sup := flipLabels(l, 4, 0, true)
	if want := []int{1, 2, 3, 0, 1}; !equalInts(sup.Y, want) {
		t.Errorf("supervised: %v, want %v", sup.Y, want)
	}
	uns := flipLabels(l, 4, 0, false)
	if want := []int{1, 0, 0, 0, 1}; !equalInts(uns.Y, want) {
		t.Errorf("unsupervised: %v, want %v", uns.Y, want)
	}
	if !equalInts(l.Y, []int{0, 1, 2, 3, 0}) {
		t.Error("flipLabels changed its input")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

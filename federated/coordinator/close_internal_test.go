package coordinator

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"testing"

	"github.com/idsledger/idsledger/detector"
)

// A round whose aggregate is not a usable model (a weight that overflowed)
// gets errUnusableModel, which fails the round with its reason, rather than
// an error that would leave it closing and retried for ever.
func TestNewGlobalModelRefusesAnUnusableAggregate(t *testing.T) {
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{"../../detector/testdata/nf-bot-iot-v2-sample.csv"}, detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := detector.Train(flows[:150], detector.TrainOptions{Dataset: "nf-bot-iot-v2", Model: "autoencoder", Seed: 1,
		Train: detector.TrainConfig{Epochs: 1}})
	if err != nil {
		t.Fatal(err)
	}
	file, err := res.Detector.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := New(nil, nil, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	base := ModelFile{ID: res.Detector.ID(), Kind: "autoencoder", File: file}
	w := res.Detector.Model.Weights()
	if _, _, err := c.newGlobalModel(base, w, 1, detector.Labeled{}); err != nil {
		t.Fatalf("the base weights: %v", err)
	}
	w[len(w)/2] = float32(math.Inf(1))
	if _, _, err := c.newGlobalModel(base, w, 1, detector.Labeled{}); !errors.Is(err, errUnusableModel) {
		t.Fatalf("an infinite weight: %v, want errUnusableModel", err)
	}
}

// A round's anomaly model gets its threshold set again on the benign
// validation rows, at the false-positive rate it was trained for: averaged
// weights reconstruct on another scale, and the base model's threshold
// left the federated autoencoder alerting on nothing.
func TestNewGlobalModelCalibratesAnAnomalyModel(t *testing.T) {
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{"../../detector/testdata/nf-bot-iot-v2-sample.csv"}, detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := detector.Train(flows, detector.TrainOptions{Dataset: "nf-bot-iot-v2", Model: "autoencoder", Seed: 1,
		Train: detector.TrainConfig{Epochs: 1}})
	if err != nil {
		t.Fatal(err)
	}
	base := res.Detector
	file, err := base.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// Benign rows, repeated to enough for a calibration.
	var benign []*detector.Flow
	for len(benign) < 2*minCalibrationRows {
		for _, f := range flows {
			if f.Class == "Benign" {
				benign = append(benign, f)
			}
		}
	}
	valid := detector.Labeled{X: base.Pipeline.Transform(benign), Y: base.Pipeline.Labels(benign)}
	// Weights on another scale, as an average of diverging sites' can be.
	w := base.Model.Weights()
	for i := range w {
		w[i] *= 1.5
	}
	c := New(nil, nil, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	_, d, err := c.newGlobalModel(ModelFile{ID: base.ID(), Kind: "autoencoder", File: file}, w, 1, valid)
	if err != nil {
		t.Fatal(err)
	}
	ae := d.Model.(*detector.Autoencoder)
	scores, err := ae.Scores(valid.X)
	if err != nil {
		t.Fatal(err)
	}
	alerts := 0
	for _, s := range scores {
		if s >= ae.Threshold() {
			alerts++
		}
	}
	if limit := int(detector.AEDefaultTargetFPR * float64(len(scores))); alerts > limit || ae.Threshold() == base.Model.(*detector.Autoencoder).Threshold() {
		t.Fatalf("threshold %g (base %g): %d of %d benign rows alert, want at most %d",
			ae.Threshold(), base.Model.(*detector.Autoencoder).Threshold(), alerts, len(scores), limit)
	}
}

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
	if _, _, err := c.newGlobalModel(base, w, 1); err != nil {
		t.Fatalf("the base weights: %v", err)
	}
	w[len(w)/2] = float32(math.Inf(1))
	if _, _, err := c.newGlobalModel(base, w, 1); !errors.Is(err, errUnusableModel) {
		t.Fatalf("an infinite weight: %v, want errUnusableModel", err)
	}
}

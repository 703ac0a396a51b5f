package detector

import (
	_ "embed"
	"fmt"
)

// defaultModel is the small model `make model` (scripts/model.sh) builds
// from detector/testdata/nf-bot-iot-v2-sample.csv, reproducibly.
//
//go:embed models/default.idslm
var defaultModel []byte

// DefaultDetector decodes the model shipped in the binary: an
// nf-bot-iot-v2 detector trained on the repository's 406-row sample, so
// the service can score flows with no model file given. Its test metrics
// are in Meta.Training.Test; train a real model for real traffic.
func DefaultDetector() (*Detector, error) {
	d, err := DecodeDetector(defaultModel)
	if err != nil {
		return nil, fmt.Errorf("default model: %w", err)
	}
	return d, nil
}

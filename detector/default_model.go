package detector

import (
	_ "embed"
	"fmt"
)

// defaultModel is the model `make model` (scripts/model.sh) builds from
// ../shared/datasets/nf-bot-iot-v2/dev-all.csv, byte for byte on any
// machine (TestDefaultModelRebuilds).
//
//go:embed models/default.idslm
var defaultModel []byte

// DefaultDetector decodes the model shipped in the binary, so the service
// can score flows with no model file given: a BiLSTM trained on 70% of the
// 9,464 distinct NF-BoT-IoT-v2 vectors of the shared development data. Its
// model card (Meta.Card) states the data, the settings and its figures on
// the other 30%; train a model on your own traffic for real use (README,
// "The default model").
func DefaultDetector() (*Detector, error) {
	d, err := DecodeDetector(defaultModel)
	if err != nil {
		return nil, fmt.Errorf("default model: %w", err)
	}
	return d, nil
}

// DefaultModelFile returns a copy of the model file shipped in the binary.
func DefaultModelFile() []byte { return append([]byte(nil), defaultModel...) }

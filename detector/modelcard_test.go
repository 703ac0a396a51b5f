package detector

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestModelCard: Train writes a card whose data hash is the file's, whose
// split adds up, whose baseline is the training split's majority class,
// and which survives the model file.
func TestModelCard(t *testing.T) {
	res, _ := trainSample(t, "kmeans")
	c := res.Detector.Meta.Card
	if c == nil {
		t.Fatal("no model card")
	}
	raw, err := os.ReadFile(nfSample)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if len(c.Data) != 1 || c.Data[0].SHA256 != hex.EncodeToString(sum[:]) || c.Data[0].Name != "nf-bot-iot-v2-sample.csv" {
		t.Errorf("data %+v", c.Data)
	}
	n := 0
	for _, k := range c.Split.TestClasses {
		n += k
	}
	if n != c.Split.TestRows || c.Split.TrainRows+c.Split.ValidRows+c.Split.TestRows != c.Split.Rows || c.Split.Seed != 5 {
		t.Errorf("split %+v", c.Split)
	}
	// The sample's training split is mostly Benign (150 of 406 rows).
	if c.Baseline.Class != "Benign" || c.Baseline.BenignFPR != 0 || c.Test.MacroF1 != res.Test.MacroF1 {
		t.Errorf("baseline %+v, test %+v", c.Baseline, c.Test)
	}
	if c.Settings.TargetFPR != 0.05 || c.Settings.Epochs != 0 {
		t.Errorf("settings %+v", c.Settings)
	}
	b, err := res.Detector.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeDetector(b)
	if err != nil {
		t.Fatal(err)
	}
	s := d.Meta.Card.Summary()
	for _, want := range []string{"kmeans on nf-bot-iot-v2", "nf-bot-iot-v2-sample.csv (sha256 " + c.Data[0].SHA256[:12], "macro-F1", "majority baseline (Benign)"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
	if (*ModelCard)(nil).Summary() == "" {
		t.Error("nil card has no summary")
	}
	if _, err := Train(nil, TrainOptions{Model: "kmeans", Files: []string{"testdata/no-such-file.csv"}}); err == nil {
		t.Error("Train hashed a file that does not exist")
	}
}

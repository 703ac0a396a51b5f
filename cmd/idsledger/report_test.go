package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/detector"
)

// trainSample trains a model of kind on the nf-bot-iot-v2 sample, holding
// out 30% whose figures come back in the result.
func trainSample(t *testing.T, kind string, cfg detector.TrainConfig) *detector.TrainResult {
	t.Helper()
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{detectorSampleCSV}, detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Seed = 5
	res, err := detector.Train(flows, detector.TrainOptions{Dataset: "nf-bot-iot-v2", Files: []string{detectorSampleCSV},
		Model: kind, TestFraction: 0.3, Seed: 5, Train: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestHTMLReport(t *testing.T) {
	res := trainSample(t, "cblof", detector.TrainConfig{TargetFPR: 0.05})
	var b bytes.Buffer
	err := writeHTMLReport(&b, reportInput{Title: "t", ModelID: res.Detector.ID(), Meta: res.Detector.Meta, Metrics: *res.Test})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "<svg"); n != 2 { // ROC and confusion; no curve for one-pass models
		t.Errorf("%d svg plots", n)
	}
}

package main

import (
	"encoding/json"
	"testing"
)

func TestBenchFLRound(t *testing.T) {
	var code int
	stdout, stderr := capture(t, func() {
		code = runMain([]string{"bench", "fl-round", "--dataset", "nf-bot-iot-v2", "--data", detectorSampleCSV,
			"--updates", "4", "--validation-rows", "50", "--rule", "median", "--compress", "q8", "--json"})
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res flRoundBenchResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if res.Updates != 4 || res.ValidationRows != 50 || res.Rule != "median" || res.Encoding != "q8" || res.Weights == 0 ||
		res.TotalSeconds <= 0 || res.PeakHeapBytes == 0 || res.MaxRSSBytes == 0 || res.PayloadBytes >= 4*res.Weights {
		t.Fatalf("%+v", res)
	}
}

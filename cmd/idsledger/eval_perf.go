package main

import (
	"time"

	"github.com/idsledger/idsledger/detector"
)

// evalPerf is the scoring speed of a detector measured by measurePerf.
type evalPerf struct {
	// WindowsPerSecond is the throughput of Detect over all flows in
	// batches of BatchSize (pipeline transform included), called from one
	// goroutine (the BiLSTM and autoencoder spread each batch over cores).
	WindowsPerSecond float64 `json:"windows_per_second"`
	BatchSize        int     `json:"batch_size"`
	// Single is the latency of Detect on one flow at a time.
	Single       latencySummary `json:"single_window_latency"`
	LatencyP50us float64        `json:"latency_p50_us"`
	LatencyP99us float64        `json:"latency_p99_us"`
}

// latencySummary summarises timed calls.
type latencySummary struct {
	Calls int           `json:"calls"`
	P50   time.Duration `json:"p50_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
}

// summariseLatency returns the p50, p99 (detector.Quantile) and max of d.
func summariseLatency(d []time.Duration) latencySummary {
	if len(d) == 0 {
		return latencySummary{}
	}
	return latencySummary{Calls: len(d), P50: detector.Quantile(d, 0.50), P99: detector.Quantile(d, 0.99), Max: detector.Quantile(d, 1)}
}

// measurePerf times d.Detect on flows in batches of batch, then on up to
// singles flows one by one. The predictions of the batched pass are
// returned so callers need not score twice, with what the pipeline's value
// policy counted in that pass (each flow once; the pipeline's Stats add
// the timed singles again).
func measurePerf(d *detector.Detector, flows []*detector.Flow, batch, singles int) ([]detector.Prediction, detector.ValueStats, evalPerf, error) {
	if batch <= 0 {
		batch = 256
	}
	p := evalPerf{BatchSize: batch}
	preds := make([]detector.Prediction, 0, len(flows))
	start := time.Now()
	for lo := 0; lo < len(flows); lo += batch {
		out, err := d.Detect(flows[lo:min(lo+batch, len(flows))])
		if err != nil {
			return nil, detector.ValueStats{}, p, err
		}
		preds = append(preds, out...)
	}
	values := d.Pipeline.Stats()
	if el := time.Since(start); el > 0 {
		p.WindowsPerSecond = float64(len(flows)) / el.Seconds()
	}
	n := min(singles, len(flows))
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if _, err := d.Detect(flows[i : i+1]); err != nil {
			return nil, values, p, err
		}
		lat = append(lat, time.Since(t0))
	}
	p.Single = summariseLatency(lat)
	p.LatencyP50us = float64(p.Single.P50) / 1e3
	p.LatencyP99us = float64(p.Single.P99) / 1e3
	return preds, values, p, nil
}

package detector

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ServeBenchConfig sizes BenchServing. Zero values take the defaults in
// brackets.
type ServeBenchConfig struct {
	T       int           `json:"t"`                // steps per window [10]
	F       int           `json:"f"`                // features per step [1]
	Hidden  int           `json:"hidden"`           // LSTM units per direction [32]
	Classes int           `json:"classes"`          // output classes [5]
	Batch   int           `json:"batch"`            // windows per call in the throughput runs [256]
	AERows  int           `json:"ae_rows"`          // rows per autoencoder call [4096]
	AEF     int           `json:"ae_features"`      // autoencoder input features [38]
	Workers int           `json:"gorgonia_workers"` // gorgonia graphs run in parallel, one per worker [GOMAXPROCS]
	Each    time.Duration `json:"each_ns"`          // time spent on each measurement [2s]
	Seed    int64         `json:"seed"`
}

func (c *ServeBenchConfig) defaults() {
	c.T = nnOr(c.T, 10)
	c.F = nnOr(c.F, 1)
	c.Hidden = nnOr(c.Hidden, 32)
	c.Classes = nnOr(c.Classes, 5)
	c.Batch = nnOr(c.Batch, 256)
	c.AERows = nnOr(c.AERows, 4096)
	c.AEF = nnOr(c.AEF, 38)
	c.Workers = nnOr(c.Workers, runtime.GOMAXPROCS(0))
	if c.Each <= 0 {
		c.Each = 2 * time.Second
	}
}

// ServeBenchResult is what BenchServing measured, in one run on the same
// weights and inputs.
type ServeBenchResult struct {
	Config ServeBenchConfig `json:"config"`
	// ServingWindowsPerSecond: BiLSTM.Predict (plain Go) on batches of
	// Config.Batch windows; Predict spreads a batch over GOMAXPROCS cores.
	ServingWindowsPerSecond float64 `json:"serving_windows_per_second"`
	// GorgoniaWindowsPerSecond: forward-only gorgonia graphs of batch
	// Config.Batch, one TapeMachine per worker running in parallel.
	GorgoniaWindowsPerSecond float64 `json:"gorgonia_windows_per_second"`
	// Speedup is ServingWindowsPerSecond / GorgoniaWindowsPerSecond.
	Speedup float64 `json:"speedup"`
	// GorgoniaOneGraphWindowsPerSecond: one forward graph (one TapeMachine,
	// which is not safe for concurrent use) on batches of Config.Batch, and
	// the serving path's speedup over it.
	GorgoniaOneGraphWindowsPerSecond float64 `json:"gorgonia_one_graph_windows_per_second"`
	SpeedupOneGraph                  float64 `json:"speedup_one_graph"`
	// Single-window Predict latency.
	SingleWindowP50us float64 `json:"single_window_p50_us"`
	SingleWindowP99us float64 `json:"single_window_p99_us"`
	// Gorgonia's single-window latency (graph of batch 1).
	GorgoniaSingleP50us float64 `json:"gorgonia_single_window_p50_us"`
	// AutoencoderRowsPerSecond: Autoencoder.Scores (plain Go) on batches
	// of Config.AERows rows.
	AutoencoderRowsPerSecond float64 `json:"autoencoder_rows_per_second"`
	GOMAXPROCS               int     `json:"gomaxprocs"`
}

// BenchServing measures the neural models' plain-Go serving path against
// gorgonia on the same seeded random weights and inputs. It takes about
// six times Config.Each and stops early, with ctx's error, when ctx ends.
func BenchServing(ctx context.Context, cfg ServeBenchConfig) (ServeBenchResult, error) {
	cfg.defaults()
	res := ServeBenchResult{Config: cfg, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	classes := make([]string, cfg.Classes)
	for i := range classes {
		classes[i] = fmt.Sprintf("c%d", i)
	}
	m, err := NewBiLSTM(ModelConfig{T: cfg.T, F: cfg.F, Hidden: cfg.Hidden, Classes: classes, Seed: cfg.Seed})
	if err != nil {
		return res, err
	}
	if err := m.SetWeights(m.d.initWeights(cfg.Seed)); err != nil {
		return res, err
	}
	x := benchSeqs(cfg.Batch, cfg.T, cfg.F, cfg.Seed)

	// Serving throughput.
	n, el, err := repeatFor(ctx, cfg.Each, func() error { _, err := m.Predict(x); return err })
	if err != nil {
		return res, err
	}
	res.ServingWindowsPerSecond = float64(n*cfg.Batch) / el.Seconds()

	// Gorgonia throughput: one graph per worker.
	preds := make([]*gorgoniaPredictor, cfg.Workers)
	for i := range preds {
		if preds[i], err = newGorgoniaPredictor(m.d, cfg.Batch, m.w); err != nil {
			return res, err
		}
	}
	var calls atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	t0 := time.Now()
	for _, p := range preds {
		wg.Add(1)
		go func(p *gorgoniaPredictor) {
			defer wg.Done()
			for time.Since(t0) < cfg.Each && ctx.Err() == nil {
				if _, err := p.probs(x); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				calls.Add(1)
			}
		}(p)
	}
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.GorgoniaWindowsPerSecond = float64(calls.Load()*int64(cfg.Batch)) / time.Since(t0).Seconds()
	res.Speedup = res.ServingWindowsPerSecond / res.GorgoniaWindowsPerSecond
	n, el, err = repeatFor(ctx, cfg.Each, func() error { _, err := preds[0].probs(x); return err })
	if err != nil {
		return res, err
	}
	res.GorgoniaOneGraphWindowsPerSecond = float64(n*cfg.Batch) / el.Seconds()
	res.SpeedupOneGraph = res.ServingWindowsPerSecond / res.GorgoniaOneGraphWindowsPerSecond

	// Single-window latency, serving and gorgonia.
	one := x.Slice(0, 1)
	lat, err := latencies(ctx, cfg.Each, func() error { _, err := m.Predict(one); return err })
	if err != nil {
		return res, err
	}
	res.SingleWindowP50us, res.SingleWindowP99us = micros(Quantile(lat, 0.5)), micros(Quantile(lat, 0.99))
	g1, err := newGorgoniaPredictor(m.d, 1, m.w)
	if err != nil {
		return res, err
	}
	lat, err = latencies(ctx, cfg.Each/2, func() error { _, err := g1.probs(one); return err })
	if err != nil {
		return res, err
	}
	res.GorgoniaSingleP50us = micros(Quantile(lat, 0.5))

	// Autoencoder scoring.
	ae, err := NewAutoencoder(ModelConfig{T: 1, F: cfg.AEF, Classes: classes, Seed: cfg.Seed})
	if err != nil {
		return res, err
	}
	aw := make([]float32, ae.d.size())
	r := newRand(cfg.Seed, 7)
	for i := range aw {
		aw[i] = r.Float32() - 0.5
	}
	if err := ae.SetWeights(aw); err != nil {
		return res, err
	}
	rows := benchSeqs(cfg.AERows, 1, cfg.AEF, cfg.Seed+1)
	n, el, err = repeatFor(ctx, cfg.Each, func() error { _, err := ae.Scores(rows); return err })
	if err != nil {
		return res, err
	}
	res.AutoencoderRowsPerSecond = float64(n*cfg.AERows) / el.Seconds()
	return res, nil
}

func benchSeqs(n, t, f int, seed int64) Seqs {
	x := NewSeqs(n, t, f)
	r := newRand(seed, 8)
	for i := range x.Data {
		x.Data[i] = r.Float32()
	}
	return x
}

// repeatFor calls fn until d has passed (at least once) and returns the
// number of calls and the time they took.
func repeatFor(ctx context.Context, d time.Duration, fn func() error) (int, time.Duration, error) {
	t0 := time.Now()
	n := 0
	for n == 0 || time.Since(t0) < d {
		if err := ctx.Err(); err != nil {
			return n, time.Since(t0), err
		}
		if err := fn(); err != nil {
			return n, time.Since(t0), err
		}
		n++
	}
	return n, time.Since(t0), nil
}

// latencies times each call of fn for about d.
func latencies(ctx context.Context, d time.Duration, fn func() error) ([]time.Duration, error) {
	var lat []time.Duration
	t0 := time.Now()
	for len(lat) == 0 || time.Since(t0) < d {
		if err := ctx.Err(); err != nil {
			return lat, err
		}
		s := time.Now()
		if err := fn(); err != nil {
			return lat, err
		}
		lat = append(lat, time.Since(s))
	}
	return lat, nil
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

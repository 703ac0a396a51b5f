package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idsledger/idsledger/detector"
)

func init() {
	registerBench(benchmark{
		name:    "detector",
		summary: "BiLSTM serving path vs gorgonia on the same weights; autoencoder scoring",
		run:     runBenchDetector,
	})
}

// runBenchDetector measures the neural serving path in one run: BiLSTM
// windows per second at a batch size, plain Go against gorgonia on the same
// seeded weights, single-window latency, and autoencoder rows per second.
func runBenchDetector(ctx context.Context, args []string) error {
	fs := newFlagSet("bench detector", "bench detector [--json] [flags]")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	batch := fs.Int("batch", 256, "windows per call in the throughput runs")
	hidden := fs.Int("hidden", 32, "LSTM units per direction")
	steps := fs.Int("t", 10, "steps per window (T)")
	feats := fs.Int("f", 1, "features per step (F)")
	aeF := fs.Int("ae-features", 38, "autoencoder input features")
	each := fs.Duration("each", detectorBenchEach, "time spent on each measurement")
	workers := fs.Int("gorgonia-workers", 0, "gorgonia graphs run in parallel (0: GOMAXPROCS)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *batch <= 0 || *hidden <= 0 || *steps <= 0 || *feats <= 0 || *aeF <= 0 || *each <= 0 || *workers < 0 {
		return usagef("--batch, --hidden, --t, --f, --ae-features and --each must be positive")
	}
	if !*asJSON {
		fmt.Fprintf(os.Stderr, "measuring for about %s (GOMAXPROCS=%d)...\n", 6*(*each), runtime.GOMAXPROCS(0))
	}
	r, err := benchServing(ctx, serveBenchConfig{
		T: *steps, F: *feats, Hidden: *hidden, Batch: *batch, AEF: *aeF, Workers: *workers, Each: *each, Seed: 1,
	})
	if err != nil {
		return fmt.Errorf("bench detector: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	c := r.Config
	fmt.Printf("BiLSTM T=%d F=%d H=%d C=%d, batch %d, GOMAXPROCS %d\n", c.T, c.F, c.Hidden, c.Classes, c.Batch, r.GOMAXPROCS)
	fmt.Printf("  serving (plain Go)      %12.0f windows/s\n", r.ServingWindowsPerSecond)
	fmt.Printf("  gorgonia (%d graph(s))   %12.0f windows/s\n", c.Workers, r.GorgoniaWindowsPerSecond)
	fmt.Printf("  speedup                 %12.2fx\n", r.Speedup)
	fmt.Printf("  gorgonia (1 graph)      %12.0f windows/s (speedup %.2fx)\n", r.GorgoniaOneGraphWindowsPerSecond, r.SpeedupOneGraph)
	fmt.Printf("  single window p50/p99   %8.1f / %.1f µs (gorgonia p50 %.1f µs)\n", r.SingleWindowP50us, r.SingleWindowP99us, r.GorgoniaSingleP50us)
	fmt.Printf("Autoencoder F=%d, %d rows per call\n", c.AEF, c.AERows)
	fmt.Printf("  scoring                 %12.0f rows/s\n", r.AutoencoderRowsPerSecond)
	return nil
}

// detectorBenchEach is the default time per measurement.
const detectorBenchEach = 3 * time.Second

// serveBenchConfig sizes benchServing. Zero values take the defaults in
// brackets.
type serveBenchConfig struct {
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

func (c *serveBenchConfig) defaults() {
	c.T = positiveOr(c.T, 10)
	c.F = positiveOr(c.F, 1)
	c.Hidden = positiveOr(c.Hidden, 32)
	c.Classes = positiveOr(c.Classes, 5)
	c.Batch = positiveOr(c.Batch, 256)
	c.AERows = positiveOr(c.AERows, 4096)
	c.AEF = positiveOr(c.AEF, 38)
	c.Workers = positiveOr(c.Workers, runtime.GOMAXPROCS(0))
	if c.Each <= 0 {
		c.Each = 2 * time.Second
	}
}

// serveBenchResult is what benchServing measured, in one run on the same
// weights and inputs.
type serveBenchResult struct {
	Config serveBenchConfig `json:"config"`
	// ServingWindowsPerSecond: BiLSTM.Predict (plain Go) on batches of
	// Config.Batch windows; Predict spreads a batch over GOMAXPROCS cores.
	ServingWindowsPerSecond float64 `json:"serving_windows_per_second"`
	// GorgoniaWindowsPerSecond: forward-only gorgonia graphs of batch
	// Config.Batch, one per worker running in parallel.
	GorgoniaWindowsPerSecond float64 `json:"gorgonia_windows_per_second"`
	// Speedup is ServingWindowsPerSecond / GorgoniaWindowsPerSecond.
	Speedup float64 `json:"speedup"`
	// GorgoniaOneGraphWindowsPerSecond: one forward graph on batches of
	// Config.Batch, and the serving path's speedup over it.
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

// benchServing measures the neural models' plain-Go serving path against
// gorgonia's forward graph (detector.GorgoniaPredictor) on the same seeded
// weights and random inputs. It takes about six times Config.Each and stops
// early, with ctx's error, when ctx ends.
func benchServing(ctx context.Context, cfg serveBenchConfig) (serveBenchResult, error) {
	cfg.defaults()
	res := serveBenchResult{Config: cfg, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	classes := benchClasses(cfg.Classes)
	m, err := detector.NewBiLSTM(detector.ModelConfig{T: cfg.T, F: cfg.F, Hidden: cfg.Hidden, Classes: classes, Seed: cfg.Seed})
	if err != nil {
		return res, err
	}
	if err := m.InitWeights(); err != nil {
		return res, err
	}
	x := randomSeqs(cfg.Batch, cfg.T, cfg.F, cfg.Seed)

	// Serving throughput.
	n, el, err := repeatFor(ctx, cfg.Each, func() error { _, err := m.Predict(x); return err })
	if err != nil {
		return res, err
	}
	res.ServingWindowsPerSecond = float64(n*cfg.Batch) / el.Seconds()

	// Gorgonia throughput: one graph per worker.
	preds := make([]*detector.GorgoniaPredictor, cfg.Workers)
	for i := range preds {
		if preds[i], err = detector.NewGorgoniaPredictor(m, cfg.Batch); err != nil {
			return res, err
		}
	}
	var calls atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	t0 := time.Now()
	for _, p := range preds {
		wg.Go(func() {
			// At least one call each, as repeatFor: a worker started after
			// Each has passed (a loaded machine, a short Each) would leave
			// the throughput 0 and the speedup infinite.
			for n := 0; n == 0 || (time.Since(t0) < cfg.Each && ctx.Err() == nil); n++ {
				if _, err := p.Probs(x); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				calls.Add(1)
			}
		})
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
	n, el, err = repeatFor(ctx, cfg.Each, func() error { _, err := preds[0].Probs(x); return err })
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
	res.SingleWindowP50us, res.SingleWindowP99us = micros(detector.Quantile(lat, 0.5)), micros(detector.Quantile(lat, 0.99))
	g1, err := detector.NewGorgoniaPredictor(m, 1)
	if err != nil {
		return res, err
	}
	lat, err = latencies(ctx, cfg.Each/2, func() error { _, err := g1.Probs(one); return err })
	if err != nil {
		return res, err
	}
	res.GorgoniaSingleP50us = micros(detector.Quantile(lat, 0.5))

	// Autoencoder scoring.
	ae, err := detector.NewAutoencoder(detector.ModelConfig{T: 1, F: cfg.AEF, Classes: classes, Seed: cfg.Seed})
	if err != nil {
		return res, err
	}
	if err := ae.InitWeights(); err != nil {
		return res, err
	}
	rows := randomSeqs(cfg.AERows, 1, cfg.AEF, cfg.Seed+1)
	n, el, err = repeatFor(ctx, cfg.Each, func() error { _, err := ae.Scores(rows); return err })
	if err != nil {
		return res, err
	}
	res.AutoencoderRowsPerSecond = float64(n*cfg.AERows) / el.Seconds()
	return res, nil
}

// benchClasses names n classes c0..c(n-1); c0 is the benign one.
func benchClasses(n int) []string {
	classes := make([]string, n)
	for i := range classes {
		classes[i] = fmt.Sprintf("c%d", i)
	}
	return classes
}

// randomSeqs returns n sequences of t steps of f seeded values in [0,1),
// the range of the pipeline's output.
func randomSeqs(n, t, f int, seed int64) detector.Seqs {
	x := detector.NewSeqs(n, t, f)
	r := rand.New(rand.NewPCG(uint64(seed), 8))
	for i := range x.Data {
		x.Data[i] = r.Float32()
	}
	return x
}

func positiveOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
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

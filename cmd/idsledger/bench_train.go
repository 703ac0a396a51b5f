package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"time"

	"github.com/idsledger/idsledger/detector"
)

func init() {
	registerBench(benchmark{
		name:    "train",
		summary: "training speed: the fast engine vs gorgonia on the same weights and batches",
		run:     runBenchTrain,
	})
}

// runBenchTrain measures training throughput in one run: the fast engine
// (on this CPU's kernels and on the portable ones) against gorgonia's, for
// the BiLSTM at a shape and for the autoencoder.
func runBenchTrain(ctx context.Context, args []string) error {
	fs := newFlagSet("bench train", "bench train [--t T --f F --hidden H --batch B] [--json]")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	steps := fs.Int("t", 36, "steps per window (T); the shipped model reads 36 features one per step")
	feats := fs.Int("f", 1, "features per step (F)")
	hidden := fs.Int("hidden", detector.BiLSTMDefaultHidden, "LSTM units per direction")
	batch := fs.Int("batch", detector.BiLSTMDefaultBatch, "mini-batch size")
	aeF := fs.Int("ae-features", 38, "autoencoder input features")
	each := fs.Duration("each", detectorBenchEach, "time spent on each measurement")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *batch <= 0 || *hidden <= 0 || *steps <= 0 || *feats <= 0 || *aeF <= 0 || *each <= 0 {
		return usagef("--t, --f, --hidden, --batch, --ae-features and --each must be positive")
	}
	if !*asJSON {
		fmt.Fprintf(os.Stderr, "measuring for about %s (GOMAXPROCS=%d)...\n", 5*(*each), runtime.GOMAXPROCS(0))
	}
	r, err := benchTraining(ctx, trainBenchConfig{
		T: *steps, F: *feats, Hidden: *hidden, Batch: *batch, AEF: *aeF, Each: *each, Seed: 1,
	})
	if err != nil {
		return fmt.Errorf("bench train: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	c := r.Config
	fmt.Printf("BiLSTM training, T=%d F=%d H=%d C=%d, batch %d, GOMAXPROCS %d, AVX2 %v\n", c.T, c.F, c.Hidden, c.Classes, c.Batch, r.GOMAXPROCS, r.AVX2)
	fmt.Printf("  fast engine             %10.0f windows/s\n", r.TrainWindowsPerSecond)
	fmt.Printf("  fast, portable kernels  %10.0f windows/s\n", r.PortableTrainWindowsPerSecond)
	fmt.Printf("  gorgonia                %10.0f windows/s\n", r.GorgoniaTrainWindowsPerSecond)
	fmt.Printf("  speedup                 %10.2fx\n", r.Speedup)
	fmt.Printf("Autoencoder training, F=%d, batch 32\n", c.AEF)
	fmt.Printf("  fast engine             %10.0f rows/s\n", r.AETrainRowsPerSecond)
	fmt.Printf("  gorgonia                %10.0f rows/s\n", r.GorgoniaAETrainRowsPerSecond)
	fmt.Printf("  speedup                 %10.2fx\n", r.AESpeedup)
	return nil
}

// trainBenchConfig sizes benchTraining. Zero values take the defaults in
// brackets: the shape of the shipped model (per-flow input of 36 features,
// positional input on, 32 units per direction, 5 classes).
type trainBenchConfig struct {
	T       int           `json:"t"`           // steps per window [36]
	F       int           `json:"f"`           // features per step [1]
	Hidden  int           `json:"hidden"`      // LSTM units per direction [32]
	Classes int           `json:"classes"`     // output classes [5]
	Batch   int           `json:"batch"`       // mini-batch size [64]
	Windows int           `json:"windows"`     // training windows cycled through [4096]
	AEF     int           `json:"ae_features"` // autoencoder input features [38]
	Each    time.Duration `json:"each_ns"`     // time spent on each measurement [3s]
	Seed    int64         `json:"seed"`
}

func (c *trainBenchConfig) defaults() {
	c.T = positiveOr(c.T, 36)
	c.F = positiveOr(c.F, 1)
	c.Hidden = positiveOr(c.Hidden, 32)
	c.Classes = positiveOr(c.Classes, 5)
	c.Batch = positiveOr(c.Batch, 64)
	c.Windows = max(positiveOr(c.Windows, 4096), c.Batch)
	c.AEF = positiveOr(c.AEF, 38)
	if c.Each <= 0 {
		c.Each = 3 * time.Second
	}
}

// trainBenchResult is what benchTraining measured, in one run on the same
// seeded weights and data. A trained window is one window's forward pass,
// backward pass and its share of the Adam update: what Fit does per
// mini-batch, without the per-epoch validation (detector.Stepper).
type trainBenchResult struct {
	Config trainBenchConfig `json:"config"`
	// TrainWindowsPerSecond: the fast engine, on the kernels this CPU runs
	// (AVX2 tells which), over GOMAXPROCS cores.
	TrainWindowsPerSecond float64 `json:"train_windows_per_second"`
	// PortableTrainWindowsPerSecond: the fast engine on its Go kernels
	// (what a CPU without AVX2/FMA runs); the same bits, slower.
	PortableTrainWindowsPerSecond float64 `json:"portable_train_windows_per_second"`
	// GorgoniaTrainWindowsPerSecond: gorgonia's graph and AdamSolver, the
	// reference engine (one TapeMachine).
	GorgoniaTrainWindowsPerSecond float64 `json:"gorgonia_train_windows_per_second"`
	// Speedup is TrainWindowsPerSecond / GorgoniaTrainWindowsPerSecond.
	Speedup float64 `json:"speedup"`
	// The autoencoder (F→32→8→32→F, batch 32), rows per second.
	AETrainRowsPerSecond         float64 `json:"autoencoder_train_rows_per_second"`
	GorgoniaAETrainRowsPerSecond float64 `json:"gorgonia_autoencoder_train_rows_per_second"`
	AESpeedup                    float64 `json:"autoencoder_speedup"`
	AVX2                         bool    `json:"avx2"`
	GOMAXPROCS                   int     `json:"gomaxprocs"`
}

// benchTraining measures training speed: the fast engine against
// gorgonia's, on the same seeded weights and random mini-batches. It takes
// about five times Config.Each and stops early, with ctx's error, when ctx
// ends.
func benchTraining(ctx context.Context, cfg trainBenchConfig) (trainBenchResult, error) {
	cfg.defaults()
	res := trainBenchResult{Config: cfg, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	m, err := detector.NewBiLSTM(detector.ModelConfig{T: cfg.T, F: cfg.F, Hidden: cfg.Hidden,
		Classes: benchClasses(cfg.Classes), Seed: cfg.Seed})
	if err != nil {
		return res, err
	}
	train := detector.Labeled{X: randomSeqs(cfg.Windows, cfg.T, cfg.F, cfg.Seed), Y: make([]int, cfg.Windows)}
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 50))
	for i := range train.Y {
		train.Y[i] = r.IntN(cfg.Classes)
	}
	// The same seeded weights and windows for every engine.
	bilstm := func(engine string, portable bool) (*detector.Stepper, error) {
		return m.NewStepper(train, detector.StepperConfig{Engine: engine, Portable: portable, Batch: cfg.Batch})
	}
	fast, err := bilstm(detector.EngineFast, false)
	if err != nil {
		return res, err
	}
	res.AVX2 = fast.AVX2()
	if res.TrainWindowsPerSecond, err = benchSteps(ctx, fast, cfg.Windows, cfg.Batch, cfg.Each); err != nil {
		return res, err
	}
	portable, err := bilstm(detector.EngineFast, true)
	if err != nil {
		return res, err
	}
	if res.PortableTrainWindowsPerSecond, err = benchSteps(ctx, portable, cfg.Windows, cfg.Batch, cfg.Each); err != nil {
		return res, err
	}
	ref, err := bilstm(detector.EngineGorgonia, false)
	if err != nil {
		return res, err
	}
	if res.GorgoniaTrainWindowsPerSecond, err = benchSteps(ctx, ref, cfg.Windows, cfg.Batch, cfg.Each); err != nil {
		return res, err
	}
	res.Speedup = res.TrainWindowsPerSecond / res.GorgoniaTrainWindowsPerSecond

	// The autoencoder at its default shape, on rows that its identity
	// input transform (log_eps 0) passes unchanged.
	ae, err := detector.NewAutoencoder(detector.ModelConfig{T: 1, F: cfg.AEF, Classes: benchClasses(2), Seed: cfg.Seed,
		Params: map[string]float64{"log_eps": 0}})
	if err != nil {
		return res, err
	}
	if err := ae.InitWeights(); err != nil {
		return res, err
	}
	rows := detector.NewSeqs(cfg.Windows, 1, cfg.AEF)
	for i := range rows.Data {
		rows.Data[i] = 2*r.Float32() - 1
	}
	const aeBatch = detector.AEDefaultBatch
	autoencoder := func(engine string) (*detector.Stepper, error) {
		return ae.NewStepper(rows, detector.StepperConfig{Engine: engine, Batch: aeBatch})
	}
	aeFast, err := autoencoder(detector.EngineFast)
	if err != nil {
		return res, err
	}
	if res.AETrainRowsPerSecond, err = benchSteps(ctx, aeFast, cfg.Windows, aeBatch, cfg.Each); err != nil {
		return res, err
	}
	aeRef, err := autoencoder(detector.EngineGorgonia)
	if err != nil {
		return res, err
	}
	if res.GorgoniaAETrainRowsPerSecond, err = benchSteps(ctx, aeRef, cfg.Windows, aeBatch, cfg.Each); err != nil {
		return res, err
	}
	res.AESpeedup = res.AETrainRowsPerSecond / res.GorgoniaAETrainRowsPerSecond
	return res, nil
}

// benchSteps runs mini-batches of batch rows, cycling through n rows, for
// about each (at least one after the warm-up), and returns the rows
// trained per second.
func benchSteps(ctx context.Context, s *detector.Stepper, n, batch int, each time.Duration) (float64, error) {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	lr := 1e-4                                         // small: the weights should not drift into saturation
	if _, err := s.Step(idx[:batch], lr); err != nil { // warm-up: buffers, caches
		return 0, err
	}
	start := time.Now()
	done := 0
	for lo := 0; done == 0 || time.Since(start) < each; lo = (lo + batch) % (n - batch + 1) { // at least one step, as repeatFor
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if _, err := s.Step(idx[lo:lo+batch], lr); err != nil {
			return 0, fmt.Errorf("bench training: %w", err)
		}
		done += batch
	}
	return float64(done) / time.Since(start).Seconds(), nil
}

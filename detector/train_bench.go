package detector

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// TrainBenchConfig sizes BenchTraining. Zero values take the defaults in
// brackets: the shape of the shipped model (per-flow input of 36 features,
// positional input on, 32 units per direction, 5 classes).
type TrainBenchConfig struct {
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

func (c *TrainBenchConfig) defaults() {
	c.T = nnOr(c.T, 36)
	c.F = nnOr(c.F, 1)
	c.Hidden = nnOr(c.Hidden, 32)
	c.Classes = nnOr(c.Classes, 5)
	c.Batch = nnOr(c.Batch, 64)
	c.Windows = max(nnOr(c.Windows, 4096), c.Batch)
	c.AEF = nnOr(c.AEF, 38)
	if c.Each <= 0 {
		c.Each = 3 * time.Second
	}
}

// TrainBenchResult is what BenchTraining measured, in one run on the same
// seeded weights and data. A trained window is one window's forward pass,
// backward pass and its share of the Adam update: what Fit does per
// mini-batch, without the per-epoch validation.
type TrainBenchResult struct {
	Config TrainBenchConfig `json:"config"`
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

// BenchTraining measures training speed: the fast engine against
// gorgonia's, on the same weights and mini-batches. It takes about five
// times Config.Each and stops early, with ctx's error, when ctx ends.
func BenchTraining(ctx context.Context, cfg TrainBenchConfig) (TrainBenchResult, error) {
	cfg.defaults()
	res := TrainBenchResult{Config: cfg, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	d := bilstmDims{T: cfg.T, F: cfg.F, H: cfg.Hidden, C: cfg.Classes, P: cfg.T}
	if err := d.validate(); err != nil {
		return res, err
	}
	w := d.initWeights(cfg.Seed)
	train := Labeled{X: NewSeqs(cfg.Windows, cfg.T, cfg.F), Y: make([]int, cfg.Windows)}
	r := newRand(cfg.Seed, 50)
	for i := range train.X.Data {
		train.X.Data[i] = r.Float32()
	}
	for i := range train.Y {
		train.Y[i] = r.IntN(cfg.Classes)
	}
	classW := make([]float32, cfg.Classes)
	for i := range classW {
		classW[i] = 1
	}
	fast := newBiLSTMTrainer(d, w, true)
	res.AVX2 = fast.avx2
	var err error
	if res.TrainWindowsPerSecond, err = benchEngine(ctx, &bilstmFastEngine{t: fast, train: train, classW: classW}, cfg.Windows, cfg.Batch, cfg.Each); err != nil {
		return res, err
	}
	portable := &bilstmFastEngine{t: newBiLSTMTrainer(d, w, false), train: train, classW: classW}
	if res.PortableTrainWindowsPerSecond, err = benchEngine(ctx, portable, cfg.Windows, cfg.Batch, cfg.Each); err != nil {
		return res, err
	}
	ref, err := newBiLSTMGorgonia(d, cfg.Batch, w, BiLSTMDefaultLR, train, classW)
	if err != nil {
		return res, err
	}
	if res.GorgoniaTrainWindowsPerSecond, err = benchEngine(ctx, ref, cfg.Windows, cfg.Batch, cfg.Each); err != nil {
		return res, err
	}
	res.Speedup = res.TrainWindowsPerSecond / res.GorgoniaTrainWindowsPerSecond

	ad := aeDims{F: cfg.AEF, W: AEDefaultWidth, Z: AEDefaultBottleneck}
	aw := ad.initLayers(cfg.Seed)
	rows := make([]float32, cfg.Windows*ad.F)
	for i := range rows {
		rows[i] = 2*r.Float32() - 1
	}
	const aeBatch = AEDefaultBatch
	if res.AETrainRowsPerSecond, err = benchEngine(ctx, newAEFastEngine(ad, aw, rows, true), cfg.Windows, aeBatch, cfg.Each); err != nil {
		return res, err
	}
	aref, err := newAEGorgonia(ad, aeBatch, aw, AEDefaultLR, rows)
	if err != nil {
		return res, err
	}
	if res.GorgoniaAETrainRowsPerSecond, err = benchEngine(ctx, aref, cfg.Windows, aeBatch, cfg.Each); err != nil {
		return res, err
	}
	res.AESpeedup = res.AETrainRowsPerSecond / res.GorgoniaAETrainRowsPerSecond
	return res, nil
}

// benchEngine runs mini-batches of batch rows, cycling through n rows, for
// about each, and returns the rows trained per second.
func benchEngine(ctx context.Context, eng nnEngine, n, batch int, each time.Duration) (float64, error) {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	lr := 1e-4                                           // small: the weights should not drift into saturation
	if _, err := eng.step(idx[:batch], lr); err != nil { // warm-up: buffers, caches
		return 0, err
	}
	start := time.Now()
	done := 0
	for lo := 0; time.Since(start) < each; lo = (lo + batch) % (n - batch + 1) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if _, err := eng.step(idx[lo:lo+batch], lr); err != nil {
			return 0, fmt.Errorf("bench training: %w", err)
		}
		done += batch
	}
	return float64(done) / time.Since(start).Seconds(), nil
}

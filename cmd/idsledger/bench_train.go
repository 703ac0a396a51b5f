package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"

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
	r, err := detector.BenchTraining(ctx, detector.TrainBenchConfig{
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

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
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
	r, err := detector.BenchServing(ctx, detector.ServeBenchConfig{
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

package main

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The detector and training benchmarks are run here at small shapes for a
// few milliseconds per measurement: the tests check that every figure is
// measured and that the JSON keeps its fields, never the timings (the
// machine is shared).

// jsonKeys returns the keys of the JSON object s, nested ones as
// "outer.inner", sorted.
func jsonKeys(t *testing.T, s string) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	var keys []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			keys = append(keys, prefix+k)
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
			}
		}
	}
	walk("", m)
	slices.Sort(keys)
	return keys
}

// positive fails t for each figure of figs that is not a positive finite
// number.
func positive(t *testing.T, figs map[string]float64) {
	t.Helper()
	for name, v := range figs {
		if !(v > 0) || math.IsInf(v, 0) {
			t.Errorf("%s = %v, want a positive figure", name, v)
		}
	}
}

func TestBenchDetectorJSON(t *testing.T) {
	var code int
	out, errOut := capture(t, func() {
		code = runMain([]string{"bench", "detector", "--json", "--each", "5ms", "--t", "4", "--hidden", "8", "--batch", "16",
			"--ae-features", "6", "--gorgonia-workers", "2"})
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := []string{"autoencoder_rows_per_second", "config", "config.ae_features", "config.ae_rows", "config.batch",
		"config.classes", "config.each_ns", "config.f", "config.gorgonia_workers", "config.hidden", "config.seed", "config.t",
		"gomaxprocs", "gorgonia_one_graph_windows_per_second", "gorgonia_single_window_p50_us", "gorgonia_windows_per_second",
		"serving_windows_per_second", "single_window_p50_us", "single_window_p99_us", "speedup", "speedup_one_graph"}
	if got := jsonKeys(t, out); !reflect.DeepEqual(got, want) {
		t.Errorf("bench detector --json fields\n got %v\nwant %v", got, want)
	}
	var r serveBenchResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if c := r.Config; c.T != 4 || c.Hidden != 8 || c.Batch != 16 || c.AEF != 6 || c.Workers != 2 || c.Classes != 5 || c.AERows != 4096 {
		t.Errorf("config %+v: the flags or the defaults did not arrive", c)
	}
	positive(t, map[string]float64{"serving": r.ServingWindowsPerSecond, "gorgonia": r.GorgoniaWindowsPerSecond,
		"gorgonia one graph": r.GorgoniaOneGraphWindowsPerSecond, "single p50": r.SingleWindowP50us, "single p99": r.SingleWindowP99us,
		"gorgonia single p50": r.GorgoniaSingleP50us, "autoencoder": r.AutoencoderRowsPerSecond, "speedup": r.Speedup,
		"speedup one graph": r.SpeedupOneGraph})
}

func TestBenchTrainJSON(t *testing.T) {
	var code int
	out, errOut := capture(t, func() {
		code = runMain([]string{"bench", "train", "--json", "--each", "5ms", "--t", "5", "--hidden", "8", "--batch", "16", "--ae-features", "6"})
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := []string{"autoencoder_speedup", "autoencoder_train_rows_per_second", "avx2", "config", "config.ae_features",
		"config.batch", "config.classes", "config.each_ns", "config.f", "config.hidden", "config.seed", "config.t",
		"config.windows", "gomaxprocs", "gorgonia_autoencoder_train_rows_per_second", "gorgonia_train_windows_per_second",
		"portable_train_windows_per_second", "speedup", "train_windows_per_second"}
	if got := jsonKeys(t, out); !reflect.DeepEqual(got, want) {
		t.Errorf("bench train --json fields\n got %v\nwant %v", got, want)
	}
	var r trainBenchResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if c := r.Config; c.T != 5 || c.Hidden != 8 || c.Batch != 16 || c.AEF != 6 || c.Windows != 4096 {
		t.Errorf("config %+v: the flags or the defaults did not arrive", c)
	}
	positive(t, map[string]float64{"fast": r.TrainWindowsPerSecond, "portable": r.PortableTrainWindowsPerSecond,
		"gorgonia": r.GorgoniaTrainWindowsPerSecond, "autoencoder fast": r.AETrainRowsPerSecond,
		"autoencoder gorgonia": r.GorgoniaAETrainRowsPerSecond, "speedup": r.Speedup, "autoencoder speedup": r.AESpeedup})
}

func TestBenchDetectorUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "detector", "--batch", "0"},
		{"bench", "detector", "extra"},
		{"bench", "train", "--hidden", "-1"},
		{"bench", "train", "--each", "0s"},
	} {
		var code int
		_, errOut := capture(t, func() { code = runMain(args) })
		if code != 2 || !strings.Contains(errOut, "bench") {
			t.Errorf("%v: exit %d, %q; want 2 and a usage line", args, code, errOut)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
)

func init() {
	registerBench(benchmark{
		name:    "fl-round",
		summary: "the coordinator's work on one federated round: check, measure and aggregate N updates of the default model",
		run:     runBenchFLRound,
	})
}

// flRoundBenchResult is what `bench fl-round --json` prints.
type flRoundBenchResult struct {
	Model          string  `json:"model"`
	Weights        int     `json:"weights"`
	Updates        int     `json:"updates"`
	Encoding       string  `json:"encoding"`
	Rule           string  `json:"rule"`
	ValidationRows int     `json:"validation_rows"`
	GOMAXPROCS     int     `json:"gomaxprocs"`
	AcceptSeconds  float64 `json:"accept_seconds"`  // Round.Accept: checks, signature, decode (at submission)
	MeasureSeconds float64 `json:"measure_seconds"` // MeasureRound: decode, accuracy on validation, norm, divergence
	AggregateSecs  float64 `json:"aggregate_seconds"`
	NewModelSecs   float64 `json:"new_model_seconds"` // base + aggregate, measured on the validation set
	TotalSeconds   float64 `json:"total_seconds"`
	PerUpdateMS    float64 `json:"per_update_ms"`
	// PeakHeapBytes is the most heap in use during the timed work (sampled
	// every 5 ms); MaxRSSBytes the process's peak resident size, setup
	// included.
	PeakHeapBytes uint64 `json:"peak_heap_bytes"`
	MaxRSSBytes   uint64 `json:"max_rss_bytes"`
	PayloadBytes  int    `json:"payload_bytes_per_update"`
}

// runBenchFLRound measures what the coordinator does with one round of
// updates, at the library level (no database, no chain: the contract
// takes at most 255 updates a round, so a round of 1,000 cannot be judged
// on chain; this is the coordinator's own work): accept each signed update
// (Round.Accept), measure them (coordinator.MeasureRound: the accuracy of
// base + delta on the validation set, norms, divergence from the
// coordinate-wise median), aggregate them with the rule, and measure the
// new model on the validation set.
func runBenchFLRound(ctx context.Context, args []string) error {
	fs := newFlagSet("bench fl-round", "bench fl-round --dataset KIND --data FILE [--updates N] [--rule RULE] [--compress ENC] [--validation-rows N] [--json]")
	var ds datasetFlags
	ds.register(fs, "")
	updates := fs.Int("updates", 1000, "updates in the round")
	rule := fs.String("rule", "fedavg", "aggregation rule (as fl-sim's --aggregate)")
	compress := fs.String("compress", "none", "update encoding (as fl-sim's --compress)")
	validRows := fs.Int("validation-rows", 757, "coordinator validation flows, taken at random from --data (757: fl-sim's coordinator share of dev-all.csv)")
	modelPath := fs.String("model", "", "model file whose weights the updates change (default: the model built into the binary)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ds.data.vals = append(ds.data.vals, fs.Args()...)
	if ds.dataset == "" || len(ds.data.vals) == 0 {
		return usagef("--dataset and --data are required (the validation flows)")
	}
	if *updates < 1 || *validRows < 1 {
		return usagef("--updates and --validation-rows must be positive")
	}
	r, err := federated.ParseRule(*rule)
	if err != nil {
		return usagef("--rule: %v", err)
	}
	enc, err := parseCompress(*compress)
	if err != nil {
		return err
	}
	file, base, err := startModel(*modelPath)
	if err != nil {
		return err
	}
	flows, _, err := ds.load(ctx, ds.loadOptions(), false, nil)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(flows), func(i, j int) { flows[i], flows[j] = flows[j], flows[i] })
	flows = flows[:min(*validRows, len(flows))]
	valid := detector.Labeled{X: base.Pipeline.Transform(flows), Y: base.Pipeline.Labels(flows)}
	baseW := base.Model.Weights()

	round := federated.Round{Number: 1, ChainID: 1337, BaseModelID: base.ID(), Dim: len(baseW), State: federated.StateOpen,
		Opened: time.Now(), Deadline: time.Now().Add(time.Hour), Policy: federated.Policy{Rule: r, Compression: enc},
		Limits: federated.Limits{MaxPayloadBytes: 64 << 20, MaxSamples: 10_000_000}}
	ups, err := benchUpdates(round, *updates, rng)
	if err != nil {
		return err
	}
	for _, u := range ups {
		round.Sites = append(round.Sites, u.Site)
	}
	slices.SortFunc(round.Sites, func(a, b common.Address) int { return bytes.Compare(a[:], b[:]) })
	scratch, err := detector.DecodeDetector(file)
	if err != nil {
		return err
	}
	res := flRoundBenchResult{Model: base.ID(), Weights: len(baseW), Updates: *updates, Encoding: string(enc.Encoding), Rule: r.String(),
		ValidationRows: valid.Len(), GOMAXPROCS: runtime.GOMAXPROCS(0), PayloadBytes: len(ups[0].Payload)}

	runtime.GC()
	stop := sampleHeap()
	start := time.Now()
	for _, u := range ups {
		if _, err := round.Accept(u, time.Now()); err != nil {
			return err
		}
	}
	res.AcceptSeconds = time.Since(start).Seconds()
	t := time.Now()
	hashes := make([]common.Hash, len(ups))
	for i, u := range ups {
		hashes[i] = u.UpdateHash()
	}
	deltas, ms, err := coordinator.MeasureRound(round, scratch.Model, baseW, valid, ups, hashes)
	if err != nil {
		return err
	}
	res.MeasureSeconds = time.Since(t).Seconds()
	t = time.Now()
	contribs := make([]federated.Contribution, len(deltas))
	for i, d := range deltas {
		contribs[i] = federated.Contribution{Site: ms[i].Site, Delta: d, Samples: ups[i].Samples, Trust: 1}
	}
	agg, err := federated.Aggregate(r, contribs)
	if err != nil {
		return err
	}
	res.AggregateSecs = time.Since(t).Seconds()
	t = time.Now()
	next, err := federated.Apply(baseW, agg.Delta)
	if err != nil {
		return err
	}
	if err := scratch.Model.SetWeights(next); err != nil {
		return err
	}
	if _, err := federated.Accuracy(scratch.Model, valid); err != nil {
		return err
	}
	res.NewModelSecs = time.Since(t).Seconds()
	res.TotalSeconds = time.Since(start).Seconds()
	res.PeakHeapBytes = stop()
	res.PerUpdateMS = 1000 * res.TotalSeconds / float64(*updates)
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		res.MaxRSSBytes = uint64(ru.Maxrss) * 1024
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Printf("one round of %d %s updates (%d weights, %s), rule %s, %d validation flows, GOMAXPROCS %d:\n",
		res.Updates, base.Model.Kind(), res.Weights, res.Encoding, res.Rule, res.ValidationRows, res.GOMAXPROCS)
	fmt.Printf("  accept (checks, signatures, decode)   %8.2f s\n", res.AcceptSeconds)
	fmt.Printf("  measure (accuracy, norm, divergence)  %8.2f s\n", res.MeasureSeconds)
	fmt.Printf("  aggregate                             %8.2f s\n", res.AggregateSecs)
	fmt.Printf("  new model on the validation set       %8.2f s\n", res.NewModelSecs)
	fmt.Printf("  total                                 %8.2f s (%.1f ms per update)\n", res.TotalSeconds, res.PerUpdateMS)
	fmt.Printf("  peak heap in use %s, peak RSS %s\n", sizeOf(res.PeakHeapBytes), sizeOf(res.MaxRSSBytes))
	return nil
}

// benchUpdates makes n signed updates of round r, one per fresh site key,
// each a random delta of norm about 5 (what sites of dev-all send).
func benchUpdates(r federated.Round, n int, rng *rand.Rand) ([]*federated.Update, error) {
	ups := make([]*federated.Update, n)
	scale := float32(5 / math.Sqrt(float64(r.Dim)))
	for i := range ups {
		key, err := crypto.GenerateKey()
		if err != nil {
			return nil, err
		}
		delta := make([]float32, r.Dim)
		for j := range delta {
			delta[j] = float32(rng.NormFloat64()) * scale
		}
		payload, err := r.Policy.Compression.Encode(delta, nil)
		if err != nil {
			return nil, err
		}
		u := &federated.Update{ChainID: r.ChainID, Round: r.Number, BaseModel: r.BaseModelID, Samples: uint64(500 + rng.IntN(1000)),
			Dim: uint32(r.Dim), Encoding: r.Policy.Compression.Encoding, Payload: payload, ReportedAccuracy: 0.8, ReportedLoss: 0.5,
			DP: r.Policy.DP.SiteParams()}
		if err := u.Sign(key); err != nil {
			return nil, err
		}
		ups[i] = u
	}
	return ups, nil
}

// sampleHeap samples the heap in use every 5 ms until the returned stop
// is called, which returns the largest sample.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

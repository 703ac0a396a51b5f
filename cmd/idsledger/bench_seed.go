package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
)

func init() {
	registerBench(benchmark{
		name:    "seed",
		summary: "fill a database with synthetic alerts spread over past days, for bench query",
		run:     runBenchSeed,
	})
}

// runBenchSeed raises synthetic alerts through ingest.Ingester.Raise, the
// path every ingest takes (records, outbox, alert rows, report rollups), with
// observed times spread evenly over the last --days days, oldest first, in
// inserts of --per-insert alerts as many small sensor requests would make
// them. A running server anchors them as usual. At the end it folds the
// closed report buckets, as a server running all that time would have.
func runBenchSeed(ctx context.Context, args []string) error {
	fs := newFlagSet("bench seed", "bench seed --database-url URL [--alerts N] [--days D]")
	dbURL := fs.String("database-url", "", "PostgreSQL URL of an idsledger database (DATABASE_URL)")
	n := fs.Int("alerts", 1_000_000, "alerts to write")
	days := fs.Int("days", 31, "spread their observed times over this many past days")
	per := fs.Int("per-insert", 100, "alerts per insert (one transaction each)")
	seed := fs.Uint64("seed", 1, "random seed of the synthetic data")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *n < 1 || *days < 1 || *per < 1:
		return usagef("--alerts, --days and --per-insert must be positive")
	}
	if err := requireDatabaseURL(*dbURL); err != nil {
		return err
	}
	if err := storage.MigrateUp(*dbURL); err != nil {
		return err
	}
	db, err := storage.Open(ctx, *dbURL, storage.Options{MaxConns: 4})
	if err != nil {
		return err
	}
	defer db.Close()
	d, err := detector.DefaultDetector()
	if err != nil {
		return err
	}
	model := ingest.ModelRef{ID: d.ID(), Version: "seed"}

	// Classes in BoT-IoT's proportions among attacks; 4,096 sources and
	// 508 targets, as in a plant network.
	classes := []struct {
		name   string
		weight float64
	}{{"DDoS", 0.48}, {"DoS", 0.44}, {"Reconnaissance", 0.079}, {"Theft", 0.001}}
	start := time.Now().UTC().Add(-time.Duration(*days) * 24 * time.Hour)
	step := time.Duration(*days) * 24 * time.Hour / time.Duration(*n)
	body := func(r *rand.Rand, i int) ingest.AlertBody {
		x, class := r.Float64(), classes[len(classes)-1].name
		for _, c := range classes {
			if x < c.weight {
				class = c.name
				break
			}
			x -= c.weight
		}
		score := 0.5 + r.Float64()/2
		risk := ingest.Risk(d.Meta.Supervised, score, d.Meta.Threshold)
		src := netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(16)), byte(r.IntN(256))}) // 4,096 sources
		dst := netip.AddrFrom4([4]byte{192, 168, byte(r.IntN(2)), byte(1 + r.IntN(254))})
		return ingest.AlertBody{
			ObservedAt: start.Add(time.Duration(i) * step),
			Sensor:     fmt.Sprintf("plant-%d", r.IntN(8)),
			Flow:       ingest.FlowTuple{SrcAddr: src, SrcPort: uint16(1024 + r.IntN(60000)), DstAddr: dst, DstPort: 502, Proto: 6},
			Features:   map[string]string{"IN_BYTES": fmt.Sprint(r.IntN(5000)), "OUT_BYTES": fmt.Sprint(r.IntN(5000))},
			Class:      class, Score: score, Risk: risk, Severity: ingest.SeverityOf(risk), Model: model,
		}
	}

	in := &ingest.Ingester{Store: db}
	began := time.Now()
	var next, done atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	for w := range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(*seed, uint64(w)))
			for ctx.Err() == nil {
				lo := int(next.Add(int64(*per))) - *per
				if lo >= *n {
					return
				}
				batch := make([]ingest.AlertBody, 0, *per)
				for i := lo; i < min(lo+*per, *n); i++ {
					batch = append(batch, body(r, i))
				}
				if _, err := in.Raise(ctx, batch); err != nil {
					errc <- err
					return
				}
				if k := done.Add(int64(len(batch))); k%100_000 < int64(*per) {
					fmt.Fprintf(os.Stderr, "bench seed: %d alerts\n", k)
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return fmt.Errorf("insert alerts: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	folded, err := db.FoldRollups(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %d alerts over %d days in %.1fs; folded %d rollup shard rows\n",
		done.Load(), *days, time.Since(began).Seconds(), folded)
	return nil
}

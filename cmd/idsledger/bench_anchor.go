package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/storage"
)

func init() {
	registerBench(benchmark{
		name:    "anchor",
		summary: "records/s, gas/record, accepted→anchored and verification latency of anchoring",
		run:     runBenchAnchor,
	})
}

// anchorBenchResult is the JSON object `bench anchor --json` prints.
type anchorBenchResult struct {
	Mode             string  `json:"mode"`
	Chain            string  `json:"chain"`
	Rules            string  `json:"rules"`
	Records          int     `json:"records"`
	BatchSize        int     `json:"batch_size"`
	InFlight         int     `json:"in_flight,omitempty"`
	Batches          int     `json:"batches"`
	Seconds          float64 `json:"seconds"`
	RecordsPerSecond float64 `json:"records_per_second"`
	GasPerRecord     float64 `json:"gas_per_record"`

	LatencyRecords  int     `json:"latency_records"`
	LatencyRate     float64 `json:"latency_rate"`
	BatchIntervalMS float64 `json:"batch_interval_ms"`
	LatencyP50MS    float64 `json:"latency_p50_ms"`
	LatencyP99MS    float64 `json:"latency_p99_ms"`

	Verified       int                `json:"verified"`
	VerifyP50MS    float64            `json:"verify_p50_ms"`
	VerifyP99MS    float64            `json:"verify_p99_ms"`
	GasByBatchSize map[string]float64 `json:"gas_per_record_by_batch_size,omitempty"`
}

func runBenchAnchor(ctx context.Context, args []string) error {
	fs := newFlagSet("bench anchor", "bench anchor --records N --mode batch|record [--eth-rpc URL] [--json]")
	records := fs.Int("records", 20000, "records anchored in the throughput phase")
	mode := fs.String("mode", "batch", "batch (Merkle root per transaction) or record (transaction per record)")
	rpcURL := fs.String("eth-rpc", "", "Ethereum JSON-RPC endpoint; empty runs an embedded dev chain in a temporary directory")
	keyFile := fs.String("eth-key-file", "", "service key for --eth-rpc (created when missing; default: a fresh key in a temporary directory, funded from the dev account)")
	dbURL := fs.String("database-url", "", "PostgreSQL server; the benchmark creates and drops its own scratch database there (DATABASE_URL)")
	batchSize := fs.Int("batch-size", 4096, "records per batch (batch mode)")
	inFlight := fs.Int("in-flight", 64, "transactions sent before waiting for them (record mode)")
	interval := fs.Duration("interval", time.Second, "batch time limit during the latency phase")
	rate := fs.Float64("rate", 2000, "records per second fed during the latency phase")
	latencyFor := fs.Duration("latency-duration", 5*time.Second, "length of the latency phase (0 skips it)")
	verifyN := fs.Int("verify", 2000, "records verified to measure verification latency (0 skips it)")
	gasSweep := fs.String("gas-sizes", "1,16,256,1024,4096", "batch sizes whose gas per record is measured (batch mode; empty skips)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a summary")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := requireDatabaseURL(*dbURL); err != nil {
		return err
	}
	if *mode != string(anchor.ModeBatch) && *mode != string(anchor.ModeRecord) {
		return usagef("--mode must be batch or record")
	}
	if *records <= 0 || *batchSize <= 0 || *inFlight <= 0 {
		return usagef("--records, --batch-size and --in-flight must be positive")
	}

	db, closeDB, err := openScratchDatabase(ctx, *dbURL, "idsledger_bench_")
	if err != nil {
		return err
	}
	defer closeDB()

	tmp, err := os.MkdirTemp("", "idsledger-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ccfg := chain.Config{RPC: *rpcURL, DataDir: filepath.Join(tmp, "chain"), FundFromDev: true}
	if *rpcURL != "" {
		ccfg.DataDir = ""
		ccfg.KeyFile = *keyFile
		if ccfg.KeyFile == "" {
			ccfg.KeyFile = filepath.Join(tmp, "service.key")
		}
	}
	c, err := chain.Open(ctx, ccfg, storage.NewChainMeta(db.Pool))
	if err != nil {
		return err
	}
	defer c.Close()

	res := anchorBenchResult{Mode: *mode, Chain: "embedded", Rules: "osaka (dev genesis without the post-Osaka fork)", BatchSize: *batchSize}
	if *mode == string(anchor.ModeRecord) {
		res.BatchSize, res.InFlight = 1, *inFlight
	}
	if *rpcURL != "" {
		res.Chain = "rpc"
		res.Rules = "unknown (the node's own genesis)"
		if c.Meta.GenesisHash == chain.GethDevGenesis().ToBlock().Hash() {
			res.Rules = "osaka (geth --dev initialised with the idsledger dev genesis)"
		}
	}
	out := storage.NewOutbox(db.Pool)
	base := anchor.DefaultWorkerConfig()
	base.Mode = anchor.Mode(*mode)
	base.MaxBatch = *batchSize
	base.MaxInFlight = *inFlight
	base.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// Phase 1: throughput. Every record is in the outbox before the worker
	// starts, so batches close on size.
	if err := fillOutbox(ctx, db.Pool, *records); err != nil {
		return err
	}
	var (
		anchored atomic.Int64
		gas      atomic.Int64
		batches  atomic.Int64
	)
	cfg := base
	cfg.MaxWait = 50 * time.Millisecond
	cfg.OnConfirmed = func(bs []anchor.Batch, cs []anchor.Confirmation) {
		n := 0
		for _, b := range bs {
			n += b.LeafCount
		}
		for _, c := range cs {
			gas.Add(int64(c.Inclusion.GasUsed))
		}
		batches.Add(int64(len(bs)))
		anchored.Add(int64(n))
	}
	start := time.Now()
	if err := runWorkerUntil(ctx, out, c.Registry, cfg, func() bool { return anchored.Load() >= int64(*records) }); err != nil {
		return err
	}
	res.Seconds = time.Since(start).Seconds()
	res.Records = *records
	res.Batches = int(batches.Load())
	res.RecordsPerSecond = float64(*records) / res.Seconds
	res.GasPerRecord = float64(gas.Load()) / float64(anchored.Load())

	// Phase 2: latency at a steady arrival rate with the batch interval.
	if *latencyFor > 0 && *rate > 0 {
		n, err := latencyPhase(ctx, db.Pool, out, c.Registry, base, *interval, *rate, *latencyFor, &res)
		if err != nil {
			return err
		}
		res.LatencyRecords = n
		res.LatencyRate = *rate
		res.BatchIntervalMS = float64(*interval) / float64(time.Millisecond)
	}

	// Phase 3: verification latency.
	if *verifyN > 0 {
		if err := verifyPhase(ctx, db.Pool, out, c.Registry, *verifyN, &res); err != nil {
			return err
		}
	}

	// Gas per record by batch size, measured directly on the registry.
	if *mode == string(anchor.ModeBatch) && *gasSweep != "" {
		res.GasByBatchSize = map[string]float64{}
		id := uint64(1 << 40) // far from the database's batch ids
		for _, s := range strings.Split(*gasSweep, ",") {
			var size uint32
			if _, err := fmt.Sscan(strings.TrimSpace(s), &size); err != nil || size == 0 {
				return usagef("--gas-sizes: bad size %q", s)
			}
			var root anchor.Hash
			rand.Read(root[:])
			sent, err := c.Registry.AnchorBatch(ctx, id, root, size, 1)
			if err != nil {
				return fmt.Errorf("gas sweep: %w", err)
			}
			inc, err := c.Registry.WaitIncluded(ctx, sent.Tx, 1, nil)
			if err != nil {
				return fmt.Errorf("gas sweep: %w", err)
			}
			res.GasByBatchSize[fmt.Sprint(size)] = float64(inc.GasUsed) / float64(size)
			id++
		}
	}

	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		return enc.Encode(res)
	}
	fmt.Printf("%s mode on %s chain: %d records in %.2f s = %.0f records/s, %.1f gas/record (%d transactions)\n",
		res.Mode, res.Chain, res.Records, res.Seconds, res.RecordsPerSecond, res.GasPerRecord, res.Batches)
	if res.LatencyRecords > 0 {
		fmt.Printf("accepted→anchored at %.0f records/s, %v interval: p50 %.0f ms, p99 %.0f ms (%d records)\n",
			res.LatencyRate, *interval, res.LatencyP50MS, res.LatencyP99MS, res.LatencyRecords)
	}
	if res.Verified > 0 {
		fmt.Printf("verification: p50 %.2f ms, p99 %.2f ms (%d records)\n", res.VerifyP50MS, res.VerifyP99MS, res.Verified)
	}
	for _, s := range strings.Split(*gasSweep, ",") {
		if g, ok := res.GasByBatchSize[strings.TrimSpace(s)]; ok {
			fmt.Printf("gas/record at batch size %s: %.1f\n", strings.TrimSpace(s), g)
		}
	}
	return nil
}

// runWorkerUntil runs a worker until done reports true, then stops it.
func runWorkerUntil(ctx context.Context, out anchor.Outbox, reg anchor.Registry, cfg anchor.WorkerConfig, done func() bool) error {
	w, err := anchor.NewWorker(out, reg, cfg)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- w.Run(wctx) }()
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for !done() {
		select {
		case err := <-errc:
			return fmt.Errorf("worker stopped: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	cancel()
	return <-errc
}

// benchBody is a realistic alert body, made unique by i and a random nonce.
func benchBody(i int, nonce string) []byte {
	return []byte(fmt.Sprintf(`{"community_id":"1:%s%d","dst":"10.0.%d.%d","kind":"alert","label":"ddos","model":"bilstm-v1","n":%d,"score":0.%06d,"src":"192.168.%d.%d"}`,
		nonce, i, i%250, i%200, i, i%999999, i%250, i%199))
}

// fillOutbox puts n pending records in the outbox with one COPY.
func fillOutbox(ctx context.Context, pool *pgxpool.Pool, n int) error {
	nonce := make([]byte, 4)
	rand.Read(nonce)
	bodies := make([][]byte, n)
	for i := range n {
		c, err := anchor.Canonicalize(benchBody(i, hex.EncodeToString(nonce)))
		if err != nil {
			return err
		}
		bodies[i] = c
	}
	if _, err := storage.AppendRecords(ctx, pool, "alert", bodies); err != nil {
		return fmt.Errorf("fill outbox: %w", err)
	}
	return nil
}

func latencyPhase(ctx context.Context, pool *pgxpool.Pool, out anchor.Outbox, reg anchor.Registry,
	base anchor.WorkerConfig, interval time.Duration, rate float64, d time.Duration, res *anchorBenchResult) (int, error) {
	var firstSeq int64
	if err := pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM records`).Scan(&firstSeq); err != nil {
		return 0, err
	}
	cfg := base
	cfg.MaxWait = interval
	cfg.PollInterval = 10 * time.Millisecond
	w, err := anchor.NewWorker(out, reg, cfg)
	if err != nil {
		return 0, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- w.Run(wctx) }()

	// Feed records at the rate, in small transactions every 10 ms.
	total := int(rate * d.Seconds())
	nonce := make([]byte, 4)
	rand.Read(nonce)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	sent := 0
	var mu sync.Mutex
	for sent < total {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case err := <-errc:
			return 0, fmt.Errorf("worker stopped: %v", err)
		case <-tick.C:
		}
		due := min(total, int(rate*time.Since(start).Seconds()))
		if due <= sent {
			continue
		}
		mu.Lock()
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			for i := sent; i < due; i++ {
				c, err := anchor.Canonicalize(benchBody(1_000_000+i, hex.EncodeToString(nonce)))
				if err != nil {
					return err
				}
				if _, _, err := storage.AppendRecord(ctx, tx, "alert", c, anchor.LeafHash(c)); err != nil {
					return err
				}
			}
			return nil
		})
		mu.Unlock()
		if err != nil {
			return 0, err
		}
		sent = due
	}
	// Wait until every fed record is anchored.
	for {
		var left int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE seq > $1`, firstSeq).Scan(&left); err != nil {
			return 0, err
		}
		if left == 0 {
			break
		}
		select {
		case err := <-errc:
			return 0, fmt.Errorf("worker stopped: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if err := <-errc; err != nil {
		return 0, err
	}
	err = pool.QueryRow(ctx, `
		SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY ms), percentile_disc(0.99) WITHIN GROUP (ORDER BY ms)
		FROM (SELECT extract(epoch FROM ra.anchored_at - r.created_at) * 1000 AS ms
		      FROM records r JOIN record_anchors ra ON ra.record_id = r.id WHERE r.seq > $1) l`, firstSeq).
		Scan(&res.LatencyP50MS, &res.LatencyP99MS)
	return total, err
}

func verifyPhase(ctx context.Context, pool *pgxpool.Pool, src anchor.RecordSource, reg anchor.RegistryReader, n int, res *anchorBenchResult) error {
	rows, err := pool.Query(ctx, `SELECT record_id FROM record_anchors ORDER BY random() LIMIT $1`, n)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[[16]byte])
	if err != nil {
		return err
	}
	v := anchor.NewVerifier(src, reg)
	lat := make([]float64, 0, len(ids))
	for _, id := range ids {
		t := time.Now()
		p, err := v.Verify(ctx, id)
		if err != nil {
			return err
		}
		lat = append(lat, float64(time.Since(t))/float64(time.Millisecond))
		if p.Status != anchor.StatusVerified {
			return fmt.Errorf("record %s: %s (%s)", p.RecordID, p.Status, p.Reason)
		}
	}
	res.Verified = len(lat)
	res.VerifyP50MS, res.VerifyP99MS = detector.Quantile(lat, 0.5), detector.Quantile(lat, 0.99)
	return nil
}

// openScratchDatabase creates a scratch database (see scratchDatabase),
// applies the migrations and opens it. The function returned closes it and
// drops it.
func openScratchDatabase(ctx context.Context, dbURL, prefix string) (*storage.DB, func(), error) {
	scratchURL, drop, err := scratchDatabase(ctx, dbURL, prefix)
	if err != nil {
		return nil, nil, err
	}
	if err := storage.MigrateUp(scratchURL); err != nil {
		drop()
		return nil, nil, fmt.Errorf("migrate scratch database: %w", err)
	}
	db, err := storage.Open(ctx, scratchURL, storage.DefaultOptions())
	if err != nil {
		drop()
		return nil, nil, err
	}
	return db, func() { db.Close(); drop() }, nil
}

// scratchDatabase creates an empty database, named prefix and a random
// suffix, next to the one dbURL names and returns its URL and a function
// that drops it.
func scratchDatabase(ctx context.Context, dbURL, prefix string) (string, func(), error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", nil, usagef("DATABASE_URL: %v", err)
	}
	admin, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect %s: %w", u.Redacted(), err)
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	name := prefix + hex.EncodeToString(suffix)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		return "", nil, fmt.Errorf("create scratch database %s (the user needs CREATEDB): %w", name, err)
	}
	u.Path = "/" + name
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.Exec(dctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close(dctx)
	}
	return u.String(), drop, nil
}

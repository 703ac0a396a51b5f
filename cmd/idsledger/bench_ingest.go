package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idsledger/idsledger/detector"
)

func init() {
	registerBench(benchmark{
		name:    "ingest",
		summary: "flows/s and request latency of POST /v1/flows against a running server",
		run:     runBenchIngest,
	})
}

// ingestBenchResult is the JSON object `bench ingest --json` prints.
type ingestBenchResult struct {
	URL         string `json:"url"`
	Schema      string `json:"schema"`
	Batch       int    `json:"batch"`
	Concurrency int    `json:"concurrency"`
	// Throughput phase: batches of Batch flows, Concurrency in flight.
	Seconds        float64 `json:"seconds"`
	Requests       int64   `json:"requests"`
	Flows          int64   `json:"flows"`
	Alerts         int64   `json:"alerts"`
	FlowsPerSecond float64 `json:"flows_per_second"`
	BatchP50MS     float64 `json:"batch_p50_ms"`
	BatchP99MS     float64 `json:"batch_p99_ms"`
	// Latency phase: requests of LatencyBatch flows sent open-loop at
	// LatencyLoad × FlowsPerSecond.
	LatencyBatch int     `json:"latency_batch"`
	LatencyLoad  float64 `json:"latency_load,omitempty"`
	// LatencyFlowsPerSecond is the load offered in the latency phase.
	LatencyFlowsPerSecond float64 `json:"latency_flows_per_second"`
	LatencyRequests       int     `json:"latency_requests"`
	P50MS                 float64 `json:"p50_ms"`
	P99MS                 float64 `json:"p99_ms"`
	// Errors counts failed requests (transport errors and non-200 answers)
	// in both phases.
	Errors    int64  `json:"errors"`
	LastError string `json:"last_error,omitempty"`
}

func runBenchIngest(ctx context.Context, args []string) error {
	fs := newFlagSet("bench ingest", "bench ingest --url URL --key KEY [--data FILE.csv] [--json]")
	baseURL := fs.String("url", "", "base URL of a running idsledger (e.g. http://127.0.0.1:8080)")
	key := fs.String("key", "", "an API key with the ingest role")
	data := fs.String("data", "detector/testdata/nf-bot-iot-v2-sample.csv", "CSV flow file (with a header row) whose rows are sent, cycling")
	schema := fs.String("schema", "", "schema query parameter (default: the server's active model's)")
	batch := fs.Int("batch", 1000, "flows per request in the throughput phase")
	conc := fs.Int("concurrency", 4, "requests in flight in the throughput phase")
	dur := fs.Duration("duration", 10*time.Second, "length of the throughput phase")
	latBatch := fs.Int("latency-batch", 100, "flows per request in the latency phase")
	latLoad := fs.Float64("latency-load", 0.5, "latency phase load, as a fraction of the measured throughput")
	latRate := fs.Float64("latency-rate", 0, "latency phase load in flows/s; overrides --latency-load, and with --duration 0 skips the throughput phase")
	latDur := fs.Duration("latency-duration", 10*time.Second, "length of the latency phase (0 skips it)")
	warmup := fs.Duration("warmup", 2*time.Second, "requests sent at the latency phase's rate before it is measured")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a summary")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *baseURL == "":
		return usagef("--url is required")
	case *key == "":
		return usagef("--key is required (an ingest key: idsledger apikey create --role ingest)")
	case *batch < 1 || *latBatch < 1 || *conc < 1:
		return usagef("--batch, --latency-batch and --concurrency must be positive")
	case *latLoad <= 0 || *latLoad > 1:
		return usagef("--latency-load must be in (0, 1]")
	case *latRate < 0:
		return usagef("--latency-rate must not be negative")
	case *warmup < 0:
		return usagef("--warmup must not be negative")
	case *dur <= 0 && *latRate == 0:
		return usagef("--duration 0 needs --latency-rate: the latency phase has no measured throughput to take a fraction of")
	case *dur <= 0 && *latDur <= 0:
		return usagef("--duration and --latency-duration are both 0: nothing to measure")
	}
	header, rows, err := readCSVRows(*data)
	if err != nil {
		return err
	}
	endpoint := strings.TrimRight(*baseURL, "/") + "/v1/flows"
	if *schema != "" {
		endpoint += "?schema=" + *schema
	}
	b := &ingestBencher{client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}},
		url: endpoint, key: *key}
	res := ingestBenchResult{URL: *baseURL, Schema: *schema, Batch: *batch, Concurrency: *conc,
		LatencyBatch: *latBatch, LatencyLoad: *latLoad}

	// Bodies are built once; each request takes the next, cycling.
	big := makeBodies(header, rows, *batch, 16)
	small := makeBodies(header, rows, *latBatch, 64)

	// Throughput.
	var (
		next    atomic.Int64
		mu      sync.Mutex
		batchLt []time.Duration
	)
	if *dur > 0 {
		tctx, cancel := context.WithTimeout(ctx, *dur)
		start := time.Now()
		var wg sync.WaitGroup
		for range *conc {
			wg.Go(func() {
				for tctx.Err() == nil {
					body := big[next.Add(1)%int64(len(big))]
					t0 := time.Now()
					alerts, ok := b.post(tctx, body)
					if !ok {
						time.Sleep(10 * time.Millisecond) // do not spin on a refusing server
						continue
					}
					mu.Lock()
					batchLt = append(batchLt, time.Since(t0))
					mu.Unlock()
					b.flows.Add(int64(*batch))
					b.alerts.Add(alerts)
				}
			})
		}
		wg.Wait()
		cancel()
		el := time.Since(start)
		if err := ctx.Err(); err != nil {
			return err
		}
		res.Seconds = el.Seconds()
		res.Requests = int64(len(batchLt))
		res.Flows, res.Alerts = b.flows.Load(), b.alerts.Load()
		res.FlowsPerSecond = float64(res.Flows) / el.Seconds()
		res.BatchP50MS, res.BatchP99MS = quantileMS(batchLt, 0.5), quantileMS(batchLt, 0.99)
		if res.Flows == 0 {
			res.Errors, res.LastError = b.errors.Load(), b.lastError()
			printIngestResult(res, *asJSON)
			return fmt.Errorf("no request succeeded: %s", res.LastError)
		}
	}

	// Latency at a fraction of that load (or at --latency-rate), open
	// loop: a request every interval whether or not the previous ones have
	// finished. The first --warmup of it is not measured.
	if *latDur > 0 {
		res.LatencyFlowsPerSecond = res.FlowsPerSecond * *latLoad
		if *latRate > 0 {
			res.LatencyFlowsPerSecond, res.LatencyLoad = *latRate, 0
		}
		rate := res.LatencyFlowsPerSecond / float64(*latBatch) // requests per second
		interval := time.Duration(float64(time.Second) / rate)
		var lat []time.Duration
		measureFrom := time.Now().Add(*warmup)
		lctx, cancel := context.WithTimeout(ctx, *warmup+*latDur)
		tick := time.NewTicker(interval)
		sem := make(chan struct{}, 256)
		var lwg sync.WaitGroup
		i := 0
	loop:
		for {
			select {
			case <-lctx.Done():
				break loop
			case <-tick.C:
			}
			body := small[i%len(small)]
			i++
			select {
			case sem <- struct{}{}:
			default:
				b.fail(errors.New("more than 256 latency requests in flight: the server is saturated"))
				continue
			}
			lwg.Go(func() {
				defer func() { <-sem }()
				t0 := time.Now()
				if _, ok := b.post(context.Background(), body); ok && !t0.Before(measureFrom) {
					d := time.Since(t0)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			})
		}
		tick.Stop()
		lwg.Wait()
		cancel()
		res.LatencyRequests = len(lat)
		res.P50MS, res.P99MS = quantileMS(lat, 0.5), quantileMS(lat, 0.99)
	}
	res.Errors, res.LastError = b.errors.Load(), b.lastError()
	printIngestResult(res, *asJSON)
	return nil
}

type ingestBencher struct {
	client        *http.Client
	url, key      string
	flows, alerts atomic.Int64
	errors        atomic.Int64
	errMu         sync.Mutex
	lastErr       string
}

func (b *ingestBencher) fail(err error) {
	b.errors.Add(1)
	b.errMu.Lock()
	b.lastErr = err.Error()
	b.errMu.Unlock()
}

func (b *ingestBencher) lastError() string {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	return b.lastErr
}

// post sends one CSV body and returns the alerts raised.
func (b *ingestBencher) post(ctx context.Context, body []byte) (int64, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url, bytes.NewReader(body))
	if err != nil {
		b.fail(err)
		return 0, false
	}
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+b.key)
	resp, err := b.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			b.fail(err)
		}
		return 0, false
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		if ctx.Err() == nil {
			b.fail(fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, raw))
		}
		return 0, false
	}
	var out struct {
		Alerts   int64 `json:"alerts"`
		Rejected int64 `json:"rejected"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		b.fail(fmt.Errorf("answer: %w", err))
		return 0, false
	}
	if out.Rejected > 0 {
		b.fail(fmt.Errorf("%d flows rejected", out.Rejected))
	}
	return out.Alerts, true
}

// readCSVRows reads a CSV file's header line and its data lines, as text.
func readCSVRows(path string) (string, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, fmt.Errorf("--data: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var header string
	var rows []string
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case header == "":
			header = strings.TrimPrefix(line, "\uFEFF")
		case line != "":
			rows = append(rows, line)
		}
	}
	if err := sc.Err(); err != nil {
		return "", nil, fmt.Errorf("--data: %w", err)
	}
	if len(rows) == 0 {
		return "", nil, fmt.Errorf("--data %s: no data rows", path)
	}
	return header, rows, nil
}

// makeBodies builds n CSV bodies of size rows each, cycling through rows.
func makeBodies(header string, rows []string, size, n int) [][]byte {
	out := make([][]byte, n)
	k := 0
	for i := range out {
		var buf bytes.Buffer
		buf.WriteString(header)
		buf.WriteByte('\n')
		for range size {
			buf.WriteString(rows[k%len(rows)])
			buf.WriteByte('\n')
			k++
		}
		out[i] = buf.Bytes()
	}
	return out
}

// quantileMS is detector.Quantile of d in milliseconds.
func quantileMS(d []time.Duration, q float64) float64 {
	return float64(detector.Quantile(d, q).Microseconds()) / 1000
}

func printIngestResult(r ingestBenchResult, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
		return
	}
	if r.Requests > 0 {
		fmt.Printf("throughput: %.0f flows/s (%d requests of %d flows in %.1fs, %d in flight; %d alerts)\n",
			r.FlowsPerSecond, r.Requests, r.Batch, r.Seconds, r.Concurrency, r.Alerts)
		fmt.Printf("  batch latency p50 %.1f ms, p99 %.1f ms\n", r.BatchP50MS, r.BatchP99MS)
	}
	if r.LatencyRequests > 0 {
		fmt.Printf("latency at %.0f flows/s, %d-flow requests: p50 %.1f ms, p99 %.1f ms (%d requests)\n",
			r.LatencyFlowsPerSecond, r.LatencyBatch, r.P50MS, r.P99MS, r.LatencyRequests)
	}
	fmt.Printf("errors: %d", r.Errors)
	if r.LastError != "" {
		fmt.Printf(" (last: %s)", r.LastError)
	}
	fmt.Println()
}

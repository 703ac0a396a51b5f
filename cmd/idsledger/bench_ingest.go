package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
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
	// With --rate N% it measures the maximum the rate is a share of.
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
	// Rate phase (--rate, instead of the latency phase): requests of Batch
	// flows sent open loop at RateFlowsPerSecond for RateSeconds. RateLoad
	// is the share of FlowsPerSecond it is, with --rate N%.
	RateLoad           float64 `json:"rate_load,omitempty"`
	RateFlowsPerSecond float64 `json:"rate_flows_per_second,omitempty"`
	RateSeconds        float64 `json:"rate_seconds,omitempty"`
	RateRequests       int     `json:"rate_requests,omitempty"`
	RateP50MS          float64 `json:"rate_p50_ms,omitempty"`
	RateP99MS          float64 `json:"rate_p99_ms,omitempty"`
	// RSS is the server's resident memory over the rate phase, or else
	// the throughput phase, read from its /metrics (--metrics-key).
	RSS *rssSeries `json:"rss,omitempty"`
	// Errors counts failed requests (transport errors and non-200 answers)
	// in every phase.
	Errors    int64  `json:"errors"`
	LastError string `json:"last_error,omitempty"`
}

func runBenchIngest(ctx context.Context, args []string) error {
	fs := newFlagSet("bench ingest", "bench ingest --url URL --key KEY [--data FILE.csv] [--rate FLOWS/S|N% --duration D --metrics-key KEY] [--json]")
	baseURL := fs.String("url", "", "base URL of a running idsledger (e.g. http://127.0.0.1:8080)")
	key := fs.String("key", "", "an API key with the ingest role")
	data := fs.String("data", "detector/testdata/nf-bot-iot-v2-sample.csv", "CSV flow file (with a header row) whose rows are sent, cycling")
	schema := fs.String("schema", "", "schema query parameter (default: the server's active model's)")
	batch := fs.Int("batch", 1000, "flows per request in the throughput and rate phases")
	conc := fs.Int("concurrency", 4, "requests in flight in the throughput phase")
	dur := fs.Duration("duration", 10*time.Second, "length of the throughput phase, or of the rate phase with --rate")
	latBatch := fs.Int("latency-batch", 100, "flows per request in the latency phase")
	latLoad := fs.Float64("latency-load", 0.5, "latency phase load, as a fraction of the measured throughput")
	latRate := fs.Float64("latency-rate", 0, "latency phase load in flows/s; overrides --latency-load, and with --duration 0 skips the throughput phase")
	latDur := fs.Duration("latency-duration", 10*time.Second, "length of the latency phase (0 skips it)")
	warmup := fs.Duration("warmup", 2*time.Second, "requests sent at the latency phase's rate before it is measured")
	rateArg := fs.String("rate", "", "a soak: send --batch-flow requests open loop at this many flows/s for --duration, instead of the throughput and latency phases; N% (e.g. 80%) is that share of the maximum, measured first by a throughput phase of --max-duration")
	maxDur := fs.Duration("max-duration", 30*time.Second, "length of the throughput phase that measures the maximum for --rate N%")
	metricsKey := fs.String("metrics-key", "", "an API key that may read /metrics (analyst or admin): the server's resident memory is sampled from it over the rate phase (or the throughput phase) and reported as a series")
	rssEvery := fs.Duration("rss-every", 10*time.Second, "how often the resident memory is sampled")
	rssWarmup := fs.Duration("rss-warmup", time.Minute, "samples before this are left out of the memory slope (caches and pools fill up first)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a summary")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rate, rateShare, err := parseRate(*rateArg)
	switch {
	case err != nil:
		return usagef("invalid value %q for --rate: %v", *rateArg, err)
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
	case *rssEvery <= 0 || *rssWarmup < 0:
		return usagef("--rss-every must be positive and --rss-warmup not negative")
	case *rateArg != "" && *dur <= 0:
		return usagef("--rate needs --duration, the length of the rate phase")
	case rateShare > 0 && *maxDur <= 0:
		return usagef("--rate N%% needs --max-duration, the length of the throughput phase measuring the maximum")
	case *rateArg == "" && *dur <= 0 && *latRate == 0:
		return usagef("--duration 0 needs --latency-rate: the latency phase has no measured throughput to take a fraction of")
	case *rateArg == "" && *dur <= 0 && *latDur <= 0:
		return usagef("--duration and --latency-duration are both 0: nothing to measure")
	}
	header, rows, err := readCSVRows(*data)
	if err != nil {
		return err
	}
	base := strings.TrimRight(*baseURL, "/")
	endpoint := base + "/v1/flows"
	if *schema != "" {
		endpoint += "?schema=" + *schema
	}
	b := &ingestBencher{client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}},
		url: endpoint, key: *key}
	res := ingestBenchResult{URL: *baseURL, Schema: *schema, Batch: *batch, Concurrency: *conc,
		LatencyBatch: *latBatch, LatencyLoad: *latLoad}
	var rss *rssSampler
	if *metricsKey != "" {
		rss = &rssSampler{client: b.client, url: base + "/metrics", key: *metricsKey, every: *rssEvery, warmup: *rssWarmup}
	}

	// Bodies are built once; each request takes the next, cycling.
	big := makeBodies(header, rows, *batch, 16)
	small := makeBodies(header, rows, *latBatch, 64)

	// Throughput: the maximum, closed loop.
	throughput := *dur
	if *rateArg != "" {
		throughput = 0
		if rateShare > 0 {
			throughput = *maxDur
		}
	}
	if throughput > 0 {
		if *rateArg == "" {
			rss.start(ctx)
		}
		err := b.closedLoop(ctx, big, *batch, *conc, throughput, &res)
		if *rateArg == "" {
			res.RSS = rss.stop()
		}
		if err != nil {
			return err
		}
		if res.Flows == 0 {
			res.Errors, res.LastError = b.errors.Load(), b.lastError()
			printIngestResult(res, *asJSON)
			return fmt.Errorf("no request succeeded: %s", res.LastError)
		}
	}

	switch {
	case *rateArg != "":
		// The rate phase: a fixed load, open loop, for as long as asked.
		res.RateFlowsPerSecond = rate
		if rateShare > 0 {
			res.RateLoad, res.RateFlowsPerSecond = rateShare, rateShare*res.FlowsPerSecond
		}
		rss.start(ctx)
		lat := b.openLoop(ctx, big, *batch, res.RateFlowsPerSecond, 0, *dur)
		res.RSS = rss.stop()
		res.RateSeconds, res.RateRequests = dur.Seconds(), len(lat)
		res.RateP50MS, res.RateP99MS = quantileMS(lat, 0.5), quantileMS(lat, 0.99)
	case *latDur > 0:
		// Latency at a fraction of that load (or at --latency-rate), open
		// loop. The first --warmup of it is not measured.
		res.LatencyFlowsPerSecond = res.FlowsPerSecond * *latLoad
		if *latRate > 0 {
			res.LatencyFlowsPerSecond, res.LatencyLoad = *latRate, 0
		}
		lat := b.openLoop(ctx, small, *latBatch, res.LatencyFlowsPerSecond, *warmup, *latDur)
		res.LatencyRequests = len(lat)
		res.P50MS, res.P99MS = quantileMS(lat, 0.5), quantileMS(lat, 0.99)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	res.Errors, res.LastError = b.errors.Load(), b.lastError()
	printIngestResult(res, *asJSON)
	return nil
}

// parseRate reads --rate: flows/s, or N% of the measured maximum (share
// N/100).
func parseRate(v string) (rate, share float64, err error) {
	if v == "" {
		return 0, 0, nil
	}
	if p, ok := strings.CutSuffix(v, "%"); ok {
		share, err = strconv.ParseFloat(p, 64)
		if err != nil || !(share > 0 && share <= 100) {
			return 0, 0, errors.New("want a percentage in (0, 100]")
		}
		return 0, share / 100, nil
	}
	rate, err = strconv.ParseFloat(v, 64)
	if err != nil || !(rate > 0) || math.IsInf(rate, 0) {
		return 0, 0, errors.New("want flows per second, or N% of the measured maximum")
	}
	return rate, 0, nil
}

// closedLoop keeps conc requests of batch flows in flight for dur and
// fills in res's throughput fields.
func (b *ingestBencher) closedLoop(ctx context.Context, bodies [][]byte, batch, conc int, dur time.Duration, res *ingestBenchResult) error {
	var (
		next    atomic.Int64
		mu      sync.Mutex
		batchLt []time.Duration
	)
	tctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for tctx.Err() == nil {
				body := bodies[next.Add(1)%int64(len(bodies))]
				t0 := time.Now()
				alerts, ok := b.post(tctx, body)
				if !ok {
					time.Sleep(10 * time.Millisecond) // do not spin on a refusing server
					continue
				}
				mu.Lock()
				batchLt = append(batchLt, time.Since(t0))
				mu.Unlock()
				b.flows.Add(int64(batch))
				b.alerts.Add(alerts)
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	if err := ctx.Err(); err != nil {
		return err
	}
	res.Seconds = el.Seconds()
	res.Requests = int64(len(batchLt))
	res.Flows, res.Alerts = b.flows.Load(), b.alerts.Load()
	res.FlowsPerSecond = float64(res.Flows) / el.Seconds()
	res.BatchP50MS, res.BatchP99MS = quantileMS(batchLt, 0.5), quantileMS(batchLt, 0.99)
	return nil
}

// openLoop sends one of bodies (flowsPer flows each) at flowsPerSecond for
// warmup+dur, a request every interval whether or not the earlier ones
// have finished (at most 256 in flight: more means the server is
// saturated, and counts as an error), and returns the latencies of the
// requests sent after the warm-up that succeeded.
func (b *ingestBencher) openLoop(ctx context.Context, bodies [][]byte, flowsPer int, flowsPerSecond float64, warmup, dur time.Duration) []time.Duration {
	rate := flowsPerSecond / float64(flowsPer) // requests per second
	interval := time.Duration(float64(time.Second) / rate)
	var (
		mu  sync.Mutex
		lat []time.Duration
	)
	measureFrom := time.Now().Add(warmup)
	lctx, cancel := context.WithTimeout(ctx, warmup+dur)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	for i := 0; ; i++ {
		select {
		case <-lctx.Done():
			wg.Wait()
			return lat
		case <-tick.C:
		}
		body := bodies[i%len(bodies)]
		select {
		case sem <- struct{}{}:
		default:
			b.fail(errors.New("more than 256 requests in flight: the server is saturated"))
			continue
		}
		wg.Go(func() {
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

// rssSampler reads the server's resident memory from its /metrics
// (process_resident_memory_bytes, from the Prometheus process collector)
// every interval while a phase runs. A nil sampler samples nothing.
type rssSampler struct {
	client        *http.Client
	url, key      string
	every, warmup time.Duration

	halt chan struct{}
	done chan *rssSeries
}

// rssSample is one reading, t seconds into the phase: the resident
// memory, and the Go heap in use and its goal (the heap size that starts
// the next collection: with GOGC=100, twice what the last one left live),
// which tell growing live memory from memory the runtime keeps.
type rssSample struct {
	Seconds float64 `json:"t_s"`
	MiB     float64 `json:"mib"`
	HeapMiB float64 `json:"heap_inuse_mib,omitempty"`
	GoalMiB float64 `json:"heap_goal_mib,omitempty"`
}

// rssSeries is the server's resident memory over a phase, and whether it
// stayed flat.
type rssSeries struct {
	EverySeconds float64     `json:"every_s"`
	Samples      []rssSample `json:"samples"`
	FirstMiB     float64     `json:"first_mib"`
	LastMiB      float64     `json:"last_mib"`
	MaxMiB       float64     `json:"max_mib"`
	// SlopeMiBPerHour is the least-squares slope of the samples taken
	// after WarmupSeconds, and GrowthPercent what it adds up to over them,
	// as a share of their mean. Flat is |GrowthPercent| <= 5: over the
	// phase, memory went neither up nor down by more than 5%.
	WarmupSeconds   float64 `json:"warmup_s"`
	SlopeMiBPerHour float64 `json:"slope_mib_per_hour"`
	GrowthPercent   float64 `json:"growth_percent"`
	Flat            bool    `json:"flat"`
	// GoalSlopeMiBPerHour is the same slope of the heap goal: live
	// memory growing shows here, memory the runtime keeps does not.
	GoalSlopeMiBPerHour float64 `json:"heap_goal_slope_mib_per_hour"`
	// Failures counts readings that failed (the series skips them).
	Failures  int    `json:"failures,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

// start samples at once and then every interval, until stop.
func (r *rssSampler) start(ctx context.Context) {
	if r == nil {
		return
	}
	r.halt, r.done = make(chan struct{}), make(chan *rssSeries, 1)
	go func() {
		s := &rssSeries{EverySeconds: r.every.Seconds(), WarmupSeconds: r.warmup.Seconds()}
		t0 := time.Now()
		tick := time.NewTicker(r.every)
		defer tick.Stop()
		for {
			r.sample(ctx, s, time.Since(t0))
			select {
			case <-tick.C:
			case <-ctx.Done():
				r.done <- s
				return
			case <-r.halt:
				r.sample(ctx, s, time.Since(t0)) // the phase's end
				r.done <- s
				return
			}
		}
	}()
}

func (r *rssSampler) sample(ctx context.Context, s *rssSeries, at time.Duration) {
	p, err := r.read(ctx)
	if err != nil {
		s.Failures++
		s.LastError = err.Error()
		return
	}
	p.Seconds = math.Round(at.Seconds()*10) / 10
	s.Samples = append(s.Samples, p)
}

// read takes one sample from /metrics: the resident memory (required)
// and the Go heap figures (when the server exports them).
func (r *rssSampler) read(ctx context.Context) (rssSample, error) {
	var p rssSample
	b, err := (&queryBencher{client: r.client, base: r.url, key: r.key}).get(ctx, "")
	if err != nil {
		return p, err
	}
	fields := map[string]*float64{"process_resident_memory_bytes": &p.MiB,
		"go_memstats_heap_inuse_bytes": &p.HeapMiB, "go_memstats_next_gc_bytes": &p.GoalMiB}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, " ")
		if dst := fields[name]; ok && dst != nil {
			bytes, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return p, fmt.Errorf("%s: %w", name, err)
			}
			*dst = math.Round(bytes/(1<<20)*10) / 10
		}
	}
	if p.MiB == 0 {
		return p, errors.New("no process_resident_memory_bytes in /metrics")
	}
	return p, nil
}

// stop ends the sampling and returns the series with its summary (nil for
// a nil sampler).
func (r *rssSampler) stop() *rssSeries {
	if r == nil {
		return nil
	}
	close(r.halt)
	s := <-r.done
	s.summarize()
	return s
}

// summarize fills in the first, last and largest reading, and the slope of
// the readings after the warm-up.
func (s *rssSeries) summarize() {
	if len(s.Samples) == 0 {
		return
	}
	s.FirstMiB, s.LastMiB = s.Samples[0].MiB, s.Samples[len(s.Samples)-1].MiB
	var xs, ys, goals []float64
	for _, p := range s.Samples {
		s.MaxMiB = max(s.MaxMiB, p.MiB)
		if p.Seconds >= s.WarmupSeconds {
			xs, ys, goals = append(xs, p.Seconds), append(ys, p.MiB), append(goals, p.GoalMiB)
		}
	}
	if len(xs) < 2 || xs[len(xs)-1] == xs[0] {
		return
	}
	slope, mean := fitLine(xs, ys) // MiB per second
	s.SlopeMiBPerHour = math.Round(slope*3600*10) / 10
	s.GrowthPercent = math.Round(slope*(xs[len(xs)-1]-xs[0])/mean*100*100) / 100
	s.Flat = math.Abs(s.GrowthPercent) <= 5
	goal, _ := fitLine(xs, goals)
	s.GoalSlopeMiBPerHour = math.Round(goal*3600*10) / 10
}

// fitLine returns the least-squares slope of ys over xs (at least two
// distinct xs), and the mean of ys.
func fitLine(xs, ys []float64) (slope, mean float64) {
	var mx float64
	for i := range xs {
		mx, mean = mx+xs[i], mean+ys[i]
	}
	mx, mean = mx/float64(len(xs)), mean/float64(len(xs))
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - mean)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	return sxy / sxx, mean
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
	if r.RateSeconds > 0 {
		share := ""
		if r.RateLoad > 0 {
			share = fmt.Sprintf(" (%.0f%% of the maximum)", r.RateLoad*100)
		}
		fmt.Printf("rate: %.0f flows/s%s for %.0fs, %d-flow requests: p50 %.1f ms, p99 %.1f ms (%d requests)\n",
			r.RateFlowsPerSecond, share, r.RateSeconds, r.Batch, r.RateP50MS, r.RateP99MS, r.RateRequests)
	}
	if m := r.RSS; m != nil {
		verdict := "not flat"
		if m.Flat {
			verdict = "flat"
		}
		fmt.Printf("server RSS: first %.1f MiB, last %.1f MiB, max %.1f MiB; after %.0fs %+.1f MiB/h (%+.2f%% over the phase): %s; Go heap goal %+.1f MiB/h\n",
			m.FirstMiB, m.LastMiB, m.MaxMiB, m.WarmupSeconds, m.SlopeMiBPerHour, m.GrowthPercent, verdict, m.GoalSlopeMiBPerHour)
		if m.Failures > 0 {
			fmt.Printf("  %d readings failed (last: %s)\n", m.Failures, m.LastError)
		}
	}
	fmt.Printf("errors: %d", r.Errors)
	if r.LastError != "" {
		fmt.Printf(" (last: %s)", r.LastError)
	}
	fmt.Println()
}

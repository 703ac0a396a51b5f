package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	for _, c := range []struct {
		in          string
		rate, share float64
		bad         bool
	}{
		{in: ""}, {in: "12000", rate: 12000}, {in: "80%", share: 0.8}, {in: "100%", share: 1},
		{in: "0", bad: true}, {in: "-5", bad: true}, {in: "0%", bad: true}, {in: "120%", bad: true},
		{in: "fast", bad: true}, {in: "NaN", bad: true}, {in: "+Inf", bad: true},
	} {
		rate, share, err := parseRate(c.in)
		if (err != nil) != c.bad || rate != c.rate || share != c.share {
			t.Errorf("parseRate(%q) = %v, %v, %v", c.in, rate, share, err)
		}
	}
}

// The slope leaves the warm-up out, and flat means growth within 5% over
// the samples after it.
func TestRSSSeriesSummary(t *testing.T) {
	series := func(f func(t float64) float64) *rssSeries {
		s := &rssSeries{WarmupSeconds: 60}
		for at := 0.0; at <= 600; at += 10 {
			s.Samples = append(s.Samples, rssSample{Seconds: at, MiB: f(at)})
		}
		s.summarize()
		return s
	}
	// Filling up in the first minute, then level: flat.
	s := series(func(t float64) float64 { return 200 + min(t, 50) + 2*math.Sin(t) })
	if !s.Flat || s.FirstMiB != 200 || s.MaxMiB < 250 || math.Abs(s.GrowthPercent) > 2 || s.GoalSlopeMiBPerHour != 0 {
		t.Errorf("level after the warm-up: %+v", s)
	}
	// 10% more over the nine minutes after the warm-up: not flat.
	s = series(func(t float64) float64 { return 200 + 20*t/540 })
	if s.Flat || s.SlopeMiBPerHour < 130 || s.SlopeMiBPerHour > 135 || s.GrowthPercent < 8 {
		t.Errorf("growing: %+v", s)
	}
}

// --rate N% measures the maximum first, then sends N% of it open loop for
// --duration while the server's RSS is read from /metrics with the
// metrics key.
func TestBenchIngestRateWithRSS(t *testing.T) {
	var posts, rss atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/flows" && r.Header.Get("Authorization") == "Bearer in":
			_, _ = io.Copy(io.Discard, r.Body)
			posts.Add(1)
			time.Sleep(5 * time.Millisecond)
			_, _ = w.Write([]byte(`{"accepted": 100, "alerts": 3}`))
		case r.URL.Path == "/metrics" && r.Header.Get("Authorization") == "Bearer an":
			fmt.Fprintf(w, "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %d\ngo_memstats_next_gc_bytes 3.3554432e+07\n",
				100<<20+rss.Add(1<<20))
		default:
			http.Error(w, "no", http.StatusForbidden)
		}
	}))
	defer srv.Close()
	var err error
	stdout, _ := capture(t, func() {
		err = runBenchIngest(context.Background(), []string{"--url", srv.URL, "--key", "in", "--metrics-key", "an",
			"--data", "../../detector/testdata/nf-bot-iot-v2-sample.csv", "--batch", "100",
			"--rate", "50%", "--max-duration", "500ms", "--duration", "1s", "--rss-every", "100ms", "--rss-warmup", "0", "--json"})
	})
	if err != nil {
		t.Fatal(err)
	}
	var r ingestBenchResult
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if r.FlowsPerSecond <= 0 || r.RateLoad != 0.5 || math.Abs(r.RateFlowsPerSecond-r.FlowsPerSecond/2) > 1e-6 ||
		r.RateSeconds != 1 || r.RateRequests == 0 || r.RateP50MS <= 0 || r.Errors != 0 || r.LatencyRequests != 0 {
		t.Fatalf("result: %s", stdout)
	}
	m := r.RSS
	if m == nil || len(m.Samples) < 5 || m.FirstMiB < 100 || m.LastMiB <= m.FirstMiB || m.MaxMiB != m.LastMiB ||
		m.SlopeMiBPerHour <= 0 || m.Flat || m.Failures != 0 || m.Samples[0].GoalMiB != 32 || m.GoalSlopeMiBPerHour != 0 {
		t.Fatalf("rss: %+v", m)
	}
}

package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Requests with invented methods, to routes that exist or not, add no
// label values beyond the standard methods and "OTHER": a client cannot
// grow the metrics' memory for ever.
func TestMetricsLabelsAreBounded(t *testing.T) {
	m := NewMetrics(nil)
	srv := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Deps{Metrics: m})
	for i := range 1000 {
		for _, path := range []string{"/healthz", "/no/such/route/" + strconv.Itoa(i)} {
			r := httptest.NewRequest("X"+strconv.Itoa(i), path, nil)
			srv.Handler().ServeHTTP(httptest.NewRecorder(), r)
		}
	}
	srv.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if n := testutil.CollectAndCount(m.requests); n > 10 {
		t.Fatalf("%d request series after 2,001 requests with invented methods and paths, want a handful", n)
	}
	if n := testutil.CollectAndCount(m.latency); n > 10 {
		t.Fatalf("%d latency series", n)
	}
}

package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/webhook"
)

// BacklogReader reports the anchoring outbox: how many records wait and how
// long the oldest has waited. *storage.DB implements it.
type BacklogReader interface {
	AnchorBacklog(ctx context.Context) (storage.Backlog, error)
}

// Metrics are the service's Prometheus metrics, in a registry of their own
// (so tests can make as many as they like). All methods are safe on a nil
// *Metrics, which records nothing.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	flows        prometheus.Counter
	scoring      prometheus.Histogram
	alerts       *prometheus.CounterVec
	verification *prometheus.CounterVec
	webhooks     *prometheus.CounterVec
	rechecks     *prometheus.CounterVec
	conflict     prometheus.Gauge
}

// NewMetrics registers every metric, the Go runtime and process collectors,
// and, when backlog is not nil, the anchoring backlog gauges (read from the
// database at each scrape, with a 2 s limit).
func NewMetrics(backlog BacklogReader) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idsledger_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "idsledger_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		flows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "idsledger_flows_scored_total", Help: "Flows scored by the active model.",
		}),
		scoring: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "idsledger_scoring_duration_seconds", Help: "Time to parse and score one ingest request's flows.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idsledger_alerts_raised_total", Help: "Alerts stored, by class and severity.",
		}, []string{"class", "severity"}),
		verification: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idsledger_verifications_total", Help: "Record verifications by outcome.",
		}, []string{"status"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idsledger_webhook_deliveries_total", Help: "Webhook deliveries by outcome (delivered, retried, dead, replayed).",
		}, []string{"outcome"}),
		rechecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idsledger_anchor_rechecks_total",
			Help: "Confirmed batches checked again against the chain, by outcome (ok, moved, waiting, orphaned, conflict).",
		}, []string{"outcome"}),
		conflict: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "idsledger_chain_conflict",
			Help: "1 once anchoring stopped because the registry holds other anchors than this database (a rebuilt chain, or a registry shared with another database).",
		}),
	}
	for _, o := range anchorRecheckOutcomes {
		m.rechecks.WithLabelValues(o) // present at 0 from the start
	}
	reg.MustRegister(m.requests, m.latency, m.flows, m.scoring, m.alerts, m.verification, m.webhooks, m.rechecks, m.conflict,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if backlog != nil {
		reg.MustRegister(&backlogCollector{r: backlog,
			count: prometheus.NewDesc("idsledger_anchor_backlog_records", "Records waiting in the anchoring outbox.", nil, nil),
			lag:   prometheus.NewDesc("idsledger_anchor_lag_seconds", "Age of the oldest record waiting to be anchored.", nil, nil),
		})
	}
	return m
}

// Middleware counts and times every request by its route template (never
// by raw path, so ids do not explode the label set). Install it on the
// engine before the routes.
func (m *Metrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		if m == nil {
			c.Next()
			return
		}
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		method := metricMethod(c.Request.Method)
		m.requests.WithLabelValues(method, route, strconv.Itoa(c.Writer.Status())).Inc()
		m.latency.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
	}
}

// metricMethod is the method label: the standard methods by name, any
// other as "OTHER", so that clients inventing methods cannot grow the
// label set (every label value is a series kept for ever).
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// FlowsScored counts n flows scored in took (an ingest.Hooks.Scored).
func (m *Metrics) FlowsScored(n int, took time.Duration) {
	if m == nil {
		return
	}
	m.flows.Add(float64(n))
	m.scoring.Observe(took.Seconds())
}

// AlertsRaised counts alerts by class and severity (for ingest.Hooks.Raised).
func (m *Metrics) AlertsRaised(bodies []ingest.AlertBody) {
	if m == nil {
		return
	}
	for _, b := range bodies {
		m.alerts.WithLabelValues(b.Class, string(b.Severity)).Inc()
	}
}

func (m *Metrics) verified(status string) {
	if m != nil {
		m.verification.WithLabelValues(status).Inc()
	}
}

// WebhookOutcome counts a webhook delivery outcome (webhook.Options.OnOutcome).
func (m *Metrics) WebhookOutcome(outcome string) {
	if m != nil {
		m.webhooks.WithLabelValues(outcome).Inc()
	}
}

// anchorRecheckOutcomes are the outcomes of anchor.Recheck, the label
// values of idsledger_anchor_rechecks_total (a fixed set: labels stay
// bounded).
var anchorRecheckOutcomes = []string{"ok", "moved", "waiting", "orphaned", "conflict"}

// AnchorRechecked counts n confirmed batches checked again with this
// outcome; an outcome outside the fixed set counts as "other".
func (m *Metrics) AnchorRechecked(outcome string, n int) {
	if m == nil {
		return
	}
	if !slices.Contains(anchorRecheckOutcomes, outcome) {
		outcome = "other"
	}
	m.rechecks.WithLabelValues(outcome).Add(float64(n))
}

// ChainConflict records that anchoring stopped on a chain conflict.
func (m *Metrics) ChainConflict() {
	if m != nil {
		m.conflict.Set(1)
	}
}

// HuntStats is what the chain hunter reports of its progress (serve passes
// the hunter's Stats, converted).
type HuntStats struct {
	Processed, Head, Lag, Txs, Reorgs, Alerts uint64
}

// ChainHunter exports the chain hunter's progress, read from stats at every
// scrape: the last block processed, how far behind the head it is, and
// counts of transactions, reorganisations and alerts.
func (m *Metrics) ChainHunter(stats func() HuntStats) {
	if m == nil {
		return
	}
	gauge := func(name, help string, v func(HuntStats) uint64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return float64(v(stats())) })
	}
	counter := func(name, help string, v func(HuntStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v(stats())) })
	}
	m.reg.MustRegister(
		gauge("idsledger_hunt_block", "The last block the chain hunter processed.", func(s HuntStats) uint64 { return s.Processed }),
		gauge("idsledger_hunt_lag_blocks", "How many blocks the chain hunter is behind the head it last read.", func(s HuntStats) uint64 { return s.Lag }),
		counter("idsledger_hunt_transactions_total", "Transactions the chain hunter processed since the service started.", func(s HuntStats) uint64 { return s.Txs }),
		counter("idsledger_hunt_reorgs_total", "Reorganisations the chain hunter noticed since the service started.", func(s HuntStats) uint64 { return s.Reorgs }),
		counter("idsledger_hunt_alerts_total", "Chain alerts the chain hunter stored since the service started.", func(s HuntStats) uint64 { return s.Alerts }),
	)
}

// serveMetrics is GET /metrics in the Prometheus text format.
func (s *Server) serveMetrics(c *gin.Context) {
	m := s.deps.Metrics
	if m == nil {
		abort(c, probNotFound, "metrics are not enabled on this server")
		return
	}
	promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(c.Writer, c.Request)
}

type backlogCollector struct {
	r          BacklogReader
	count, lag *prometheus.Desc
}

func (b *backlogCollector) Describe(ch chan<- *prometheus.Desc) { ch <- b.count; ch <- b.lag }

func (b *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	bl, err := b.r.AnchorBacklog(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(b.count, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(b.count, prometheus.GaugeValue, float64(bl.Pending))
	ch <- prometheus.MustNewConstMetric(b.lag, prometheus.GaugeValue, bl.OldestAge.Seconds())
}

// IngestHooks are the hooks of the service's ingester: flows and alerts
// counted in m, alerts delivered to w's subscribers, and wake called (serve
// wakes the anchoring worker with it: new records are in the outbox). Any
// of the three may be nil; wake must not block.
func IngestHooks(m *Metrics, w *webhook.Dispatcher, wake func()) ingest.Hooks {
	return ingest.Hooks{
		Scored: m.FlowsScored,
		Raised: func(ids []uuid.UUID, alerts []ingest.AlertBody) {
			m.AlertsRaised(alerts)
			if wake != nil {
				wake()
			}
			if w != nil {
				w.Notify(ids, alerts)
			}
		},
	}
}

package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Backlog is the state of the anchoring outbox.
type Backlog struct {
	Pending   int64
	OldestAge time.Duration // 0 when nothing is pending
}

// AnchorBacklog counts pending records and the age of the oldest (by the
// database's clock): the outbox, which holds only them.
func (db *DB) AnchorBacklog(ctx context.Context) (Backlog, error) {
	var b Backlog
	var age float64
	err := db.Pool.QueryRow(ctx, `
		SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8
		FROM outbox`).Scan(&b.Pending, &age)
	if err != nil {
		return b, fmt.Errorf("anchor backlog: %w", classify(err))
	}
	b.OldestAge = time.Duration(age * float64(time.Second))
	return b, nil
}

// ReportQuery is the period and granularity of a summary report.
type ReportQuery struct {
	From, To time.Time // From inclusive, To exclusive
	Bucket   string    // "hour" or "day"
	// TopN caps the top-sources list (default 10).
	TopN int
}

// BucketCount is one time bucket of a report.
type BucketCount struct {
	Start      time.Time      `json:"start"`
	Count      int64          `json:"count"`
	ByClass    map[string]int `json:"by_class"`
	BySeverity map[string]int `json:"by_severity"`
}

// SourceCount is one source address and its alert count.
type SourceCount struct {
	Addr  string `json:"addr"`
	Count int64  `json:"count"`
}

// Latency summarizes a duration in seconds.
type Latency struct {
	P50 float64 `json:"p50_seconds"`
	P95 float64 `json:"p95_seconds"`
	Max float64 `json:"max_seconds"`
}

// Report is the summary of alerts raised in a period.
type Report struct {
	// From and To are the period actually covered: the request's, widened
	// to whole buckets (UTC hours or days).
	From       time.Time        `json:"from"`
	To         time.Time        `json:"to"`
	Bucket     string           `json:"bucket"`
	Total      int64            `json:"total"`
	Series     []BucketCount    `json:"series"`
	ByClass    map[string]int64 `json:"by_class"`
	BySeverity map[string]int64 `json:"by_severity"`
	BySensor   map[string]int64 `json:"by_sensor"`
	TopSources []SourceCount    `json:"top_sources"`
	// Anchoring counts the period's alerts by the state of their record:
	// pending (waiting in the outbox) or anchored. A record row deleted or
	// altered is found by verification and batch audits, not here.
	Anchoring map[string]int64 `json:"anchoring"`
	// DetectionLatency is the time from a flow's arrival to its alert being
	// stored, AnchoringLatency from the record's creation to its anchor;
	// both over the latest LatencySample alerts of the period.
	DetectionLatency Latency `json:"detection_latency"`
	AnchoringLatency Latency `json:"anchoring_latency"`
	LatencySample    int     `json:"latency_sample"`
}

// latencySample bounds the alerts read for the latency percentiles.
const latencySample = 2000

// Summary computes the report for q. Counts come from the hourly or daily rollups
// (alert_counts, alert_src_counts, summed over their shards) kept by
// InsertAlerts, so the cost grows
// with the number of hours and distinct keys, not with the number of
// alerts; the pending count joins the (small) set of pending records, and
// latencies read the latest alerts of the period through the time index.
func (db *DB) Summary(ctx context.Context, q ReportQuery) (Report, error) {
	if q.Bucket != "hour" && q.Bucket != "day" {
		return Report{}, fmt.Errorf("report bucket %q: want hour or day", q.Bucket)
	}
	if q.TopN <= 0 {
		q.TopN = 10
	}
	unit := time.Hour
	if q.Bucket == "day" {
		unit = 24 * time.Hour
	}
	from := q.From.UTC().Truncate(unit)
	to := q.To.UTC().Truncate(unit)
	if to.Before(q.To) {
		to = to.Add(unit)
	}
	rep := Report{From: from, To: to, Bucket: q.Bucket, Series: []BucketCount{},
		ByClass: map[string]int64{}, BySeverity: map[string]int64{}, BySensor: map[string]int64{},
		TopSources: []SourceCount{}, Anchoring: map[string]int64{"anchored": 0, "pending": 0}}
	wrap := func(err error) error { return fmt.Errorf("summary report: %w", classify(err)) }

	rows, err := db.Pool.Query(ctx, `
		SELECT bucket, class, severity, sensor, sum(n)::int8
		FROM alert_counts WHERE grain = $3 AND bucket >= $1 AND bucket < $2
		GROUP BY bucket, class, severity, sensor ORDER BY bucket`, from, to, q.Bucket)
	if err != nil {
		return rep, wrap(err)
	}
	for rows.Next() {
		var (
			start              time.Time
			class, sev, sensor string
			n                  int64
		)
		if err := rows.Scan(&start, &class, &sev, &sensor, &n); err != nil {
			rows.Close()
			return rep, wrap(err)
		}
		start = start.UTC()
		if len(rep.Series) == 0 || !rep.Series[len(rep.Series)-1].Start.Equal(start) {
			rep.Series = append(rep.Series, BucketCount{Start: start, ByClass: map[string]int{}, BySeverity: map[string]int{}})
		}
		b := &rep.Series[len(rep.Series)-1]
		b.Count += n
		b.ByClass[class] += int(n)
		b.BySeverity[sev] += int(n)
		rep.Total += n
		rep.ByClass[class] += n
		rep.BySeverity[sev] += n
		rep.BySensor[sensor] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, wrap(err)
	}

	rows, err = db.Pool.Query(ctx, `
		SELECT host(src_addr), sum(n)::int8 AS total FROM alert_src_counts
		WHERE grain = $4 AND bucket >= $1 AND bucket < $2
		GROUP BY src_addr ORDER BY total DESC, src_addr LIMIT $3`, from, to, q.TopN, q.Bucket)
	if err != nil {
		return rep, wrap(err)
	}
	rep.TopSources, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (SourceCount, error) {
		var sc SourceCount
		err := r.Scan(&sc.Addr, &sc.Count)
		return sc, err
	})
	if err != nil {
		return rep, wrap(err)
	}
	if rep.TopSources == nil {
		rep.TopSources = []SourceCount{}
	}

	var pending int64
	if err := db.Pool.QueryRow(ctx, `
		SELECT count(*) FROM outbox o JOIN alerts a ON a.id = o.id
		WHERE a.observed_at >= $1 AND a.observed_at < $2`, from, to).Scan(&pending); err != nil {
		return rep, wrap(err)
	}
	rep.Anchoring["pending"] = pending
	rep.Anchoring["anchored"] = max(rep.Total-pending, 0)

	err = db.Pool.QueryRow(ctx, `
		SELECT count(*)::int4,
		       coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY d), 0), coalesce(percentile_disc(0.95) WITHIN GROUP (ORDER BY d), 0), coalesce(max(d), 0),
		       coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY an), 0), coalesce(percentile_disc(0.95) WITHIN GROUP (ORDER BY an), 0), coalesce(max(an), 0)
		FROM (SELECT extract(epoch FROM a.created_at - a.observed_at)::float8 AS d,
		             extract(epoch FROM ra.anchored_at - a.created_at)::float8 AS an
		      FROM (SELECT id, created_at, observed_at FROM alerts
		            WHERE observed_at >= $1 AND observed_at < $2
		            ORDER BY observed_at DESC, id DESC LIMIT $3) a
		      LEFT JOIN record_anchors ra ON ra.record_id = a.id) t`, from, to, latencySample).Scan(&rep.LatencySample,
		&rep.DetectionLatency.P50, &rep.DetectionLatency.P95, &rep.DetectionLatency.Max,
		&rep.AnchoringLatency.P50, &rep.AnchoringLatency.P95, &rep.AnchoringLatency.Max)
	if err != nil {
		return rep, wrap(err)
	}
	return rep, nil
}

// FoldRollups folds the shards of closed rollup buckets into shard 0 and
// returns how many shard rows it removed. Shards exist so that concurrent
// ingests into the current hour and day do not queue on each other's row
// locks (see queueCounts); once a bucket has ended no ingest adds to it
// (an alert's bucket is its observed time, which is the time it was
// received), so its shards can become one row per key again, and reports
// over long periods read as many rows as before sharding. A bucket counts
// as closed a minute after it ended, which covers clocks a little apart;
// a later addition to a folded bucket is simply folded by the next call.
// The sums are unchanged at every moment: the move is one statement.
func (db *DB) FoldRollups(ctx context.Context) (int64, error) {
	var removed int64
	for _, q := range []string{`
		WITH moved AS (
			DELETE FROM alert_counts
			WHERE shard <> 0 AND bucket + CASE grain WHEN 'hour' THEN interval '1 hour' ELSE interval '1 day' END
			      < now() - interval '1 minute'
			RETURNING grain, bucket, class, severity, sensor, n),
		folded AS (
			INSERT INTO alert_counts (grain, bucket, class, severity, sensor, shard, n)
			SELECT grain, bucket, class, severity, sensor, 0, sum(n) FROM moved
			GROUP BY grain, bucket, class, severity, sensor
			ON CONFLICT (grain, bucket, class, severity, sensor, shard) DO UPDATE SET n = alert_counts.n + excluded.n)
		SELECT count(*) FROM moved`, `
		WITH moved AS (
			DELETE FROM alert_src_counts
			WHERE shard <> 0 AND bucket + CASE grain WHEN 'hour' THEN interval '1 hour' ELSE interval '1 day' END
			      < now() - interval '1 minute'
			RETURNING grain, bucket, src_addr, n),
		folded AS (
			INSERT INTO alert_src_counts (grain, bucket, src_addr, shard, n)
			SELECT grain, bucket, src_addr, 0, sum(n) FROM moved
			GROUP BY grain, bucket, src_addr
			ON CONFLICT (grain, bucket, src_addr, shard) DO UPDATE SET n = alert_src_counts.n + excluded.n)
		SELECT count(*) FROM moved`} {
		var n int64
		if err := db.Pool.QueryRow(ctx, q).Scan(&n); err != nil {
			return removed, fmt.Errorf("fold rollup shards: %w", classify(err))
		}
		removed += n
	}
	return removed, nil
}

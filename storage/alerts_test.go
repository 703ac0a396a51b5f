//go:build integration

package storage_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/storage/pgtest"
)

func testAlert(i int, t0 time.Time) ingest.AlertBody {
	classes := []string{"DoS", "DDoS", "Reconnaissance"}
	return ingest.AlertBody{
		ObservedAt: t0.Add(time.Duration(i) * time.Second),
		Sensor:     fmt.Sprintf("sensor-%d", i%2),
		Flow: ingest.FlowTuple{
			SrcAddr: netip.MustParseAddr(fmt.Sprintf("192.168.100.%d", 100+i%5)), SrcPort: uint16(1000 + i),
			DstAddr: netip.MustParseAddr("192.168.100.3"), DstPort: 80, Proto: 6,
		},
		CommunityID: "1:abc",
		Features:    map[string]string{"IN_BYTES": fmt.Sprint(100 + i)},
		Class:       classes[i%3],
		Score:       0.5 + float64(i%5)/10,
		Severity:    ingest.Severities[i%4],
		Model:       ingest.ModelRef{ID: "deadbeef", Version: "v1"},
	}
}

// Stored alerts hash exactly as ingest.Canonical says, list in a stable order
// across pages, and filter by every column.
func TestAlertsInsertListFilter(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	var in []ingest.AlertBody
	for i := range 25 {
		in = append(in, testAlert(i, t0))
	}
	ids, err := db.InsertAlerts(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 25 {
		t.Fatalf("got %d ids", len(ids))
	}

	// The record body is the canonical form of the normalized alert.
	d, err := db.GetAlert(ctx, ids[3])
	if err != nil {
		t.Fatal(err)
	}
	want := in[3]
	want.Type = "alert"
	want.ObservedAt = want.ObservedAt.Truncate(time.Microsecond)
	canon, err := ingest.Canonical(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Record) != string(canon) {
		t.Fatalf("record body\n got %s\nwant %s", d.Record, canon)
	}
	if !d.ObservedAt.Equal(want.ObservedAt) || d.Class != want.Class || d.Flow != want.Flow || d.Features["IN_BYTES"] != "103" {
		t.Fatalf("detail %+v", d.Alert)
	}
	if d.Anchor.Status != "pending" {
		t.Fatalf("anchor status %q", d.Anchor.Status)
	}
	var leaf []byte
	if err := db.Pool.QueryRow(ctx, `SELECT leaf_hash FROM records WHERE id = $1`, ids[3]).Scan(&leaf); err != nil {
		t.Fatal(err)
	}
	if h := anchor.LeafHash(canon); string(leaf) != string(h[:]) {
		t.Fatal("stored leaf hash is not LeafHash(body)")
	}

	// Pages of 10, newest first, cover everything once.
	var seen []uuid.UUID
	var cur *storage.AlertCursor
	for page := 0; ; page++ {
		items, next, err := db.ListAlerts(ctx, storage.AlertFilter{Limit: 10, After: cur})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range items {
			seen = append(seen, a.ID)
		}
		if next == nil {
			break
		}
		cur = next
	}
	if len(seen) != 25 {
		t.Fatalf("pages gave %d alerts", len(seen))
	}
	for i, id := range seen {
		if id != ids[24-i] {
			t.Fatalf("page order: position %d is %s, want %s", i, id, ids[24-i])
		}
	}

	cases := []struct {
		name string
		f    storage.AlertFilter
		want int
	}{
		{"class", storage.AlertFilter{Classes: []string{"DoS"}}, 9},
		{"severity", storage.AlertFilter{Severities: []ingest.Severity{ingest.SeverityCritical}}, 6},
		{"sensor", storage.AlertFilter{Sensors: []string{"sensor-1"}}, 12},
		{"model", storage.AlertFilter{ModelIDs: []string{"nope"}}, 0},
		{"src host", storage.AlertFilter{Src: netip.MustParsePrefix("192.168.100.101/32")}, 5},
		{"src net", storage.AlertFilter{Src: netip.MustParsePrefix("192.168.100.0/24")}, 25},
		{"dst", storage.AlertFilter{Dst: netip.MustParsePrefix("10.0.0.0/8")}, 0},
		{"time", storage.AlertFilter{From: t0.Add(10 * time.Second), To: t0.Add(20 * time.Second)}, 10},
		{"pending", storage.AlertFilter{AnchorStatus: "pending"}, 25},
		{"anchored", storage.AlertFilter{AnchorStatus: "anchored"}, 0},
		{"injection-shaped", storage.AlertFilter{Classes: []string{"DoS' OR '1'='1"}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items, _, err := db.ListAlerts(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != c.want {
				t.Fatalf("got %d alerts, want %d", len(items), c.want)
			}
		})
	}
}

func TestAlertsInvalidNothingStored(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	a := testAlert(0, time.Now())
	b := testAlert(1, time.Now())
	b.Score = math.NaN()
	if _, err := db.InsertAlerts(ctx, []ingest.AlertBody{a, b}); !errors.Is(err, ingest.ErrInvalidAlert) {
		t.Fatalf("err = %v, want ErrInvalidAlert", err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM alerts) + (SELECT count(*) FROM records)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d rows stored after a failed insert", n)
	}
}

// Workflow changes are applied, noted and each appended as an audit_event.
func TestAlertWorkflowAudited(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	ids, err := db.InsertAlerts(ctx, []ingest.AlertBody{testAlert(0, time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	yes, who, note := true, "alice", "looks like a scan"
	if _, err := db.UpdateWorkflow(ctx, ids[0], storage.WorkflowChange{Acknowledged: &yes, Assignee: &who}, "key-1"); err != nil {
		t.Fatal(err)
	}
	ev, err := db.UpdateWorkflow(ctx, ids[0], storage.WorkflowChange{Note: &note}, "key-2")
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.GetAlert(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if !d.Workflow.Acknowledged || d.Workflow.Assignee != "alice" || d.Workflow.UpdatedBy != "key-2" {
		t.Fatalf("workflow %+v", d.Workflow)
	}
	if len(d.Notes) != 1 || d.Notes[0].Body != note || d.Notes[0].EventID != ev {
		t.Fatalf("notes %+v", d.Notes)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM records WHERE kind = 'audit_event'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%d audit events, want 2", n)
	}
	if _, err := db.UpdateWorkflow(ctx, uuid.New(), storage.WorkflowChange{Acknowledged: &yes}, "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown alert: err = %v", err)
	}
}

// BenchmarkInsertAlerts1000 stores batches of 1,000 alerts (records and
// query rows, one transaction each).
func BenchmarkInsertAlerts1000(b *testing.B) {
	ctx := context.Background()
	db := pgtest.DB(b)
	batch := make([]ingest.AlertBody, 1000)
	for i := range batch {
		batch[i] = testAlert(i, time.Now())
	}
	for b.Loop() {
		if _, err := db.InsertAlerts(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "alerts/s")
}

// The summary's rollup counts agree with the alerts stored.
func TestSummaryMatchesAlerts(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	t0 := time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)
	var in []ingest.AlertBody
	for i := range 25 {
		a := testAlert(i, t0)
		a.ObservedAt = t0.Add(time.Duration(i) * 10 * time.Minute) // spans 5 hours
		in = append(in, a)
	}
	// Two inserts touching the same hourly rows.
	if _, err := db.InsertAlerts(ctx, in[:12]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.InsertAlerts(ctx, in[12:]); err != nil {
		t.Fatal(err)
	}
	rep, err := db.Summary(ctx, storage.ReportQuery{From: t0, To: t0.Add(5 * time.Hour), Bucket: "hour"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 25 || rep.ByClass["DoS"] != 9 || rep.BySensor["sensor-1"] != 12 || rep.Anchoring["pending"] != 25 {
		t.Fatalf("report %+v", rep)
	}
	if len(rep.Series) != 5 || !rep.From.Equal(t0.Truncate(time.Hour)) {
		t.Fatalf("series %d from %s", len(rep.Series), rep.From)
	}
	if len(rep.TopSources) != 5 || rep.TopSources[0].Count != 5 || rep.LatencySample != 25 {
		t.Fatalf("top sources %+v sample %d", rep.TopSources, rep.LatencySample)
	}
	day, err := db.Summary(ctx, storage.ReportQuery{From: t0, To: t0.Add(time.Hour), Bucket: "day"})
	if err != nil || day.Total != 25 || len(day.Series) != 1 {
		t.Fatalf("daily: %+v %v", day, err)
	}
}

// Shards of closed buckets fold into one row per key; the reports read the
// same before and after, and the open (current) hour keeps its shards.
func TestFoldRollupsKeepsCounts(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	past := time.Now().UTC().Add(-30 * time.Hour).Truncate(time.Hour)
	now := time.Now().UTC()
	// Many small inserts, as concurrent sensors make them: they spread
	// over the shards.
	for i := range 60 {
		old, cur := testAlert(i, past), testAlert(i, now)
		old.ObservedAt = past.Add(time.Duration(i) * time.Minute)
		cur.ObservedAt = now
		if _, err := db.InsertAlerts(ctx, []ingest.AlertBody{old, cur}); err != nil {
			t.Fatal(err)
		}
	}
	rows := func(where string) (n int) {
		t.Helper()
		if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM alert_counts WHERE `+where+`)
			+ (SELECT count(*) FROM alert_src_counts WHERE `+where+`)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	q := []storage.ReportQuery{
		{From: past.Add(-time.Hour), To: now.Add(time.Hour), Bucket: "hour"},
		{From: past.Add(-48 * time.Hour), To: now.Add(time.Hour), Bucket: "day"},
	}
	var before []storage.Report
	for _, rq := range q {
		r, err := db.Summary(ctx, rq)
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, r)
	}
	// The old alerts' hour and day buckets start more than 25 hours ago
	// (they were observed 29-30 hours ago); the current ones after that.
	closed := `bucket < now() - interval '25 hours'`
	if rows(closed+" AND shard <> 0") == 0 {
		t.Fatal("60 inserts left no shard but 0 in use: the test shows nothing")
	}
	removed, err := db.FoldRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if removed == 0 || rows(closed+" AND shard <> 0") != 0 {
		t.Fatalf("fold removed %d rows and left %d shard rows in closed buckets", removed, rows(closed+" AND shard <> 0"))
	}
	if rows("grain = 'hour' AND bucket = '"+now.Truncate(time.Hour).Format(time.RFC3339)+"' AND shard <> 0") == 0 {
		t.Fatal("the open hour's shards were folded")
	}
	for i, rq := range q {
		r, err := db.Summary(ctx, rq)
		if err != nil {
			t.Fatal(err)
		}
		b := before[i]
		if r.Total != b.Total || r.Total != 120 || fmt.Sprint(r.ByClass, r.BySeverity, r.BySensor, r.TopSources, len(r.Series)) !=
			fmt.Sprint(b.ByClass, b.BySeverity, b.BySensor, b.TopSources, len(b.Series)) {
			t.Fatalf("%s report changed by folding:\nbefore %+v\nafter  %+v", rq.Bucket, b, r)
		}
	}
	if n, err := db.FoldRollups(ctx); err != nil || n != 0 {
		t.Fatalf("second fold: %d, %v; want 0", n, err)
	}
}

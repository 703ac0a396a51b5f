//go:build integration

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/internal/testenv"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// e2eClient talks to a running service with one key.
type e2eClient struct {
	base string
	key  string
}

func (c e2eClient) do(t *testing.T, method, path, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (c e2eClient) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	code, b := c.do(t, "GET", path, "", nil)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func createKey(t *testing.T, databaseURL, role string) string {
	t.Helper()
	var code int
	stdout, stderr := capture(t, func() {
		code = runMain([]string{"apikey", "create", "--role", role, "--database-url", databaseURL})
	})
	if code != 0 {
		t.Fatalf("apikey create: %d %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	return lines[len(lines)-1]
}

// TestEndToEnd runs the service as `make run` does (real PostgreSQL, the
// embedded dev chain on disk, the built-in model), posts every flow of
// nf-bot-iot-v2/dev.csv, and follows the alerts to the chain and back: every
// alert anchored and verified, one altered row seen as tampered, every export
// format parsed.
func TestEndToEnd(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	devCSV := filepath.Join(testenv.SharedDatasets(t), "nf-bot-iot-v2", "dev.csv")
	raw, err := os.ReadFile(devCSV)
	if err != nil {
		t.Fatal(err)
	}
	// As with make run: the service starts on an empty database and
	// migrates it; keys are made afterwards.
	databaseURL := pgtest.EmptyURL(t)

	addr, rpcAddr := freeAddr(t), freeAddr(t)
	serve := startIDSLedger(t, "serve", "--addr", addr, "--database-url", databaseURL,
		"--data-dir", t.TempDir(), "--batch-interval", "200ms", "--chain-http", rpcAddr)
	base := "http://" + addr
	testenv.Eventually(t, time.Minute, "readyz", func() bool { code, _ := get(base+"/readyz", ""); return code == 200 })
	ingest := createKey(t, databaseURL, "ingest")
	analyst := createKey(t, databaseURL, "analyst")
	in, an := e2eClient{base, ingest}, e2eClient{base, analyst}

	// Post the flows in batches of 1,000, keeping each flow's true class.
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header, rows := recs[0], recs[1:]
	attackCol := -1
	for i, h := range header {
		if h == "Attack" {
			attackCol = i
		}
	}
	type verdict struct {
		Index   int     `json:"index"`
		Class   string  `json:"class"`
		Alert   bool    `json:"alert"`
		AlertID *string `json:"alert_id"`
	}
	var agree, attacks, alerts int
	alertClasses := map[string]int{}
	for start := 0; start < len(rows); start += 1000 {
		part := rows[start:min(start+1000, len(rows))]
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write(header)
		_ = w.WriteAll(part)
		code, b := in.do(t, "POST", "/v1/flows?schema=nf-bot-iot-v2&sensor=e2e", "text/csv", buf.Bytes())
		if code != 200 {
			t.Fatalf("POST /v1/flows: %d %s", code, b)
		}
		var resp struct {
			Accepted int       `json:"accepted"`
			Rejected int       `json:"rejected"`
			Verdicts []verdict `json:"verdicts"`
		}
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Accepted != len(part) || resp.Rejected != 0 || len(resp.Verdicts) != len(part) {
			t.Fatalf("batch at %d: accepted %d rejected %d verdicts %d of %d", start, resp.Accepted, resp.Rejected, len(resp.Verdicts), len(part))
		}
		for _, v := range resp.Verdicts {
			truth := part[v.Index][attackCol]
			isAttack := truth != "Benign"
			if isAttack {
				attacks++
			}
			if v.Alert == isAttack {
				agree++
			}
			if v.Alert {
				alerts++
				alertClasses[v.Class]++
				if v.AlertID == nil {
					t.Fatalf("alert verdict without an alert id: %+v", v)
				}
			}
		}
	}
	t.Logf("%d flows, %d attacks, %d alerts, benign-vs-attack agreement %.3f, alert classes %v",
		len(rows), attacks, alerts, float64(agree)/float64(len(rows)), alertClasses)
	// The built-in model is a small demo model (binary accuracy about 0.95
	// on its own test split); it must still tell attacks from benign flows.
	if float64(agree)/float64(len(rows)) < 0.9 {
		t.Fatalf("benign-vs-attack agreement %.3f, want at least 0.9", float64(agree)/float64(len(rows)))
	}
	for _, cls := range []string{"DoS", "DDoS", "Reconnaissance"} {
		if alertClasses[cls] == 0 {
			t.Errorf("no alert of class %s", cls)
		}
	}
	if alertClasses["Benign"] != 0 {
		t.Errorf("%d alerts classed Benign", alertClasses["Benign"])
	}

	// Wait until every alert is anchored.
	testenv.Eventually(t, time.Minute, "every alert anchored", func() bool {
		var page struct {
			Items []json.RawMessage `json:"items"`
		}
		an.getJSON(t, "/v1/alerts?anchor_status=pending&limit=1", &page)
		return len(page.Items) == 0
	})

	// Verify every alert through the API.
	var ids []string
	cursor := ""
	for {
		var page struct {
			Items []struct {
				ID          string `json:"id"`
				CommunityID string `json:"community_id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		an.getJSON(t, "/v1/alerts?limit=1000"+cursor, &page)
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	if len(ids) != alerts {
		t.Fatalf("listing has %d alerts, ingest raised %d", len(ids), alerts)
	}
	for _, id := range ids {
		var v struct {
			Status string `json:"status"`
		}
		an.getJSON(t, "/v1/alerts/"+id+"/verify", &v)
		if v.Status != "verified" {
			t.Fatalf("alert %s: %s, want verified", id, v.Status)
		}
	}

	// Alter one alert's record with SQL: it must read as tampered.
	conn, err := pgx.Connect(context.Background(), databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	victim := ids[len(ids)/2]
	tag, err := conn.Exec(context.Background(),
		`UPDATE records SET body = convert_to(replace(convert_from(body, 'UTF8'), '"sensor":"e2e"', '"sensor":"elsewhere"'), 'UTF8') WHERE id = $1`, victim)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("tamper: %v (%d rows)", err, tag.RowsAffected())
	}
	var v struct {
		Status string `json:"status"`
	}
	an.getJSON(t, "/v1/alerts/"+victim+"/verify", &v)
	if v.Status != "tampered" {
		t.Fatalf("altered alert: %s, want tampered", v.Status)
	}

	// An auditor checks alerts offline: the proof bundle from the API, the
	// chain's JSON-RPC, and the registry address they trust; no database.
	offline := func(id string) int {
		code, b := an.do(t, "GET", "/v1/alerts/"+id+"/proof", "", nil)
		if code != 200 {
			t.Fatalf("proof %s: %d %s", id, code, b)
		}
		var bundle struct {
			Proof struct {
				Registry string `json:"registry"`
			} `json:"proof"`
		}
		if err := json.Unmarshal(b, &bundle); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "bundle.json")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		var rc int
		_, _ = capture(t, func() {
			rc = runMain([]string{"verify", "--bundle", f, "--eth-rpc", "http://" + rpcAddr, "--registry", "0x" + strings.TrimPrefix(bundle.Proof.Registry, "0x")})
		})
		return rc
	}
	if rc := offline(ids[0]); rc != 0 {
		t.Fatalf("offline verify of an intact alert: exit %d", rc)
	}
	if rc := offline(victim); rc == 0 {
		t.Fatal("offline verify accepted the tampered alert")
	}

	// Alter the queryable copy of another alert (what listings and exports
	// read): the record still verifies, the alert must not.
	victim2 := ids[len(ids)/3]
	if tag, err := conn.Exec(context.Background(),
		`UPDATE alerts SET class = 'Benign', severity = 'low' WHERE id = $1`, victim2); err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("tamper row: %v", err)
	}
	var v2 struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	an.getJSON(t, "/v1/alerts/"+victim2+"/verify", &v2)
	if v2.Status != "tampered" || !strings.Contains(v2.Reason, "class") || !strings.Contains(v2.Reason, "severity") {
		t.Fatalf("alert with an altered row: %+v, want tampered naming class and severity", v2)
	}

	// Export in every format and parse what comes out.
	for _, format := range []string{"ocsf", "ecs", "eve", "ndjson", "csv"} {
		code, b := an.do(t, "GET", "/v1/alerts/export?format="+format, "", nil)
		if code != 200 {
			t.Fatalf("export %s: %d %s", format, code, b)
		}
		n := 0
		if format == "csv" {
			recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil {
				t.Fatalf("export csv: %v", err)
			}
			n = len(recs) - 1
		} else {
			sc := bufio.NewScanner(bytes.NewReader(b))
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				var doc map[string]any
				if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
					t.Fatalf("export %s line %d: %v", format, n+1, err)
				}
				if n == 0 && !strings.Contains(sc.Text(), "1:") {
					t.Errorf("export %s: first alert carries no Community ID: %s", format, sc.Text())
				}
				n++
			}
		}
		if n != len(ids) {
			t.Errorf("export %s: %d alerts, want %d", format, n, len(ids))
		}
	}

	// The operators' benchmarks run against this service as they would
	// against theirs. The throughput phase ends by abandoning its requests
	// in flight, which the service must not log as its own failure (checked
	// with the rest of the log below).
	stdout, _ := capture(t, func() {
		err = runBenchIngest(context.Background(), []string{"--url", base, "--key", ingest, "--json",
			"--data", filepath.Join(root, "detector", "testdata", "nf-bot-iot-v2-sample.csv"),
			"--duration", "2s", "--latency-duration", "1s", "--warmup", "0"})
	})
	var ib ingestBenchResult
	if err != nil || json.Unmarshal([]byte(stdout), &ib) != nil {
		t.Fatalf("bench ingest: %v\n%s", err, stdout)
	}
	if ib.Flows < 1000 || ib.Errors != 0 || ib.LatencyRequests == 0 || ib.P99MS <= 0 {
		t.Fatalf("bench ingest: %+v", ib)
	}
	stdout, _ = capture(t, func() {
		err = runBenchQuery(context.Background(), []string{"--url", base, "--key", analyst, "--requests", "2", "--json"})
	})
	var qb queryBenchResult
	if err != nil || json.Unmarshal([]byte(stdout), &qb) != nil {
		t.Fatalf("bench query: %v\n%s", err, stdout)
	}
	if qb.Errors != 0 || len(qb.Queries) < 15 {
		t.Fatalf("bench query: %d errors, %d queries: %+v", qb.Errors, len(qb.Queries), qb.Queries)
	}
	for _, q := range qb.Queries {
		if q.P50MS <= 0 || (strings.HasPrefix(q.Path, "/v1/alerts?") && !strings.Contains(q.Name, "pending") && q.Items == 0) {
			t.Errorf("bench query %q: %+v (a listing found nothing, or no time measured)", q.Name, q)
		}
	}

	if err := serve.stop(t, 30*time.Second); err != nil {
		t.Fatalf("serve exited with %v on SIGTERM", err)
	}
	for _, line := range strings.Split(serve.Logs(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, "does not exist") {
			t.Errorf("the service logged a failure during a clean run: %s", line)
		}
	}
}

//go:build integration

package api

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/storage"
)

// ingestFixture posts the CSV fixture and returns the alert ids raised.
func ingestFixture(t testing.TB, env *testEnv) []uuid.UUID {
	t.Helper()
	var resp IngestResponse
	env.decode(env.do(storage.RoleIngest, http.MethodPost, "/v1/flows?sensor=plant-1", "text/csv", readFlowsCSV(t)), http.StatusOK, &resp)
	var ids []uuid.UUID
	for _, v := range resp.Verdicts {
		if v.AlertID != nil {
			ids = append(ids, *v.AlertID)
		}
	}
	if len(ids) < 50 {
		t.Fatalf("only %d alerts raised", len(ids))
	}
	return ids
}

func TestAlertListingPagesAndFilters(t *testing.T) {
	env := newEnv(t, true)
	ids := ingestFixture(t, env)

	var all []storage.Alert
	path := "/v1/alerts?limit=17"
	for range 100 {
		var p page[storage.Alert]
		env.decode(env.do(storage.RoleAnalyst, http.MethodGet, path, "", nil), http.StatusOK, &p)
		all = append(all, p.Items...)
		if p.NextCursor == nil {
			break
		}
		path = "/v1/alerts?limit=17&cursor=" + url.QueryEscape(*p.NextCursor)
	}
	if len(all) != len(ids) {
		t.Fatalf("pages gave %d alerts, %d were raised", len(all), len(ids))
	}
	seen := map[uuid.UUID]bool{}
	for i, a := range all {
		if seen[a.ID] {
			t.Fatalf("alert %s listed twice", a.ID)
		}
		seen[a.ID] = true
		if i > 0 {
			prev := all[i-1]
			if a.ObservedAt.After(prev.ObservedAt) || (a.ObservedAt.Equal(prev.ObservedAt) && bytes.Compare(a.ID[:], prev.ID[:]) > 0) {
				t.Fatalf("listing not in (observed_at, id) descending order at %d", i)
			}
		}
	}

	class := all[0].Class
	var p page[storage.Alert]
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts?limit=1000&class="+url.QueryEscape(class)+"&src=192.168.100.0/24&sensor=plant-1&anchor_status=pending", "", nil), http.StatusOK, &p)
	want := 0
	for _, a := range all {
		if a.Class == class {
			want++
		}
	}
	if len(p.Items) != want {
		t.Fatalf("class filter: %d alerts, want %d", len(p.Items), want)
	}
	env.decode(env.do(storage.RoleAdmin, http.MethodGet, "/v1/alerts?anchor_status=anchored", "", nil), http.StatusOK, &p)
	if len(p.Items) != 0 {
		t.Fatalf("%d anchored alerts before anchoring", len(p.Items))
	}
	if w := env.do(storage.RoleIngest, http.MethodGet, "/v1/alerts", "", nil); w.Code != http.StatusForbidden {
		t.Fatalf("ingest key listed alerts: %d", w.Code)
	}
}

func TestAlertWorkflowVerifyAndProof(t *testing.T) {
	env := newEnv(t, true)
	ids := ingestFixture(t, env)
	id := ids[0].String()

	// Workflow: acknowledge, assign, note; the hashed record stays as it was.
	var before storage.AlertDetail
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+id, "", nil), http.StatusOK, &before)
	var after storage.AlertDetail
	w := env.do(storage.RoleAnalyst, http.MethodPatch, "/v1/alerts/"+id, "application/json", []byte(`{"acknowledged":true,"assignee":"alice","note":"checked"}`))
	env.decode(w, http.StatusOK, &after)
	if !after.Workflow.Acknowledged || after.Workflow.Assignee != "alice" || len(after.Notes) != 1 {
		t.Fatalf("workflow %+v notes %+v", after.Workflow, after.Notes)
	}
	if !bytes.Equal(before.Record, after.Record) {
		t.Fatal("a workflow change altered the hashed record")
	}
	if _, err := uuid.Parse(w.Header().Get("X-Audit-Event")); err != nil {
		t.Fatalf("X-Audit-Event %q", w.Header().Get("X-Audit-Event"))
	}

	// Pending until anchored, then verified; altered with SQL, tampered.
	var p anchor.Proof
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+id+"/verify", "", nil), http.StatusOK, &p)
	if p.Status != anchor.StatusPending {
		t.Fatalf("status %s before anchoring", p.Status)
	}
	env.ver.anchorAll(t)
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+id+"/verify", "", nil), http.StatusOK, &p)
	if p.Status != anchor.StatusVerified {
		t.Fatalf("status %s after anchoring", p.Status)
	}
	var bundle proofBundle
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+id+"/proof", "", nil), http.StatusOK, &bundle)
	if bundle.Proof == nil || bundle.Proof.Status != anchor.StatusVerified || !bytes.Equal(bundle.Record, before.Record) {
		t.Fatalf("proof bundle %+v", bundle)
	}

	// POST /v1/verify with the bundle: verified; with a changed body: tampered.
	req, _ := json.Marshal(verifyRequest{Record: bundle.Record, Proof: bundle.Proof})
	env.decode(env.do(storage.RoleAnalyst, http.MethodPost, "/v1/verify", "application/json", req), http.StatusOK, &p)
	if p.Status != anchor.StatusVerified {
		t.Fatalf("offline verify: %s", p.Status)
	}
	changed := bytes.Replace(bundle.Record, []byte(`"class":"`), []byte(`"class":"X`), 1)
	req, _ = json.Marshal(verifyRequest{Record: changed, RecordID: id})
	env.decode(env.do(storage.RoleAnalyst, http.MethodPost, "/v1/verify", "application/json", req), http.StatusOK, &p)
	if p.Status != anchor.StatusTampered {
		t.Fatalf("changed body: %s", p.Status)
	}

	if _, err := env.db.Pool.Exec(t.Context(), `UPDATE records SET body = convert_to(replace(convert_from(body, 'UTF8'), 'plant-1', 'plant-2'), 'UTF8') WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+id+"/verify", "", nil), http.StatusOK, &p)
	if p.Status != anchor.StatusTampered {
		t.Fatalf("status %s after altering the row", p.Status)
	}
	if _, err := env.db.Pool.Exec(t.Context(), `DELETE FROM records WHERE id = $1`, ids[1]); err != nil {
		t.Fatal(err)
	}
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+ids[1].String()+"/verify", "", nil), http.StatusOK, &p)
	if p.Status != anchor.StatusTampered {
		t.Fatalf("status %s after deleting the record", p.Status)
	}
	if w := env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+uuid.NewString()+"/verify", "", nil); w.Code != http.StatusNotFound {
		t.Fatalf("unknown alert: %d", w.Code)
	}
}

// Every export format parses and carries the Community ID and anchor
// reference of every alert.
func TestExportFormats(t *testing.T) {
	env := newEnv(t, true)
	ids := ingestFixture(t, env)
	for _, format := range []string{"ndjson", "ocsf", "ecs", "eve", "csv"} {
		t.Run(format, func(t *testing.T) {
			w := env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/export?format="+format, "", nil)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body.String())
			}
			var n int
			if format == "csv" {
				rows, err := csv.NewReader(w.Body).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				cid, proof := slices.Index(rows[0], "community_id"), slices.Index(rows[0], "proof_url")
				for _, r := range rows[1:] {
					if !strings.HasPrefix(r[cid], "1:") || !strings.HasSuffix(r[proof], "/proof") || r[len(r)-7] != "flow" {
						t.Fatalf("row %v", r)
					}
				}
				n = len(rows) - 1
			} else {
				sc := bufio.NewScanner(w.Body)
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					var doc map[string]any
					if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
						t.Fatalf("line %d: %v", n+1, err)
					}
					line := sc.Text()
					if !strings.Contains(line, `"1:`) || !strings.Contains(line, `"proof_url"`) {
						t.Fatalf("line without community id or anchor reference: %s", line)
					}
					n++
				}
			}
			if n != len(ids) {
				t.Fatalf("%d alerts exported, %d raised", n, len(ids))
			}
		})
	}
	w := env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/export?format=ocsf&max=5", "", nil)
	if got := strings.Count(w.Body.String(), "\n"); got != 5 {
		t.Fatalf("max=5 exported %d", got)
	}
}

func TestSummaryReport(t *testing.T) {
	env := newEnv(t, true)
	ids := ingestFixture(t, env)
	var rep storage.Report
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/reports/summary?bucket=hour", "", nil), http.StatusOK, &rep)
	if rep.Total != int64(len(ids)) || rep.BySensor["plant-1"] != int64(len(ids)) || rep.Anchoring["pending"] != int64(len(ids)) {
		t.Fatalf("report %+v", rep)
	}
	if len(rep.Series) == 0 || len(rep.TopSources) == 0 {
		t.Fatalf("series %d top sources %d", len(rep.Series), len(rep.TopSources))
	}
	from := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/reports/summary?bucket=day&from="+from, "", nil), http.StatusOK, &rep)
	if rep.Total != int64(len(ids)) {
		t.Fatalf("daily total %d", rep.Total)
	}
}

func TestMetricsExposed(t *testing.T) {
	env := newEnv(t, true)
	ingestFixture(t, env)
	w := env.do(storage.RoleAnalyst, http.MethodGet, "/metrics", "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	for _, name := range []string{"idsledger_flows_scored_total 200", "idsledger_alerts_raised_total", "idsledger_anchor_backlog_records", "idsledger_anchor_lag_seconds"} {
		if !strings.Contains(w.Body.String(), name) {
			t.Fatalf("metrics lack %q", name)
		}
	}
	if w := env.do("", http.MethodGet, "/metrics", "", nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("metrics without a key: %d", w.Code)
	}
}

//go:build integration

package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/storage"
)

// flowsCSVLines returns the fixture's header and rows as split lines.
func flowsCSVLines(t *testing.T) (header []string, rows [][]string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(readFlowsCSV(t))), "\n")
	header = strings.Split(lines[0], ",")
	for _, l := range lines[1:] {
		rows = append(rows, strings.Split(l, ","))
	}
	return header, rows
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	panic(name)
}

// issueRecords are the five records of issue 13 that became alerts, made
// from a good flow: a misspelt field, "abc", a column missing, no source
// address, and one feature of all.
func issueRecords(good map[string]string) []map[string]string {
	edit := func(f func(m map[string]string)) map[string]string {
		m := map[string]string{}
		for k, v := range good {
			m[k] = v
		}
		f(m)
		return m
	}
	return []map[string]string{
		edit(func(m map[string]string) { m["IN_BYTEZ"] = m["IN_BYTES"]; delete(m, "IN_BYTES") }),
		edit(func(m map[string]string) { m["IN_BYTES"] = "abc" }),
		edit(func(m map[string]string) { delete(m, "OUT_PKTS") }),
		edit(func(m map[string]string) { delete(m, "IPV4_SRC_ADDR") }),
		{"IN_BYTES": good["IN_BYTES"]},
	}
}

// Each of the issue's five bad records gets its own error, saying which
// field and why, in JSON, NDJSON and CSV alike (in CSV, where rows share a
// header, as empty or bad cells); the good records of the request are
// scored and nothing of a bad one is stored.
func TestIngestRejectsFlowsThatBreakTheRules(t *testing.T) {
	env := newEnv(t, true)
	objs := csvToObjects(t, readFlowsCSV(t))[:3]
	all := append(append([]map[string]string{objs[1]}, issueRecords(objs[0])...), objs[2])
	array, _ := json.Marshal(all)
	var ndjson bytes.Buffer
	for _, o := range all {
		b, _ := json.Marshal(o)
		ndjson.Write(append(b, '\n'))
	}
	header, rows := flowsCSVLines(t)
	cell := func(r int, kv ...string) string {
		row := append([]string(nil), rows[r]...)
		for i := 0; i < len(kv); i += 2 {
			row[indexOf(header, kv[i])] = kv[i+1]
		}
		return strings.Join(row, ",")
	}
	oneFeature := append([]string(nil), rows[0]...)
	for i, h := range header {
		switch h {
		case "IPV4_SRC_ADDR", "L4_SRC_PORT", "IPV4_DST_ADDR", "L4_DST_PORT", "PROTOCOL", "IN_BYTES", "Label", "Attack", "Dataset":
		default:
			oneFeature[i] = ""
		}
	}
	csvBody := strings.Join([]string{strings.Join(header, ","), cell(1),
		cell(0, "IN_BYTES", "abc"), cell(0, "OUT_PKTS", ""), cell(0, "IPV4_SRC_ADDR", ""), strings.Join(oneFeature, ","),
		cell(2)}, "\n") + "\n"

	type bad struct {
		index  int
		detail string
		fields string
	}
	jsonBad := []bad{
		{1, "unknown field IN_BYTEZ (not a column of nf-bot-iot-v2 flows); missing feature IN_BYTES", "IN_BYTEZ IN_BYTES"},
		{2, `IN_BYTES: "abc" is not a number`, "IN_BYTES"},
		{3, "missing feature OUT_PKTS", "OUT_PKTS"},
		{4, "IPV4_SRC_ADDR: missing (an alert needs the flow's source address)", "IPV4_SRC_ADDR"},
		{5, "IPV4_SRC_ADDR: missing", ""},
	}
	csvBad := []bad{
		{1, `IN_BYTES: "abc" is not a number`, "IN_BYTES"},
		{2, "missing feature OUT_PKTS", "OUT_PKTS"},
		{3, "IPV4_SRC_ADDR: missing (an alert needs the flow's source address)", "IPV4_SRC_ADDR"},
		{4, "missing 33 of the model's 35 features", ""},
	}
	for _, c := range []struct {
		name, ctype, body string
		bad               []bad
		accepted          []int
	}{
		{"json", "application/json", string(array), jsonBad, []int{0, 6}},
		{"ndjson", "application/x-ndjson", ndjson.String(), jsonBad, []int{0, 6}},
		{"csv", "text/csv", csvBody, csvBad, []int{0, 5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var resp IngestResponse
			env.decode(env.do(storage.RoleIngest, http.MethodPost, "/v1/flows?sensor=rules-"+c.name, c.ctype, []byte(c.body)), http.StatusOK, &resp)
			if resp.Rejected != len(c.bad) || len(resp.Errors) != len(c.bad) || resp.Accepted != len(c.accepted) {
				t.Fatalf("accepted %d rejected %d: %+v", resp.Accepted, resp.Rejected, resp.Errors)
			}
			for i, want := range c.bad {
				e := resp.Errors[i]
				if e.Index != want.index || !strings.Contains(e.Detail, want.detail) ||
					(want.fields != "" && strings.Join(e.Fields, " ") != want.fields) {
					t.Errorf("error %d: %+v, want index %d, %q, fields %q", i, e, want.index, want.detail, want.fields)
				}
			}
			for i, v := range resp.Verdicts {
				if v.Index != c.accepted[i] {
					t.Errorf("verdict %d for record %d, want %d", i, v.Index, c.accepted[i])
				}
			}
			// Every alert stored names its flow.
			var n int
			if err := env.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM alerts WHERE sensor = $1 AND (src_addr IS NULL OR host(src_addr) = '')`,
				"rules-"+c.name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("%d alerts without a source address", n)
			}
		})
	}
}

// A CSV header that lacks a required column (or holds an unknown one)
// fails the request up front with one message: 422, since the CSV is well
// formed but its columns are not what the active model reads.
func TestIngestCSVHeaderFailsUpFront(t *testing.T) {
	env := newEnv(t, true)
	header, rows := flowsCSVLines(t)
	without := func(name string) []byte {
		i := indexOf(header, name)
		var b strings.Builder
		for _, r := range append([][]string{header}, rows[:20]...) {
			b.WriteString(strings.Join(append(append([]string(nil), r[:i]...), r[i+1:]...), ",") + "\n")
		}
		return []byte(b.String())
	}
	misspelt := bytes.Replace(readFlowsCSV(t), []byte("IN_BYTES"), []byte("IN_BYTEZ"), 1)
	for _, c := range []struct {
		name  string
		body  []byte
		want  string
		items int
	}{
		{"no IN_BYTES", without("IN_BYTES"), "missing feature IN_BYTES", 1},
		{"no IPV4_SRC_ADDR", without("IPV4_SRC_ADDR"), "IPV4_SRC_ADDR: missing", 1},
		{"IN_BYTEZ", misspelt, "unknown field IN_BYTEZ", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := env.do(storage.RoleIngest, http.MethodPost, "/v1/flows?sensor=header", "text/csv", c.body)
			var p Problem
			env.decode(w, http.StatusUnprocessableEntity, &p)
			if !strings.HasPrefix(p.Detail, "the CSV header does not fit the active model's flow rules") ||
				!strings.Contains(p.Detail, c.want) || len(p.Errors) != c.items || p.Errors[0].Pointer != "line 1" {
				t.Fatalf("problem %+v", p)
			}
		})
	}
	var n int
	if err := env.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM alerts WHERE sensor = 'header'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d alerts stored (%v)", n, err)
	}
}

// ?impute= lets a sensor known to omit features send flows without them:
// they are imputed, and the verdicts and the anchored alert record say how
// many values were. It never excuses a missing 5-tuple field.
func TestIngestImpute(t *testing.T) {
	env := newEnv(t, true)
	objs := csvToObjects(t, readFlowsCSV(t))[:60]
	for _, o := range objs {
		delete(o, "IN_BYTES")
		o["TCP_WIN_MAX_IN"] = "-"
	}
	body, _ := json.Marshal(objs)
	post := func(query string) *httptest.ResponseRecorder {
		return env.do(storage.RoleIngest, http.MethodPost, "/v1/flows?sensor=impute"+query, "application/json", body)
	}
	var p Problem
	env.decode(post(""), http.StatusUnprocessableEntity, &p)
	if !strings.Contains(p.Errors[0].Detail, "missing 2 of the model's 35 features: IN_BYTES, TCP_WIN_MAX_IN") {
		t.Fatalf("without impute: %+v", p)
	}
	var resp IngestResponse
	env.decode(post("&impute=IN_BYTES&impute=tcp_win_max_in"), http.StatusOK, &resp)
	if resp.Accepted != len(objs) || resp.Alerts == 0 {
		t.Fatalf("accepted %d alerts %d: %+v", resp.Accepted, resp.Alerts, resp.Errors)
	}
	for _, v := range resp.Verdicts {
		if v.Imputed != 2 {
			t.Fatalf("verdict %+v: want imputed 2", v)
		}
		if v.AlertID == nil {
			continue
		}
		var d storage.AlertDetail
		env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+v.AlertID.String(), "", nil), http.StatusOK, &d)
		var rec struct {
			Imputed int `json:"imputed"`
		}
		if err := json.Unmarshal(d.Record, &rec); err != nil || rec.Imputed != 2 || !bytes.Contains(d.Record, []byte(`"imputed":2,`)) {
			t.Fatalf("anchored record %s: imputed %d (%v)", d.Record, rec.Imputed, err)
		}
	}
	for _, q := range []string{"&impute=IPV4_SRC_ADDR", "&impute=NOT_A_FEATURE"} {
		env.decode(post(q), http.StatusUnprocessableEntity, &p)
		if len(p.Errors) != 1 || p.Errors[0].Pointer != "?impute" {
			t.Errorf("%s: %+v", q, p)
		}
	}
	// The default model declares no imputable feature.
	env.decode(post("&impute=declared"), http.StatusUnprocessableEntity, &p)
}

// The same flows written by a client that keeps "7.0" and by one that
// writes the number 7 (as any JSON encoder does) get the same verdicts and
// scores.
func TestIngestNumbersWrittenEitherWay(t *testing.T) {
	env := newEnv(t, true)
	objs := csvToObjects(t, readFlowsCSV(t))
	asWritten := make([]map[string]any, len(objs))
	asNumbers := make([]map[string]any, len(objs))
	changed := 0
	for i, o := range objs {
		asWritten[i], asNumbers[i] = map[string]any{}, map[string]any{}
		for k, v := range o {
			asWritten[i][k], asNumbers[i][k] = v, v
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				asWritten[i][k] = json.Number(v)
				asNumbers[i][k] = x // 7.0 → 7
				if strconv.FormatFloat(x, 'g', -1, 64) != v {
					changed++
				}
			}
		}
	}
	if changed == 0 {
		t.Fatal("no value is written differently")
	}
	verdicts := func(v any) []string {
		body, _ := json.Marshal(v)
		var resp IngestResponse
		env.decode(env.do(storage.RoleIngest, http.MethodPost, "/v1/flows", "application/json", body), http.StatusOK, &resp)
		if resp.Accepted != len(objs) {
			t.Fatalf("accepted %d of %d: %+v", resp.Accepted, len(objs), resp.Errors)
		}
		out := make([]string, len(resp.Verdicts))
		for i, v := range resp.Verdicts {
			out[i] = fmt.Sprintf("%s %v %v", v.Class, v.Score, v.Alert)
		}
		return out
	}
	a, b := verdicts(asWritten), verdicts(asNumbers)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("flow %d: %s as written, %s as JSON numbers", i, a[i], b[i])
		}
	}
}

// schema=csv is for models trained on the generic csv kind, whose options
// (label column, identifiers, categorical columns) the model file holds:
// with such a model active it reads flows; with another it is a mismatch.
func TestIngestSchemaCSV(t *testing.T) {
	env := newEnv(t, true)
	w := env.do(storage.RoleIngest, http.MethodPost, "/v1/flows?schema=csv", "text/csv", readFlowsCSV(t))
	var p Problem
	env.decode(w, http.StatusUnprocessableEntity, &p)
	if p.Detail != "the active model reads nf-bot-iot-v2 flows, not csv" {
		t.Fatalf("schema=csv against the NetFlow model: %+v", p)
	}
	opt := detector.LoadOptions{LabelColumn: "Attack", ExtraLabels: []string{"Label", "Dataset"},
		Identifiers: []string{"IPV4_SRC_ADDR", "IPV4_DST_ADDR", "L4_SRC_PORT", "L4_DST_PORT", "DNS_QUERY_ID"}, Categorical: []string{"PROTOCOL", "L7_PROTO"}}
	const sample = "../detector/testdata/nf-bot-iot-v2-sample.csv"
	flows, _, err := detector.LoadFiles("csv", []string{sample}, opt)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := detector.Train(flows, detector.TrainOptions{Dataset: "csv", Load: opt, Model: "kmeans", TestFraction: 0.3, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	file, err := tr.Detector.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	env.decode(env.do(storage.RoleAdmin, http.MethodPut, "/v1/models/active?version=csv", "application/octet-stream", file), http.StatusOK, nil)
	var resp IngestResponse
	env.decode(env.do(storage.RoleIngest, http.MethodPost, "/v1/flows?schema=csv", "text/csv", readFlowsCSV(t)), http.StatusOK, &resp)
	if resp.Schema != "csv" || resp.Accepted != 200 || resp.Rejected != 0 {
		t.Fatalf("schema %s accepted %d rejected %d: %+v", resp.Schema, resp.Accepted, resp.Rejected, resp.Errors)
	}
}

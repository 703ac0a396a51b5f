package ingest_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/internal/fakes"
)

// sampleObjects returns the first n flows of the sample as JSON-ready
// objects (string values), labels dropped.
func sampleObjects(t testing.TB, n int) []map[string]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(sampleBody(t))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range rows[1 : n+1] {
		m := map[string]string{}
		for i, h := range rows[0] {
			if h != "Label" && h != "Attack" && h != "Dataset" {
				m[h] = r[i]
			}
		}
		out = append(out, m)
	}
	return out
}

// theFiveBadRecords are issue 13's records that became alerts: a misspelt
// field, a non-numeric value, a column missing, no source address, and
// one feature of all; good is the flow each was made from.
func theFiveBadRecords(good map[string]string) []map[string]string {
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

// wantDetail is what each bad record's error must say, in order.
var wantDetail = []string{
	"unknown field IN_BYTEZ", `IN_BYTES: "abc" is not a number`, "missing feature OUT_PKTS",
	"IPV4_SRC_ADDR: missing", "missing 34 of the model's 35 features",
}

// Each of the five bad records gets its own error naming the field and
// why, in JSON and NDJSON; the good records of the request are scored.
func TestIngestRejectsFlowsThatBreakTheRules(t *testing.T) {
	objs := sampleObjects(t, 3)
	bad := theFiveBadRecords(objs[0])
	// good, bad..., good: bad records at indices 1..5.
	all := append(append([]map[string]string{objs[1]}, bad...), objs[2])
	var ndjson bytes.Buffer
	for _, o := range all {
		b, _ := json.Marshal(o)
		ndjson.Write(append(b, '\n'))
	}
	array, _ := json.Marshal(all)
	for _, c := range []struct {
		name   string
		format ingest.Format
		body   []byte
	}{{"json", ingest.FormatJSON, array}, {"ndjson", ingest.FormatNDJSON, ndjson.Bytes()}} {
		t.Run(c.name, func(t *testing.T) {
			store := &fakes.AlertStore{}
			in := defaultIngester(t, store)
			body, err := ingest.ParseBody(c.format, bytes.NewReader(c.body), 100)
			if err != nil {
				t.Fatal(err)
			}
			res, err := in.Ingest(context.Background(), ingest.Request{Sensor: "s", Records: body.Records, Header: body.Header})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Verdicts) != 2 || res.Verdicts[0].Index != 0 || res.Verdicts[1].Index != 6 || len(res.Errors) != 5 {
				t.Fatalf("verdicts %+v, errors %+v", res.Verdicts, res.Errors)
			}
			for i, e := range res.Errors {
				var fe *detector.FlowError
				if e.Index != i+1 || !strings.Contains(e.Err.Error(), wantDetail[i]) || !errors.As(e.Err, &fe) {
					t.Errorf("record %d: error %+v, want %q", i+1, e, wantDetail[i])
				}
			}
			for _, a := range store.Alerts() {
				if !a.Flow.SrcAddr.IsValid() || a.Imputed != 0 {
					t.Fatalf("alert %+v", a)
				}
			}
		})
	}
}

// In CSV the rows share a header: a value that breaks a rule rejects its
// row alone; a header that lacks a required column, or holds an unknown
// one, fails the whole request up front with one error.
func TestIngestCSVRules(t *testing.T) {
	lines := strings.Split(string(sampleBody(t)), "\n")
	header := strings.Split(lines[0], ",")
	colOf := func(name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	row := func(i int, kv ...any) string {
		f := strings.Split(lines[i], ",")
		for j := 0; j < len(kv); j += 2 {
			f[colOf(kv[j].(string))] = kv[j+1].(string)
		}
		return strings.Join(f, ",")
	}
	emptyBut := func(i int, keep ...string) string {
		f := strings.Split(lines[i], ",")
		for j, h := range header {
			if !strings.Contains(" "+strings.Join(keep, " ")+" ", " "+h+" ") {
				f[j] = ""
			}
		}
		return strings.Join(f, ",")
	}
	body := strings.Join([]string{lines[0], row(1),
		row(2, "IN_BYTES", "abc"), row(3, "OUT_PKTS", ""), row(4, "IPV4_SRC_ADDR", ""),
		emptyBut(5, "IPV4_SRC_ADDR", "L4_SRC_PORT", "IPV4_DST_ADDR", "L4_DST_PORT", "PROTOCOL", "IN_BYTES", "Label", "Attack", "Dataset"),
		row(6)}, "\n") + "\n"
	in := defaultIngester(t, &fakes.AlertStore{})
	parsed, err := ingest.ParseBody(ingest.FormatCSV, strings.NewReader(body), 100)
	if err != nil {
		t.Fatal(err)
	}
	res, err := in.Ingest(context.Background(), ingest.Request{Sensor: "s", Records: parsed.Records, Header: parsed.Header})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`IN_BYTES: "abc" is not a number`, "missing feature OUT_PKTS", "IPV4_SRC_ADDR: missing", "missing 33 of the model's 35 features"}
	if len(res.Verdicts) != 2 || len(res.Errors) != len(want) {
		t.Fatalf("verdicts %d, errors %+v", len(res.Verdicts), res.Errors)
	}
	for i, e := range res.Errors {
		if e.Index != i+1 || e.Line != i+3 || !strings.Contains(e.Err.Error(), want[i]) {
			t.Errorf("row %d: %+v, want %q", i+1, e, want[i])
		}
	}

	// Headers that fail up front.
	drop := func(name string) string {
		i := colOf(name)
		var out []string
		for _, l := range lines[:4] {
			f := strings.Split(l, ",")
			out = append(out, strings.Join(append(f[:i:i], f[i+1:]...), ","))
		}
		return strings.Join(out, "\n") + "\n"
	}
	for _, c := range []struct{ name, body, want string }{
		{"no IN_BYTES column", drop("IN_BYTES"), "missing feature IN_BYTES"},
		{"no IPV4_SRC_ADDR column", drop("IPV4_SRC_ADDR"), "IPV4_SRC_ADDR: missing"},
		{"misspelt column", strings.Replace(strings.Join(lines[:4], "\n"), "IN_BYTES", "IN_BYTEZ", 1), "unknown field IN_BYTEZ"},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := &fakes.AlertStore{}
			in := defaultIngester(t, store)
			parsed, err := ingest.ParseBody(ingest.FormatCSV, strings.NewReader(c.body), 100)
			if err != nil {
				t.Fatal(err)
			}
			res, err := in.Ingest(context.Background(), ingest.Request{Sensor: "s", Records: parsed.Records, Header: parsed.Header})
			var fe *detector.FlowError
			if !errors.Is(err, ingest.ErrInvalidHeader) || !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) || res != nil {
				t.Fatalf("err %v, result %+v; want ErrInvalidHeader saying %q", err, res, c.want)
			}
			if len(store.Alerts()) != 0 {
				t.Fatal("alerts stored")
			}
		})
	}
}

// A request may let named features be missing: they are imputed, and the
// alert and the verdict say how many values were.
func TestIngestImpute(t *testing.T) {
	objs := sampleObjects(t, 40)
	for _, o := range objs {
		delete(o, "IN_BYTES")
		o["OUT_BYTES"] = ""
	}
	b, _ := json.Marshal(objs)
	parsed, err := ingest.ParseBody(ingest.FormatJSON, bytes.NewReader(b), 100)
	if err != nil {
		t.Fatal(err)
	}
	store := &fakes.AlertStore{}
	in := defaultIngester(t, store)
	if _, err := in.Ingest(context.Background(), ingest.Request{Sensor: "s", Records: parsed.Records}); !errors.Is(err, ingest.ErrNoFlows) {
		t.Fatalf("without impute: %v", err)
	}
	res, err := in.Ingest(context.Background(), ingest.Request{Sensor: "s", Records: parsed.Records, Impute: []string{"IN_BYTES", "OUT_BYTES"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Verdicts) != len(objs) || len(res.AlertIDs) == 0 {
		t.Fatalf("%d verdicts, %d alerts", len(res.Verdicts), len(res.AlertIDs))
	}
	for _, v := range res.Verdicts {
		if v.Imputed != 2 {
			t.Fatalf("verdict %+v: want 2 imputed", v)
		}
	}
	for _, a := range store.Alerts() {
		if a.Imputed != 2 {
			t.Fatalf("alert imputed %d, want 2", a.Imputed)
		}
		canon, err := ingest.Canonical(a.Normalized())
		if err != nil || !bytes.Contains(canon, []byte(`"imputed":2,`)) {
			t.Fatalf("canonical body %s (%v)", canon, err)
		}
	}
	for _, bad := range [][]string{{"IPV4_SRC_ADDR"}, {"NOPE"}} {
		if _, err := in.Ingest(context.Background(), ingest.Request{Sensor: "s", Records: parsed.Records, Impute: bad}); !errors.Is(err, ingest.ErrInvalidImpute) {
			t.Errorf("impute %v: %v", bad, err)
		}
	}
}

// schema=csv is the generic kind a model trained with `train --dataset
// csv` reads, with the options stored in the model; for a model of another
// kind it is a mismatch, not an unknown schema.
func TestIngestCSVKindModel(t *testing.T) {
	in := defaultIngester(t, &fakes.AlertStore{})
	if _, _, err := in.Resolve("csv"); !errors.Is(err, ingest.ErrSchemaMismatch) {
		t.Fatalf("csv against the default model: %v", err)
	}
	opt := detector.LoadOptions{LabelColumn: "Attack", ExtraLabels: []string{"Label", "Dataset"},
		Identifiers: []string{"IPV4_SRC_ADDR", "IPV4_DST_ADDR", "L4_SRC_PORT", "L4_DST_PORT", "DNS_QUERY_ID"}, Categorical: []string{"PROTOCOL", "L7_PROTO"}}
	flows, _, err := detector.LoadFiles("csv", []string{sample}, opt)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := detector.Train(flows, detector.TrainOptions{Dataset: "csv", Load: opt, Model: "kmeans", TestFraction: 0.3, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Models.Activate(tr.Detector, "csv"); err != nil {
		t.Fatal(err)
	}
	parsed, err := ingest.ParseBody(ingest.FormatCSV, bytes.NewReader(sampleBody(t)), 1000)
	if err != nil {
		t.Fatal(err)
	}
	res, err := in.Ingest(context.Background(), ingest.Request{Sensor: "s", Schema: "csv", Records: parsed.Records, Header: parsed.Header})
	if err != nil {
		t.Fatal(err)
	}
	if res.Schema != "csv" || len(res.Verdicts) != len(parsed.Records) || len(res.Errors) != 0 {
		t.Fatalf("schema %s, %d verdicts of %d, errors %v", res.Schema, len(res.Verdicts), len(parsed.Records), res.Errors)
	}
	if _, _, err := in.Resolve("nf-bot-iot-v2"); !errors.Is(err, ingest.ErrSchemaMismatch) {
		t.Fatalf("nf-bot-iot-v2 against a csv model: %v", err)
	}
	if _, _, err := in.Resolve("nope"); !errors.Is(err, ingest.ErrUnknownSchema) || !strings.Contains(err.Error(), "csv") {
		t.Fatalf("unknown schema: %v", err)
	}
}

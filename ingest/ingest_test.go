package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/internal/fakes"
	"github.com/idsledger/idsledger/internal/modelfiles"
)

const sample = "../detector/testdata/nf-bot-iot-v2-sample.csv"

func sampleBody(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func defaultIngester(t testing.TB, store ingest.Store) *ingest.Ingester {
	t.Helper()
	d, err := detector.DefaultDetector()
	if err != nil {
		t.Fatal(err)
	}
	models := ingest.NewModels()
	if _, err := models.Activate(d, "test"); err != nil {
		t.Fatal(err)
	}
	return &ingest.Ingester{Models: models, Store: store}
}

// Good records become verdicts (and alerts) in record order; bad ones are
// rejected one by one with ErrInvalidRecord and do not stop the others.
func TestIngestKeepsGoodRecordsAndNamesBadOnes(t *testing.T) {
	store := &fakes.AlertStore{}
	in := defaultIngester(t, store)
	var raised int
	in.Hooks.Raised = func(ids []uuid.UUID, alerts []ingest.AlertBody) {
		if len(ids) != len(alerts) {
			t.Errorf("hook got %d ids for %d alerts", len(ids), len(alerts))
		}
		raised += len(ids)
	}
	lines := strings.SplitN(string(sampleBody(t)), "\n", 12)
	body := strings.Join(lines[:11], "\n") + "\n" + "1,2\n" // the last row lacks fields
	recs, err := ingest.Parse(ingest.FormatCSV, strings.NewReader(body), 100)
	if err != nil {
		t.Fatal(err)
	}
	var phases []string
	res, err := in.Ingest(context.Background(), ingest.Request{Sensor: "s1", Records: recs, Mark: func(p string) { phases = append(phases, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Received != 11 || len(res.Verdicts) != 10 || len(res.Errors) != 1 {
		t.Fatalf("received %d, verdicts %d, errors %d", res.Received, len(res.Verdicts), len(res.Errors))
	}
	if e := res.Errors[0]; e.Index != 10 || e.Line != 12 || !errors.Is(e.Err, ingest.ErrInvalidRecord) {
		t.Fatalf("record error %+v", e)
	}
	for i, v := range res.Verdicts {
		if v.Index != i {
			t.Fatalf("verdict %d has index %d", i, v.Index)
		}
		if v.Alert != (v.AlertID != nil) {
			t.Fatalf("verdict %d: alert %v with id %v", i, v.Alert, v.AlertID)
		}
	}
	if len(store.Alerts()) != len(res.AlertIDs) || raised != len(res.AlertIDs) || len(res.AlertIDs) == 0 {
		t.Fatalf("stored %d, raised %d, result %d alerts", len(store.Alerts()), raised, len(res.AlertIDs))
	}
	for _, a := range store.Alerts() {
		if a.Sensor != "s1" || a.Model != res.Model || a.Severity.Rank() < 0 || a.CommunityID == "" {
			t.Fatalf("alert %+v", a)
		}
	}
	if want := []string{"parse", "score", "alerts", "store"}; !reflect.DeepEqual(phases, want) {
		t.Errorf("phases %v, want %v", phases, want)
	}
}

// A request with nothing usable, a store failure, or a bad sensor or
// schema stores nothing and says why with a sentinel error.
func TestIngestFailsWhole(t *testing.T) {
	ctx := context.Background()
	good, err := ingest.Parse(ingest.FormatCSV, bytes.NewReader(sampleBody(t)), 1000)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := ingest.Parse(ingest.FormatNDJSON, strings.NewReader("[1]\n{\"IN_BYTES\":\n"), 10)
	if err != nil {
		t.Fatal(err)
	}
	outage := errors.New("database down")
	for _, tc := range []struct {
		name  string
		req   ingest.Request
		store *fakes.AlertStore
		want  error
	}{
		{"no records", ingest.Request{Sensor: "s"}, &fakes.AlertStore{}, ingest.ErrNoFlows},
		{"all rejected", ingest.Request{Sensor: "s", Records: bad}, &fakes.AlertStore{}, ingest.ErrNoFlows},
		{"store fails", ingest.Request{Sensor: "s", Records: good}, &fakes.AlertStore{Fail: outage}, outage},
		{"unknown schema", ingest.Request{Sensor: "s", Schema: "nope", Records: good}, &fakes.AlertStore{}, ingest.ErrUnknownSchema},
		{"other schema", ingest.Request{Sensor: "s", Schema: "n-baiot", Records: good}, &fakes.AlertStore{}, ingest.ErrSchemaMismatch},
		{"bad sensor", ingest.Request{Sensor: "a\x00b", Records: good}, &fakes.AlertStore{}, ingest.ErrInvalidSensor},
		{"no sensor", ingest.Request{Records: good}, &fakes.AlertStore{}, ingest.ErrInvalidSensor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := defaultIngester(t, tc.store)
			in.Hooks.Raised = func([]uuid.UUID, []ingest.AlertBody) { t.Error("hook called for a failed request") }
			_, err := in.Ingest(ctx, tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if len(tc.store.Alerts()) != 0 {
				t.Fatalf("%d alerts stored", len(tc.store.Alerts()))
			}
		})
	}
	in := defaultIngester(t, &fakes.AlertStore{})
	in.Models = ingest.NewModels()
	if _, err := in.Ingest(ctx, ingest.Request{Sensor: "s", Records: good}); !errors.Is(err, ingest.ErrNoModel) {
		t.Fatalf("no model: %v", err)
	}
}

// windowModel trains a small window-mode model on the sample.
func windowModel(t testing.TB) (*detector.Detector, []*detector.Flow) {
	t.Helper()
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{sample}, detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := detector.Train(flows, detector.TrainOptions{Dataset: "nf-bot-iot-v2", Model: "kmeans", TestFraction: 0.3, Seed: 2,
		Pipeline: detector.PipelineConfig{Input: detector.InputWindow, Window: 4}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Detector, flows
}

// A window-mode model scores each flow with the window of its source's
// latest flows across requests: concurrent requests, each source's flows
// sent in order in small chunks, give exactly the verdicts of one batch.
// Run under -race by make test.
func TestConcurrentRequestsSeeWholeWindows(t *testing.T) {
	d, flows := windowModel(t)
	want, err := d.Detect(flows)
	if err != nil {
		t.Fatal(err)
	}
	bySource := map[string][]int{}
	for i, f := range flows {
		bySource[f.Key] = append(bySource[f.Key], i)
	}
	if len(bySource) < 2 {
		t.Fatalf("the sample has %d sources", len(bySource))
	}
	models := ingest.NewModels()
	if _, err := models.Activate(d, "w"); err != nil {
		t.Fatal(err)
	}
	in := &ingest.Ingester{Models: models, Store: &fakes.AlertStore{}}
	got := make([]ingest.Verdict, len(flows))
	var wg sync.WaitGroup
	errc := make(chan error, len(bySource))
	for src, idx := range bySource {
		wg.Go(func() {
			for lo := 0; lo < len(idx); lo += 3 {
				chunk := idx[lo:min(lo+3, len(idx))]
				batch := make([]*detector.Flow, len(chunk))
				for j, i := range chunk {
					batch[j] = flows[i]
				}
				v, err := in.ScoreFlows(context.Background(), "sensor", batch)
				if err != nil {
					errc <- fmt.Errorf("source %s: %w", src, err)
					return
				}
				for j, i := range chunk {
					got[i] = v[j]
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	for i, p := range want {
		if g := got[i]; g.Class != d.ClassName(p.Class) || g.Score != p.Score || g.Alert != p.Alert {
			t.Fatalf("flow %d: got %s %.6f %v, one batch gives %s %.6f %v", i, g.Class, g.Score, g.Alert,
				d.ClassName(p.Class), p.Score, p.Alert)
		}
	}
}

// A model that panics while scoring (here a split on a feature the rows do
// not have, set in memory past the decoder's checks, in a batch large
// enough to be scored on several goroutines) fails the request with
// ErrScoring naming the model; the process goes on.
func TestScoringPanicNamesTheModel(t *testing.T) {
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{sample}, detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := detector.Train(flows, detector.TrainOptions{Dataset: "nf-bot-iot-v2", Model: "iforest", Seed: 2,
		Params: map[string]float64{"trees": 10}})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Detector
	w := d.Model.Weights()
	w[0] = 1000 // tree 0, node 0
	if err := d.Model.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	models := ingest.NewModels()
	if _, err := models.Activate(d, "broken"); err != nil {
		t.Fatal(err)
	}
	in := &ingest.Ingester{Models: models, Store: &fakes.AlertStore{}}
	batch := make([]*detector.Flow, 1024)
	for i := range batch {
		batch[i] = flows[i%len(flows)]
	}
	_, err = in.ScoreFlows(context.Background(), "s", batch)
	if !errors.Is(err, ingest.ErrScoring) || !errors.Is(err, detector.ErrPanic) || !strings.Contains(err.Error(), d.ID()) {
		t.Fatalf("got %v, want ErrScoring and ErrPanic naming model %s", err, d.ID())
	}
}

// Swap refuses every malformed model file, the one whose fields are all in
// range but whose scores overflow included (the self-test), before
// recording anything; the model serving stays.
func TestSwapRefusesMalformedModels(t *testing.T) {
	in := defaultIngester(t, &fakes.AlertStore{})
	before := in.Models.Active()
	in.Models.Record = func(context.Context, ingest.Activation) (uuid.UUID, error) {
		t.Error("a malformed model was recorded")
		return uuid.New(), nil
	}
	for _, c := range modelfiles.Malformed(t) {
		if _, _, err := in.Models.Swap(context.Background(), c.File, "", "test", ""); !errors.Is(err, detector.ErrModelFile) {
			t.Errorf("%s: got %v, want ErrModelFile", c.Name, err)
		}
	}
	if in.Models.Active() != before {
		t.Error("the active model changed")
	}
}

// Sensor names of the chain hunter's form are refused, to keys and
// requests alike: a flow alert cannot pass for a chain alert.
func TestChainSensorNamesAreReserved(t *testing.T) {
	for _, s := range []string{"chain:1337", "chain:", "chain:plant"} {
		if err := ingest.ValidSensor(s); !errors.Is(err, ingest.ErrInvalidSensor) {
			t.Errorf("%q: %v, want ErrInvalidSensor", s, err)
		}
		if err := (ingest.Submitter{}).Claim(s); !errors.Is(err, ingest.ErrInvalidSensor) {
			t.Errorf("claim %q: %v, want ErrInvalidSensor", s, err)
		}
	}
	for _, s := range []string{"plant-1", "blockchain:1", "Chain-1"} {
		if err := ingest.ValidSensor(s); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
}

// The hooks (webhooks among them) get each alert exactly as it is stored,
// hashed and anchored: normalized (type tag, UTC microseconds) and with
// its id, so that a delivered alert's canonical form is the anchored one.
func TestRaisedAlertsAreTheStoredOnes(t *testing.T) {
	store := &fakes.AlertStore{}
	in := &ingest.Ingester{Store: store}
	var gotIDs []uuid.UUID
	var got []ingest.AlertBody
	in.Hooks.Raised = func(ids []uuid.UUID, alerts []ingest.AlertBody) { gotIDs, got = ids, alerts }
	observed := time.Date(2026, 11, 28, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	body := ingest.AlertBody{ObservedAt: observed, Sensor: "s1", Class: "DDoS", Score: 0.9, Risk: 90,
		Severity: ingest.SeverityHigh, Model: ingest.ModelRef{ID: "m", Version: "v"}}
	ids, err := in.Raise(t.Context(), []ingest.AlertBody{body})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(gotIDs) != 1 || gotIDs[0] != ids[0] {
		t.Fatalf("hook got %d alerts, ids %v; stored %v", len(got), gotIDs, ids)
	}
	want := body.Normalized()
	want.ID = ids[0]
	wantCanon, err := ingest.Canonical(want)
	if err != nil {
		t.Fatal(err)
	}
	gotCanon, err := ingest.Canonical(got[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(gotCanon) != string(wantCanon) {
		t.Fatalf("the hook got\n%s\nwhere the stored alert is\n%s", gotCanon, wantCanon)
	}
}

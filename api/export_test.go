package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idsledger/idsledger/internal/fakes/storefakes"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
)

// failingPages serves one full page of alerts, then fails: a database lost
// in the middle of an export.
type failingPages struct {
	AlertStore
	calls int
}

func (s *failingPages) ListAlerts(_ context.Context, f storage.AlertFilter) ([]storage.Alert, *storage.AlertCursor, error) {
	s.calls++
	if s.calls > 1 {
		return nil, nil, storage.ErrUnavailable
	}
	page := make([]storage.Alert, f.Limit)
	for i := range page {
		page[i] = storage.Alert{AlertBody: ingest.AlertBody{ID: uuid.New(), Type: "alert", ObservedAt: time.Unix(int64(i), 0).UTC(),
			Class: "DoS", Severity: ingest.SeverityHigh, Score: 0.9}}
	}
	last := page[len(page)-1]
	return page, &storage.AlertCursor{ObservedAt: last.ObservedAt, ID: last.ID}, nil
}

// An export that fails after its first page ends with a broken transfer,
// not a clean end of body: a client cannot take a truncated export for a
// whole one.
func TestExportFailureAbortsTheResponse(t *testing.T) {
	store := &failingPages{}
	srv := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Deps{Keys: storefakes.Keys{}, Alerts: store})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	for _, format := range []string{"ndjson", "csv"} {
		store.calls = 0
		req, _ := http.NewRequest(http.MethodGet, hs.URL+"/v1/alerts/export?format="+format, nil)
		req.Header.Set("Authorization", "Bearer idsl_fake")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", format, resp.StatusCode)
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("%s: reading the export ended with %v after %d bytes, want io.ErrUnexpectedEOF", format, err, len(body))
		}
		if lines := strings.Count(string(body), "\n"); lines < exportPage {
			t.Fatalf("%s: %d lines before the abort, want the first page of %d", format, lines, exportPage)
		}
	}
}

// Every export keeps its schema's ranges for alerts of any model: OCSF
// confidence and risk scores are integers in 0-100 and its severity and
// risk level ids in theirs, ECS risk scores in 0-100 and severity in 1-5
// here, EVE severity in 1-3. An autoencoder's raw scores (thousands) used
// to reach ECS as a risk of 540,000 and OCSF as confidence 100 for every
// alert.
func TestExportFieldsInRange(t *testing.T) {
	for _, m := range []struct {
		supervised       bool
		threshold, score float64
	}{{true, 0.5, 0.51}, {true, 0.5, 0.999}, {false, 1000, 1001}, {false, 1000, 5400}, {false, 1000, 1e9}, {false, 0.02, 0.03}} {
		risk := ingest.Risk(m.supervised, m.score, m.threshold)
		a := storage.Alert{AlertBody: ingest.AlertBody{Type: "alert", ObservedAt: time.Unix(0, 0).UTC(), Class: "Anomaly",
			Score: m.score, Risk: risk, Severity: ingest.SeverityOf(risk)}}
		a.ID = uuid.New()
		o := ocsfFinding(a)
		for _, k := range []string{"confidence_score", "risk_score"} {
			if v, ok := o[k].(int); !ok || v < 0 || v > 100 {
				t.Errorf("score %v: OCSF %s = %v", m.score, k, o[k])
			}
		}
		if v := o["severity_id"].(int); v < 1 || v > 6 {
			t.Errorf("OCSF severity_id %d", v)
		}
		if v := o["risk_level_id"].(int); v < 0 || v > 4 {
			t.Errorf("OCSF risk_level_id %d", v)
		}
		ev := ecsDoc(a)["event"].(map[string]any)
		if v := ev["risk_score"].(float64); v < 0 || v > 100 {
			t.Errorf("score %v: ECS risk_score %v", m.score, v)
		}
		if v := ev["severity"].(int); v < 1 || v > 5 {
			t.Errorf("ECS severity %d", v)
		}
		if v := eveDoc(a)["alert"].(map[string]any)["severity"].(int); v < 1 || v > 3 {
			t.Errorf("EVE severity %d", v)
		}
	}
}

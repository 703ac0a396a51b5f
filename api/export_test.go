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

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/internal/fakes"
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
		page[i] = storage.Alert{ID: uuid.New(), AlertBody: ingest.AlertBody{Type: "alert", ObservedAt: time.Unix(int64(i), 0).UTC(),
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
	srv := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Deps{Keys: fakes.Keys{}, Alerts: store})
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

package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/internal/fakes/storefakes"

	"github.com/idsledger/idsledger/api"
)

// FuzzCreateAPIKeyBody: any body gets 201 or a 4xx problem+json; never 5xx,
// never a panic. Seeds live in testdata/fuzz/FuzzCreateAPIKeyBody.
func FuzzCreateAPIKeyBody(f *testing.F) {
	for _, s := range []string{`{"name":"a","role":"admin"}`, `{`, `[]`, `{"name":1e999}`, `null`, `{"name":"\ud800"}`} {
		f.Add([]byte(s))
	}
	srv := api.New(api.Config{MaxBodyBytes: 4096, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))},
		api.Deps{Keys: storefakes.Keys{}})
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/v1/apikeys", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer k")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		switch {
		case rec.Code == 201:
		case rec.Code >= 400 && rec.Code < 500:
			if rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d without problem+json", rec.Code)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("invalid JSON response %q", rec.Body)
		}
	})
}

//go:build integration

package api

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/internal/modelfiles"
	"github.com/idsledger/idsledger/storage"
)

// TestMalformedModelUploads: each malformed model file is refused with a
// 422 validation problem naming the field; the model that was active stays
// active, scores flows, and no activation is recorded for the refused file.
// The files that once ended the process (modelfiles.Case.Fatal) are left to
// cmd/idsledger's TestServeSurvivesMalformedModels, which uploads them to
// a child process: here a regression would take the whole test binary down.
func TestMalformedModelUploads(t *testing.T) {
	env := newEnv(t, false)
	file, err := os.ReadFile(defaultModelPath)
	if err != nil {
		t.Fatal(err)
	}
	var before modelInfo
	env.decode(env.do(storage.RoleAdmin, http.MethodPut, "/v1/models/active?version=good", "application/octet-stream", file), http.StatusOK, &before)
	flows := readFlowsCSV(t)
	for _, c := range modelfiles.Malformed(t) {
		if c.Fatal {
			continue
		}
		w := env.do(storage.RoleAdmin, http.MethodPut, "/v1/models/active?version=bad", "application/octet-stream", c.File)
		var p Problem
		if w.Code != http.StatusUnprocessableEntity || !isProblem(w) || json.Unmarshal(w.Body.Bytes(), &p) != nil {
			t.Errorf("%s: %d %s %s, want 422 problem+json", c.Name, w.Code, w.Header().Get("Content-Type"), w.Body.String())
			continue
		}
		if p.Type != problemBase+probValidation.slug || !strings.Contains(p.Detail, c.Want) {
			t.Errorf("%s: problem %s %q, want a validation problem naming %q", c.Name, p.Type, p.Detail, c.Want)
		}
		var now modelInfo
		env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/models/active", "", nil), http.StatusOK, &now)
		if now.ID != before.ID || now.Version != "good" {
			t.Errorf("%s: the active model is now %s %s, want %s good", c.Name, now.ID, now.Version, before.ID)
		}
		var resp IngestResponse
		env.decode(env.do(storage.RoleIngest, http.MethodPost, "/v1/flows", "text/csv", flows), http.StatusOK, &resp)
		if resp.Model.ID != before.ID || resp.Accepted != 200 {
			t.Errorf("%s: %d flows accepted, scored by %+v", c.Name, resp.Accepted, resp.Model)
		}
	}
	var n int
	if err := env.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM records WHERE kind = 'audit_event'
		AND convert_from(body, 'UTF8') LIKE '%"action":"model.activate"%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d model.activate audit events, want 1 (the good model's)", n)
	}
}

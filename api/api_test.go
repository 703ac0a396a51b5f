//go:build integration

package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/api"
	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/storage/pgtest"
	"github.com/idsledger/idsledger/webhook"
)

// testServer is an api.Server with every part real: a fresh database, the
// default model, a verifier over go-ethereum's simulated chain, metrics and
// webhooks; and one key per role.
type testServer struct {
	srv  *api.Server
	db   *storage.DB
	keys map[storage.Role]string
}

func newTestServer(t *testing.T, cfg api.Config) *testServer {
	t.Helper()
	db := pgtest.DB(t)
	health := api.NewHealth(db.Ping, nil)
	health.SetDatabaseReady()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	d, err := detector.DefaultDetector()
	if err != nil {
		t.Fatal(err)
	}
	models := ingest.NewModels()
	models.Record = db.RecordActivation
	if _, err := models.Activate(d, "test"); err != nil {
		t.Fatal(err)
	}
	sim, err := chain.NewSimulated()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	ch, err := sim.Open(context.Background(), storage.NewChainMeta(db.Pool))
	if err != nil {
		t.Fatal(err)
	}
	out := storage.NewOutbox(db.Pool)
	metrics := api.NewMetrics(db)
	ts := &testServer{db: db, keys: map[storage.Role]string{}}
	hooks := webhook.New(db, webhook.Options{Logger: cfg.Logger, OnOutcome: metrics.WebhookOutcome})
	in := &ingest.Ingester{Models: models, Store: db, Hooks: api.IngestHooks(metrics, hooks, nil)}
	fed := &api.Federation{}
	ts.srv = api.New(cfg, api.Deps{
		Keys: db, Health: health, Alerts: db, Ingester: in, Metrics: metrics,
		Verifier: anchor.NewVerifier(out, ch.Registry), Records: out,
		Webhooks: hooks, WebhookStore: db, Federation: fed,
	})
	var flKey uuid.UUID
	for _, r := range storage.Roles {
		clear, k, err := db.CreateAPIKey(context.Background(), storage.KeySpec{Name: "test " + string(r), Role: r}, "test")
		if err != nil {
			t.Fatal(err)
		}
		ts.keys[r] = clear
		if r == storage.RoleFLNode {
			flKey = k.ID
		}
	}
	api.StartTestFederation(t, db, ch, fed, d, flKey)
	return ts
}

// do sends one request and returns the recorded response. A request that does
// not finish within 2 s (a stream) is cut off by its context.
func (ts *testServer) do(t *testing.T, method, path, key, contentType string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, method, path, body)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	ts.srv.Handler().ServeHTTP(rec, req)
	return rec
}

// concretePath fills path parameters with a plausible value.
func concretePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			parts[i] = "0190d7a0-0000-7000-8000-000000000001"
		}
	}
	return strings.Join(parts, "/")
}

func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder) api.Problem {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json (body %s)", ct, rec.Body)
	}
	var p api.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, rec.Body)
	}
	if p.Status != rec.Code || p.Type == "" || p.Title == "" || p.Instance == "" {
		t.Fatalf("incomplete problem for status %d: %+v", rec.Code, p)
	}
	return p
}

// Every route × no key / malformed key / each wrong role / each right role.
func TestAuthMatrix(t *testing.T) {
	ts := newTestServer(t, api.Config{BadKeyRate: -1}) // every wrong key must get its 401
	for _, r := range ts.srv.Routes() {
		path := concretePath(r.Path)
		name := r.Method + " " + r.Path
		if r.Public() {
			rec := ts.do(t, r.Method, path, "", "", nil)
			if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
				t.Errorf("%s is public but answered %d", name, rec.Code)
			}
			continue
		}
		rec := ts.do(t, r.Method, path, "", "", nil)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s without a key: %d, want 401", name, rec.Code)
		} else {
			decodeProblem(t, rec)
			if rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s: 401 without WWW-Authenticate", name)
			}
		}
		bad := ts.keys[storage.RoleAdmin][:len(ts.keys[storage.RoleAdmin])-4] + "0000"
		if rec := ts.do(t, r.Method, path, bad, "", nil); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong key: %d, want 401", name, rec.Code)
		}
		for _, role := range storage.Roles {
			rec := ts.do(t, r.Method, path, ts.keys[role], "application/json", strings.NewReader("{}"))
			allowed := slices.Contains(r.Roles, role)
			switch {
			case allowed && (rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden):
				t.Errorf("%s as %s: %d, want access", name, role, rec.Code)
			case !allowed && rec.Code != http.StatusForbidden:
				t.Errorf("%s as %s: %d, want 403", name, role, rec.Code)
			case !allowed:
				decodeProblem(t, rec)
			}
			if rec.Code >= 500 {
				t.Errorf("%s as %s: %d: %s", name, role, rec.Code, rec.Body)
			}
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	ts := newTestServer(t, api.Config{})
	rec := ts.do(t, http.MethodGet, "/v1/openapi.json", ts.keys[storage.RoleAnalyst], "", nil)
	if rec.Code != http.StatusOK || !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%d %q", rec.Code, rec.Body.String()[:min(200, rec.Body.Len())])
	}
}

func TestRouterProblems(t *testing.T) {
	ts := newTestServer(t, api.Config{MaxBodyBytes: 1024})
	admin := ts.keys[storage.RoleAdmin]
	cases := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		want        int
		wantType    string
	}{
		{"unknown route", "GET", "/v1/nope", "", "", 404, "not-found"},
		{"wrong method", "PUT", "/v1/apikeys", "application/json", "{}", 405, "method-not-allowed"},
		{"oversize", "POST", "/v1/apikeys", "application/json", `{"name":"` + strings.Repeat("x", 2000) + `","role":"admin"}`, 413, "payload-too-large"},
		{"wrong content type", "POST", "/v1/apikeys", "text/plain", `{"name":"a","role":"admin"}`, 415, "unsupported-media-type"},
		{"malformed json", "POST", "/v1/apikeys", "application/json", `{"name":`, 400, "bad-request"},
		{"unknown field", "POST", "/v1/apikeys", "application/json", `{"name":"a","role":"admin","x":1}`, 400, "bad-request"},
		{"wrong type", "POST", "/v1/apikeys", "application/json", `{"name":5,"role":"admin"}`, 400, "bad-request"},
		{"trailing data", "POST", "/v1/apikeys", "application/json", `{"name":"a","role":"admin"} {}`, 400, "bad-request"},
		{"empty body", "POST", "/v1/apikeys", "application/json", ``, 400, "bad-request"},
		{"bad role", "POST", "/v1/apikeys", "application/json", `{"name":"a","role":"root"}`, 422, "validation"},
		{"missing name", "POST", "/v1/apikeys", "application/json", `{"role":"admin"}`, 422, "validation"},
		{"revoke unknown", "DELETE", "/v1/apikeys/idsl_000000000000", "", "", 404, "not-found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := ts.do(t, c.method, c.path, admin, c.contentType, strings.NewReader(c.body))
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.want, rec.Body)
			}
			p := decodeProblem(t, rec)
			if !strings.HasSuffix(p.Type, "/"+c.wantType) {
				t.Fatalf("type %q, want .../%s", p.Type, c.wantType)
			}
			if p.RequestID == "" || p.RequestID != rec.Header().Get("X-Request-ID") {
				t.Fatalf("request id %q vs header %q", p.RequestID, rec.Header().Get("X-Request-ID"))
			}
		})
	}
}

func TestAPIKeyEndpoints(t *testing.T) {
	ts := newTestServer(t, api.Config{})
	admin := ts.keys[storage.RoleAdmin]
	rec := ts.do(t, "POST", "/v1/apikeys", admin, "application/json", strings.NewReader(`{"name":"wazuh","role":"analyst"}`))
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var created struct {
		Key    string         `json:"key"`
		APIKey storage.APIKey `json:"api_key"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	if rec := ts.do(t, "GET", "/v1/whoami", created.Key, "", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"wazuh"`) {
		t.Fatalf("whoami with the new key: %d %s", rec.Code, rec.Body)
	}
	if rec := ts.do(t, "DELETE", "/v1/apikeys/"+created.APIKey.ID.String(), admin, "", nil); rec.Code != 200 {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	if rec := ts.do(t, "GET", "/v1/whoami", created.Key, "", nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("whoami with the revoked key: %d", rec.Code)
	}
	rec = ts.do(t, "GET", "/v1/apikeys", admin, "", nil)
	if rec.Code != 200 || strings.Contains(rec.Body.String(), created.Key) || strings.Contains(rec.Body.String(), "secret") {
		t.Fatalf("list leaks secrets or failed: %d %s", rec.Code, rec.Body)
	}
}

// With the database gone, requests that need it get 503 problem+json and
// /readyz says so; /healthz stays 200.
func TestDatabaseDownGives503(t *testing.T) {
	c := pgtest.StartCluster(t)
	if err := storage.MigrateUp(c.URL); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(context.Background(), c.URL, storage.Options{ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, _, err := db.CreateAPIKey(context.Background(), storage.KeySpec{Name: "k", Role: storage.RoleAdmin}, "test")
	if err != nil {
		t.Fatal(err)
	}
	health := api.NewHealth(db.Ping, nil)
	health.SetDatabaseReady()
	ts := &testServer{db: db, srv: api.New(api.Config{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}, api.Deps{Keys: db, Health: health})}
	if rec := ts.do(t, "GET", "/v1/whoami", key, "", nil); rec.Code != 200 {
		t.Fatalf("before: %d", rec.Code)
	}
	c.Stop(t)
	rec := ts.do(t, "GET", "/v1/whoami", key, "", nil)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("database down: %d %s, want 503", rec.Code, rec.Body)
	}
	decodeProblem(t, rec)
	if rec.Header().Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	if rec := ts.do(t, "GET", "/readyz", "", "", nil); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database down: %d", rec.Code)
	}
	if rec := ts.do(t, "GET", "/healthz", "", "", nil); rec.Code != http.StatusOK {
		t.Fatalf("healthz with the database down: %d", rec.Code)
	}
	c.Start(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec := ts.do(t, "GET", "/v1/whoami", key, "", nil)
		if rec.Code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the database came back: %d %s", rec.Code, rec.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

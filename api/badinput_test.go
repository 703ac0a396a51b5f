//go:build integration

package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/webhook"
)

// badRequest is one entry of testdata/bad_requests.json. A body starting
// with @ names a file under testdata/bad; "!oversize" is a body over the
// server's limit.
type badRequest struct {
	Name        string            `json:"name"`
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	ContentType string            `json:"content_type"`
	Body        string            `json:"body"`
	Role        storage.Role      `json:"role"`
	Status      int               `json:"status"`
	Headers     map[string]string `json:"headers"`
}

// Every request of the bad-input corpus gets its documented status: a 4xx
// problem+json for bad input (never a 5xx, never a panic), or 200 where the
// input is odd but valid (injection-shaped filters are just strings).
func TestBadInputCorpus(t *testing.T) {
	raw, err := os.ReadFile("testdata/bad_requests.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []badRequest
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, true)
	env.srv.deps.Webhooks, env.srv.deps.WebhookStore = webhook.New(env.db, webhook.Options{}), env.db
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			body := []byte(c.Body)
			switch {
			case strings.HasPrefix(c.Body, "@"):
				if body, err = os.ReadFile(filepath.Join("testdata", "bad", c.Body[1:])); err != nil {
					t.Fatal(err)
				}
			case c.Body == "!oversize":
				body = []byte("IN_BYTES\n" + strings.Repeat("1\n", 3<<20))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			req := httptest.NewRequestWithContext(ctx, c.Method, c.Path, strings.NewReader(string(body)))
			if c.ContentType != "" {
				req.Header.Set("Content-Type", c.ContentType)
			}
			req.Header.Set("Authorization", "Bearer "+env.keys[c.Role])
			for k, v := range c.Headers {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			env.srv.Handler().ServeHTTP(w, req)
			if w.Code != c.Status {
				t.Fatalf("status %d, want %d: %s", w.Code, c.Status, ingest.Clip(w.Body.String(), 400))
			}
			if w.Code >= 400 {
				var p Problem
				if !isProblem(w) || json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Status != w.Code || p.Type == "" {
					t.Fatalf("not a problem+json answer: %s %s", w.Header().Get("Content-Type"), ingest.Clip(w.Body.String(), 400))
				}
			}
		})
	}
	if w := env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts", "", nil); w.Code != http.StatusOK {
		t.Fatalf("after the corpus: %d", w.Code)
	}
}

// With every dependency configured, no route answers 5xx to a right-role
// request with an arbitrary small body.
func TestRoutesNo5xxWithDeps(t *testing.T) {
	env := newEnv(t, true)
	env.srv.deps.Webhooks, env.srv.deps.WebhookStore = webhook.New(env.db, webhook.Options{}), env.db
	sim, err := chain.NewSimulated()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	ch, err := sim.Open(context.Background(), storage.NewChainMeta(env.db.Pool))
	if err != nil {
		t.Fatal(err)
	}
	env.srv.deps.Federation, env.srv.deps.Records = &Federation{}, storage.NewOutbox(env.db.Pool)
	keys, err := env.db.ListAPIKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var flKey uuid.UUID
	for _, k := range keys {
		if k.Role == storage.RoleFLNode {
			flKey = k.ID
		}
	}
	StartTestFederation(t, env.db, ch, env.srv.deps.Federation, env.models.Active().Detector, flKey)
	for _, r := range env.srv.Routes() {
		if r.Public() {
			continue
		}
		path := strings.ReplaceAll(r.Path, ":id", "0190d7a0-0000-7000-8000-000000000001")
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req := httptest.NewRequestWithContext(ctx, r.Method, path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+env.keys[r.Roles[0]])
		w := httptest.NewRecorder()
		env.srv.Handler().ServeHTTP(w, req)
		cancel()
		if w.Code >= 500 {
			t.Errorf("%s %s: %d %s", r.Method, r.Path, w.Code, ingest.Clip(w.Body.String(), 300))
		}
	}
}

//go:build integration

package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/internal/testenv"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/webhook"
)

// loopback is the allow-list that lets deliveries reach httptest servers.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// receiver is a webhook endpoint that checks signatures and fails its first
// failFirst deliveries.
type receiver struct {
	t         *testing.T
	secret    atomic.Value // string
	failFirst atomic.Int64
	mu        sync.Mutex
	got       map[string]bool // alert ids delivered
	badSig    atomic.Int64
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	sig := req.Header.Get("X-Idsledger-Signature")
	ts, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
	sec, _ := r.secret.Load().(string)
	unix, _ := strconv.ParseInt(ts, 10, 64)
	want := webhook.Sign(sec, time.Unix(unix, 0), body)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		r.badSig.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.failFirst.Add(-1) >= 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.got[p.AlertID.String()] = true
	r.mu.Unlock()
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// Deliveries are signed, retried past failures, dead-lettered when they keep
// failing, and replayable by an admin.
func TestWebhooksRetryDeadLetterReplay(t *testing.T) {
	env := newEnv(t, true)
	wh := webhook.New(env.db, webhook.Options{Backoff: 5 * time.Millisecond, MaxAttempts: 3, Timeout: 2 * time.Second, Allow: loopback})
	env.srv.deps.Webhooks, env.srv.deps.WebhookStore = wh, env.db
	env.srv.deps.Ingester.Hooks = IngestHooks(env.srv.deps.Metrics, wh, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { wh.Run(ctx); close(done) }()

	rcv := &receiver{t: t, got: map[string]bool{}}
	rcv.failFirst.Store(2) // two failures, then success: within 3 attempts
	hs := httptest.NewServer(rcv)
	defer hs.Close()
	var created createWebhookResponse
	env.decode(env.do(storage.RoleAdmin, http.MethodPost, "/v1/webhooks", "application/json",
		[]byte(`{"url":"`+hs.URL+`","min_severity":"low"}`)), http.StatusCreated, &created)
	rcv.secret.Store(created.Secret)

	var deadHealed atomic.Bool // the dead hook's endpoint fails until healed
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !deadHealed.Load() {
			w.WriteHeader(500)
		}
	}))
	var deadHook createWebhookResponse
	env.decode(env.do(storage.RoleAdmin, http.MethodPost, "/v1/webhooks", "application/json",
		[]byte(`{"url":"`+dead.URL+`","min_severity":"critical"}`)), http.StatusCreated, &deadHook)

	ids := ingestFixture(t, env)
	testenv.Eventually(t, 10*time.Second, "every alert delivered", func() bool { return rcv.count() == len(ids) })
	if rcv.badSig.Load() != 0 {
		t.Fatalf("%d deliveries with a bad signature", rcv.badSig.Load())
	}

	// The always-failing hook's deliveries end up as dead letters.
	var dl page[storage.DeadLetter]
	testenv.Eventually(t, 10*time.Second, "the dead letters", func() bool {
		env.decode(env.do(storage.RoleAdmin, http.MethodGet, "/v1/webhooks/dead-letters?limit=1000", "", nil), http.StatusOK, &dl)
		return len(dl.Items) > 0 && len(dl.Items) == countSeverity(t, env, ingest.SeverityCritical)
	})
	if dl.Items[0].Attempts != 3 || dl.Items[0].WebhookID != deadHook.Webhook.ID {
		t.Fatalf("dead letter %+v", dl.Items[0])
	}
	// Point the dead hook's letters at a working endpoint and replay one.
	deadHealed.Store(true)
	var res replayResult
	env.decode(env.do(storage.RoleAdmin, http.MethodPost, "/v1/webhooks/dead-letters/"+itoa(dl.Items[0].ID)+"/replay", "", nil), http.StatusOK, &res)
	if !res.Delivered {
		t.Fatalf("replay: %+v", res)
	}
	var after page[storage.DeadLetter]
	env.decode(env.do(storage.RoleAdmin, http.MethodGet, "/v1/webhooks/dead-letters?limit=1000", "", nil), http.StatusOK, &after)
	if len(after.Items) != len(dl.Items)-1 {
		t.Fatalf("%d dead letters after replaying one of %d", len(after.Items), len(dl.Items))
	}
	dead.Close()
	cancel()
	<-done
}

// A webhook whose URL names, or resolves only to, an address deliveries may
// not reach is refused when it is created, with a message that names the
// allow-list; an allow-listed one is accepted.
func TestWebhookCreationRefusesInternalAddresses(t *testing.T) {
	env := newEnv(t, false)
	env.srv.deps.Webhooks, env.srv.deps.WebhookStore = webhook.New(env.db, webhook.Options{}), env.db
	for _, u := range []string{"http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:10.0.0.1]/",
		"http://[fd00:ec2::254]/", "http://localhost:8080/"} {
		w := env.do(storage.RoleAdmin, http.MethodPost, "/v1/webhooks", "application/json", []byte(`{"url":"`+u+`"}`))
		var p Problem
		env.decode(w, http.StatusUnprocessableEntity, &p)
		if len(p.Errors) != 1 || p.Errors[0].Pointer != "/url" || !strings.Contains(p.Errors[0].Detail, "--webhook-allow") {
			t.Errorf("%s: %+v", u, p)
		}
	}
	env.srv.deps.Webhooks = webhook.New(env.db, webhook.Options{Allow: loopback})
	env.decode(env.do(storage.RoleAdmin, http.MethodPost, "/v1/webhooks", "application/json",
		[]byte(`{"url":"http://127.0.0.1:9/hook"}`)), http.StatusCreated, nil)
}

// Creating and disabling a webhook are audit events, each in the
// transaction of its change: who did it and to which URL, never the secret.
func TestWebhookChangesAreAudited(t *testing.T) {
	env := newEnv(t, false)
	env.srv.deps.Webhooks, env.srv.deps.WebhookStore = webhook.New(env.db, webhook.Options{}), env.db
	const url = "https://receiver.example/hooks/idsledger?token=t0ken"
	sum := sha256.Sum256([]byte(url))
	urlHash := hex.EncodeToString(sum[:])
	w := env.do(storage.RoleAdmin, http.MethodPost, "/v1/webhooks", "application/json", []byte(`{"url":"`+url+`","min_severity":"high"}`))
	var created createWebhookResponse
	env.decode(w, http.StatusCreated, &created)
	event := func(w *httptest.ResponseRecorder) map[string]any {
		t.Helper()
		id := w.Header().Get("X-Audit-Event")
		var body []byte
		if err := env.db.Pool.QueryRow(context.Background(), `SELECT body FROM records WHERE id = $1 AND kind = 'audit_event'`, id).Scan(&body); err != nil {
			t.Fatalf("the audit event %q: %v", id, err)
		}
		if strings.Contains(string(body), created.Secret) || strings.Contains(string(body), "t0ken") || strings.Contains(string(body), "/hooks/") {
			t.Fatalf("the audit event holds the secret or the URL's token-bearing parts: %s", body)
		}
		var ev map[string]any
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	ev := event(w)
	hook, _ := ev["webhook"].(map[string]any)
	if ev["action"] != "webhook.create" || !strings.Contains(ev["actor"].(string), "test-admin") || hook == nil ||
		hook["id"] != created.Webhook.ID.String() || hook["origin"] != "https://receiver.example" || hook["url_sha256"] != urlHash || hook["min_severity"] != "high" {
		t.Fatalf("create event %v", ev)
	}

	w = env.do(storage.RoleAdmin, http.MethodDelete, "/v1/webhooks/"+created.Webhook.ID.String(), "", nil)
	if w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	ev = event(w)
	hook, _ = ev["webhook"].(map[string]any)
	if ev["action"] != "webhook.delete" || !strings.Contains(ev["actor"].(string), "test-admin") || hook == nil ||
		hook["id"] != created.Webhook.ID.String() || hook["origin"] != "https://receiver.example" || hook["url_sha256"] != urlHash {
		t.Fatalf("delete event %v", ev)
	}
	// A delete that finds nothing records nothing.
	var before, after int
	_ = env.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM records`).Scan(&before)
	if w := env.do(storage.RoleAdmin, http.MethodDelete, "/v1/webhooks/"+created.Webhook.ID.String(), "", nil); w.Code != http.StatusNotFound {
		t.Fatalf("second delete: %d", w.Code)
	}
	_ = env.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM records`).Scan(&after)
	if after != before {
		t.Fatalf("%d records after a delete of nothing, %d before", after, before)
	}
}

func countSeverity(t *testing.T, env *testEnv, s ingest.Severity) int {
	var n int
	if err := env.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM alerts WHERE severity = $1`, string(s)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

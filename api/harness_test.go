//go:build integration

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// defaultModelPath is the model the repository ships (make model).
const defaultModelPath = "../detector/models/default.idslm"

var (
	defaultModelOnce sync.Once
	defaultModel     *detector.Detector
	defaultModelErr  error
)

func loadDefaultModel(t testing.TB) *detector.Detector {
	t.Helper()
	defaultModelOnce.Do(func() { defaultModel, defaultModelErr = detector.LoadDetector(defaultModelPath) })
	if defaultModelErr != nil {
		t.Fatalf("load the default model: %v", defaultModelErr)
	}
	return defaultModel
}

// fakeVerifier answers from a table instead of a chain: records in
// anchored verify when their body still hashes to the recorded leaf.
type fakeVerifier struct {
	db       *storage.DB
	mu       sync.Mutex
	anchored map[uuid.UUID]anchor.Hash // record id -> leaf at anchoring
}

func (f *fakeVerifier) Verify(ctx context.Context, id anchor.RecordID) (*anchor.Proof, error) {
	var body []byte
	err := f.db.Pool.QueryRow(ctx, `SELECT body FROM records WHERE id = $1`, id).Scan(&body)
	if err != nil {
		return nil, anchor.ErrNotFound
	}
	p := &anchor.Proof{RecordID: uuid.UUID(id).String(), Kind: "alert", Leaf: anchor.HexHash(anchor.LeafHash(body)), AuditPath: []anchor.HexHash{}}
	f.mu.Lock()
	leaf, ok := f.anchored[uuid.UUID(id)]
	f.mu.Unlock()
	switch {
	case !ok:
		p.Status = anchor.StatusPending
	case leaf == anchor.Hash(p.Leaf):
		p.Status, p.Mode, p.LeafCount = anchor.StatusVerified, anchor.ModeRecord, 1
	default:
		p.Status, p.Mode, p.LeafCount = anchor.StatusTampered, anchor.ModeRecord, 1
	}
	return p, nil
}

func (f *fakeVerifier) VerifyOffline(ctx context.Context, body []byte, p anchor.Proof) (*anchor.Proof, error) {
	canon, err := anchor.Canonicalize(body)
	if err != nil {
		return nil, err
	}
	id, err := uuid.Parse(p.RecordID)
	if err != nil {
		return nil, err
	}
	out := p
	f.mu.Lock()
	leaf, ok := f.anchored[id]
	f.mu.Unlock()
	switch {
	case !ok:
		out.Status = anchor.StatusNotAnchored
	case leaf == anchor.LeafHash(canon):
		out.Status = anchor.StatusVerified
	default:
		out.Status = anchor.StatusTampered
	}
	return &out, nil
}

func (f *fakeVerifier) Audit(ctx context.Context, batchID uint64) (*anchor.AuditReport, error) {
	return nil, anchor.ErrNotFound
}

func (f *fakeVerifier) Batch(ctx context.Context, id uint64) (anchor.Batch, error) {
	return anchor.Batch{}, anchor.ErrNotFound
}

func (f *fakeVerifier) Batches(ctx context.Context, _ anchor.BatchFilter) ([]anchor.Batch, error) {
	return nil, nil
}

// anchorAll marks every record anchored at its current body.
func (f *fakeVerifier) anchorAll(t testing.TB) {
	rows, err := f.db.Pool.Query(context.Background(), `SELECT id, leaf_hash FROM records`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	for rows.Next() {
		var id uuid.UUID
		var leaf []byte
		if err := rows.Scan(&id, &leaf); err != nil {
			t.Fatal(err)
		}
		f.anchored[id] = anchor.Hash(leaf)
	}
}

// testEnv is a server over a fresh database with the default model and a
// key of every role.
type testEnv struct {
	t      testing.TB
	db     *storage.DB
	srv    *Server
	models *ingest.Models
	ver    *fakeVerifier
	keys   map[storage.Role]string
	// chain is the simulated chain of a chainEnv (nil otherwise).
	chain *chain.Chain
}

func newEnv(t testing.TB, withModel bool) *testEnv {
	t.Helper()
	db := pgtest.DB(t)
	models := ingest.NewModels()
	models.Record = db.RecordActivation
	if withModel {
		if _, err := models.Activate(loadDefaultModel(t), "test"); err != nil {
			t.Fatal(err)
		}
	}
	ver := &fakeVerifier{db: db, anchored: map[uuid.UUID]anchor.Hash{}}
	health := NewHealth(db.Ping, nil)
	health.SetDatabaseReady()
	metrics := NewMetrics(db)
	in := &ingest.Ingester{Models: models, Store: db, Hooks: IngestHooks(metrics, nil, nil)}
	srv := New(Config{Logger: slog.New(slog.NewTextHandler(testLogOut, nil)), MaxBodyBytes: 4 << 20},
		Deps{Keys: db, Health: health, Alerts: db, Ingester: in, Verifier: ver, Metrics: metrics})
	env := &testEnv{t: t, db: db, srv: srv, models: models, ver: ver, keys: map[storage.Role]string{}}
	for _, r := range storage.Roles {
		k, _, err := db.CreateAPIKey(context.Background(), storage.KeySpec{Name: "test-" + string(r), Role: r}, "test")
		if err != nil {
			t.Fatal(err)
		}
		env.keys[r] = k
	}
	return env
}

// do sends a request as role ("" for none) and returns the recorded answer.
func (e *testEnv) do(role storage.Role, method, path, contentType string, body []byte) *httptest.ResponseRecorder {
	e.t.Helper()
	key := ""
	if role != "" {
		key = e.keys[role]
	}
	return e.doAs(key, method, path, contentType, body)
}

// doAs sends a request with an API key ("" for none).
func (e *testEnv) doAs(key, method, path, contentType string, body []byte) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	return w
}

// decode reads a JSON answer with the expected status into v.
func (e *testEnv) decode(w *httptest.ResponseRecorder, status int, v any) {
	e.t.Helper()
	if w.Code != status {
		e.t.Fatalf("status %d, want %d: %s", w.Code, status, ingest.Clip(w.Body.String(), 2000))
	}
	if v == nil {
		return
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		e.t.Fatalf("decode %s: %v", ingest.Clip(w.Body.String(), 500), err)
	}
}

func isProblem(w *httptest.ResponseRecorder) bool {
	return strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json")
}

// testLogOut receives the server's logs; set IDSLEDGER_TEST_LOG=1 to see them.
var testLogOut io.Writer = func() io.Writer {
	if os.Getenv("IDSLEDGER_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}()

func quantileMillis(d []time.Duration, q float64) float64 {
	return float64(detector.Quantile(d, q).Microseconds()) / 1000
}

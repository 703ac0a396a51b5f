package api

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
)

// countingKeys is a key store that knows one key and counts lookups.
type countingKeys struct {
	KeyStore
	lookups int
}

func (k *countingKeys) AuthenticateAPIKey(_ context.Context, key string) (storage.APIKey, error) {
	k.lookups++
	if key == "good" {
		return storage.APIKey{ID: uuid.MustParse("00000000-0000-7000-8000-000000000001"), Role: storage.RoleAnalyst}, nil
	}
	return storage.APIKey{}, storage.ErrBadKey
}

func limitedServer(keys KeyStore, cfg Config) *Server {
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return New(cfg, Deps{Keys: keys})
}

func get(s *Server, key string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/v1/whoami", nil)
	r.RemoteAddr = "192.0.2.7:4000"
	r.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	return w
}

// A key over its rate gets 429 with Retry-After; another key does not.
func TestRatePerKey(t *testing.T) {
	s := limitedServer(&countingKeys{}, Config{RatePerKey: 5}) // burst 10
	codes := map[int]int{}
	for range 30 {
		codes[get(s, "good").Code]++
	}
	if codes[http.StatusOK] < 10 || codes[http.StatusOK] > 12 || codes[http.StatusTooManyRequests] == 0 {
		t.Fatalf("30 quick requests at 5/s (burst 10): %v", codes)
	}
	if w := get(s, "good"); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("over the rate: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}

// Guessing keys from one address is slowed to the bad-key rate, and once
// over it the database is not asked at all.
func TestBadKeysAreRateLimitedPerAddress(t *testing.T) {
	keys := &countingKeys{}
	s := limitedServer(keys, Config{BadKeyRate: 2}) // burst 4
	codes := map[int]int{}
	for range 100 {
		codes[get(s, "guess").Code]++
	}
	if codes[http.StatusUnauthorized] > 5 || codes[http.StatusTooManyRequests] < 95 {
		t.Fatalf("100 guesses: %v", codes)
	}
	if keys.lookups > 5 {
		t.Fatalf("%d key lookups for 100 guesses, want the burst only", keys.lookups)
	}
	// The address is served again once its bucket refills.
	s.badKey.now = func() time.Time { return time.Now().Add(time.Minute) }
	if w := get(s, "good"); w.Code != http.StatusOK {
		t.Fatalf("a valid key after the wait: %d", w.Code)
	}
}

// blockingStore holds every insert until released.
type blockingStore struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blockingStore) InsertAlerts(_ context.Context, alerts []ingest.AlertBody) ([]uuid.UUID, error) {
	b.entered <- struct{}{}
	<-b.release
	ids := make([]uuid.UUID, len(alerts))
	for i := range ids {
		ids[i] = uuid.New()
	}
	return ids, nil
}

// Ingest requests over MaxIngest are refused at once with 503 and
// Retry-After instead of queueing with their bodies in memory.
func TestIngestAdmission(t *testing.T) {
	d, err := detector.DefaultDetector()
	if err != nil {
		t.Fatal(err)
	}
	models := ingest.NewModels()
	if _, err := models.Activate(d, "t"); err != nil {
		t.Fatal(err)
	}
	store := &blockingStore{entered: make(chan struct{}, 1), release: make(chan struct{})}
	keys := &roleKeys{role: storage.RoleIngest}
	s := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxIngest: 1},
		Deps{Keys: keys, Ingester: &ingest.Ingester{Models: models, Store: store}})
	body, err := os.ReadFile("../detector/testdata/nf-bot-iot-v2-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	post := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/v1/flows", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer k")
		r.Header.Set("Content-Type", "text/csv")
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		return w
	}
	first := make(chan int)
	go func() { first <- post().Code }()
	<-store.entered // the first request holds the only slot
	if w := post(); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("second request while the first works: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	close(store.release)
	if code := <-first; code != http.StatusOK {
		t.Fatalf("first request: %d", code)
	}
	go func() { <-store.entered }()
	if w := post(); w.Code != http.StatusOK {
		t.Fatalf("after the first finished: %d", w.Code)
	}
}

// roleKeys takes any key for a key of one role.
type roleKeys struct {
	KeyStore
	role storage.Role
}

func (k *roleKeys) AuthenticateAPIKey(context.Context, string) (storage.APIKey, error) {
	return storage.APIKey{ID: uuid.New(), Role: k.role, Name: "sensor"}, nil
}

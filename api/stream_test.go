//go:build integration

package api

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/internal/testenv"
	"github.com/idsledger/idsledger/storage"
)

type sseEvent struct{ id, event, data string }

// openStream connects to an SSE stream; when it returns, the server has
// answered, so the stream's starting point is fixed.
func openStream(ctx context.Context, url, key, lastID string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		resp.Body.Close()
		return nil, fmt.Errorf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp, nil
}

// collect reads events from a stream until it has n of them or the
// stream ends (its context's deadline), and closes it.
func collect(resp *http.Response, n int) []sseEvent {
	defer resp.Body.Close()
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for len(out) < n && sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.event != "" {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data = line[6:]
		}
	}
	return out
}

// readEvents opens a stream and collects up to n events, within ctx.
func readEvents(t *testing.T, ctx context.Context, url, key, lastID string, n int) []sseEvent {
	t.Helper()
	resp, err := openStream(ctx, url, key, lastID)
	if err != nil {
		t.Fatal(err)
	}
	return collect(resp, n)
}

// The stream delivers alerts as they are raised, and resumes after the
// last event id a client saw.
func TestAlertStreamLiveAndResume(t *testing.T) {
	env := newEnv(t, true)
	env.srv.cfg.StreamPoll = 50 * time.Millisecond
	hs := httptest.NewServer(env.srv.Handler())
	defer hs.Close()
	key := env.keys[storage.RoleAnalyst]

	// The live stream gets every alert raised after it started, within
	// the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := openStream(ctx, hs.URL+"/v1/alerts/stream?sensor=plant-1", key, "")
	if err != nil {
		t.Fatal(err)
	}
	ids := ingestFixture(t, env)
	if got := collect(resp, len(ids)); len(got) != len(ids) {
		t.Fatalf("live stream gave %d events within the deadline, %d alerts were raised", len(got), len(ids))
	}

	// A stream from the first alert's cursor gives every later one.
	ctx1, cancel1 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel1()
	events := readEvents(t, ctx1, hs.URL+"/v1/alerts/stream?sensor=plant-1&cursor="+encodeFirstCursor(t, env), key, "", len(ids)-1)
	if len(events) != len(ids)-1 {
		t.Fatalf("resumed stream gave %d events, want %d", len(events), len(ids)-1)
	}
	for i, e := range events {
		if e.event != "alert" || e.id == "" || !strings.Contains(e.data, ids[i+1].String()) {
			t.Fatalf("event %d: %+v, want alert %s", i, e, ids[i+1])
		}
	}

	// Resume with Last-Event-ID from the 10th event: the next is the 11th.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	rest := readEvents(t, ctx2, hs.URL+"/v1/alerts/stream", key, events[9].id, 1)
	if len(rest) != 1 || !strings.Contains(rest[0].data, ids[11].String()) {
		t.Fatalf("resume after event 10 gave %+v, want alert %s", rest, ids[11])
	}
}

// encodeFirstCursor is the cursor of the oldest alert.
func encodeFirstCursor(t *testing.T, env *testEnv) string {
	items, _, err := env.db.ListAlerts(context.Background(), storage.AlertFilter{Ascending: true, Limit: 1})
	if err != nil || len(items) == 0 {
		t.Fatalf("first alert: %v", err)
	}
	return *encodeCursor(&storage.AlertCursor{ObservedAt: items[0].ObservedAt, ID: items[0].ID})
}

// insertAlertSQL inserts a bare alert row in tx (the stream reads alerts
// only), observed at at.
func insertAlertSQL(t *testing.T, tx pgx.Tx, id uuid.UUID, at time.Time) {
	t.Helper()
	if _, err := tx.Exec(context.Background(), `INSERT INTO alerts (id, observed_at, sensor, class, score, severity, model_id, model_version)
		VALUES ($1, $2, 'late', 'DDoS', 0.9, 'high', 'm', 'v')`, id, at); err != nil {
		t.Fatal(err)
	}
}

// An alert whose transaction commits after a later alert's is streamed,
// not skipped: the stream follows commit order, not the clock. On the
// old stream (ordered by observed_at, settling for 2 s) the late alert,
// observed before the one already streamed, was never sent.
func TestAlertStreamDoesNotSkipALateCommit(t *testing.T) {
	env := newEnv(t, true)
	env.srv.cfg.StreamPoll = 20 * time.Millisecond
	hs := httptest.NewServer(env.srv.Handler())
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := openStream(ctx, hs.URL+"/v1/alerts/stream?sensor=late", env.keys[storage.RoleAnalyst], "")
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan sseEvent, 4)
	go func() {
		for _, e := range collect(resp, 2) {
			events <- e
		}
		close(events)
	}()

	slow, err := env.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback(ctx)
	early, later := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	insertAlertSQL(t, slow, early, time.Now().Add(-time.Minute))
	fast, err := env.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	insertAlertSQL(t, fast, later, time.Now())
	if err := fast.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// The stream polls many times while the slow transaction is open: it
	// must hold back, not pass the early alert.
	time.Sleep(300 * time.Millisecond)
	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for e := range events {
		got = append(got, e.data)
	}
	if len(got) != 2 || !strings.Contains(got[0], early.String()) || !strings.Contains(got[1], later.String()) {
		t.Fatalf("stream gave %d events %v, want the late-committed alert %s then %s", len(got), got, early, later)
	}
}

// A stream ends when its key is revoked, with an error event saying so.
func TestAlertStreamEndsWhenItsKeyIsRevoked(t *testing.T) {
	env := newEnv(t, true)
	env.srv.cfg.StreamPoll, env.srv.cfg.StreamKeyCheck = 20*time.Millisecond, 50*time.Millisecond
	hs := httptest.NewServer(env.srv.Handler())
	defer hs.Close()
	clear, k, err := env.db.CreateAPIKey(context.Background(), storage.KeySpec{Name: "soon revoked", Role: storage.RoleAnalyst}, "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := openStream(ctx, hs.URL+"/v1/alerts/stream", clear, "")
	if err != nil {
		t.Fatal(err)
	}
	env.decode(env.do(storage.RoleAdmin, http.MethodDelete, "/v1/apikeys/"+k.ID.String(), "", nil), http.StatusOK, nil)
	got := collect(resp, 1)
	if ctx.Err() != nil || len(got) != 1 || got[0].event != "error" || !strings.Contains(got[0].data, "revoked") {
		t.Fatalf("after revocation the stream gave %+v (deadline passed: %v)", got, ctx.Err() != nil)
	}
}

// Streams are bounded per key (429) and overall (503), and a closed
// stream gives its slot back.
func TestAlertStreamLimits(t *testing.T) {
	env := newEnv(t, true)
	env.srv.streams = newStreamSlots(2, 1)
	hs := httptest.NewServer(env.srv.Handler())
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	get := func(key string) *http.Response {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, hs.URL+"/v1/alerts/stream", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	analyst, admin := env.keys[storage.RoleAnalyst], env.keys[storage.RoleAdmin]
	first := get(analyst)
	if first.StatusCode != http.StatusOK {
		t.Fatalf("first stream: %d", first.StatusCode)
	}
	if r := get(analyst); r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("second stream of one key: %d, want 429 with Retry-After", r.StatusCode)
	}
	second := get(admin)
	if second.StatusCode != http.StatusOK {
		t.Fatalf("another key's stream: %d", second.StatusCode)
	}
	third, _, err := env.db.CreateAPIKey(ctx, storage.KeySpec{Name: "third", Role: storage.RoleAnalyst}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if r := get(third); r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a stream over the overall bound: %d, want 503", r.StatusCode)
	}
	first.Body.Close()
	testenv.Eventually(t, 5*time.Second, "a closed stream's slot is given back", func() bool {
		r := get(third)
		defer r.Body.Close()
		return r.StatusCode == http.StatusOK
	})
	second.Body.Close()
}

// smallBufferListener accepts connections with a tiny send buffer, so
// that a client that stops reading blocks the server's writes soon.
type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// A client that stops reading is dropped once a write blocks for the
// write timeout: its slot is given back while alerts keep coming.
func TestAlertStreamDropsAClientThatStopsReading(t *testing.T) {
	env := newEnv(t, true)
	env.srv.cfg.StreamPoll, env.srv.cfg.StreamWriteTimeout = 20*time.Millisecond, 300*time.Millisecond
	hs := httptest.NewUnstartedServer(env.srv.Handler())
	hs.Listener = smallBufferListener{hs.Listener}
	hs.Start()
	defer hs.Close()

	conn, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET /v1/alerts/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", env.keys[storage.RoleAnalyst])
	testenv.Eventually(t, 5*time.Second, "the stream is open", func() bool { return env.srv.streams.open() == 1 })
	// Never read; raise alerts until the server gives up on the client.
	deadline := time.Now().Add(60 * time.Second)
	for env.srv.streams.open() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream of a client that reads nothing is still open after a minute of alerts")
		}
		ingestFixture(t, env)
	}
}

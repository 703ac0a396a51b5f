//go:build integration

package api

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
	env.srv.cfg.StreamSettle = 100 * time.Millisecond
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

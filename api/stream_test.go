package api

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idsledger/idsledger/storage"
)

type sseEvent struct{ id, event, data string }

// readEvents reads up to n events (or until ctx ends) from an SSE stream.
func readEvents(t *testing.T, ctx context.Context, url, key, lastID string, n int) []sseEvent {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
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

// The stream delivers alerts as they are raised, and resumes after the
// last event id a client saw.
func TestAlertStreamLiveAndResume(t *testing.T) {
	env := newEnv(t, true)
	env.srv.cfg.StreamPoll = 50 * time.Millisecond
	env.srv.cfg.StreamSettle = 100 * time.Millisecond
	hs := httptest.NewServer(env.srv.Handler())
	defer hs.Close()
	key := env.keys[storage.RoleAnalyst]

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	live := make(chan []sseEvent, 1)
	go func() { live <- readEvents(t, ctx, hs.URL+"/v1/alerts/stream?sensor=plant-1", key, "", 200) }()
	time.Sleep(300 * time.Millisecond) // the stream starts "now"
	ids := ingestFixture(t, env)
	// The live stream gets every alert; it ends at the deadline if not.
	go func() { time.Sleep(2 * time.Second); cancel() }()
	if got := <-live; len(got) != len(ids) {
		t.Fatalf("live stream gave %d events, %d alerts were raised", len(got), len(ids))
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

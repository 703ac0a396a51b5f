package api

import (
	"bufio"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/idsledger/idsledger/storage"
)

// streamAlerts is GET /v1/alerts/stream: Server-Sent Events, one `alert`
// event per alert matching the listing filters, in the order the alerts
// were committed. Each event's id is a cursor; a client resumes after it
// with ?cursor= or the standard Last-Event-ID header (a cursor from the
// listing works too). Without either the stream starts with alerts
// committed from now on.
//
// The stream polls the database every Config.StreamPoll. It follows
// alerts by the transaction that inserted them and passes a transaction
// only once every older one has ended, so an alert whose transaction
// commits late is streamed late, never skipped (storage.StreamAlerts). A
// comment line is sent every 15 s to keep proxies from closing an idle
// stream.
//
// A stream ends with an `error` event when the database fails, and when
// its API key is revoked (checked every Config.StreamKeyCheck). A write
// that blocks longer than Config.StreamWriteTimeout (a client that stopped
// reading) ends it too. Streams are bounded overall and per key
// (Config.MaxStreams, MaxStreamsPerKey).
func (s *Server) streamAlerts(c *gin.Context) {
	store, ok := s.alertStore(c)
	if !ok {
		return
	}
	q := c.Request.URL.Query()
	if last := c.GetHeader("Last-Event-ID"); last != "" && q.Get("cursor") == "" {
		q.Set("cursor", last)
	}
	f, bad := parseAlertFilter(q)
	if q.Get("limit") != "" {
		bad = append(bad, ItemError{Pointer: "?limit", Detail: "streams are not paged"})
	}
	if len(bad) > 0 {
		abort(c, probBadRequest, "the stream filters are invalid", bad...)
		return
	}
	ctx := c.Request.Context()
	pos, err := store.StreamFrom(ctx, f.After)
	if errors.Is(err, storage.ErrNotFound) {
		abort(c, probBadRequest, "the cursor names no alert this service holds", ItemError{Pointer: "?cursor", Detail: "unknown alert"})
		return
	}
	if err != nil {
		abortErr(c, err)
		return
	}
	key := callerKey(c)
	if !s.streams.admit(c, key.ID) {
		return
	}
	defer s.streams.release(key.ID)
	token, _ := bearer(c.GetHeader("Authorization"))

	rc := http.NewResponseController(c.Writer)
	c.Header("Content-Type", "text/event-stream")
	c.Header("Cache-Control", "no-store")
	c.Header("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	w := bufio.NewWriter(c.Writer)
	// Every write, the buffer's own included, must finish within the
	// write timeout of the last arm: a client that stops reading is gone.
	arm := func() { _ = rc.SetWriteDeadline(time.Now().Add(s.cfg.StreamWriteTimeout)) }
	flush := func() bool { return w.Flush() == nil && rc.Flush() == nil }
	// end tells the client why the stream ends.
	end := func(detail string) {
		arm()
		w.WriteString("event: error\ndata: ")
		_ = jsonEncode(w, gin.H{"detail": detail})
		w.WriteString("\n")
		flush()
	}
	arm()
	w.WriteString("retry: " + strconv.FormatInt(s.cfg.StreamPoll.Milliseconds()*2, 10) + "\n\n")
	if !flush() {
		return
	}

	tick := time.NewTicker(s.cfg.StreamPoll)
	defer tick.Stop()
	lastWrite, lastKeyCheck := time.Now(), time.Now()
	for {
		if time.Since(lastKeyCheck) >= s.cfg.StreamKeyCheck {
			lastKeyCheck = time.Now()
			if _, err := s.deps.Keys.AuthenticateAPIKey(ctx, token); errors.Is(err, storage.ErrBadKey) {
				end("the API key was revoked")
				return
			}
		}
		items, next, err := store.StreamAlerts(ctx, f, pos, 500)
		if err != nil {
			if ctx.Err() == nil {
				end("the database is unavailable; reconnect to resume")
			}
			return
		}
		arm()
		for _, a := range items {
			w.WriteString("id: " + *encodeCursor(&storage.AlertCursor{ObservedAt: a.ObservedAt, ID: a.ID}) + "\nevent: alert\ndata: ")
			if err := jsonEncode(w, a); err != nil { // jsonEncode ends with a newline
				return
			}
			w.WriteString("\n")
		}
		pos = next
		if len(items) > 0 || time.Since(lastWrite) > 15*time.Second {
			if len(items) == 0 {
				w.WriteString(": keep-alive\n\n")
			}
			if !flush() {
				return
			}
			lastWrite = time.Now()
		}
		if len(items) == 500 {
			continue // a full page: read on without waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

package api

import (
	"bufio"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/storage"
)

// streamAlerts is GET /v1/alerts/stream: Server-Sent Events, one `alert`
// event per alert matching the listing filters, oldest first. Each event's
// id is a cursor; a client resumes after it with ?cursor= or the standard
// Last-Event-ID header. Without either the stream starts with alerts
// raised from now on.
//
// The stream polls the database every Config.StreamPoll and only emits
// alerts older than Config.StreamSettle, so that an ingest transaction
// still committing with an earlier observed_at is not skipped; that is the
// delay between an alert being raised and being streamed. A comment line
// is sent every 15 s to keep proxies from closing an idle stream.
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
	poll, settle := s.cfg.StreamPoll, s.cfg.StreamSettle
	if poll <= 0 {
		poll = time.Second
	}
	if settle <= 0 {
		settle = 2 * time.Second
	}
	if f.After == nil {
		f.After = &storage.AlertCursor{ObservedAt: time.Now().Add(-settle).UTC(), ID: uuid.Nil}
	}
	f.Ascending = true
	f.Limit = 500
	userTo := f.To

	rc := http.NewResponseController(c.Writer)
	_ = rc.SetWriteDeadline(time.Time{})
	c.Header("Content-Type", "text/event-stream")
	c.Header("Cache-Control", "no-store")
	c.Header("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	w := bufio.NewWriter(c.Writer)
	fmt.Fprintf(w, "retry: %d\n\n", poll.Milliseconds()*2)
	if w.Flush() != nil || rc.Flush() != nil {
		return
	}

	ctx := c.Request.Context()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	lastWrite := time.Now()
	for {
		f.To = time.Now().Add(-settle).UTC()
		if !userTo.IsZero() && userTo.Before(f.To) {
			f.To = userTo
		}
		items, next, err := store.ListAlerts(ctx, f)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// Tell the client and let it reconnect from its last id.
			fmt.Fprintf(w, "event: error\ndata: {\"detail\":\"the database is unavailable; reconnect to resume\"}\n\n")
			_ = w.Flush()
			_ = rc.Flush()
			return
		}
		for _, a := range items {
			cur := encodeCursor(&storage.AlertCursor{ObservedAt: a.ObservedAt, ID: a.ID})
			fmt.Fprintf(w, "id: %s\nevent: alert\ndata: ", *cur)
			if err := jsonEncode(w, a); err != nil { // jsonEncode ends with a newline
				return
			}
			w.WriteString("\n")
			f.After = &storage.AlertCursor{ObservedAt: a.ObservedAt, ID: a.ID}
		}
		if len(items) > 0 || time.Since(lastWrite) > 15*time.Second {
			if len(items) == 0 {
				w.WriteString(": keep-alive\n\n")
			}
			if w.Flush() != nil || rc.Flush() != nil {
				return
			}
			lastWrite = time.Now()
		}
		if next != nil {
			continue // a full page: read on without waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

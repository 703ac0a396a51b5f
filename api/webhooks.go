package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/webhook"
)

// WebhookStore is what the webhook endpoints need from storage;
// *storage.DB implements it.
type WebhookStore interface {
	// CreateWebhook and DisableWebhook record the change as an audit
	// event naming actor, and return the event's record id.
	CreateWebhook(ctx context.Context, url string, minSeverity ingest.Severity, actor string) (storage.Webhook, uuid.UUID, error)
	ListWebhooks(ctx context.Context) ([]storage.Webhook, error)
	DisableWebhook(ctx context.Context, id uuid.UUID, actor string) (uuid.UUID, error)
	ListDeadLetters(ctx context.Context, after int64, limit int) ([]storage.DeadLetter, error)
	DeadLetter(ctx context.Context, id int64) (storage.DeadLetter, error)
}

// Handlers: /v1/webhooks (admin).

type createWebhookRequest struct {
	URL         string `json:"url"`
	MinSeverity string `json:"min_severity"`
}

type createWebhookResponse struct {
	Webhook storage.Webhook `json:"webhook"`
	// Secret signs deliveries; it is shown only in this response.
	Secret string `json:"secret"`
}

// webhookStore returns the webhook store, or answers 503 when webhooks are
// not enabled on this server.
func (s *Server) webhookStore(c *gin.Context) (WebhookStore, bool) {
	if s.deps.Webhooks == nil || s.deps.WebhookStore == nil {
		abort(c, probUnavailable, "webhooks are not enabled on this server")
		return nil, false
	}
	return s.deps.WebhookStore, true
}

func (s *Server) createWebhook(c *gin.Context) {
	store, ok := s.webhookStore(c)
	if !ok {
		return
	}
	var req createWebhookRequest
	if !decodeJSON(c, &req) {
		return
	}
	var bad []ItemError
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(req.URL) > 2000 || u.User != nil {
		bad = append(bad, ItemError{Pointer: "/url", Detail: "an http or https URL without credentials, at most 2000 characters"})
	}
	if req.MinSeverity == "" {
		req.MinSeverity = string(ingest.SeverityLow)
	}
	sev, err := ingest.ParseSeverity(req.MinSeverity)
	if err != nil {
		bad = append(bad, ItemError{Pointer: "/min_severity", Detail: err.Error()})
	}
	if len(bad) == 0 {
		// The check that counts is made on every connection; this one
		// shows a mistake now rather than as dead letters later.
		if err := s.deps.Webhooks.CheckURL(c.Request.Context(), req.URL); err != nil {
			bad = append(bad, ItemError{Pointer: "/url", Detail: err.Error()})
		}
	}
	if len(bad) > 0 {
		abort(c, probValidation, "the webhook is invalid", bad...)
		return
	}
	h, ev, err := store.CreateWebhook(c.Request.Context(), req.URL, sev, actorOf(c))
	if err != nil {
		abortErr(c, err)
		return
	}
	s.deps.Webhooks.Refresh(c.Request.Context())
	c.Header("X-Audit-Event", ev.String())
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, createWebhookResponse{Webhook: h, Secret: h.Secret})
}

func (s *Server) listWebhooks(c *gin.Context) {
	store, ok := s.webhookStore(c)
	if !ok {
		return
	}
	hooks, err := store.ListWebhooks(c.Request.Context())
	if err != nil {
		abortErr(c, err)
		return
	}
	if hooks == nil {
		hooks = []storage.Webhook{}
	}
	c.JSON(http.StatusOK, gin.H{"items": hooks})
}

func (s *Server) deleteWebhook(c *gin.Context) {
	store, ok := s.webhookStore(c)
	if !ok {
		return
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		abort(c, probBadRequest, "webhook ids are UUIDs", ItemError{Pointer: "{id}", Detail: "malformed"})
		return
	}
	ev, err := store.DisableWebhook(c.Request.Context(), id, actorOf(c))
	if err != nil {
		abortErr(c, err)
		return
	}
	s.deps.Webhooks.Refresh(c.Request.Context())
	c.Header("X-Audit-Event", ev.String())
	c.Status(http.StatusNoContent)
}

func (s *Server) listDeadLetters(c *gin.Context) {
	store, ok := s.webhookStore(c)
	if !ok {
		return
	}
	var after int64
	if v := c.Query("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			abort(c, probBadRequest, "cursor: not a cursor this server issued", ItemError{Pointer: "?cursor", Detail: "invalid"})
			return
		}
		after = n
	}
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := parseSmallInt(v, 1, 1000)
		if err != nil {
			abort(c, probBadRequest, "limit: "+err.Error(), ItemError{Pointer: "?limit", Detail: "invalid"})
			return
		}
		limit = n
	}
	dls, err := store.ListDeadLetters(c.Request.Context(), after, limit+1)
	if err != nil {
		abortErr(c, err)
		return
	}
	var next *string
	if len(dls) > limit {
		dls = dls[:limit]
		n := strconv.FormatInt(dls[limit-1].ID, 10)
		next = &n
	}
	if dls == nil {
		dls = []storage.DeadLetter{}
	}
	c.JSON(http.StatusOK, page[storage.DeadLetter]{Items: dls, NextCursor: next})
}

// replayResult is the answer to a dead-letter replay.
type replayResult struct {
	Delivered bool   `json:"delivered"`
	Error     string `json:"error,omitempty"`
}

// replayDeadLetter makes one delivery attempt now; on success the dead
// letter is marked replayed and leaves the list.
func (s *Server) replayDeadLetter(c *gin.Context) {
	store, ok := s.webhookStore(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		abort(c, probBadRequest, "dead-letter ids are positive integers", ItemError{Pointer: "{id}", Detail: "malformed"})
		return
	}
	dl, err := store.DeadLetter(c.Request.Context(), id)
	if err != nil {
		abortErr(c, err)
		return
	}
	if dl.ReplayedAt != nil {
		c.JSON(http.StatusOK, replayResult{Delivered: true})
		return
	}
	err = s.deps.Webhooks.Replay(c.Request.Context(), dl)
	var failed *webhook.DeliveryError
	switch {
	case errors.Is(err, webhook.ErrHookGone):
		abort(c, probValidation, err.Error())
		return
	case errors.As(err, &failed):
		c.JSON(http.StatusOK, replayResult{Error: err.Error()})
		return
	case err != nil:
		abortErr(c, err)
		return
	}
	c.JSON(http.StatusOK, replayResult{Delivered: true})
}

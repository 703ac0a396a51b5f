package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
)

// WebhookStore is what webhooks need from storage; *storage.DB implements it.
type WebhookStore interface {
	CreateWebhook(ctx context.Context, url string, minSeverity ingest.Severity) (storage.Webhook, error)
	ListWebhooks(ctx context.Context) ([]storage.Webhook, error)
	DisableWebhook(ctx context.Context, id uuid.UUID) error
	AddDeadLetters(ctx context.Context, dls []storage.DeadLetter) error
	ListDeadLetters(ctx context.Context, after int64, limit int) ([]storage.DeadLetter, error)
	DeadLetter(ctx context.Context, id int64) (storage.DeadLetter, error)
	MarkReplayed(ctx context.Context, id int64) error
}

// WebhookOptions tune delivery. Zero values take the defaults in brackets.
type WebhookOptions struct {
	Workers     int           // concurrent deliveries [4]
	Queue       int           // deliveries waiting in memory [10000]
	MaxAttempts int           // attempts before a delivery is dead-lettered [6]
	Backoff     time.Duration // first retry delay, doubled each attempt, ±25% jitter [1s]
	Timeout     time.Duration // per attempt [10s]
	Client      *http.Client  // [a client with Timeout]
	Logger      *slog.Logger
	Metrics     *Metrics
}

// Webhooks delivers alerts to the configured URLs.
//
// Each delivery is a POST of a JSON document {"event":"alert","alert_id",
// "alert","proof_url"} with the headers
//
//	X-Idsledger-Event:     alert
//	X-Idsledger-Delivery:  a UUID, the same across retries
//	X-Idsledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// A receiver MUST recompute v1 over the exact body bytes and compare in
// constant time, and SHOULD refuse a t more than a few minutes old. A 2xx
// answer is success; anything else is retried with exponential backoff up
// to MaxAttempts, and then stored as a dead letter that an admin can list
// and replay.
//
// Deliveries wait in memory: those queued when the process stops are lost
// (the alerts themselves are stored; GET /v1/alerts/stream resumes from a
// cursor). A full queue dead-letters new deliveries at once.
type Webhooks struct {
	store WebhookStore
	opt   WebhookOptions
	queue chan delivery
	hooks atomic.Pointer[[]storage.Webhook]
	dead  chan storage.DeadLetter
	wg    sync.WaitGroup
}

type delivery struct {
	id      uuid.UUID
	hook    storage.Webhook
	alertID uuid.UUID
	payload []byte
}

// NewWebhooks returns a dispatcher; call Run to start delivering.
func NewWebhooks(store WebhookStore, opt WebhookOptions) *Webhooks {
	if opt.Workers <= 0 {
		opt.Workers = 4
	}
	if opt.Queue <= 0 {
		opt.Queue = 10000
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 6
	}
	if opt.Backoff <= 0 {
		opt.Backoff = time.Second
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.Client == nil {
		opt.Client = &http.Client{Timeout: opt.Timeout}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	w := &Webhooks{store: store, opt: opt, queue: make(chan delivery, opt.Queue), dead: make(chan storage.DeadLetter, 1024)}
	w.hooks.Store(&[]storage.Webhook{})
	return w
}

// Run loads the webhooks, delivers until ctx ends, and refreshes the list
// every 30 s (and at once after changes through the API). Deliveries in
// progress when ctx ends are dead-lettered if they cannot finish.
func (w *Webhooks) Run(ctx context.Context) {
	w.refresh(ctx)
	for range w.opt.Workers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case d := <-w.queue:
					w.deliver(ctx, d)
				}
			}
		}()
	}
	w.wg.Add(1)
	go func() { defer w.wg.Done(); w.storeDead(ctx) }()
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			w.wg.Wait()
			return
		case <-t.C:
			w.refresh(ctx)
		}
	}
}

func (w *Webhooks) refresh(ctx context.Context) {
	hooks, err := w.store.ListWebhooks(ctx)
	if err != nil {
		w.opt.Logger.Warn("webhooks: cannot load the webhook list", "error", err.Error())
		return
	}
	w.hooks.Store(&hooks)
}

// webhookPayload is the body of a delivery.
type webhookPayload struct {
	Event    string           `json:"event"`
	AlertID  uuid.UUID        `json:"alert_id"`
	Alert    ingest.AlertBody `json:"alert"`
	ProofURL string           `json:"proof_url"`
}

// Notify queues the alerts for every webhook whose minimum severity they
// reach. It never blocks.
func (w *Webhooks) Notify(ids []uuid.UUID, bodies []ingest.AlertBody) {
	hooks := *w.hooks.Load()
	if len(hooks) == 0 {
		return
	}
	for i, b := range bodies {
		var payload []byte
		for _, h := range hooks {
			if b.Severity.Rank() < h.MinSeverity.Rank() {
				continue
			}
			if payload == nil {
				var err error
				payload, err = json.Marshal(webhookPayload{Event: "alert", AlertID: ids[i], Alert: b, ProofURL: "/v1/alerts/" + ids[i].String() + "/proof"})
				if err != nil {
					continue
				}
			}
			d := delivery{id: uuid.New(), hook: h, alertID: ids[i], payload: payload}
			select {
			case w.queue <- d:
			default:
				w.toDead(d, 0, "the delivery queue is full")
			}
		}
	}
}

// deliver tries d until it succeeds, attempts run out, or ctx ends.
func (w *Webhooks) deliver(ctx context.Context, d delivery) {
	var lastErr error
	for attempt := 1; attempt <= w.opt.MaxAttempts; attempt++ {
		if lastErr = w.post(ctx, d); lastErr == nil {
			w.opt.Metrics.webhook("delivered")
			return
		}
		if attempt == w.opt.MaxAttempts {
			break
		}
		w.opt.Metrics.webhook("retried")
		delay := w.opt.Backoff << (attempt - 1)
		delay += time.Duration((rand.Float64() - 0.5) * 0.5 * float64(delay))
		select {
		case <-ctx.Done():
			w.toDead(d, attempt, "shutting down: "+lastErr.Error())
			return
		case <-time.After(delay):
		}
	}
	w.toDead(d, w.opt.MaxAttempts, lastErr.Error())
}

// post makes one attempt.
func (w *Webhooks) post(ctx context.Context, d delivery) error {
	ctx, cancel := context.WithTimeout(ctx, w.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.hook.URL, bytes.NewReader(d.payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "idsledger-webhook/1")
	req.Header.Set("X-Idsledger-Event", "alert")
	req.Header.Set("X-Idsledger-Delivery", d.id.String())
	req.Header.Set("X-Idsledger-Signature", SignWebhook(d.hook.Secret, time.Now(), d.payload))
	resp, err := w.opt.Client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// SignWebhook returns the X-Idsledger-Signature value for body sent at t.
func SignWebhook(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

func (w *Webhooks) toDead(d delivery, attempts int, reason string) {
	w.opt.Metrics.webhook("dead")
	dl := storage.DeadLetter{WebhookID: d.hook.ID, AlertID: d.alertID, Payload: d.payload, Attempts: attempts, LastError: ingest.Clip(reason, 500)}
	select {
	case w.dead <- dl:
	default:
		w.opt.Logger.Error("webhooks: dead-letter buffer full; delivery dropped", "webhook", d.hook.ID, "alert", d.alertID)
	}
}

// storeDead writes dead letters in batches.
func (w *Webhooks) storeDead(ctx context.Context) {
	var buf []storage.DeadLetter
	flush := func() {
		if len(buf) == 0 {
			return
		}
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := w.store.AddDeadLetters(c, buf); err != nil {
			w.opt.Logger.Error("webhooks: cannot store dead letters", "error", err.Error(), "count", len(buf))
			return // keep them for the next try
		}
		buf = buf[:0]
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case dl := <-w.dead:
			buf = append(buf, dl)
			if len(buf) >= 500 {
				flush()
			}
		case <-t.C:
			flush()
		case <-ctx.Done():
			for {
				select {
				case dl := <-w.dead:
					buf = append(buf, dl)
				default:
					flush()
					return
				}
			}
		}
	}
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

func (s *Server) webhooks(c *gin.Context) (*Webhooks, bool) {
	if s.deps.Webhooks == nil {
		abort(c, probUnavailable, "webhooks are not enabled on this server")
		return nil, false
	}
	return s.deps.Webhooks, true
}

func (s *Server) createWebhook(c *gin.Context) {
	wh, ok := s.webhooks(c)
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
	if len(bad) > 0 {
		abort(c, probValidation, "the webhook is invalid", bad...)
		return
	}
	h, err := wh.store.CreateWebhook(c.Request.Context(), req.URL, sev)
	if err != nil {
		abortErr(c, err)
		return
	}
	wh.refresh(c.Request.Context())
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, createWebhookResponse{Webhook: h, Secret: h.Secret})
}

func (s *Server) listWebhooks(c *gin.Context) {
	wh, ok := s.webhooks(c)
	if !ok {
		return
	}
	hooks, err := wh.store.ListWebhooks(c.Request.Context())
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
	wh, ok := s.webhooks(c)
	if !ok {
		return
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		abort(c, probNotFound, "webhook ids are UUIDs")
		return
	}
	if err := wh.store.DisableWebhook(c.Request.Context(), id); err != nil {
		abortErr(c, err)
		return
	}
	wh.refresh(c.Request.Context())
	c.Status(http.StatusNoContent)
}

func (s *Server) listDeadLetters(c *gin.Context) {
	wh, ok := s.webhooks(c)
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
	dls, err := wh.store.ListDeadLetters(c.Request.Context(), after, limit+1)
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
	wh, ok := s.webhooks(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		abort(c, probNotFound, "dead-letter ids are positive integers")
		return
	}
	dl, err := wh.store.DeadLetter(c.Request.Context(), id)
	if err != nil {
		abortErr(c, err)
		return
	}
	if dl.ReplayedAt != nil {
		c.JSON(http.StatusOK, replayResult{Delivered: true})
		return
	}
	var hook *storage.Webhook
	for _, h := range *wh.hooks.Load() {
		if h.ID == dl.WebhookID {
			hook = &h
			break
		}
	}
	if hook == nil {
		abort(c, probValidation, "the dead letter's webhook is disabled or gone")
		return
	}
	if err := wh.post(c.Request.Context(), delivery{id: uuid.New(), hook: *hook, alertID: dl.AlertID, payload: dl.Payload}); err != nil {
		c.JSON(http.StatusOK, replayResult{Error: err.Error()})
		return
	}
	if err := wh.store.MarkReplayed(c.Request.Context(), id); err != nil {
		abortErr(c, err)
		return
	}
	wh.opt.Metrics.webhook("replayed")
	c.JSON(http.StatusOK, replayResult{Delivered: true})
}

// Package webhook delivers alerts to the webhooks admins configure: an
// in-memory queue, retries with exponential backoff, signed deliveries and
// dead letters that an admin can list and replay. The HTTP handlers that
// manage webhooks are in package api; what delivery needs from storage is
// the Store interface.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
)

// Store is what delivery needs from storage; *storage.DB implements it.
type Store interface {
	// ListWebhooks returns the enabled webhooks, with their secrets.
	ListWebhooks(ctx context.Context) ([]storage.Webhook, error)
	// AddDeadLetters stores deliveries that failed for good.
	AddDeadLetters(ctx context.Context, dls []storage.DeadLetter) error
	// MarkReplayed records that a dead letter was delivered by a replay.
	MarkReplayed(ctx context.Context, id int64) error
}

// Options tune delivery. Zero values take the defaults in brackets.
type Options struct {
	Workers     int           // concurrent deliveries [4]
	Queue       int           // deliveries waiting in memory [10000]
	MaxAttempts int           // attempts before a delivery is dead-lettered [6]
	Backoff     time.Duration // first retry delay, doubled each attempt, ±25% jitter [1s]
	Timeout     time.Duration // per attempt [10s]
	// Allow names the networks deliveries may reach although they are
	// loopback, private, link-local or otherwise not public (see
	// AddressPolicy) [none].
	Allow  []netip.Prefix
	Logger *slog.Logger
	// OnOutcome, when set, is told each outcome: "delivered", "retried",
	// "dead" or "replayed" (serve counts them in its metrics).
	OnOutcome func(outcome string)
}

// Dispatcher delivers alerts to the configured webhooks.
//
// Each delivery is a POST of a JSON document {"event":"alert","alert_id",
// "alert","proof_url"} with the headers
//
//	X-Idsledger-Event:     alert
//	X-Idsledger-Delivery:  a UUID, the same across retries (a dead-letter
//	                       replay, later and by hand, sends a new one)
//	X-Idsledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// A receiver MUST recompute v1 over the exact body bytes and compare in
// constant time, and SHOULD refuse a t more than a few minutes old. A 2xx
// answer is success; anything else, a 3xx included (redirects are not
// followed), is retried with exponential backoff up to MaxAttempts, and
// then stored as a dead letter that an admin can list and replay.
//
// Deliveries wait in memory: those queued when the process stops are lost
// (the alerts themselves are stored; GET /v1/alerts/stream resumes from a
// cursor). A full queue dead-letters new deliveries at once.
type Dispatcher struct {
	store  Store
	opt    Options
	policy AddressPolicy
	client *http.Client
	queue  chan delivery
	hooks  atomic.Pointer[[]storage.Webhook]
	dead   chan storage.DeadLetter
	wg     sync.WaitGroup
}

type delivery struct {
	id      uuid.UUID
	hook    storage.Webhook
	alertID uuid.UUID
	payload []byte
}

// New returns a dispatcher; call Run to start delivering.
func New(store Store, opt Options) *Dispatcher {
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
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	policy := NewAddressPolicy(opt.Allow)
	w := &Dispatcher{store: store, opt: opt, policy: policy, client: newClient(opt.Timeout, policy),
		queue: make(chan delivery, opt.Queue), dead: make(chan storage.DeadLetter, 1024)}
	w.hooks.Store(&[]storage.Webhook{})
	return w
}

// Run loads the webhooks, delivers until ctx ends, and refreshes the list
// every 30 s (and at once after changes through the API). Deliveries in
// progress when ctx ends are dead-lettered if they cannot finish.
func (w *Dispatcher) Run(ctx context.Context) {
	w.Refresh(ctx)
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
			w.Refresh(ctx)
		}
	}
}

// Refresh reloads the list of webhooks now (after a change through the API).
func (w *Dispatcher) Refresh(ctx context.Context) {
	hooks, err := w.store.ListWebhooks(ctx)
	if err != nil {
		w.opt.Logger.Warn("webhooks: cannot load the webhook list", "error", err.Error())
		return
	}
	w.hooks.Store(&hooks)
}

// Payload is the body of a delivery.
type Payload struct {
	Event    string           `json:"event"`
	AlertID  uuid.UUID        `json:"alert_id"`
	Alert    ingest.AlertBody `json:"alert"`
	ProofURL string           `json:"proof_url"`
}

// Notify queues the alerts for every webhook whose minimum severity they
// reach. It never blocks.
func (w *Dispatcher) Notify(ids []uuid.UUID, bodies []ingest.AlertBody) {
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
				payload, err = json.Marshal(Payload{Event: "alert", AlertID: ids[i], Alert: b, ProofURL: "/v1/alerts/" + ids[i].String() + "/proof"})
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
func (w *Dispatcher) deliver(ctx context.Context, d delivery) {
	var lastErr error
	bo := &backoff.ExponentialBackOff{InitialInterval: w.opt.Backoff, RandomizationFactor: 0.25, Multiplier: 2,
		MaxInterval: w.opt.Backoff << min(w.opt.MaxAttempts, 20)}
	for attempt := 1; attempt <= w.opt.MaxAttempts; attempt++ {
		if lastErr = w.post(ctx, d); lastErr == nil {
			w.outcome("delivered")
			return
		}
		if errors.Is(lastErr, ErrForbiddenAddress) {
			// The address will not become allowed by waiting.
			w.toDead(d, attempt, lastErr.Error())
			return
		}
		if attempt == w.opt.MaxAttempts {
			break
		}
		w.outcome("retried")
		select {
		case <-ctx.Done():
			w.toDead(d, attempt, "shutting down: "+lastErr.Error())
			return
		case <-time.After(bo.NextBackOff()):
		}
	}
	w.toDead(d, w.opt.MaxAttempts, lastErr.Error())
}

// post makes one attempt.
func (w *Dispatcher) post(ctx context.Context, d delivery) error {
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
	req.Header.Set("X-Idsledger-Signature", Sign(d.hook.Secret, time.Now(), d.payload))
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		return fmt.Errorf("HTTP %d: redirects are not followed", resp.StatusCode)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// newClient returns the client deliveries go through: each connection is
// checked against policy once DNS has answered, redirects are not
// followed, and no proxy is used (a proxy would make the connection for us,
// past the check).
func newClient(timeout time.Duration, policy AddressPolicy) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: policy.control}
	return &http.Client{
		Timeout:       timeout,
		CheckRedirect: noRedirects,
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            dialer.DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           100,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    timeout,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		},
	}
}

// CheckURL refuses a webhook URL whose host is, or resolves only to,
// addresses deliveries may not reach (AddressPolicy.CheckURL): the API
// calls it when a webhook is created, so that a mistake shows at once
// rather than as dead letters.
func (w *Dispatcher) CheckURL(ctx context.Context, raw string) error {
	return w.policy.CheckURL(ctx, raw)
}

// noRedirects is the client's CheckRedirect: a redirect is never followed,
// since it could lead anywhere (an internal address included) with the
// signed alert. The 3xx answer is a failed delivery.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Sign returns the X-Idsledger-Signature value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

func (w *Dispatcher) toDead(d delivery, attempts int, reason string) {
	w.outcome("dead")
	dl := storage.DeadLetter{WebhookID: d.hook.ID, AlertID: d.alertID, Payload: d.payload, Attempts: attempts, LastError: ingest.Clip(reason, 500)}
	select {
	case w.dead <- dl:
	default:
		w.opt.Logger.Error("webhooks: dead-letter buffer full; delivery dropped", "webhook", d.hook.ID, "alert", d.alertID)
	}
}

// storeDead writes dead letters in batches.
func (w *Dispatcher) storeDead(ctx context.Context) {
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

// outcome tells Options.OnOutcome.
func (w *Dispatcher) outcome(o string) {
	if w.opt.OnOutcome != nil {
		w.opt.OnOutcome(o)
	}
}

// ErrHookGone: a dead letter's webhook is disabled or deleted, so it cannot
// be replayed.
var ErrHookGone = errors.New("the dead letter's webhook is disabled or gone")

// Replay makes one delivery attempt of a dead letter now and, when it
// succeeds, marks the dead letter replayed. It returns ErrHookGone when the
// webhook is no longer enabled, the delivery's error when the attempt
// failed (the dead letter stays), or a store error.
func (w *Dispatcher) Replay(ctx context.Context, dl storage.DeadLetter) error {
	var hook *storage.Webhook
	for _, h := range *w.hooks.Load() {
		if h.ID == dl.WebhookID {
			hook = &h
			break
		}
	}
	if hook == nil {
		return ErrHookGone
	}
	if err := w.post(ctx, delivery{id: uuid.New(), hook: *hook, alertID: dl.AlertID, payload: dl.Payload}); err != nil {
		return &DeliveryError{Err: err}
	}
	if err := w.store.MarkReplayed(ctx, dl.ID); err != nil {
		return err
	}
	w.outcome("replayed")
	return nil
}

// DeliveryError is a failed delivery attempt: the receiver was unreachable
// or did not answer 2xx.
type DeliveryError struct{ Err error }

func (e *DeliveryError) Error() string { return e.Err.Error() }
func (e *DeliveryError) Unwrap() error { return e.Err }

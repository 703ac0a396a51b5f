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

// Options tune delivery. Zero values take the defaults in brackets. Each
// webhook has its own queue and workers, so the bounds are per webhook.
type Options struct {
	Workers     int           // concurrent deliveries per webhook [2]
	Queue       int           // deliveries waiting in memory per webhook [10000]
	QueueBytes  int           // payload bytes waiting in memory per webhook [16 MiB]
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
// then stored as a dead letter that an admin can list and replay. A
// connection to an address the AddressPolicy refuses is dead-lettered at
// once.
//
// Every webhook has a queue and workers of its own: a receiver that is
// down or slow fills its own queue, and the others' deliveries go on.
// Deliveries wait in memory: those queued when the process stops are lost
// (the alerts themselves are stored; GET /v1/alerts/stream resumes from a
// cursor), and so are those queued for a webhook when it is disabled. A
// full queue dead-letters its webhook's new deliveries at once.
type Dispatcher struct {
	store  Store
	opt    Options
	policy AddressPolicy
	client *http.Client
	// queues has one queue per enabled webhook, in the store's order;
	// Notify reads it without a lock, Refresh replaces it.
	queues atomic.Pointer[[]*queue]

	mu     sync.Mutex      // serializes Refresh and the start and end of Run
	runCtx context.Context // while Run runs: the workers' parent context
	wg     sync.WaitGroup  // the workers

	dead        chan storage.DeadLetter
	deadDropped atomic.Int64 // dead letters lost to a full dead buffer, not yet logged
}

type delivery struct {
	id      uuid.UUID
	alertID uuid.UUID
	payload []byte
}

// New returns a dispatcher; call Run to start delivering.
func New(store Store, opt Options) *Dispatcher {
	if opt.Workers <= 0 {
		opt.Workers = 2
	}
	if opt.Queue <= 0 {
		opt.Queue = 10000
	}
	if opt.QueueBytes <= 0 {
		opt.QueueBytes = 16 << 20
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
		dead: make(chan storage.DeadLetter, 4096)}
	w.queues.Store(&[]*queue{})
	return w
}

// Run loads the webhooks, delivers until ctx ends, and refreshes the list
// every 30 s (and at once after changes through the API). Deliveries in
// progress when ctx ends are dead-lettered if they cannot finish. Call it
// once.
func (w *Dispatcher) Run(ctx context.Context) {
	stopDead, deadDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(deadDone); w.storeDead(stopDead) }()
	w.mu.Lock()
	w.runCtx = ctx
	for _, q := range *w.queues.Load() {
		w.startWorkers(q)
	}
	w.mu.Unlock()

	w.Refresh(ctx)
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			w.mu.Lock()
			w.runCtx = nil // Refresh starts no more workers
			w.mu.Unlock()
			w.wg.Wait() // the workers dead-letter what they could not finish,
			close(stopDead)
			<-deadDone // and the writer stores it
			return
		case <-t.C:
			w.Refresh(ctx)
		}
	}
}

// Refresh reloads the list of webhooks now (after a change through the
// API): a new webhook gets a queue and workers, a disabled one loses
// them, and what waited in its queue is dropped.
func (w *Dispatcher) Refresh(ctx context.Context) {
	// Held while the list loads, so that an older list never replaces a
	// newer one (which would drop a new webhook's queue).
	w.mu.Lock()
	defer w.mu.Unlock()
	hooks, err := w.store.ListWebhooks(ctx)
	if err != nil {
		w.opt.Logger.Error("webhooks: cannot load the webhook list; deliveries go to the webhooks loaded before", "error", err.Error())
		return
	}
	old := map[uuid.UUID]*queue{}
	for _, q := range *w.queues.Load() {
		old[q.hook.Load().ID] = q
	}
	next := make([]*queue, 0, len(hooks))
	for _, h := range hooks {
		if q, ok := old[h.ID]; ok {
			q.hook.Store(&h)
			next = append(next, q)
			delete(old, h.ID)
			continue
		}
		q := newQueue(h, w.opt.Queue, w.opt.QueueBytes)
		w.startWorkers(q)
		next = append(next, q)
	}
	w.queues.Store(&next)
	for id, q := range old {
		q.removed.Store(true)
		if q.cancel != nil {
			q.cancel()
		}
		if n := q.drop(); n > 0 {
			w.opt.Logger.Info("webhooks: webhook disabled; its queued deliveries are dropped", "webhook", id, "dropped", n)
		}
	}
}

// startWorkers starts q's workers when Run is running (w.mu held).
func (w *Dispatcher) startWorkers(q *queue) {
	if w.runCtx == nil || q.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(w.runCtx)
	q.cancel = cancel
	for range w.opt.Workers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for {
				d, ok := q.pop(ctx)
				if !ok {
					return
				}
				w.deliver(ctx, q, d)
			}
		}()
	}
}

// Payload is the body of a delivery.
type Payload struct {
	Event   string           `json:"event"`
	AlertID uuid.UUID        `json:"alert_id"`
	Alert   ingest.AlertBody `json:"alert"`
	// Source is "chain" for a chain alert, whose Chain says what it is
	// about; both are absent for a flow alert.
	Source   string              `json:"source,omitempty"`
	Chain    *storage.ChainAlert `json:"chain,omitempty"`
	ProofURL string              `json:"proof_url"`
}

// NotifyAlerts is Notify for stored alerts (storage.ChainHunt's OnStored
// gives chain alerts so): a chain alert's delivery carries its source and
// chain object beside the alert.
func (w *Dispatcher) NotifyAlerts(alerts []storage.Alert) {
	ids, bodies := make([]uuid.UUID, len(alerts)), make([]ingest.AlertBody, len(alerts))
	chains := make([]*storage.ChainAlert, len(alerts))
	for i, a := range alerts {
		ids[i], bodies[i], chains[i] = a.ID, a.AlertBody, a.Chain
	}
	w.notify(ids, bodies, chains)
}

// Notify queues the alerts for every webhook whose minimum severity they
// reach. It never blocks: a delivery that does not fit in its webhook's
// queue is dead-lettered.
func (w *Dispatcher) Notify(ids []uuid.UUID, bodies []ingest.AlertBody) {
	w.notify(ids, bodies, nil)
}

// notify queues deliveries of the alerts; chains, when not nil, holds the
// chain object of each (nil for a flow alert).
func (w *Dispatcher) notify(ids []uuid.UUID, bodies []ingest.AlertBody, chains []*storage.ChainAlert) {
	queues := *w.queues.Load()
	if len(queues) == 0 {
		return
	}
	for i, b := range bodies {
		var payload []byte
		for _, q := range queues {
			h := q.hook.Load()
			if b.Severity.Rank() < h.MinSeverity.Rank() {
				continue
			}
			if payload == nil {
				var err error
				p := Payload{Event: "alert", AlertID: ids[i], Alert: b, ProofURL: "/v1/alerts/" + ids[i].String() + "/proof"}
				if chains != nil && chains[i] != nil {
					p.Source, p.Chain = "chain", chains[i]
				}
				payload, err = json.Marshal(p)
				if err != nil {
					continue
				}
			}
			d := delivery{id: uuid.New(), alertID: ids[i], payload: payload}
			if !q.push(d) {
				w.overflow(q, d)
			}
		}
	}
}

// overflow dead-letters d, which did not fit in q, and warns (once a
// minute per webhook) that the webhook's receiver is not keeping up.
func (w *Dispatcher) overflow(q *queue, d delivery) {
	h := q.hook.Load()
	w.toDead(h.ID, d, 0, "the webhook's delivery queue is full")
	now := time.Now().Unix()
	if last := q.warnedFullAt.Load(); now-last >= 60 && q.warnedFullAt.CompareAndSwap(last, now) {
		n, bytes := q.size()
		w.opt.Logger.Warn("webhooks: a webhook's queue is full; its new deliveries are dead-lettered until its receiver catches up",
			"webhook", h.ID, "queued", n, "queued_bytes", bytes)
	}
}

// deliver tries d until it succeeds, attempts run out, or ctx ends.
func (w *Dispatcher) deliver(ctx context.Context, q *queue, d delivery) {
	var lastErr error
	bo := &backoff.ExponentialBackOff{InitialInterval: w.opt.Backoff, RandomizationFactor: 0.25, Multiplier: 2,
		MaxInterval: w.opt.Backoff << min(w.opt.MaxAttempts, 20)}
	giveUp := func(attempts int, reason string) {
		if !q.removed.Load() { // a disabled webhook's deliveries are dropped
			w.toDead(q.hook.Load().ID, d, attempts, reason)
		}
	}
	for attempt := 1; attempt <= w.opt.MaxAttempts; attempt++ {
		if lastErr = w.post(ctx, *q.hook.Load(), d); lastErr == nil {
			w.outcome("delivered")
			return
		}
		if errors.Is(lastErr, ErrForbiddenAddress) {
			// The address will not become allowed by waiting.
			giveUp(attempt, lastErr.Error())
			return
		}
		if attempt == w.opt.MaxAttempts {
			break
		}
		w.outcome("retried")
		select {
		case <-ctx.Done():
			giveUp(attempt, "shutting down: "+lastErr.Error())
			return
		case <-time.After(bo.NextBackOff()):
		}
	}
	giveUp(w.opt.MaxAttempts, lastErr.Error())
}

// post makes one attempt to deliver d to hook.
func (w *Dispatcher) post(ctx context.Context, hook storage.Webhook, d delivery) error {
	ctx, cancel := context.WithTimeout(ctx, w.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(d.payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "idsledger-webhook/1")
	req.Header.Set("X-Idsledger-Event", "alert")
	req.Header.Set("X-Idsledger-Delivery", d.id.String())
	req.Header.Set("X-Idsledger-Signature", Sign(hook.Secret, time.Now(), d.payload))
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

// toDead hands d, for webhook hook, to the dead-letter writer. When the
// writer is that far behind the dead letter is lost, and counted for the
// writer to log.
func (w *Dispatcher) toDead(hook uuid.UUID, d delivery, attempts int, reason string) {
	w.outcome("dead")
	dl := storage.DeadLetter{WebhookID: hook, AlertID: d.alertID, Payload: d.payload, Attempts: attempts, LastError: ingest.Clip(reason, 500)}
	select {
	case w.dead <- dl:
	default:
		w.deadDropped.Add(1)
	}
}

// storeDead writes dead letters in batches until stop is closed, and then
// what is left.
func (w *Dispatcher) storeDead(stop <-chan struct{}) {
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
			if n := w.deadDropped.Swap(0); n > 0 {
				w.opt.Logger.Error("webhooks: dead-letter buffer full; deliveries lost", "count", n)
			}
		case <-stop:
			for {
				select {
				case dl := <-w.dead:
					buf = append(buf, dl)
				default:
					flush()
					if n := w.deadDropped.Swap(0); n > 0 {
						w.opt.Logger.Error("webhooks: dead-letter buffer full; deliveries lost", "count", n)
					}
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
	for _, q := range *w.queues.Load() {
		if h := q.hook.Load(); h.ID == dl.WebhookID {
			hook = h
			break
		}
	}
	if hook == nil {
		return ErrHookGone
	}
	if err := w.post(ctx, *hook, delivery{id: uuid.New(), alertID: dl.AlertID, payload: dl.Payload}); err != nil {
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

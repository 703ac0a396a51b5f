package flclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
)

// Options configure a Client. Zero values take the defaults noted.
type Options struct {
	// HTTP sends the requests (default: a client of its own). Its Timeout
	// should be zero: each attempt has its own deadline below.
	HTTP *http.Client
	// RequestTimeout bounds one attempt of Task or Submit (default 30 s);
	// DownloadTimeout one attempt of DownloadModel (default 5 min).
	RequestTimeout  time.Duration
	DownloadTimeout time.Duration
	// MaxTries is the number of attempts of one call, the first included
	// (default 6).
	MaxTries int
	// MinBackoff and MaxBackoff bound the exponential backoff between
	// attempts (default 500 ms doubling to 30 s, ±20% jitter);
	// MaxRetryAfter caps the wait a Retry-After header asks for (default
	// 5 min).
	MinBackoff, MaxBackoff, MaxRetryAfter time.Duration
	// MaxModelBytes bounds a model download (default 1 GiB).
	MaxModelBytes int64
	// Verifier, when set, checks every downloaded model against the
	// federation registry on chain (ChainVerifier).
	Verifier Verifier
	// OnRetry, when set, is told of each failed attempt that will be tried
	// again, and after how long.
	OnRetry func(op string, attempt int, err error, wait time.Duration)
}

func (o *Options) defaults() {
	if o.HTTP == nil {
		o.HTTP = &http.Client{}
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.DownloadTimeout <= 0 {
		o.DownloadTimeout = 5 * time.Minute
	}
	if o.MaxTries <= 0 {
		o.MaxTries = 6
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 5 * time.Minute
	}
	if o.MaxModelBytes <= 0 {
		o.MaxModelBytes = 1 << 30
	}
}

// Client talks to one coordinator with one fl-node API key. It is safe
// for concurrent use.
type Client struct {
	base *url.URL
	key  string
	opt  Options
}

// New returns a client of the coordinator at baseURL (scheme and host, and
// a path prefix if the service sits under one) that authenticates with
// apiKey.
func New(baseURL, apiKey string, opt Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("flclient: coordinator URL %q: want http(s)://host[:port]", baseURL)
	}
	if apiKey == "" {
		return nil, errors.New("flclient: an fl-node API key is required")
	}
	opt.defaults()
	return &Client{base: u, key: apiKey, opt: opt}, nil
}

// Task is the open round as GET /v1/fl/task describes it to this site.
type Task struct {
	Round   uint64 `json:"round"`
	ChainID uint64 `json:"chain_id"`
	// BaseModel is the id (hex keccak256, 64 digits) of the global model
	// the round starts from.
	BaseModel string `json:"base_model"`
	// BaseModelVersion is its version in the FederationRegistry (0: not
	// registered yet).
	BaseModelVersion uint64 `json:"base_model_version"`
	// FederationRegistry is the registry's address ("" when the service
	// runs without one).
	FederationRegistry string           `json:"federation_registry"`
	Deadline           time.Time        `json:"deadline"`
	Policy             federated.Policy `json:"policy"`
	// Submitted is true when the round already holds this site's update.
	Submitted bool `json:"submitted"`
	// Site is the site the API key speaks for.
	Site common.Address `json:"site"`
}

// Local is the part of the task federated.TrainUpdate takes.
func (t Task) Local() federated.Task {
	return federated.Task{Round: t.Round, ChainID: t.ChainID, BaseModel: t.BaseModel, Policy: t.Policy}
}

// CheckRegistry refuses a task that names another federation registry
// than the trusted one (ErrRegistryMismatch): its models could not be
// checked against the registry the site trusts. A task naming none passes
// (the chain check itself then says whether the trusted one holds the
// model).
func (t Task) CheckRegistry(trusted common.Address) error {
	if t.FederationRegistry == "" || !common.IsHexAddress(t.FederationRegistry) {
		return nil
	}
	if got := common.HexToAddress(t.FederationRegistry); got != trusted {
		return fmt.Errorf("%w: round %d names registry %s, the site trusts %s", ErrRegistryMismatch, t.Round, got.Hex(), trusted.Hex())
	}
	return nil
}

// Model is a downloaded global model file whose bytes hash to ID.
type Model struct {
	ID   string
	File []byte
	// RegistryVersion is its version in the registry (0: none), from the
	// task or the X-Registry-Version header.
	RegistryVersion uint64
}

// Ack is the coordinator's acknowledgement of an update (202, or 200 with
// Again for an update it had already acknowledged).
type Ack struct {
	RecordID   string      `json:"record_id"`
	Round      uint64      `json:"round"`
	UpdateHash common.Hash `json:"update_hash"`
	Leaf       string      `json:"leaf"`
	Again      bool        `json:"again"`
}

// Task asks for the open round. With no round for this site (none open,
// or the site not invited) it returns a *NoRoundError (ErrNoRound); a key
// bound to no enrolled site gets an *Error matching ErrForbidden whose
// Detail says what to do.
func (c *Client) Task(ctx context.Context) (Task, error) {
	resp, err := c.exchange(ctx, "task", http.MethodGet, "/v1/fl/task", nil, "application/json", c.opt.RequestTimeout, 1<<20)
	if err != nil {
		return Task{}, err
	}
	switch resp.status {
	case http.StatusNoContent:
		return Task{}, &NoRoundError{RetryAfter: retryAfter(resp.header, time.Now())}
	case http.StatusOK:
	default:
		return Task{}, fmt.Errorf("task: unexpected status %d", resp.status)
	}
	var t Task
	if err := json.Unmarshal(resp.body, &t); err != nil {
		return Task{}, fmt.Errorf("task: decode: %w", err)
	}
	if t.Round == 0 || !validModelID(t.BaseModel) {
		return Task{}, fmt.Errorf("task: round %d with base model %q: not a task", t.Round, t.BaseModel)
	}
	return t, nil
}

// DownloadModel fetches model id and checks that its bytes hash to id
// (ErrModelHash otherwise) and, with a Verifier, that the registry holds
// id as version (the task's base_model_version; 0 takes the server's
// X-Registry-Version header).
func (c *Client) DownloadModel(ctx context.Context, id string, version uint64) (Model, error) {
	if !validModelID(id) {
		return Model{}, fmt.Errorf("download model: %q is not a model id (64 lower-case hex digits)", id)
	}
	resp, err := c.exchange(ctx, "download model", http.MethodGet, "/v1/fl/models/"+id, nil, "application/octet-stream", c.opt.DownloadTimeout, c.opt.MaxModelBytes)
	if err != nil {
		return Model{}, err
	}
	if resp.status != http.StatusOK {
		return Model{}, fmt.Errorf("download model %s: unexpected status %d", id, resp.status)
	}
	if got := detector.ModelID(resp.body); got != id {
		return Model{}, fmt.Errorf("%w: asked for %s, the %d bytes received hash to %s", ErrModelHash, id, len(resp.body), got)
	}
	m := Model{ID: id, File: resp.body, RegistryVersion: version}
	if m.RegistryVersion == 0 {
		m.RegistryVersion, _ = strconv.ParseUint(resp.header.Get("X-Registry-Version"), 10, 64)
	}
	if c.opt.Verifier != nil {
		if err := c.opt.Verifier.VerifyModel(ctx, m.RegistryVersion, id); err != nil {
			return Model{}, err
		}
	}
	return m, nil
}

// Submit posts a signed update's JSON (federated.Update) for round. body
// is sent as given, so sending a saved update again sends the very same
// bytes. 202 and 200 (acknowledged before) are both success; 403, 409,
// 413 and 422 are final and come back as an *Error.
func (c *Client) Submit(ctx context.Context, round uint64, body []byte) (Ack, error) {
	path := "/v1/fl/rounds/" + strconv.FormatUint(round, 10) + "/updates"
	resp, err := c.exchange(ctx, "submit update", http.MethodPost, path, body, "application/json", c.opt.RequestTimeout, 1<<20)
	if err != nil {
		return Ack{}, err
	}
	if resp.status != http.StatusAccepted && resp.status != http.StatusOK {
		return Ack{}, fmt.Errorf("submit update: unexpected status %d", resp.status)
	}
	var a Ack
	if err := json.Unmarshal(resp.body, &a); err != nil {
		return Ack{}, fmt.Errorf("submit update: decode acknowledgement: %w", err)
	}
	a.Again = a.Again || resp.status == http.StatusOK
	return a, nil
}

// response is an answer read in full: a 2xx (or 204) one; every other
// status becomes an error in attempt.
type response struct {
	status int
	header http.Header
	body   []byte
}

// exchange makes up to MaxTries attempts of one request, retrying network
// errors, 5xx and 429 answers only (see the package doc).
func (c *Client) exchange(ctx context.Context, op, method, path string, body []byte, accept string, timeout time.Duration, limit int64) (*response, error) {
	bo := &backoff.ExponentialBackOff{InitialInterval: c.opt.MinBackoff, RandomizationFactor: 0.2, Multiplier: 2, MaxInterval: c.opt.MaxBackoff}
	bo.Reset()
	for attempt := 1; ; attempt++ {
		resp, wait, err := c.attempt(ctx, op, method, path, body, accept, timeout, limit)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", op, ctx.Err())
		}
		if wait < 0 || attempt >= c.opt.MaxTries {
			return nil, err
		}
		d := bo.NextBackOff()
		if wait > 0 {
			d = min(wait, c.opt.MaxRetryAfter)
		}
		if c.opt.OnRetry != nil {
			c.opt.OnRetry(op, attempt, err, d)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%s: %w (last attempt: %v)", op, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// attempt makes one request. A failed attempt says whether to try again:
// wait < 0 never, wait 0 after the backoff, wait > 0 after that long (the
// Retry-After of a 5xx or a 429).
func (c *Client) attempt(ctx context.Context, op, method, path string, body []byte, accept string, timeout time.Duration, limit int64) (*response, time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := *c.base
	u.Path = c.base.Path + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, u.String(), rd)
	if err != nil {
		return nil, -1, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", accept+", application/problem+json")
	req.Header.Set("User-Agent", "idsledger-fl-node/1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.opt.HTTP.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err) // network error or attempt timeout
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%s: reading the answer: %w", op, err)
	}
	if int64(len(b)) > limit {
		return nil, -1, fmt.Errorf("%s: the answer is larger than %d bytes", op, limit)
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return &response{status: res.StatusCode, header: res.Header, body: b}, 0, nil
	}
	e := problemError(op, res.StatusCode, b)
	if res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests {
		return nil, retryAfter(res.Header, time.Now()), e
	}
	return nil, -1, e
}

// problemError reads an RFC 9457 problem document, or keeps the start of
// any other body as the detail.
func problemError(op string, status int, body []byte) *Error {
	e := &Error{Op: op, Status: status}
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(body, &p) == nil && (p.Type != "" || p.Title != "" || p.Detail != "") {
		e.Type, e.Title, e.Detail = p.Type, p.Title, p.Detail
		return e
	}
	d := strings.Join(strings.Fields(string(body)), " ")
	if len(d) > 200 {
		d = d[:200] + "…"
	}
	e.Detail = d
	return e
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date (0
// when absent or in the past).
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// validModelID: 64 lower-case hex digits, as detector.ModelID makes.
func validModelID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

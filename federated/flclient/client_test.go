package flclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/federated/flclient"
	"github.com/idsledger/idsledger/internal/flfakes"
)

const sample = "../../detector/testdata/nf-bot-iot-v2-sample.csv"

// fed is a federation behind a real HTTP server, with one enrolled site.
type fed struct {
	w     *flfakes.FLWorld
	srv   *httptest.Server
	token string
	key   common.Address
	flows []*detector.Flow
}

func newFed(t *testing.T) *fed {
	t.Helper()
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{sample}, detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := detector.Train(flows[:150], detector.TrainOptions{Dataset: "nf-bot-iot-v2", Model: "autoencoder", Seed: 1,
		Train: detector.TrainConfig{Epochs: 2}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := flfakes.NewFLWorld(res.Detector, flows[150:230])
	if err != nil {
		t.Fatal(err)
	}
	f := &fed{w: w, srv: httptest.NewServer(w.API), flows: flows[230:]}
	t.Cleanup(f.srv.Close)
	key, _ := crypto.GenerateKey()
	f.key = crypto.PubkeyToAddress(key.PublicKey)
	if f.token, err = w.Enroll(context.Background(), f.key, "plant-a"); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fed) client(t *testing.T, opt flclient.Options) *flclient.Client {
	t.Helper()
	if opt.MinBackoff == 0 {
		opt.MinBackoff, opt.MaxBackoff = time.Millisecond, 5*time.Millisecond
	}
	c, err := flclient.New(f.srv.URL, f.token, opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var policy = federated.Policy{Epochs: 1, BatchSize: 32, Rule: federated.Rule{Kind: federated.RuleFedAvg},
	Compression: federated.Compression{Encoding: federated.EncF32}}

func (f *fed) open(t *testing.T) federated.Round {
	t.Helper()
	r, err := f.w.Open(context.Background(), coordinator.OpenRequest{Policy: policy, MinUpdates: 1, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTaskBeforeAndDuringARound(t *testing.T) {
	ctx := context.Background()
	f := newFed(t)
	c := f.client(t, flclient.Options{})
	_, err := c.Task(ctx)
	var nr *flclient.NoRoundError
	if !errors.Is(err, flclient.ErrNoRound) || !errors.As(err, &nr) || nr.RetryAfter != time.Second {
		t.Fatalf("no round open: %v, want ErrNoRound with Retry-After 1s", err)
	}
	r := f.open(t)
	task, err := c.Task(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if task.Round != r.Number || task.BaseModel != f.w.Base.ID() || task.ChainID != 1337 || task.Site != f.key ||
		task.Policy.Rule.Kind != federated.RuleFedAvg || task.Submitted || !task.Deadline.Equal(r.Deadline) {
		t.Fatalf("task %+v for round %+v", task, r)
	}
}

func TestTaskForAKeyOfNoSite(t *testing.T) {
	f := newFed(t)
	f.w.API.Keys["stranger"] = [16]byte{1}
	c, _ := flclient.New(f.srv.URL, "stranger", flclient.Options{})
	_, err := c.Task(context.Background())
	var e *flclient.Error
	if !errors.Is(err, flclient.ErrForbidden) || !errors.As(err, &e) || !strings.Contains(e.Detail, "enroll") {
		t.Fatalf("got %v, want a 403 whose detail says to enroll", err)
	}
	if n := len(f.w.API.Requests()); n != 1 {
		t.Errorf("%d requests: a 403 must not be retried", n)
	}
	bad, _ := flclient.New(f.srv.URL, "nonsense", flclient.Options{})
	if _, err := bad.Task(context.Background()); !errors.Is(err, flclient.ErrUnauthorized) {
		t.Errorf("unknown key: %v, want ErrUnauthorized", err)
	}
}

func TestDownloadChecksTheHash(t *testing.T) {
	ctx := context.Background()
	f := newFed(t)
	c := f.client(t, flclient.Options{})
	id := f.w.Base.ID()
	m, err := c.DownloadModel(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != id || detector.ModelID(m.File) != id {
		t.Fatalf("downloaded %s", m.ID)
	}
	f.w.API.SetTamper(true)
	if _, err := c.DownloadModel(ctx, id, 0); !errors.Is(err, flclient.ErrModelHash) {
		t.Fatalf("tampered model: %v, want ErrModelHash", err)
	}
	missing := strings.Repeat("ab", 32)
	if _, err := c.DownloadModel(ctx, missing, 0); !errors.Is(err, flclient.ErrNotFound) {
		t.Fatalf("unknown model: %v, want ErrNotFound", err)
	}
	if _, err := c.DownloadModel(ctx, "../task", 0); err == nil {
		t.Fatal("a path as model id was requested")
	}
}

// update is the site's signed update for the open round.
func (f *fed) update(t *testing.T, u *federated.Update) []byte {
	t.Helper()
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func trained(t *testing.T, f *fed, c *flclient.Client) (*federated.Update, []byte) {
	t.Helper()
	ctx := context.Background()
	task, err := c.Task(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.DownloadModel(ctx, task.BaseModel, task.BaseModelVersion)
	if err != nil {
		t.Fatal(err)
	}
	d, err := detector.DecodeDetector(m.File)
	if err != nil {
		t.Fatal(err)
	}
	data := detector.Labeled{X: d.Pipeline.Transform(f.flows), Y: d.Pipeline.Labels(f.flows)}
	u, _, err := federated.TrainUpdate(federated.LocalStep{Task: task.Local(), Global: d, Train: data, Key: siteKey, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return u, f.update(t, u)
}

var siteKey, _ = crypto.GenerateKey()

func newSiteFed(t *testing.T) *fed {
	t.Helper()
	f := newFed(t)
	f.key = crypto.PubkeyToAddress(siteKey.PublicKey)
	var err error
	if f.token, err = f.w.Enroll(context.Background(), f.key, "plant-b"); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSubmitIsIdempotent(t *testing.T) {
	ctx := context.Background()
	f := newSiteFed(t)
	r := f.open(t)
	c := f.client(t, flclient.Options{})
	u, body := trained(t, f, c)
	ack, err := c.Submit(ctx, r.Number, body)
	if err != nil {
		t.Fatal(err)
	}
	if ack.Again || ack.Round != r.Number || ack.UpdateHash != u.UpdateHash() || ack.RecordID == "" {
		t.Fatalf("ack %+v", ack)
	}
	again, err := c.Submit(ctx, r.Number, body)
	if err != nil || !again.Again || again.RecordID != ack.RecordID {
		t.Fatalf("the same update again: %+v, %v; want 200 again with record %s", again, err, ack.RecordID)
	}
	task, err := c.Task(ctx)
	if err != nil || !task.Submitted {
		t.Fatalf("task after submitting: %+v, %v", task, err)
	}
}

// 409 and 422 are final: one request each, the problem's detail kept.
func TestSubmitRefusalsAreFinal(t *testing.T) {
	ctx := context.Background()
	f := newSiteFed(t)
	r := f.open(t)
	c := f.client(t, flclient.Options{})
	u, _ := trained(t, f, c)

	bad := *u
	bad.ReportedAccuracy = 0.5 // changed after signing: the signature no longer matches
	second := *u
	second.ReportedAccuracy = 0.5
	if err := second.Sign(siteKey); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		first  []byte // sent (and acknowledged) before
		body   []byte
		want   error
		detail string
	}{
		{"bad signature", nil, f.update(t, &bad), flclient.ErrInvalid, "signature"},
		{"a second update of the site", f.update(t, u), f.update(t, &second), flclient.ErrConflict, "already holds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.first != nil {
				if _, err := c.Submit(ctx, r.Number, tc.first); err != nil {
					t.Fatal(err)
				}
			}
			before := len(f.w.API.Submissions())
			_, err := c.Submit(ctx, r.Number, tc.body)
			var e *flclient.Error
			if !errors.Is(err, tc.want) || !errors.As(err, &e) || !strings.Contains(e.Detail, tc.detail) || !flclient.Final(err) {
				t.Fatalf("got %v, want %v with a detail naming %q", err, tc.want, tc.detail)
			}
			if n := len(f.w.API.Submissions()) - before; n != 1 {
				t.Errorf("%d requests, want 1 (no retry)", n)
			}
		})
	}
}

// failFirst answers the first n requests with status and header.
func failFirst(n int32, status int, header http.Header) func(*http.Request) (int, http.Header, string, bool) {
	var seen atomic.Int32
	return func(*http.Request) (int, http.Header, string, bool) {
		if seen.Add(1) <= n {
			return status, header, "try again", true
		}
		return 0, nil, "", false
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	ctx := context.Background()
	f := newSiteFed(t)
	r := f.open(t)
	var waits []time.Duration
	c := f.client(t, flclient.Options{MaxRetryAfter: 20 * time.Millisecond,
		OnRetry: func(op string, attempt int, err error, wait time.Duration) { waits = append(waits, wait) }})
	_, body := trained(t, f, c)
	before := len(f.w.API.Submissions())
	f.w.API.SetFault(failFirst(2, http.StatusServiceUnavailable, http.Header{"Retry-After": {"7"}}))
	ack, err := c.Submit(ctx, r.Number, body)
	if err != nil || ack.Again {
		t.Fatalf("after two 503s: %+v, %v", ack, err)
	}
	if n := len(f.w.API.Submissions()) - before; n != 3 {
		t.Errorf("%d posts, want 3", n)
	}
	if len(waits) != 2 || waits[0] != 20*time.Millisecond {
		t.Errorf("waits %v: want Retry-After (7 s, capped to 20 ms) twice", waits)
	}

	// A key over its rate: 429 with Retry-After is waited out, not final.
	f.w.API.SetFault(failFirst(1, http.StatusTooManyRequests, http.Header{"Retry-After": {"3"}}))
	waits = nil
	if _, err := c.Task(ctx); err != nil || len(waits) != 1 {
		t.Fatalf("after a 429: %v, waits %v", err, waits)
	}
	f.w.API.SetFault(failFirst(100, http.StatusTooManyRequests, nil))
	c2 := f.client(t, flclient.Options{MaxTries: 2})
	if _, err := c2.Task(ctx); !errors.Is(err, flclient.ErrRateLimited) || flclient.Final(err) {
		t.Fatalf("always 429: %v, want ErrRateLimited, not final", err)
	}

	// Out of tries: the last 5xx comes back.
	f.w.API.SetFault(failFirst(100, http.StatusInternalServerError, nil))
	c3 := f.client(t, flclient.Options{MaxTries: 3})
	before = len(f.w.API.Requests())
	_, err = c3.Task(ctx)
	if !errors.Is(err, flclient.ErrUnavailable) || flclient.Final(err) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	if n := len(f.w.API.Requests()) - before; n != 3 {
		t.Errorf("%d requests, want MaxTries = 3", n)
	}
}

// A connection cut before any answer is retried; a slow answer times out
// and is retried.
func TestNetworkErrorsAreRetried(t *testing.T) {
	f := newFed(t)
	f.open(t)
	var n atomic.Int32
	flaky := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case 2:
			time.Sleep(200 * time.Millisecond)
		default:
			f.w.API.ServeHTTP(w, r)
		}
	})
	srv := httptest.NewServer(flaky)
	defer srv.Close()
	c, _ := flclient.New(srv.URL, f.token, flclient.Options{RequestTimeout: 50 * time.Millisecond, MinBackoff: time.Millisecond})
	if _, err := c.Task(context.Background()); err != nil {
		t.Fatalf("after a cut connection and a timeout: %v", err)
	}
	if n.Load() != 3 {
		t.Errorf("%d attempts, want 3", n.Load())
	}

	// Nobody listening: retried, then the network error comes back.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	c, _ = flclient.New("http://"+addr, "k", flclient.Options{MaxTries: 2, MinBackoff: time.Millisecond})
	if _, err := c.Task(context.Background()); err == nil || flclient.Final(err) {
		t.Fatalf("nobody listening: %v", err)
	}
}

func TestCheckRegistry(t *testing.T) {
	trusted := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	for _, tc := range []struct {
		named string
		ok    bool
	}{{"", true}, {trusted.Hex(), true}, {strings.ToLower(trusted.Hex()), true}, {"0x00000000000000000000000000000000000000bb", false}} {
		err := flclient.Task{Round: 1, FederationRegistry: tc.named}.CheckRegistry(trusted)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, flclient.ErrRegistryMismatch)) {
			t.Errorf("task naming %q: %v", tc.named, err)
		}
	}
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "http://", "127.0.0.1:8080"} {
		if _, err := flclient.New(u, "k", flclient.Options{}); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
	if _, err := flclient.New("http://127.0.0.1:1", "", flclient.Options{}); err == nil {
		t.Error("empty key accepted")
	}
}

// stubVerifier records what it was asked and answers err.
type stubVerifier struct {
	version uint64
	id      string
	err     error
}

func (s *stubVerifier) VerifyModel(_ context.Context, version uint64, id string) error {
	s.version, s.id = version, id
	return s.err
}
func (s *stubVerifier) Registry() common.Address { return common.Address{} }

// The verifier is asked about the task's registry version, or the
// server's X-Registry-Version when the caller has none; its refusal is
// the download's.
func TestDownloadAsksTheVerifier(t *testing.T) {
	ctx := context.Background()
	f := newFed(t)
	f.open(t)
	if err := f.w.C.Step(ctx); err != nil { // registers the base model
		t.Fatal(err)
	}
	v := &stubVerifier{}
	c := f.client(t, flclient.Options{Verifier: v})
	task, err := c.Task(ctx)
	if err != nil || task.BaseModelVersion == 0 {
		t.Fatalf("task %+v, %v: want a registered base model", task, err)
	}
	if _, err := c.DownloadModel(ctx, task.BaseModel, 0); err != nil || v.version != task.BaseModelVersion || v.id != task.BaseModel {
		t.Fatalf("download: %v; verifier asked about version %d, id %s", err, v.version, v.id)
	}
	v.err = flclient.ErrRegistryMismatch
	if _, err := c.DownloadModel(ctx, task.BaseModel, task.BaseModelVersion); !errors.Is(err, flclient.ErrRegistryMismatch) {
		t.Fatalf("refused by the verifier: %v", err)
	}
}

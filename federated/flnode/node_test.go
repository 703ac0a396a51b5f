package flnode_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/federated/flclient"
	"github.com/idsledger/idsledger/federated/flnode"
	"github.com/idsledger/idsledger/internal/flfakes"
)

const sample = "../../detector/testdata/nf-bot-iot-v2-sample.csv"

// fed is a federation behind a real HTTP server speaking the federation API of api/openapi.yaml,
// with one site enrolled: its key, API token, flows and data directory.
type fed struct {
	w     *flfakes.FLWorld
	srv   *httptest.Server
	key   *ecdsa.PrivateKey
	token string
	flows []*detector.Flow
	dir   string
}

var (
	baseOnce  sync.Once
	baseModel *detector.Detector
	allFlows  []*detector.Flow
)

func newFed(t *testing.T) *fed {
	t.Helper()
	baseOnce.Do(func() {
		flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{sample}, detector.LoadOptions{})
		if err != nil {
			panic(err)
		}
		res, err := detector.Train(flows[:150], detector.TrainOptions{Dataset: "nf-bot-iot-v2", Model: "autoencoder", Seed: 1,
			Train: detector.TrainConfig{Epochs: 2}})
		if err != nil {
			panic(err)
		}
		baseModel, allFlows = res.Detector, flows
	})
	w, err := flfakes.NewFLWorld(baseModel, allFlows[150:230])
	if err != nil {
		t.Fatal(err)
	}
	f := &fed{w: w, srv: httptest.NewServer(w.API), flows: allFlows[230:], dir: t.TempDir()}
	t.Cleanup(f.srv.Close)
	if f.key, _, err = federated.LoadOrCreateKey(flnode.KeyPath(f.dir)); err != nil {
		t.Fatal(err)
	}
	if f.token, err = w.Enroll(context.Background(), crypto.PubkeyToAddress(f.key.PublicKey), "plant-a"); err != nil {
		t.Fatal(err)
	}
	return f
}

var q8 = federated.Policy{Epochs: 1, BatchSize: 32, Rule: federated.Rule{Kind: federated.RuleFedAvg},
	Compression: federated.Compression{Encoding: federated.EncQ8}}

func (f *fed) open(t *testing.T, p federated.Policy) federated.Round {
	t.Helper()
	r, err := f.w.Open(context.Background(), coordinator.OpenRequest{Policy: p, MinUpdates: 1, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// node is a fresh node process over the site's data directory.
func (f *fed) node(t *testing.T, api flnode.API, log *bytes.Buffer) *flnode.Node {
	t.Helper()
	if api == nil {
		api = f.client(t)
	}
	n, err := flnode.New(flnode.Config{API: api, Dir: f.dir, Key: f.key, Dataset: "nf-bot-iot-v2", Flows: f.flows,
		ValidFraction: 0.2, Seed: 1, Poll: 10 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fed) client(t *testing.T) *flclient.Client {
	t.Helper()
	c, err := flclient.New(f.srv.URL, f.token, flclient.Options{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		MaxRetryAfter: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fed) posts() [][]byte { return f.w.API.Submissions() }

func (f *fed) saved(t *testing.T, round string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, "rounds", round, "update.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestNodeTakesPartOncePerRound(t *testing.T) {
	f := newFed(t)
	r := f.open(t, q8)
	var log bytes.Buffer
	n := f.node(t, nil, &log)
	res, err := n.Next(ctxFor(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != flnode.Acknowledged || res.Round != r.Number || res.Again || res.Resubmitted || res.Report == nil || res.RecordID == "" {
		t.Fatalf("result %+v", res)
	}
	if res.Report.Samples == 0 || res.Report.PayloadBytes != federated.Q8Size(r.Dim) {
		t.Errorf("report %+v for a q8 update of %d weights", res.Report, r.Dim)
	}
	for _, want := range []string{"round 1: samples", "local accuracy", "pre-clip norm", "payload", "acknowledged as record " + res.RecordID} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, log.String())
		}
	}
	posts := f.posts()
	if len(posts) != 1 || !bytes.Equal(posts[0], f.saved(t, "1")) {
		t.Fatalf("%d posts; the one sent must be the saved update", len(posts))
	}
	// The error-feedback residual is kept, in the round and as current.
	cur, err1 := os.ReadFile(filepath.Join(f.dir, "feedback.json"))
	rnd, err2 := os.ReadFile(filepath.Join(f.dir, "rounds", "1", "feedback.json"))
	var fb federated.ErrorFeedback
	if err1 != nil || err2 != nil || !bytes.Equal(cur, rnd) || json.Unmarshal(cur, &fb) != nil || len(fb.Residual) != r.Dim {
		t.Fatalf("residual: %v, %v, %d coordinates", err1, err2, len(fb.Residual))
	}

	// The same round again: the node waits, and sends nothing.
	if _, err := n.Next(ctxFor(t, 100*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Next in one round: %v", err)
	}
	if len(f.posts()) != 1 {
		t.Fatalf("%d posts after waiting in a done round", len(f.posts()))
	}
}

// crashAfterSubmit is the API of a node process that dies once it has
// called Submit: before the post (send false) or after the coordinator
// took the update but before the acknowledgement came back (send true).
type crashAfterSubmit struct {
	flnode.API
	send   bool
	cancel context.CancelFunc
}

func (c *crashAfterSubmit) Submit(ctx context.Context, round uint64, body []byte) (flclient.Ack, error) {
	if c.send {
		c.API.Submit(ctx, round, body)
	}
	c.cancel()
	return flclient.Ack{}, context.Canceled
}

// A node that crashed after saving its update sends the very same bytes
// when it starts again, instead of training a second, different update.
func TestRestartSendsTheSavedUpdate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		delivered bool
	}{{"crash before the post", false}, {"acknowledgement lost", true}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFed(t)
			f.open(t, q8)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			first := f.node(t, &crashAfterSubmit{API: f.client(t), send: tc.delivered, cancel: cancel}, &bytes.Buffer{})
			if _, err := first.Next(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("crashing node: %v", err)
			}
			saved := f.saved(t, "1")
			residual, _ := os.ReadFile(filepath.Join(f.dir, "rounds", "1", "feedback.json"))
			os.Remove(filepath.Join(f.dir, "feedback.json")) // the crash came before the residual was copied

			var log bytes.Buffer
			res, err := f.node(t, nil, &log).Next(ctxFor(t, time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != flnode.Acknowledged || !res.Resubmitted || res.Report != nil || res.Again != tc.delivered {
				t.Fatalf("after restart: %+v", res)
			}
			posts := f.posts()
			for i, p := range posts {
				if !bytes.Equal(p, saved) {
					t.Fatalf("post %d differs from the saved update", i)
				}
			}
			if want := map[bool]int{false: 1, true: 2}[tc.delivered]; len(posts) != want {
				t.Fatalf("%d posts, want %d", len(posts), want)
			}
			if cur, _ := os.ReadFile(filepath.Join(f.dir, "feedback.json")); !bytes.Equal(cur, residual) || len(cur) == 0 {
				t.Error("the residual of the resent update was not restored")
			}
			if !strings.Contains(log.String(), "sending again the update saved before a restart") {
				t.Errorf("progress:\n%s", log.String())
			}
		})
	}
}

// refuse answers every update post with status.
func refuse(status int, detail string) func(*http.Request) (int, http.Header, string, bool) {
	return func(r *http.Request) (int, http.Header, string, bool) {
		return status, nil, detail, r.Method == http.MethodPost
	}
}

// 409 and 422 are final: posted once, kept as the round's result, never
// sent again, not even by a restarted node.
func TestRefusalsAreFinal(t *testing.T) {
	for _, status := range []int{http.StatusConflict, http.StatusUnprocessableEntity} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			f := newFed(t)
			f.open(t, q8)
			f.w.API.SetFault(refuse(status, "no thanks"))
			var log bytes.Buffer
			res, err := f.node(t, nil, &log).Next(ctxFor(t, time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != flnode.Refused || res.Status != status || res.Detail != "no thanks" {
				t.Fatalf("result %+v", res)
			}
			if !strings.Contains(log.String(), "will not be sent again") {
				t.Errorf("progress:\n%s", log.String())
			}
			f.w.API.SetFault(nil)
			if _, err := f.node(t, nil, &bytes.Buffer{}).Next(ctxFor(t, 100*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("restarted node in the refused round: %v", err)
			}
			if n := len(f.posts()); n != 1 {
				t.Fatalf("%d posts, want 1", n)
			}
		})
	}
}

// 5xx answers are retried with the same bytes until acknowledged; a
// coordinator down for longer than the client's tries is waited out.
func TestServerErrorsAreRetried(t *testing.T) {
	f := newFed(t)
	f.open(t, q8)
	var fails atomic.Int32
	f.w.API.SetFault(func(r *http.Request) (int, http.Header, string, bool) {
		if r.Method == http.MethodPost && fails.Add(1) <= 9 { // more than one call's 6 tries
			return http.StatusServiceUnavailable, http.Header{"Retry-After": {"1"}}, "restarting", true
		}
		return 0, nil, "", false
	})
	var log bytes.Buffer
	res, err := f.node(t, nil, &log).Next(ctxFor(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != flnode.Acknowledged || res.Again || res.Resubmitted || res.Report == nil {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(log.String(), "sending the update again") || strings.Count(log.String(), "samples") != 1 {
		t.Errorf("trained more than once, or did not say it sent again:\n%s", log.String())
	}
	posts := f.posts()
	if len(posts) != 10 {
		t.Fatalf("%d posts, want 10", len(posts))
	}
	for _, p := range posts {
		if !bytes.Equal(p, posts[0]) {
			t.Fatal("a retry sent other bytes")
		}
	}
}

// A model whose bytes do not hash to the round's id is never trained on.
func TestTamperedModelIsRefused(t *testing.T) {
	f := newFed(t)
	f.open(t, q8)
	f.w.API.SetTamper(true)
	var log bytes.Buffer
	n := f.node(t, nil, &log)
	if _, err := n.Next(ctxFor(t, 200*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with a tampered model: %v", err)
	}
	if len(f.posts()) != 0 || !strings.Contains(log.String(), "does not hash to its id") {
		t.Fatalf("%d posts; progress:\n%s", len(f.posts()), log.String())
	}
	if _, err := os.Stat(filepath.Join(f.dir, "rounds", "1", "update.json")); err == nil {
		t.Fatal("an update was made from the tampered model")
	}
	f.w.API.SetTamper(false)
	if res, err := n.Next(ctxFor(t, time.Minute)); err != nil || res.Outcome != flnode.Acknowledged {
		t.Fatalf("with the real model: %+v, %v", res, err)
	}
}

// A key bound to another site, or unknown, is fatal: waiting cures
// neither.
func TestMisconfiguredKeysAreFatal(t *testing.T) {
	f := newFed(t)
	f.open(t, q8)
	other, _ := crypto.GenerateKey()
	n, err := flnode.New(flnode.Config{API: f.client(t), Dir: t.TempDir(), Key: other, Dataset: "nf-bot-iot-v2", Flows: f.flows, Poll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Next(ctxFor(t, time.Minute)); !errors.Is(err, flnode.ErrWrongSite) {
		t.Fatalf("key of another site: %v", err)
	}
	c, _ := flclient.New(f.srv.URL, "unknown", flclient.Options{})
	if _, err := f.node(t, c, &bytes.Buffer{}).Next(ctxFor(t, time.Minute)); !errors.Is(err, flclient.ErrUnauthorized) {
		t.Fatalf("unknown API key: %v", err)
	}
}

// An update saved for another federation that reused the round number is
// set aside, never sent.
func TestStaleUpdateIsSetAside(t *testing.T) {
	f := newFed(t)
	f.open(t, q8)
	stale := filepath.Join(f.dir, "rounds", "1")
	os.MkdirAll(stale, 0o700)
	old := federated.Update{ChainID: 5, Round: 1, BaseModel: strings.Repeat("0", 64), Samples: 1, Dim: 1, Encoding: federated.EncF32, Payload: make([]byte, 4)}
	old.Sign(f.key)
	b, _ := json.Marshal(old)
	os.WriteFile(filepath.Join(stale, "update.json"), b, 0o600)
	res, err := f.node(t, nil, &bytes.Buffer{}).Next(ctxFor(t, time.Minute))
	if err != nil || res.Resubmitted || res.Outcome != flnode.Acknowledged {
		t.Fatalf("%+v, %v", res, err)
	}
	if bytes.Equal(f.posts()[0], b) {
		t.Fatal("the stale update was sent")
	}
	m, _ := filepath.Glob(stale + ".stale-*")
	if len(m) != 1 {
		t.Fatalf("set aside: %v", m)
	}
}

func TestRunStopsAfterRounds(t *testing.T) {
	f := newFed(t)
	ctx := ctxFor(t, time.Minute)
	go f.w.C.Run(ctx)
	f.open(t, q8)
	var results []flnode.Result
	n := f.node(t, nil, &bytes.Buffer{})
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx, 2, func(r flnode.Result) { results = append(results, r) }) }()
	// Open round 2 once round 1 has closed.
	for {
		if _, err := f.w.Open(ctx, coordinator.OpenRequest{Policy: q8, MinUpdates: 1, Duration: time.Hour}); err == nil {
			break
		} else if !errors.Is(err, coordinator.ErrRoundOpen) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].Round != 1 || results[1].Round != 2 || results[1].BaseModel == results[0].BaseModel {
		t.Fatalf("results %+v", results)
	}
}

// A site with nothing its model can train on (an autoencoder and no
// benign flows) stops with ErrTooFew: waiting would not give it any.
func TestNothingToTrainOnIsFatal(t *testing.T) {
	f := newFed(t)
	f.open(t, q8)
	var attacks []*detector.Flow
	for _, fl := range f.flows {
		if fl.IsAttack() {
			attacks = append(attacks, fl)
		}
	}
	f.flows = attacks
	_, err := f.node(t, nil, &bytes.Buffer{}).Next(ctxFor(t, time.Minute))
	if !errors.Is(err, federated.ErrTooFew) || len(f.posts()) != 0 {
		t.Fatalf("%v, %d posts", err, len(f.posts()))
	}
}

// A key of another role is refused for good (403 forbidden): the node
// stops at once. A key bound to no enrolled site (403 not-enrolled) waits
// for an admin to enroll it.
func TestKeyOfAnotherRoleIsFatal(t *testing.T) {
	for _, c := range []struct {
		slug  string
		fatal bool
	}{{"forbidden", true}, {"not-enrolled", false}} {
		t.Run(c.slug, func(t *testing.T) {
			var asked atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				asked.Add(1)
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintf(w, `{"type":"https://idsledger.dev/problems/%s","title":"Forbidden","status":403,"detail":"no"}`, c.slug)
			}))
			defer srv.Close()
			api, err := flclient.New(srv.URL, "a-key", flclient.Options{})
			if err != nil {
				t.Fatal(err)
			}
			key, _ := crypto.GenerateKey()
			n, err := flnode.New(flnode.Config{API: api, Dir: t.TempDir(), Key: key, Dataset: "nf-bot-iot-v2", Flows: newFed(t).flows,
				Poll: 10 * time.Millisecond, Log: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
			defer cancel()
			_, err = n.Next(ctx)
			switch {
			case c.fatal && (!errors.Is(err, flclient.ErrForbidden) || ctx.Err() != nil):
				t.Fatalf("a key of another role: %v (asked %d times), want a final refusal before the deadline", err, asked.Load())
			case !c.fatal && !errors.Is(err, context.DeadlineExceeded):
				t.Fatalf("a key not enrolled yet: %v, want the node to wait", err)
			case !c.fatal && asked.Load() < 2:
				t.Fatalf("a key not enrolled yet was asked about %d times, want it to ask again", asked.Load())
			}
		})
	}
}

package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idsledger/idsledger/internal/fakes/storefakes"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/internal/testenv"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/webhook"
)

// start runs a dispatcher over store until the test ends.
func start(t *testing.T, store webhook.Store, opt webhook.Options) *webhook.Dispatcher {
	t.Helper()
	d := webhook.New(store, opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

// alerts returns n alerts of severity low and their ids.
func alerts(n int) ([]uuid.UUID, []ingest.AlertBody) {
	ids, bodies := make([]uuid.UUID, n), make([]ingest.AlertBody, n)
	for i := range n {
		ids[i] = uuid.Must(uuid.NewV7())
		bodies[i] = ingest.AlertBody{Type: "alert", ObservedAt: time.Unix(1700000000, 0).UTC(), Sensor: "s1",
			Class: "DDoS", Score: 0.9, Risk: 60, Severity: ingest.SeverityLow}
	}
	return ids, bodies
}

// loopback is the allow-list that lets deliveries reach httptest servers.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// counter is a receiver that answers 204 and counts what it got.
func counter() (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})), &n
}

// A redirect is not followed (it could lead anywhere, an internal address
// included): the 3xx is a failed delivery, and the target sees nothing.
func TestRedirectIsNotFollowed(t *testing.T) {
	target, hits := counter()
	defer target.Close()
	redirector := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirector.Close()
	store := &storefakes.WebhookStore{}
	h := store.Add(redirector.URL, ingest.SeverityLow)
	d := start(t, store, webhook.Options{MaxAttempts: 2, Backoff: time.Millisecond, Allow: loopback})
	d.Refresh(context.Background())
	d.Notify(alerts(1))
	testenv.Eventually(t, 10*time.Second, "the delivery dead-lettered", func() bool { return len(store.DeadLettersOf(h.ID)) == 1 })
	if n := hits.Load(); n != 0 {
		t.Fatalf("the redirect's target got %d requests", n)
	}
	if dl := store.DeadLettersOf(h.ID)[0]; !strings.Contains(dl.LastError, "307") {
		t.Fatalf("last error %q does not name the redirect", dl.LastError)
	}
}

// A receiver on loopback is refused at connect time, without retries, and
// the dead letter says why.
func TestLoopbackReceiverIsRefused(t *testing.T) {
	rcv, hits := counter()
	defer rcv.Close()
	store := &storefakes.WebhookStore{}
	h := store.Add(rcv.URL, ingest.SeverityLow)
	d := start(t, store, webhook.Options{MaxAttempts: 3, Backoff: time.Millisecond})
	d.Refresh(context.Background())
	d.Notify(alerts(1))
	testenv.Eventually(t, 10*time.Second, "the delivery dead-lettered", func() bool { return len(store.DeadLettersOf(h.ID)) == 1 })
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback receiver got %d requests", n)
	}
	dl := store.DeadLettersOf(h.ID)[0]
	if !strings.Contains(dl.LastError, "loopback") || dl.Attempts != 1 {
		t.Fatalf("dead letter after %d attempts, last error %q: want 1 attempt refused as loopback", dl.Attempts, dl.LastError)
	}
}

// The allow-list lets deliveries reach a network it names.
func TestAllowListExemptsLoopback(t *testing.T) {
	rcv, hits := counter()
	defer rcv.Close()
	store := &storefakes.WebhookStore{}
	store.Add(rcv.URL, ingest.SeverityLow)
	d := start(t, store, webhook.Options{MaxAttempts: 1, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	d.Refresh(context.Background())
	d.Notify(alerts(3))
	testenv.Eventually(t, 10*time.Second, "3 deliveries", func() bool { return hits.Load() == 3 })
	if dls := store.DeadLetters(); len(dls) != 0 {
		t.Fatalf("dead letters: %+v", dls)
	}
}

// hung is a receiver that holds every request until the test ends, and
// counts them.
func hung(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	release := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(func() { close(release); s.Close() })
	return s, &n
}

// A receiver that hangs takes up only its own webhook's workers and queue:
// the other webhook gets each delivery while the hung one's queue fills
// and overflows into dead letters.
func TestHungReceiverDoesNotStarveOthers(t *testing.T) {
	slow, held := hung(t)
	ok, hits := counter()
	defer ok.Close()
	store := &storefakes.WebhookStore{}
	stuck := store.Add(slow.URL, ingest.SeverityLow)
	live := store.Add(ok.URL, ingest.SeverityLow)
	const n, queue, workers = 60, 10, 2
	d := start(t, store, webhook.Options{Workers: workers, Queue: queue, MaxAttempts: 1, Timeout: time.Minute, Allow: loopback})
	d.Refresh(context.Background())
	ids, bodies := alerts(n)
	for i := range n {
		d.Notify(ids[i:i+1], bodies[i:i+1])
		testenv.Eventually(t, 5*time.Second, fmt.Sprintf("delivery %d to the working receiver", i+1),
			func() bool { return hits.Load() == int64(i+1) })
	}
	testenv.Eventually(t, 5*time.Second, "the hung receiver holding one delivery per worker", func() bool { return held.Load() == workers })
	// Of n deliveries to the hung receiver, the workers hold some, the queue
	// at most its bound, and the rest are dead letters at once.
	testenv.Eventually(t, 5*time.Second, "the hung receiver's overflow dead-lettered",
		func() bool { return len(store.DeadLettersOf(stuck.ID)) >= n-queue-workers })
	if got := len(store.DeadLettersOf(stuck.ID)); got > n-queue {
		t.Fatalf("%d dead letters for the hung receiver, want at most %d (its queue holds %d)", got, n-queue, queue)
	}
	if got := store.DeadLettersOf(live.ID); len(got) != 0 {
		t.Fatalf("the working receiver has %d dead letters: %+v", len(got), got[0])
	}
	if dl := store.DeadLettersOf(stuck.ID)[0]; !strings.Contains(dl.LastError, "queue is full") || dl.Attempts != 0 {
		t.Fatalf("overflow dead letter: %+v", dl)
	}
}

// A queue is bounded in bytes as well as in count: with room for two
// payloads, a hung receiver's queue takes two, whatever its count bound.
func TestQueueIsBoundedInBytes(t *testing.T) {
	slow, held := hung(t)
	store := &storefakes.WebhookStore{}
	h := store.Add(slow.URL, ingest.SeverityLow)
	ids, bodies := alerts(20)
	one, err := json.Marshal(webhook.Payload{Event: "alert", AlertID: ids[0], Alert: bodies[0], ProofURL: "/v1/alerts/" + ids[0].String() + "/proof"})
	if err != nil {
		t.Fatal(err)
	}
	d := start(t, store, webhook.Options{Workers: 1, Queue: 1000, QueueBytes: 2*len(one) + len(one)/2, MaxAttempts: 1,
		Timeout: time.Minute, Allow: loopback})
	d.Refresh(context.Background())
	d.Notify(ids[:1], bodies[:1])
	testenv.Eventually(t, 5*time.Second, "the worker holding the first delivery", func() bool { return held.Load() == 1 })
	d.Notify(ids[1:], bodies[1:])
	testenv.Eventually(t, 5*time.Second, "the overflow dead-lettered", func() bool { return len(store.DeadLettersOf(h.ID)) == len(ids)-3 })
	for _, dl := range store.DeadLettersOf(h.ID) {
		if dl.AlertID == ids[1] || dl.AlertID == ids[2] {
			t.Fatalf("alert %s was dead-lettered, though it fit in the queue", dl.AlertID)
		}
	}
}

// A webhook added while the dispatcher runs gets deliveries; one removed
// gets no more.
func TestRefreshAddsAndRemovesWebhooks(t *testing.T) {
	a, hitsA := counter()
	defer a.Close()
	b, hitsB := counter()
	defer b.Close()
	store := &storefakes.WebhookStore{}
	ha := store.Add(a.URL, ingest.SeverityLow)
	d := start(t, store, webhook.Options{Allow: loopback})
	d.Refresh(context.Background())
	d.Notify(alerts(1))
	testenv.Eventually(t, 5*time.Second, "the first delivery to a", func() bool { return hitsA.Load() == 1 })

	store.Remove(ha.ID)
	store.Add(b.URL, ingest.SeverityLow)
	d.Refresh(context.Background())
	d.Notify(alerts(2))
	testenv.Eventually(t, 5*time.Second, "two deliveries to b", func() bool { return hitsB.Load() == 2 })
	if n := hitsA.Load(); n != 1 {
		t.Fatalf("the removed webhook got %d deliveries, want 1", n)
	}
	if dls := store.DeadLetters(); len(dls) != 0 {
		t.Fatalf("dead letters: %+v", dls)
	}
}

// A delivery in progress when the dispatcher stops is a dead letter by the
// time Run returns, not lost.
func TestShutdownDeadLettersDeliveriesInProgress(t *testing.T) {
	slow, held := hung(t)
	store := &storefakes.WebhookStore{}
	h := store.Add(slow.URL, ingest.SeverityLow)
	d := webhook.New(store, webhook.Options{Workers: 1, MaxAttempts: 3, Timeout: time.Minute, Allow: loopback})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	d.Refresh(context.Background())
	d.Notify(alerts(1))
	testenv.Eventually(t, 5*time.Second, "the delivery in progress", func() bool { return held.Load() == 1 })
	cancel()
	<-done
	if dls := store.DeadLettersOf(h.ID); len(dls) != 1 || !strings.Contains(dls[0].LastError, "shutting down") {
		t.Fatalf("dead letters after Run returned: %+v", dls)
	}
}

// A name is resolved and checked at connect time: a webhook whose host
// name leads to loopback is refused there, whatever it resolved to when
// the webhook was created (DNS rebinding).
func TestNameResolvingToLoopbackIsRefusedAtConnect(t *testing.T) {
	rcv, hits := counter()
	defer rcv.Close()
	store := &storefakes.WebhookStore{}
	h := store.Add(strings.Replace(rcv.URL, "127.0.0.1", "localhost", 1), ingest.SeverityLow)
	d := start(t, store, webhook.Options{MaxAttempts: 3, Backoff: time.Millisecond})
	d.Refresh(context.Background())
	d.Notify(alerts(1))
	testenv.Eventually(t, 10*time.Second, "the delivery dead-lettered", func() bool { return len(store.DeadLettersOf(h.ID)) == 1 })
	if n := hits.Load(); n != 0 {
		t.Fatalf("the receiver got %d requests", n)
	}
	if dl := store.DeadLettersOf(h.ID)[0]; !strings.Contains(dl.LastError, "loopback") {
		t.Fatalf("last error %q", dl.LastError)
	}
}

// gatedStore is a store whose first ListWebhooks takes its answer, then
// waits for the gate: a slow database under a Refresh.
type gatedStore struct {
	*storefakes.WebhookStore
	first   atomic.Bool
	inside  chan struct{}
	release chan struct{}
}

func (s *gatedStore) ListWebhooks(ctx context.Context) ([]storage.Webhook, error) {
	hooks, err := s.WebhookStore.ListWebhooks(ctx)
	if s.first.CompareAndSwap(false, true) {
		close(s.inside)
		<-s.release
	}
	return hooks, err
}

// Two refreshes at once apply their lists in the order they read them: a
// slow refresh that read the list before a webhook was created does not
// remove that webhook after a later refresh added it.
func TestConcurrentRefreshesKeepTheNewerList(t *testing.T) {
	rcv, hits := counter()
	defer rcv.Close()
	store := &gatedStore{WebhookStore: &storefakes.WebhookStore{}, inside: make(chan struct{}), release: make(chan struct{})}
	d := webhook.New(store, webhook.Options{Allow: loopback})
	slow := make(chan struct{})
	go func() { d.Refresh(context.Background()); close(slow) }() // reads an empty list, then waits
	<-store.inside
	store.Add(rcv.URL, ingest.SeverityLow)
	fast := make(chan struct{})
	go func() { d.Refresh(context.Background()); close(fast) }() // reads the list with the webhook
	time.Sleep(50 * time.Millisecond)                            // room for the fast one to finish first, if it may
	close(store.release)
	<-slow
	<-fast
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() { d.Run(ctx); close(done) }()
	d.Notify(alerts(1))
	testenv.Eventually(t, 5*time.Second, "the delivery to the webhook created between the refreshes", func() bool { return hits.Load() == 1 })
}

// A chain alert's delivery carries its source and chain object beside the
// alert; a flow alert's carries neither.
func TestChainAlertDeliveryCarriesItsChain(t *testing.T) {
	got := make(chan webhook.Payload, 2)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhook.Payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Error(err)
		}
		got <- p
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	store := &storefakes.WebhookStore{}
	store.Add(rcv.URL, ingest.SeverityLow)
	d := start(t, store, webhook.Options{MaxAttempts: 1, Allow: loopback})
	d.Refresh(context.Background())

	_, bodies := alerts(1)
	chainAlert := storage.Alert{
		AlertBody: ingest.AlertBody{ID: uuid.New(), Type: "chain_alert", Sensor: "chain:1337", Class: "fraud", Severity: ingest.SeverityHigh},
		Source:    "chain",
		Chain:     &storage.ChainAlert{ChainID: 1337, Rule: "gbt", Account: "0x52908400098527886E0F7030069857D2E4169EE7"},
	}
	d.NotifyAlerts([]storage.Alert{chainAlert, {AlertBody: bodies[0]}})
	var chainP, flowP webhook.Payload
	for range 2 {
		select {
		case p := <-got:
			if p.Alert.Type == "chain_alert" {
				chainP = p
			} else {
				flowP = p
			}
		case <-time.After(10 * time.Second):
			t.Fatal("deliveries missing after 10 s")
		}
	}
	if chainP.AlertID != chainAlert.ID || chainP.Source != "chain" || chainP.Chain == nil || chainP.Chain.Account != chainAlert.Chain.Account ||
		chainP.ProofURL != "/v1/alerts/"+chainAlert.ID.String()+"/proof" {
		t.Fatalf("chain alert delivery %+v", chainP)
	}
	if flowP.Source != "" || flowP.Chain != nil || flowP.Alert.Class != "DDoS" {
		t.Fatalf("flow alert delivery %+v", flowP)
	}
}

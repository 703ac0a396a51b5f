package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/internal/fakes"
	"github.com/idsledger/idsledger/internal/testenv"
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
	store := &fakes.WebhookStore{}
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
	store := &fakes.WebhookStore{}
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
	store := &fakes.WebhookStore{}
	store.Add(rcv.URL, ingest.SeverityLow)
	d := start(t, store, webhook.Options{MaxAttempts: 1, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	d.Refresh(context.Background())
	d.Notify(alerts(3))
	testenv.Eventually(t, 10*time.Second, "3 deliveries", func() bool { return hits.Load() == 3 })
	if dls := store.DeadLetters(); len(dls) != 0 {
		t.Fatalf("dead letters: %+v", dls)
	}
}

package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/idsledger/idsledger/webhook"
)

// The signature is t=<unix>,v1=hex(HMAC-SHA256(secret, "<t>.<body>")), as
// the receivers' documentation says.
func TestSignMatchesTheDocumentedScheme(t *testing.T) {
	body := []byte(`{"event":"alert"}`)
	at := time.Unix(1700000000, 0)
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte("1700000000." + string(body)))
	want := "t=1700000000,v1=" + hex.EncodeToString(mac.Sum(nil))
	if got := webhook.Sign("s3cret", at, body); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	if webhook.Sign("other", at, body) == want {
		t.Fatal("a different secret gives the same signature")
	}
}

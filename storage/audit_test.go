package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// An audit event names a webhook by its origin and the hash of its URL:
// never a token the receiver takes in the query or in the path.
func TestWebhookRefHoldsNoToken(t *testing.T) {
	for in, origin := range map[string]string{
		"https://receiver.example/hooks/a?token=t0ken":                   "https://receiver.example",
		"https://hooks.slack.example/services/T000/B000/s3cretPathToken": "https://hooks.slack.example",
		"https://receiver.example:8443/a?x=1#frag":                       "https://receiver.example:8443",
		"http://[2001:db8::1]:8080/p?q":                                  "http://[2001:db8::1]:8080",
	} {
		ref := webhookRef(uuid.New(), in, "high")
		sum := sha256.Sum256([]byte(in))
		if ref.Origin != origin || ref.URLSHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: %+v, want origin %s and the URL's SHA-256", in, ref, origin)
		}
		for _, secret := range []string{"t0ken", "s3cretPathToken", "frag"} {
			if strings.Contains(ref.Origin, secret) {
				t.Errorf("%s: the origin %s holds %s", in, ref.Origin, secret)
			}
		}
	}
}

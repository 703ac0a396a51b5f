package storage

import "testing"

// An audit event names a webhook's URL without what often carries a
// receiver's token.
func TestAuditURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://receiver.example/hooks/a":             "https://receiver.example/hooks/a",
		"https://receiver.example/hooks/a?token=t0ken": "https://receiver.example/hooks/a",
		"https://receiver.example:8443/a?x=1#frag":     "https://receiver.example:8443/a",
		"https://user:pass@receiver.example/a?":        "https://receiver.example/a",
		"http://[2001:db8::1]:8080/p?q":                "http://[2001:db8::1]:8080/p",
	} {
		if got := auditURL(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

package api

import (
	"testing"
)

// A cursor decodes only if it round-trips: no other string is accepted.
func FuzzDecodeCursor(f *testing.F) {
	f.Add("AQAGAAAAAAAAAZDXoAAAAHAAgAAAAAAAAAE")
	f.Add("")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			return
		}
		if got := *encodeCursor(c); got != s {
			t.Fatalf("cursor %q decodes but re-encodes as %q", s, got)
		}
	})
}

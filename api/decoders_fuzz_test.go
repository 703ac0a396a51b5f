package api

import (
	"testing"
)

// checkRecords holds for every decoder: records are numbered 0..n-1 in
// order, at most max, and each has columns and values or an error, never
// both.
func checkRecords(t *testing.T, recs []*flowRecord, msg string, max int) {
	if msg != "" {
		if recs != nil {
			t.Fatalf("records returned with a body error %q", msg)
		}
		return
	}
	if len(recs) > max {
		t.Fatalf("%d records over the limit %d", len(recs), max)
	}
	for i, r := range recs {
		if r.index != i {
			t.Fatalf("record %d has index %d", i, r.index)
		}
		if (r.err == "") == (r.header == nil) {
			t.Fatalf("record %d: header %v and error %q", i, r.header, r.err)
		}
		if r.header == nil {
			continue
		}
		if len(r.values) != len(r.header.Names) {
			t.Fatalf("record %d: %d values for %d columns", i, len(r.values), len(r.header.Names))
		}
		if len(r.values) > maxFlowFields {
			t.Fatalf("record %d: %d fields", i, len(r.values))
		}
	}
}

func FuzzParseJSONArray(f *testing.F) {
	for _, s := range []string{`[]`, `[{"a":1}]`, `[{"a":"x","b":true,"c":null}, 5, {"d":[1]}]`, `[{"a":1e999}]`, `[`, `{}`, `[{"a":1},]`, `[{"":1}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, msg := parseJSONArray(body, 50)
		checkRecords(t, recs, msg, 50)
	})
}

func FuzzParseNDJSON(f *testing.F) {
	for _, s := range []string{"{\"a\":1}\n{\"b\":2}\n", "\n\n", "{\n", "[1]\n{\"a\":{}}\n", "{\"a\":\"\\ud800\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, msg := parseNDJSON(body, 50)
		checkRecords(t, recs, msg, 50)
	})
}

func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a\n\"x\n", "a,b\n1\n1,2,3\n", "\xef\xbb\xbfa;b\n1;2\n", ",\n", "a,a\n1,1\n", "a\n\"\"\"\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, msg := parseCSV(body, 50)
		checkRecords(t, recs, msg, 50)
	})
}

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

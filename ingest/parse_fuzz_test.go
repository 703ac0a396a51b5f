package ingest

import (
	"bytes"
	"errors"
	"testing"
)

// checkRecords holds for every decoder: records are numbered 0..n-1 in
// order, at most max, and each has columns and values or an error, never
// both.
func checkRecords(t *testing.T, recs []Record, err error, max int) {
	if err != nil {
		if recs != nil {
			t.Fatalf("records returned with a body error %q", err)
		}
		if !errors.Is(err, ErrMalformedBody) && !errors.Is(err, ErrTooManyRecords) {
			t.Fatalf("body error %q is neither ErrMalformedBody nor ErrTooManyRecords", err)
		}
		return
	}
	if len(recs) > max {
		t.Fatalf("%d records over the limit %d", len(recs), max)
	}
	for i, r := range recs {
		if r.Index != i {
			t.Fatalf("record %d has index %d", i, r.Index)
		}
		if (r.Err == nil) == (r.Header == nil) {
			t.Fatalf("record %d: header %v and error %v", i, r.Header, r.Err)
		}
		if r.Header == nil {
			if !errors.Is(r.Err, ErrInvalidRecord) {
				t.Fatalf("record %d: error %q is not ErrInvalidRecord", i, r.Err)
			}
			continue
		}
		if len(r.Values) != len(r.Header.Names) {
			t.Fatalf("record %d: %d values for %d columns", i, len(r.Values), len(r.Header.Names))
		}
		if len(r.Values) > MaxRecordFields {
			t.Fatalf("record %d: %d fields", i, len(r.Values))
		}
	}
}

func FuzzParseJSONArray(f *testing.F) {
	for _, s := range []string{`[]`, `[{"a":1}]`, `[{"a":"x","b":true,"c":null}, 5, {"d":[1]}]`, `[{"a":1e999}]`, `[`, `{}`, `[{"a":1},]`, `[{"":1}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, err := parseJSONArray(bytes.NewReader(body), 50)
		checkRecords(t, recs, err, 50)
	})
}

func FuzzParseNDJSON(f *testing.F) {
	for _, s := range []string{"{\"a\":1}\n{\"b\":2}\n", "\n\n", "{\n", "[1]\n{\"a\":{}}\n", "{\"a\":\"\\ud800\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, err := parseNDJSON(bytes.NewReader(body), 50)
		checkRecords(t, recs, err, 50)
	})
}

func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a\n\"x\n", "a,b\n1\n1,2,3\n", "\xef\xbb\xbfa;b\n1;2\n", ",\n", "a,a\n1,1\n", "a\n\"\"\"\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := parseCSV(bytes.NewReader(body), 50)
		checkRecords(t, b.Records, err, 50)
		for _, r := range b.Records {
			if r.Header != nil && r.Header != b.Header {
				t.Fatalf("record %d has a header of its own", r.Index)
			}
		}
	})
}

package anchor

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"testing"
)

// canonicalVectors mirrors testdata/canonical_vectors.json: the RFC 8785
// test vectors (cyberphone/json-canonicalization), RFC 8785 appendix B
// number spellings checked against ECMAScript's JSON.stringify, and
// documents that have no canonical form.
type canonicalVectors struct {
	Vectors []struct {
		Name   string `json:"name"`
		Input  string `json:"input"`
		Output string `json:"output"`
	} `json:"vectors"`
	Invalid []struct {
		Name  string `json:"name"`
		Input string `json:"input"`
	} `json:"invalid"`
}

func loadCanonicalVectors(tb testing.TB) canonicalVectors {
	tb.Helper()
	raw, err := os.ReadFile("testdata/canonical_vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var v canonicalVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestCanonicalizeVectors(t *testing.T) {
	v := loadCanonicalVectors(t)
	for _, tc := range v.Vectors {
		t.Run(tc.Name, func(t *testing.T) {
			got, err := Canonicalize([]byte(tc.Input))
			if err != nil {
				t.Fatalf("Canonicalize(%q): %v", tc.Input, err)
			}
			if string(got) != tc.Output {
				t.Fatalf("Canonicalize(%q)\n got %q\nwant %q", tc.Input, got, tc.Output)
			}
		})
	}
}

func TestCanonicalizeRejects(t *testing.T) {
	v := loadCanonicalVectors(t)
	cases := append(v.Invalid, struct {
		Name  string `json:"name"`
		Input string `json:"input"`
	}{"invalid utf-8", "\"\xff\""})
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			got, err := Canonicalize([]byte(tc.Input))
			if !errors.Is(err, ErrNotCanonicalizable) {
				t.Fatalf("Canonicalize(%q) = %q, %v; want ErrNotCanonicalizable", tc.Input, got, err)
			}
		})
	}
	if _, err := Canonicalize(nil); !errors.Is(err, ErrNotCanonicalizable) {
		t.Fatalf("Canonicalize(nil) error = %v", err)
	}
}

func TestCanonicalizeSameBodySameLeaf(t *testing.T) {
	a := []byte(`{"kind":"alert","score":0.5,"labels":["dos","modbus"],"n":1}`)
	b := []byte("{\n  \"n\": 1.0, \"labels\": [\"dos\", \"mod\\u0062us\"],\n  \"score\": 5e-1, \"kind\": \"alert\"\n}")
	ca, err := Canonicalize(a)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := Canonicalize(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca, cb) || LeafHash(ca) != LeafHash(cb) {
		t.Fatalf("equivalent bodies canonicalize differently:\n%s\n%s", ca, cb)
	}
}

func TestCanonicalizeDoesNotAliasInput(t *testing.T) {
	doc := []byte(`{"a":1}`)
	out, err := Canonicalize(doc)
	if err != nil {
		t.Fatal(err)
	}
	out[0] = 'X'
	if string(doc) != `{"a":1}` {
		t.Fatalf("input modified: %s", doc)
	}
}

// FuzzCanonicalize checks, for any input Canonicalize accepts, that the
// output is valid JSON, is a fixed point, and means the same as the input.
// Seeds are the vectors in testdata/canonical_vectors.json.
func FuzzCanonicalize(f *testing.F) {
	v := loadCanonicalVectors(f)
	for _, tc := range v.Vectors {
		f.Add([]byte(tc.Input))
	}
	for _, tc := range v.Invalid {
		f.Add([]byte(tc.Input))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		out, err := Canonicalize(doc)
		if err != nil {
			if !errors.Is(err, ErrNotCanonicalizable) {
				t.Fatalf("error does not wrap ErrNotCanonicalizable: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not JSON: %q", out)
		}
		again, err := Canonicalize(out)
		if err != nil {
			t.Fatalf("canonical output rejected: %q: %v", out, err)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("not a fixed point:\n%q\n%q", out, again)
		}
		var in, back any
		if json.Unmarshal(doc, &in) != nil {
			return // Go's decoder is stricter in places (e.g. invalid UTF-8 handling).
		}
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(in, back) {
			t.Fatalf("meaning changed:\n in %q\nout %q", doc, out)
		}
	})
}

// jsonEqual compares decoded JSON values; numbers are float64 on both sides,
// the precision RFC 8785 keeps, and -0 equals 0 as RFC 8785 serializes it.
func jsonEqual(a, b any) bool {
	return reflect.DeepEqual(a, b)
}

// CanonicalJSON is Canonicalize over encoding/json's output, and a value
// encoding/json refuses is not canonicalizable.
func TestCanonicalJSON(t *testing.T) {
	got, err := CanonicalJSON(struct {
		Z string  `json:"z"`
		A float64 `json:"a"`
	}{"x", 1.50})
	if err != nil || string(got) != `{"a":1.5,"z":"x"}` {
		t.Fatalf("got %s, %v", got, err)
	}
	if _, err := CanonicalJSON(math.NaN()); !errors.Is(err, ErrNotCanonicalizable) {
		t.Fatalf("NaN: %v, want ErrNotCanonicalizable", err)
	}
}

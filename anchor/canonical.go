package anchor

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gowebpki/jcs"
)

// ErrNotCanonicalizable reports a document that has no RFC 8785 canonical
// form: it is not well-formed JSON, holds a duplicate object key, invalid
// UTF-8 or an unpaired surrogate, nests too deeply, or holds a number that is
// not a finite IEEE 754 double (for example 1e400).
var ErrNotCanonicalizable = errors.New("anchor: document has no canonical form")

// Canonicalize returns the RFC 8785 (JSON Canonicalization Scheme) form of the
// JSON document doc: object members sorted by the UTF-16 code units of their
// names, no insignificant whitespace, strings with the minimal escaping of
// RFC 8785 section 3.2.2.2, numbers in the ECMAScript shortest round-trip form.
//
// Guarantees, relied on by every leaf hash and so by every proof an auditor
// checks:
//   - two documents that differ only in member order, whitespace, string
//     escaping or number spelling (1.0, 1e0, 10e-1) give identical bytes;
//   - Canonicalize(Canonicalize(doc)) == Canonicalize(doc), byte for byte;
//   - doc is never modified and the result never aliases it.
//
// Numbers pass through IEEE 754 doubles, as RFC 8785 requires: integers
// beyond 2^53 and decimals with more than 17 significant digits are rounded.
// A record field that must survive exactly (a 64-bit counter, a score compared
// bit for bit) has to be a JSON string in the record body.
//
// Any document without a canonical form yields an error wrapping
// ErrNotCanonicalizable.
func Canonicalize(doc []byte) ([]byte, error) {
	if len(doc) == 0 {
		return nil, fmt.Errorf("%w: empty document", ErrNotCanonicalizable)
	}
	out, err := jcs.Transform(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCanonicalizable, err)
	}
	return out, nil
}

// CanonicalJSON is the canonical form of v's JSON encoding (encoding/json,
// then Canonicalize): how a record body is made from a Go value. A value
// encoding/json refuses (a NaN, a channel) yields an error wrapping
// ErrNotCanonicalizable too.
func CanonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCanonicalizable, err)
	}
	return Canonicalize(raw)
}

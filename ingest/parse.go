package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"slices"
	"strconv"
	"strings"

	"github.com/idsledger/idsledger/detector"
)

// Limits on one flow record, whatever its format.
const (
	MaxRecordFields   = 512
	MaxFieldNameBytes = 128
	MaxFieldBytes     = 4096
)

// Format is how a body of flow records is written.
type Format int

const (
	// FormatJSON is a JSON array of flat objects.
	FormatJSON Format = iota + 1
	// FormatNDJSON is one flat JSON object per line.
	FormatNDJSON
	// FormatCSV is a header row, then one record per row.
	FormatCSV
)

// FormatOf maps a Content-Type to the format it announces; ok is false for
// a type no format reads.
func FormatOf(contentType string) (f Format, ok bool) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, false
	}
	switch mt {
	case "application/json":
		return FormatJSON, true
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines":
		return FormatNDJSON, true
	case "text/csv":
		return FormatCSV, true
	}
	return 0, false
}

// Errors of Parse. A body error fails the whole body: nothing of it is
// read. A record error (ErrInvalidRecord) rejects one record and the
// others still go through.
var (
	// ErrTooManyRecords: the body holds more records than allowed.
	ErrTooManyRecords = errors.New("too many flow records")
	// ErrMalformedBody: the body cannot be split into records (malformed
	// JSON, an unclosed array, an unreadable CSV header).
	ErrMalformedBody = errors.New("malformed body")
	// ErrInvalidRecord: one record is not a flat record of scalars.
	ErrInvalidRecord = errors.New("invalid flow record")
)

// Record is one record of a body before it is parsed as a flow: its
// columns (by name) and values, or the error that rejects it.
type Record struct {
	Index  int // position among the body's records, from 0
	Line   int // line in a CSV or NDJSON body (0 for a JSON array)
	Header *detector.Header
	Values []string // aligned with Header's columns
	Err    error    // why the record is rejected, wrapping ErrInvalidRecord; nil when it is not
}

func (r *Record) reject(format string, args ...any) {
	r.Header, r.Values = nil, nil
	r.Err = detailError{ErrInvalidRecord, fmt.Sprintf(format, args...)}
}

// detailError is an error of a sentinel kind whose message is the detail
// alone, as clients are shown it: errors.Is(e, kind) holds.
type detailError struct {
	kind   error
	detail string
}

func (e detailError) Error() string        { return e.detail }
func (e detailError) Is(target error) bool { return target == e.kind }

// MaxLineBytes bounds one NDJSON line (a record of MaxRecordFields fields
// of MaxFieldBytes fits).
const MaxLineBytes = 4 << 20

// Body is a request body split into records.
type Body struct {
	// Header is a CSV body's header row, shared by all its records (nil
	// for JSON and NDJSON, where each record names its own fields): Ingest
	// judges it once, up front.
	Header  *detector.Header
	Records []Record
}

// ParseBody reads body as it arrives and splits it into at most max
// records: the body is never held whole in memory beside its records. Body
// errors wrap ErrTooManyRecords or ErrMalformedBody, or, when the body could
// not be read at all, the reader's error (an *http.MaxBytesError for a body
// over its limit); each record either has columns and values or an error,
// never both.
func ParseBody(f Format, body io.Reader, max int) (Body, error) {
	switch f {
	case FormatJSON:
		recs, err := parseJSONArray(body, max)
		return Body{Records: recs}, err
	case FormatNDJSON:
		recs, err := parseNDJSON(body, max)
		return Body{Records: recs}, err
	case FormatCSV:
		return parseCSV(body, max)
	}
	return Body{}, malformed("unknown format %d", f)
}

// Parse is ParseBody's records alone.
func Parse(f Format, body io.Reader, max int) ([]Record, error) {
	b, err := ParseBody(f, body, max)
	return b.Records, err
}

// readError reports whether err is the body reader's failure rather than
// a decoding error, and wraps it so callers can tell (errors.As).
func readError(err error) (error, bool) {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var pe *csv.ParseError
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &syntax) || errors.As(err, &typ) || errors.As(err, &pe) {
		return nil, false
	}
	return fmt.Errorf("read the body: %w", err), true
}

func malformed(format string, args ...any) error {
	return detailError{ErrMalformedBody, fmt.Sprintf(format, args...)}
}

func tooMany(max int) error {
	return detailError{ErrTooManyRecords, fmt.Sprintf("more than %d flow records in one request; split the batch", max)}
}

// parseJSONArray splits a JSON array into records. Malformed JSON fails the
// whole body (there is no telling where the next record starts); an element
// that is not a flat object is a record error.
func parseJSONArray(body io.Reader, max int) ([]Record, error) {
	dec := json.NewDecoder(body)
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(err, "the body is not JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, malformed("the body must be a JSON array of flow objects")
	}
	var recs []Record
	for dec.More() {
		if len(recs) >= max {
			return nil, tooMany(max)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, jsonError(err, fmt.Sprintf("record %d is not valid JSON", len(recs)))
		}
		r := Record{Index: len(recs)}
		r.flatObject(raw)
		recs = append(recs, r)
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonError(err, "the JSON array is not closed")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("unexpected data after the JSON array")
	}
	return recs, nil
}

func jsonError(err error, what string) error {
	if rerr, ok := readError(err); ok {
		return rerr
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return malformed("%s: malformed JSON at byte %d", what, syntax.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return malformed("%s: the JSON ends early", what)
	}
	return malformed("%s", what)
}

// parseNDJSON reads one JSON object per line; blank lines are skipped and
// every bad line is a record error.
func parseNDJSON(body io.Reader, max int) ([]Record, error) {
	var recs []Record
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		if len(recs) >= max {
			return nil, tooMany(max)
		}
		r := Record{Index: len(recs), Line: line}
		if !json.Valid(text) {
			r.reject("not valid JSON")
		} else {
			r.flatObject(text)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, malformed("NDJSON line %d is longer than %d bytes", line+1, MaxLineBytes)
		}
		return nil, fmt.Errorf("read the body: %w", err)
	}
	return recs, nil
}

// flatObject sets r's columns and values from one JSON object of scalar
// values: strings as they are, numbers as written, booleans as true/false,
// null as missing.
func (r *Record) flatObject(raw []byte) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		r.reject("a flow record must be a JSON object")
		return
	}
	if len(obj) > MaxRecordFields {
		r.reject("more than %d fields", MaxRecordFields)
		return
	}
	names := make([]string, 0, len(obj))
	for k, v := range obj {
		if k == "" || len(k) > MaxFieldNameBytes {
			r.reject("field name %q: empty or longer than %d bytes", Clip(k, 40), MaxFieldNameBytes)
			return
		}
		switch x := v.(type) {
		case string:
			if len(x) > MaxFieldBytes {
				r.reject("field %s: longer than %d bytes", k, MaxFieldBytes)
				return
			}
		case json.Number, bool:
		case nil:
			continue
		default:
			r.reject("field %s: a flow field must be a string, number, boolean or null", Clip(k, 40))
			return
		}
		names = append(names, k)
	}
	slices.Sort(names)
	values := make([]string, len(names))
	for i, k := range names {
		switch x := obj[k].(type) {
		case string:
			values[i] = x
		case json.Number:
			values[i] = x.String()
		case bool:
			values[i] = strconv.FormatBool(x)
		}
	}
	r.Header, r.Values = detector.InternHeader(names), values
}

// parseCSV reads a header row and then one record per row; a row with the
// wrong number of fields or bad quoting is a record error.
func parseCSV(body io.Reader, max int) (Body, error) {
	br := bufio.NewReaderSize(body, 64<<10)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return Body{}, malformed("the CSV body is empty: it needs a header row")
		}
		if rerr, ok := readError(err); ok {
			return Body{}, rerr
		}
		return Body{}, malformed("the CSV header row is malformed: %v", err)
	}
	if len(header) > MaxRecordFields {
		return Body{}, malformed("the CSV header has more than %d columns", MaxRecordFields)
	}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" || len(h) > MaxFieldNameBytes || seen[h] {
			return Body{}, malformed("CSV header column %d (%q) is empty, too long or repeated", i+1, Clip(h, 40))
		}
		seen[h] = true
		header[i] = h
	}
	h := detector.InternHeader(header)
	var recs []Record
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		line := 0
		if err == nil && len(row) > 0 {
			line, _ = cr.FieldPos(0)
		}
		if len(recs) >= max {
			return Body{}, tooMany(max)
		}
		r := Record{Index: len(recs), Line: line}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			r.Line = pe.Line
			r.reject("malformed CSV: %v", pe.Err)
		case err != nil:
			if rerr, ok := readError(err); ok {
				return Body{}, rerr
			}
			return Body{}, malformed("the CSV body could not be read: %v", err)
		case len(row) == 1 && strings.TrimSpace(row[0]) == "":
			continue // a blank line
		case len(row) != len(header):
			r.reject("%d fields, the header has %d", len(row), len(header))
		default:
			r.Header, r.Values = h, row
			for i, v := range row {
				if len(v) > MaxFieldBytes {
					r.reject("field %s: longer than %d bytes", header[i], MaxFieldBytes)
					break
				}
			}
		}
		recs = append(recs, r)
	}
	return Body{Header: h, Records: recs}, nil
}

// Clip shortens s for quoting in an error message.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

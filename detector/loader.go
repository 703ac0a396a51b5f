package detector

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// LoadOptions control how dataset files are read.
type LoadOptions struct {
	// SkipMalformed counts and skips malformed rows (wrong field count, bad
	// quoting, an invalid binary label) instead of failing on the first one
	// with an error naming the file and line.
	SkipMalformed bool
	// Comma is the field separator; 0 sniffs tab, semicolon or comma from
	// the first line.
	Comma rune
	// Limit stops each file after this many rows (0: no limit).
	Limit int

	// Options of the generic "csv" kind (see CSVSchema).
	LabelColumn  string
	BenignLabels []string
	Identifiers  []string
	Categorical  []string
	ExtraLabels  []string
	WindowKey    string
	TimeColumn   string
}

// LoadStats count what a load saw. Value-level counts (NaN, Inf, missing,
// clipped) are kept by the Pipeline, which is where values are interpreted.
type LoadStats struct {
	Files     int            `json:"files"`
	Rows      int            `json:"rows"`
	Skipped   int            `json:"skipped_malformed"`
	Unlabeled int            `json:"unlabeled"`
	ByClass   map[string]int `json:"by_class"`
}

func (s *LoadStats) add(o LoadStats) {
	s.Files += o.Files
	s.Rows += o.Rows
	s.Skipped += o.Skipped
	s.Unlabeled += o.Unlabeled
	if s.ByClass == nil {
		s.ByClass = map[string]int{}
	}
	for k, v := range o.ByClass {
		s.ByClass[k] += v
	}
}

// ErrMalformed wraps every malformed-row error; the message names the file
// and line.
var ErrMalformed = errors.New("malformed row")

// Reader streams flows from one CSV/TSV file with bounded memory: one
// record buffer is reused and each Flow owns only its own values.
type Reader struct {
	schema *Schema
	opt    LoadOptions
	name   string
	cr     *csv.Reader
	header *Header
	class  string // from the file name, when the schema says so
	first  []string
	closer io.Closer
	stats  LoadStats
}

// OpenDataset opens path as a file of dataset kind.
func OpenDataset(kind, path string, opt LoadOptions) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(kind, f, path, opt)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads dataset kind from src; name is used in errors and as the
// file name for schemas that take the class from it. It reads the header
// (stripping a UTF-8 BOM; CRLF line ends are accepted) before returning.
func NewReader(kind string, src io.Reader, name string, opt LoadOptions) (*Reader, error) {
	s, err := LookupSchema(kind, opt)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(src, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	comma := opt.Comma
	if comma == 0 {
		comma = sniffComma(br)
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	r := &Reader{schema: s, opt: opt, name: name, cr: cr, stats: LoadStats{Files: 1, ByClass: map[string]int{}}}
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	names := trimAll(append([]string(nil), rec...))
	if len(s.DefaultHeader) > 0 && len(names) > 0 && isNumber(names[0]) {
		// A header-less file: the first record is data.
		r.first = names
		names = s.DefaultHeader
	}
	r.header = NewHeader(names)
	if u := s.UnknownColumns(r.header); len(u) > 0 {
		// The rule of Rules, applied before any model exists: a
		// misspelt column must not become a feature, nor a flow's value
		// be lost under it.
		fe := &FlowError{Dataset: s.Kind}
		for _, n := range u {
			fe.Problems = append(fe.Problems, FieldProblem{Field: n, Kind: ProblemUnknown})
		}
		return nil, fmt.Errorf("%s: header: %w", name, fe)
	}
	if s.ClassFromFileName {
		r.class = s.ClassFromFile(name)
	}
	if s.ClassColumn != "" && r.header.Index(s.ClassColumn) < 0 && (s.BinaryColumn == "" || r.header.Index(s.BinaryColumn) < 0) {
		return nil, fmt.Errorf("%s: no label column %q in header", name, s.ClassColumn)
	}
	return r, nil
}

// Header is the file's column header.
func (r *Reader) Header() *Header { return r.header }

// Stats are the counts so far.
func (r *Reader) Stats() LoadStats { return r.stats }

// Close closes the underlying file when the Reader opened it.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Next returns the next flow, or io.EOF at the end (or at Limit). A
// malformed row gives an error wrapping ErrMalformed naming file and line,
// unless SkipMalformed is set, in which case it is counted and skipped.
func (r *Reader) Next() (*Flow, error) {
	for {
		if r.opt.Limit > 0 && r.stats.Rows >= r.opt.Limit {
			return nil, io.EOF
		}
		var rec []string
		line := 0
		if r.first != nil {
			rec, r.first, line = r.first, nil, 1
		} else {
			var err error
			rec, err = r.cr.Read()
			if err == io.EOF {
				return nil, io.EOF
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					if r.opt.SkipMalformed {
						r.stats.Skipped++
						continue
					}
					return nil, fmt.Errorf("%s:%d: %w: %v", r.name, pe.Line, ErrMalformed, pe.Err)
				}
				return nil, fmt.Errorf("%s: %w", r.name, err)
			}
			line, _ = r.cr.FieldPos(0)
		}
		if len(rec) != len(r.header.Names) {
			if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
				continue // a blank line
			}
			if r.opt.SkipMalformed {
				r.stats.Skipped++
				continue
			}
			return nil, fmt.Errorf("%s:%d: %w: %d fields, header has %d", r.name, line, ErrMalformed, len(rec), len(r.header.Names))
		}
		f := &Flow{Header: r.header, Values: trimAll(append([]string(nil), rec...)), Source: r.name, Line: line}
		if err := r.schema.annotate(f); err != nil {
			if r.opt.SkipMalformed {
				r.stats.Skipped++
				continue
			}
			return nil, fmt.Errorf("%s:%d: %w: %v", r.name, line, ErrMalformed, err)
		}
		if r.class != "" {
			f.Class = r.class
		}
		r.stats.Rows++
		if f.Class == "" {
			r.stats.Unlabeled++
		} else {
			r.stats.ByClass[f.Class]++
		}
		return f, nil
	}
}

// LoadFiles reads every file of dataset kind into memory, in order.
func LoadFiles(kind string, paths []string, opt LoadOptions) ([]*Flow, LoadStats, error) {
	var all []*Flow
	total := LoadStats{ByClass: map[string]int{}}
	for _, p := range paths {
		r, err := OpenDataset(kind, p, opt)
		if err != nil {
			return nil, total, err
		}
		for {
			f, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Close()
				return nil, total, err
			}
			all = append(all, f)
		}
		total.add(r.Stats())
		r.Close()
	}
	return all, total, nil
}

// sniffComma picks tab, semicolon or comma, whichever occurs most in the
// first line (comma on a tie or when none occurs).
func sniffComma(br *bufio.Reader) rune {
	buf, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		buf = buf[:i]
	}
	best, n := ',', bytes.Count(buf, []byte{','})
	for _, c := range []rune{'\t', ';'} {
		if k := bytes.Count(buf, []byte(string(c))); k > n {
			best, n = c, k
		}
	}
	return best
}

func trimAll(v []string) []string {
	for i := range v {
		v[i] = strings.TrimSpace(v[i])
	}
	return v
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

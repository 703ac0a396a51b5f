package detector

import (
	"cmp"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Header is the ordered column names of a data source, shared by all flows
// read from it. It is immutable once built.
type Header struct {
	Names []string
	index map[string]int
	fold  map[string]int
}

// NewHeader builds a header; lookups try the exact name first, then a
// case-insensitive match.
func NewHeader(names []string) *Header {
	h := &Header{Names: append([]string(nil), names...), index: map[string]int{}, fold: map[string]int{}}
	for i, n := range h.Names {
		if _, dup := h.index[n]; !dup {
			h.index[n] = i
		}
		if _, dup := h.fold[strings.ToLower(n)]; !dup {
			h.fold[strings.ToLower(n)] = i
		}
	}
	return h
}

// Index returns the position of column name, or -1.
func (h *Header) Index(name string) int {
	if name == "" {
		return -1
	}
	if i, ok := h.index[name]; ok {
		return i
	}
	if i, ok := h.fold[strings.ToLower(name)]; ok {
		return i
	}
	return -1
}

// FiveTuple is a flow's addresses, ports and IP protocol number, as the
// Community ID flow hash needs them. Zero fields mean "not in the data".
type FiveTuple struct {
	SrcAddr netip.Addr `json:"src_addr"`
	DstAddr netip.Addr `json:"dst_addr"`
	SrcPort uint16     `json:"src_port"`
	DstPort uint16     `json:"dst_port"`
	Proto   uint8      `json:"proto"`
}

// Valid reports whether both addresses and the protocol are known.
func (t FiveTuple) Valid() bool { return t.SrcAddr.IsValid() && t.DstAddr.IsValid() && t.Proto != 0 }

// Flow is one parsed flow record: its raw values by column, its class (when
// the data is labelled), its 5-tuple, and where it came from.
type Flow struct {
	Header *Header
	// Values are the raw cell values, trimmed of surrounding spaces,
	// aligned with Header.Names. The flow owns them.
	Values []string
	// Class is the canonical class name (BenignClass for benign traffic),
	// "" when the record carries no label.
	Class string
	// Tuple is the flow's 5-tuple, zero where the dataset lacks a field.
	Tuple FiveTuple
	// Time is the schema's time column as a number (0 when absent).
	Time float64
	// Key groups flows into windows (the schema's WindowKey value).
	Key string
	// Source and Line locate the record (file name, 1-based line).
	Source string
	Line   int
}

// Get returns the raw value of column name.
func (f *Flow) Get(name string) (string, bool) {
	i := f.Header.Index(name)
	if i < 0 || i >= len(f.Values) {
		return "", false
	}
	return f.Values[i], true
}

// IsAttack reports whether the flow is labelled and not benign.
func (f *Flow) IsAttack() bool { return f.Class != "" && f.Class != BenignClass }

// NewFlow builds a flow of dataset kind from named fields (the form the API
// receives). Labels, if present, set Class; the 5-tuple is parsed as from a
// file.
func NewFlow(kind string, fields map[string]string, opt LoadOptions) (*Flow, error) {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = fields[n]
	}
	return NewFlowRow(kind, InternHeader(names), vals, opt)
}

// NewFlowRow builds a flow of dataset kind from values aligned with h's
// columns (the form a CSV row has), as NewFlow does from named fields. The
// flow takes values over: they are trimmed of surrounding spaces in place.
func NewFlowRow(kind string, h *Header, values []string, opt LoadOptions) (*Flow, error) {
	s, err := LookupSchema(kind, opt)
	if err != nil {
		return nil, err
	}
	for i, v := range values {
		values[i] = strings.TrimSpace(v)
	}
	f := &Flow{Header: h, Values: values, Source: "api"}
	if err := s.annotate(f); err != nil {
		return nil, err
	}
	return f, nil
}

// apiHeaders shares one Header among API flows with the same field names,
// so per-header caches (Pipeline column positions) stay small and warm.
var apiHeaders struct {
	sync.Mutex
	m map[string]*Header
}

// InternHeader returns the shared Header of these column names, in this
// order, building it on first use. Names must be distinct.
func InternHeader(names []string) *Header {
	key := strings.Join(names, "\x00")
	apiHeaders.Lock()
	defer apiHeaders.Unlock()
	if h, ok := apiHeaders.m[key]; ok {
		return h
	}
	if apiHeaders.m == nil || len(apiHeaders.m) >= 256 {
		apiHeaders.m = map[string]*Header{}
	}
	h := NewHeader(names)
	apiHeaders.m[key] = h
	return h
}

// annotate normalizes Values (Schema.normalize) and fills Class, Tuple,
// Time and Key from them.
func (s *Schema) annotate(f *Flow) error {
	if s.normalize != nil {
		s.normalize(f)
	}
	if s.ClassColumn != "" {
		if v, ok := f.Get(s.ClassColumn); ok {
			f.Class = s.CanonicalClass(v)
		}
	}
	if f.Class == "" && s.BinaryColumn != "" {
		if v, ok := f.Get(s.BinaryColumn); ok {
			switch strings.TrimSpace(v) {
			case "0":
				f.Class = BenignClass
			case "1":
				f.Class = cmp.Or(s.AttackClass, "Attack")
			case "":
			default:
				return fmt.Errorf("binary label %s=%q: want 0 or 1", s.BinaryColumn, v)
			}
		}
	}
	if v, ok := f.Get(s.TimeColumn); ok {
		if t, err := strconv.ParseFloat(v, 64); err == nil {
			f.Time = t
		}
	}
	if v, ok := f.Get(s.WindowKey); ok {
		f.Key = v
	}
	t := &f.Tuple
	if v, ok := f.Get(s.Tuple.SrcAddr); ok {
		t.SrcAddr, _ = netip.ParseAddr(v)
	}
	if v, ok := f.Get(s.Tuple.DstAddr); ok {
		t.DstAddr, _ = netip.ParseAddr(v)
	}
	if v, ok := f.Get(s.Tuple.SrcPort); ok {
		t.SrcPort = parsePort(v)
	}
	if v, ok := f.Get(s.Tuple.DstPort); ok {
		t.DstPort = parsePort(v)
	}
	if v, ok := f.Get(s.Tuple.Proto); ok {
		t.Proto = parseProto(v)
	}
	return nil
}

// parsePort reads a decimal or 0x-hex port (Argus writes some ports in
// hex); anything else is 0.
func parsePort(v string) uint16 {
	if n, err := strconv.ParseUint(v, 0, 16); err == nil {
		return uint16(n)
	}
	if x, err := strconv.ParseFloat(v, 64); err == nil && x >= 0 && x <= 65535 && x == float64(int(x)) {
		return uint16(x)
	}
	return 0
}

var protoNumbers = map[string]uint8{
	"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51,
	"ipv6-icmp": 58, "icmpv6": 58, "sctp": 132,
}

// parseProto reads an IP protocol number or name ("tcp", "udp", ...); ARP
// and unknown names give 0.
func parseProto(v string) uint8 {
	if n, err := strconv.ParseUint(v, 10, 8); err == nil {
		return uint8(n)
	}
	if x, err := strconv.ParseFloat(v, 64); err == nil && x > 0 && x < 256 && x == float64(int(x)) {
		return uint8(x)
	}
	return protoNumbers[strings.ToLower(v)]
}

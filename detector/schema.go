package detector

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// BenignClass is the canonical name every schema maps its benign label to
// ("Normal", "normal", "benign_traffic", a 0 in a binary label column, ...).
const BenignClass = "Benign"

// TupleColumns names the columns that hold a flow's 5-tuple; an empty name
// means the dataset does not carry that field.
type TupleColumns struct {
	SrcAddr, SrcPort, DstAddr, DstPort, Proto string
	// ProtoNames: the protocol column may hold names ("tcp", "arp") as
	// well as numbers (Argus); otherwise only numbers (NetFlow).
	ProtoNames bool
}

// Schema describes one dataset kind: which columns are identifiers (never
// features), which hold labels, which are categorical, and where the 5-tuple
// is. Columns a schema does not name are numeric feature candidates (a
// candidate whose training values are mostly non-numeric is treated as
// categorical by the Pipeline).
type Schema struct {
	// Kind is the name used by the CLI and the API.
	Kind string
	// Identifiers are addresses, ports, timestamps and sequence or row ids:
	// they identify a flow or date it and leak the label, so they are never
	// features. Matched case-insensitively; a trailing "*" matches a prefix.
	Identifiers []string
	// ClassColumn holds the class name (e.g. "Attack", "category", "type").
	// Empty when the class comes from elsewhere (N-BaIoT: the file name).
	ClassColumn string
	// BinaryColumn holds 0 (benign) / 1 (attack); used when ClassColumn is
	// absent or empty in a row.
	BinaryColumn string
	// AttackClass is the class of a 1 in BinaryColumn (default "Attack").
	AttackClass string
	// Labels are all label-like columns, never features (ClassColumn,
	// BinaryColumn and e.g. "subcategory").
	Labels []string
	// Ignore are non-identifier columns that are not features either
	// (constants such as NetFlow's "Dataset").
	Ignore []string
	// Categorical columns are label-encoded (with an "unknown" slot).
	Categorical []string
	// Columns are the feature columns the dataset kind defines, when it
	// has a fixed set (NetFlow's): with the identifier, label and ignored
	// columns they are the known columns (Knows), and a file with any
	// other column is refused. Empty for kinds whose columns vary (device
	// telemetry, generic CSV): there the model's training columns decide.
	Columns []string
	// Tuple names the 5-tuple columns, when the dataset has them.
	Tuple TupleColumns
	// TimeColumn orders flows for window mode ("" when there is none).
	TimeColumn string
	// WindowKey is the column that groups flows into windows (the source
	// address by default; "" groups all flows of a file together).
	WindowKey string
	// BenignNames are the (case-insensitive) class values meaning benign.
	BenignNames []string
	// DefaultHeader is used when a file has no header row (the full Argus
	// release ships its CSVs without one).
	DefaultHeader []string
	// ClassFromFileName derives the class from the file name (N-BaIoT).
	ClassFromFileName bool
	// LogScale: the kind's numeric values are heavy-tailed, so the
	// pipeline log-compresses them whatever the model kind's default
	// (TrainOptions.LogScale still decides when set).
	LogScale bool
	// LogUnits are, per column, the step in which the pipeline
	// log-compresses it (Feature.LogUnit); columns not named use 1.
	LogUnits map[string]float64
	// normalize, when set, rewrites a row's values before anything reads
	// them (files and API flows alike), e.g. to encode the kind's missing
	// values.
	normalize func(*Flow)
}

// argusFullHeader is the column list of the original BoT-IoT release's
// header-less CSV files (UNSW_2018_IoT_Botnet_Dataset_*.csv).
var argusFullHeader = strings.Split("pkSeqID,stime,flgs,proto,saddr,sport,daddr,dport,pkts,bytes,state,ltime,seq,dur,mean,stddev,smac,dmac,sum,min,max,soui,doui,sco,dco,spkts,dpkts,sbytes,dbytes,rate,srate,drate,attack,category,subcategory", ",")

// netflowColumns are the feature columns of the NetFlow-v2 sets (43, of
// which the identifiers are also listed in Identifiers) and those the v3
// sets add (inter-arrival times; their flow start and end times are
// identifiers).
var netflowColumns = strings.Fields(`IPV4_SRC_ADDR L4_SRC_PORT IPV4_DST_ADDR L4_DST_PORT PROTOCOL L7_PROTO
	IN_BYTES IN_PKTS OUT_BYTES OUT_PKTS TCP_FLAGS CLIENT_TCP_FLAGS SERVER_TCP_FLAGS
	FLOW_DURATION_MILLISECONDS DURATION_IN DURATION_OUT MIN_TTL MAX_TTL LONGEST_FLOW_PKT SHORTEST_FLOW_PKT
	MIN_IP_PKT_LEN MAX_IP_PKT_LEN SRC_TO_DST_SECOND_BYTES DST_TO_SRC_SECOND_BYTES
	RETRANSMITTED_IN_BYTES RETRANSMITTED_IN_PKTS RETRANSMITTED_OUT_BYTES RETRANSMITTED_OUT_PKTS
	SRC_TO_DST_AVG_THROUGHPUT DST_TO_SRC_AVG_THROUGHPUT NUM_PKTS_UP_TO_128_BYTES NUM_PKTS_128_TO_256_BYTES
	NUM_PKTS_256_TO_512_BYTES NUM_PKTS_512_TO_1024_BYTES NUM_PKTS_1024_TO_1514_BYTES
	TCP_WIN_MAX_IN TCP_WIN_MAX_OUT ICMP_TYPE ICMP_IPV4_TYPE DNS_QUERY_ID DNS_QUERY_TYPE DNS_TTL_ANSWER
	FTP_COMMAND_RET_CODE
	SRC_TO_DST_IAT_MIN SRC_TO_DST_IAT_MAX SRC_TO_DST_IAT_AVG SRC_TO_DST_IAT_STDDEV
	DST_TO_SRC_IAT_MIN DST_TO_SRC_IAT_MAX DST_TO_SRC_IAT_AVG DST_TO_SRC_IAT_STDDEV`)

var schemas = map[string]*Schema{
	"bot-iot-argus": {
		Kind: "bot-iot-argus",
		// pkSeqID/seq are row and sequence ids, stime/ltime timestamps,
		// saddr/daddr/sport/dport addresses and ports, smac/dmac/soui/doui/
		// sco/dco MAC addresses and their vendor/country codes.
		Identifiers:   []string{"pkSeqID", "stime", "ltime", "saddr", "daddr", "sport", "dport", "smac", "dmac", "soui", "doui", "sco", "dco", "seq"},
		ClassColumn:   "category",
		BinaryColumn:  "attack",
		Labels:        []string{"attack", "category", "subcategory"},
		Categorical:   []string{"proto", "flgs", "state"},
		Tuple:         TupleColumns{SrcAddr: "saddr", SrcPort: "sport", DstAddr: "daddr", DstPort: "dport", Proto: "proto", ProtoNames: true},
		TimeColumn:    "stime",
		WindowKey:     "saddr",
		BenignNames:   []string{"normal", "benign"},
		DefaultHeader: argusFullHeader,
	},
	"nf-bot-iot-v2": {
		Kind: "nf-bot-iot-v2",
		// Addresses and ports; flow start/end times of the v3 sets; the DNS
		// transaction id is random per query.
		Identifiers:  []string{"IPV4_SRC_ADDR", "IPV4_DST_ADDR", "L4_SRC_PORT", "L4_DST_PORT", "IPV6_SRC_ADDR", "IPV6_DST_ADDR", "FLOW_START_MILLISECONDS", "FLOW_END_MILLISECONDS", "DNS_QUERY_ID", "FLOW_ID"},
		ClassColumn:  "Attack",
		BinaryColumn: "Label",
		Labels:       []string{"Label", "Attack"},
		Ignore:       []string{"Dataset"},
		Categorical:  []string{"PROTOCOL", "L7_PROTO"},
		Columns:      netflowColumns,
		Tuple:        TupleColumns{SrcAddr: "IPV4_SRC_ADDR", SrcPort: "L4_SRC_PORT", DstAddr: "IPV4_DST_ADDR", DstPort: "L4_DST_PORT", Proto: "PROTOCOL"},
		TimeColumn:   "FLOW_START_MILLISECONDS",
		WindowKey:    "IPV4_SRC_ADDR",
		BenignNames:  []string{"benign", "normal"},
	},
	"ton-iot-telemetry": {
		Kind: "ton-iot-telemetry",
		// Attacks come in time windows: any time column dates the label.
		Identifiers:  []string{"ts", "date", "time"},
		ClassColumn:  "type",
		BinaryColumn: "label",
		Labels:       []string{"label", "type"},
		TimeColumn:   "ts",
		BenignNames:  []string{"normal", "benign"},
	},
	"n-baiot": {
		Kind: "n-baiot",
		// For a stream's first packet the jitter means equal the capture's
		// Unix time (about 1.5e9): they date the capture like a timestamp.
		Identifiers:       []string{"HH_jit_L5_mean", "HH_jit_L3_mean", "HH_jit_L1_mean", "HH_jit_L0.1_mean", "HH_jit_L0.01_mean"},
		ClassFromFileName: true,
		BenignNames:       []string{"benign", "benign_traffic"},
	},
}

// LookupSchema returns the schema of a dataset kind. The generic "csv" kind
// is built by CSVSchema from its options.
func LookupSchema(kind string, opt LoadOptions) (*Schema, error) {
	if kind == "csv" {
		return CSVSchema(opt)
	}
	s, ok := schemas[kind]
	if !ok {
		return nil, fmt.Errorf("%w: dataset %q (have %v)", ErrUnknownKind, kind, DatasetKinds())
	}
	return s, nil
}

// DatasetKinds lists the dataset kind names, sorted.
func DatasetKinds() []string {
	names := []string{"csv"}
	for k := range schemas {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// CSVSchema builds the schema of a generic CSV file: LabelColumn (required)
// holds the class, Identifiers and Categorical name the other roles, and
// BenignLabels the benign values (default benign, normal, 0).
func CSVSchema(opt LoadOptions) (*Schema, error) {
	if opt.LabelColumn == "" {
		return nil, fmt.Errorf("dataset csv: a label column is required")
	}
	benign := opt.BenignLabels
	if len(benign) == 0 {
		benign = []string{"benign", "normal", "0"}
	}
	return &Schema{
		Kind:        "csv",
		Identifiers: opt.Identifiers,
		ClassColumn: opt.LabelColumn,
		Labels:      append([]string{opt.LabelColumn}, opt.ExtraLabels...),
		Categorical: opt.Categorical,
		BenignNames: benign,
		WindowKey:   opt.WindowKey,
		TimeColumn:  opt.TimeColumn,
	}, nil
}

// Role is what a column is for.
type Role int

// Column roles.
const (
	RoleFeature Role = iota
	RoleIdentifier
	RoleLabel
	RoleIgnore
)

func matchName(patterns []string, name string) bool {
	for _, p := range patterns {
		if strings.HasSuffix(p, "*") {
			if strings.HasPrefix(strings.ToLower(name), strings.ToLower(strings.TrimSuffix(p, "*"))) {
				return true
			}
		} else if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

// RoleOf returns the role of a column name in this schema.
func (s *Schema) RoleOf(name string) Role {
	switch {
	case matchName(s.Identifiers, name):
		return RoleIdentifier
	case matchName(s.Labels, name), strings.EqualFold(name, s.ClassColumn), strings.EqualFold(name, s.BinaryColumn):
		return RoleLabel
	case matchName(s.Ignore, name):
		return RoleIgnore
	}
	return RoleFeature
}

// Knows reports whether name is a known column of the schema: one of its
// Columns, or an identifier, label or ignored column, or a 5-tuple, time
// or window-key column. Where the schema has no fixed Columns, a model's
// training columns are known too (see Rules).
func (s *Schema) Knows(name string) bool {
	if s.RoleOf(name) != RoleFeature || matchName(s.Columns, name) {
		return true
	}
	tuple := s.tupleNames()
	for _, n := range append(tuple[:], s.TimeColumn, s.WindowKey) {
		if n != "" && strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// UnknownColumns lists the columns of h that the schema does not know,
// where it has a fixed set of Columns (nil otherwise).
func (s *Schema) UnknownColumns(h *Header) []string {
	if len(s.Columns) == 0 {
		return nil
	}
	var out []string
	for _, n := range h.Names {
		if !s.Knows(n) {
			out = append(out, n)
		}
	}
	return out
}

// logUnit is the step in which column name is log-compressed (1 unless
// LogUnits names it).
func (s *Schema) logUnit(name string) float64 {
	for n, u := range s.LogUnits {
		if strings.EqualFold(n, name) {
			return u
		}
	}
	return 1
}

// IsCategorical reports whether the schema declares name categorical.
func (s *Schema) IsCategorical(name string) bool { return matchName(s.Categorical, name) }

// CanonicalClass maps a raw class value to its canonical name: benign names
// become BenignClass, other values are trimmed and kept as they are.
func (s *Schema) CanonicalClass(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	for _, b := range s.BenignNames {
		if strings.EqualFold(b, v) {
			return BenignClass
		}
	}
	return v
}

var leadingDeviceID = regexp.MustCompile(`^[0-9]+\.`)

// ClassFromFile derives a class from a file name as N-BaIoT names them:
// "benign_traffic.csv" → Benign, "scan.csv" → scan, "1.mirai.scan.csv" →
// mirai.scan (the leading device number is dropped).
func (s *Schema) ClassFromFile(path string) string {
	base := filepath.Base(path)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	base = leadingDeviceID.ReplaceAllString(base, "")
	if strings.Contains(strings.ToLower(base), "benign") {
		return BenignClass
	}
	return s.CanonicalClass(base)
}

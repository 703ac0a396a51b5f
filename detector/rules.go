package detector

// This file holds the rules a flow must follow to be scored: the one
// validation that the API (through ingest) and `idsledger eval` apply, so
// that a flow is judged the same whichever way it comes in.

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ErrInvalidFlow wraps every *FlowError: a flow (or a header, for every
// flow under it) that breaks the rules of the model that would score it.
var ErrInvalidFlow = errors.New("invalid flow")

// ErrImpute: an impute list names something the model cannot impute.
var ErrImpute = errors.New("invalid impute list")

// ImputeDeclared in an impute list stands for the features the model file
// declares imputable (Pipeline.Imputable).
const ImputeDeclared = "declared"

// ProblemKind is which rule a field breaks.
type ProblemKind string

// The rules.
const (
	// ProblemUnknown: a field that is no column of the dataset kind, nor
	// of the data the model was trained on (often a misspelling).
	ProblemUnknown ProblemKind = "unknown_field"
	// ProblemMissing: a required field that is absent or holds a missing
	// value ("", "-", "?", "NaN", "null", "none", "NA", "n/a"; JSON null).
	ProblemMissing ProblemKind = "missing"
	// ProblemNotNumber: a numeric feature whose value is not a number.
	ProblemNotNumber ProblemKind = "not_a_number"
	// ProblemInvalid: a 5-tuple field whose value is not an address, a
	// port or a protocol.
	ProblemInvalid ProblemKind = "invalid"
)

// FieldProblem is one rule one field breaks.
type FieldProblem struct {
	Field string      `json:"field"`
	Kind  ProblemKind `json:"kind"`
	// Value is the offending value (not for unknown or missing fields).
	Value string `json:"value,omitempty"`
	// want says what the field must hold ("an IP address", ...), or, for
	// a missing 5-tuple field, why it is required.
	want    string
	feature bool // a missing model feature (grouped in the message)
}

// FlowError lists every rule a flow breaks, in column order by kind:
// unknown fields, bad values, missing fields. errors.Is(err,
// ErrInvalidFlow) holds.
type FlowError struct {
	Problems []FieldProblem
	// Dataset and Features are the dataset kind and the model's feature
	// count, for the message.
	Dataset  string
	Features int
}

func (e *FlowError) Is(target error) bool { return target == ErrInvalidFlow }

// Fields are the names of the fields at fault, in the order of Problems.
func (e *FlowError) Fields() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.Field
	}
	return out
}

// Error says which fields are at fault and why, e.g.
//
//	unknown field IN_BYTEZ (not a column of nf-bot-iot-v2 flows); IN_PKTS: "abc" is not a number; missing feature IN_BYTES
//	IPV4_SRC_ADDR: missing (an alert needs the flow's source address); missing 28 of the model's 35 features: L7_PROTO, IN_PKTS, ... and 20 more
func (e *FlowError) Error() string {
	var unknown, missing, parts []string
	for _, p := range e.Problems {
		switch {
		case p.Kind == ProblemUnknown:
			unknown = append(unknown, clipValue(p.Field))
		case p.Kind == ProblemMissing && p.feature:
			missing = append(missing, p.Field)
		case p.Kind == ProblemMissing:
			parts = append(parts, fmt.Sprintf("%s: missing (%s)", p.Field, p.want))
		default:
			parts = append(parts, fmt.Sprintf("%s: %q is not %s", p.Field, clipValue(p.Value), p.want))
		}
	}
	switch len(unknown) {
	case 0:
	case 1:
		parts = append([]string{fmt.Sprintf("unknown field %s (not a column of %s flows)", unknown[0], e.Dataset)}, parts...)
	default:
		parts = append([]string{fmt.Sprintf("unknown fields %s (not columns of %s flows)", listSome(unknown, 8), e.Dataset)}, parts...)
	}
	switch len(missing) {
	case 0:
	case 1:
		parts = append(parts, "missing feature "+missing[0])
	default:
		parts = append(parts, fmt.Sprintf("missing %d of the model's %d features: %s", len(missing), e.Features, listSome(missing, 8)))
	}
	return strings.Join(parts, "; ")
}

// listSome lists up to n names, then how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}

func clipValue(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:40] + "…"
}

// Rules are what a flow must contain for a model to score it:
//
//   - every field is known: a column of the dataset kind (Schema.Columns),
//     one of its identifier, label or ignored columns, or a column of the
//     data the model was trained on (Pipeline.Candidates). Anything else
//     is an unknown field, most often a misspelling (IN_BYTEZ);
//   - every feature of the model is present with a value, numeric
//     features with a number (decimal, exponent or 0x-hex; ±Inf and
//     out-of-range literals count as numbers and are clipped); a
//     categorical feature takes any value (unseen ones take the unknown
//     slot). Only the features of the impute list may be missing: they
//     take the training median (numeric) or the unknown slot
//     (categorical), and Check counts them;
//   - where the schema names 5-tuple columns (nf-bot-iot-v2,
//     bot-iot-argus), they are required whatever the impute list says:
//     an alert must name its flow. Addresses must be IP addresses; the
//     protocol a number from 0 to 255 (or, where the schema writes
//     protocols by name, a name); ports a number from 0 to 65535 (decimal
//     or 0x-hex), which may be missing only for a protocol without ports
//     (anything but TCP, UDP and SCTP).
//
// A Rules value caches per Header and is not safe for concurrent use:
// make one per request or per file.
type Rules struct {
	schema *Schema
	pipe   *Pipeline
	impute []bool // per feature
	plans  map[*Header]*rulePlan
}

// rulePlan is what Rules know of one header: where each field is and what
// the header alone breaks.
type rulePlan struct {
	feat    []int // column of each feature, -1 when absent
	tuple   [5]int
	problem []FieldProblem // unknown and absent required columns
	imputed int            // absent imputable features
}

// tuple fields in a fixed order: source and destination address,
// protocol, source and destination port.
const (
	tupleSrcAddr = iota
	tupleDstAddr
	tupleProto
	tupleSrcPort
	tupleDstPort
)

func (s *Schema) tupleNames() [5]string {
	t := s.Tuple
	return [5]string{t.SrcAddr, t.DstAddr, t.Proto, t.SrcPort, t.DstPort}
}

var tupleWhy = [5]string{
	"an alert needs the flow's source address",
	"an alert needs the flow's destination address",
	"an alert needs the flow's protocol",
	"a TCP, UDP or SCTP flow needs its source port",
	"a TCP, UDP or SCTP flow needs its destination port",
}

// Rules returns the rules of this pipeline's model, with the features of
// impute allowed to be missing. impute holds feature names (matched
// case-insensitively) and ImputeDeclared; a name that is not a feature of
// the model, or is a 5-tuple column, gives an error wrapping ErrImpute.
func (p *Pipeline) Rules(impute []string) (*Rules, error) {
	s, err := LookupSchema(p.Dataset, p.LoadOptions())
	if err != nil {
		return nil, err
	}
	r := &Rules{schema: s, pipe: p, impute: make([]bool, len(p.Features)), plans: map[*Header]*rulePlan{}}
	tuple := s.tupleNames()
	var names []string
	for _, n := range impute {
		if n == ImputeDeclared {
			names = append(names, p.Imputable...)
		} else {
			names = append(names, n)
		}
	}
	for _, n := range names {
		for _, t := range tuple {
			if t != "" && strings.EqualFold(t, n) {
				return nil, fmt.Errorf("%w: %s is a 5-tuple column: it is required, never imputed", ErrImpute, n)
			}
		}
		k := p.featureIndex(n)
		if k < 0 {
			return nil, fmt.Errorf("%w: %q is not a feature of the model (its features: %s)", ErrImpute, clipValue(n), listSome(p.FeatureNames(), 50))
		}
		r.impute[k] = true
	}
	return r, nil
}

// featureIndex is the index of the feature named n (case-insensitively),
// or -1.
func (p *Pipeline) featureIndex(n string) int {
	for k, ft := range p.Features {
		if strings.EqualFold(ft.Name, n) {
			return k
		}
	}
	return -1
}

// Imputable lists the features these rules let be missing.
func (r *Rules) Imputable() []string {
	var out []string
	for k, ok := range r.impute {
		if ok {
			out = append(out, r.pipe.Features[k].Name)
		}
	}
	return out
}

// known reports whether a column is known to the rules (see Rules).
func (r *Rules) known(name string) bool {
	return r.schema.Knows(name) || matchName(r.pipe.Candidates, name) || matchName(r.pipe.Config.Exclude, name) || r.pipe.featureIndex(name) >= 0
}

func (r *Rules) plan(h *Header) *rulePlan {
	if pl, ok := r.plans[h]; ok {
		return pl
	}
	p := r.pipe
	pl := &rulePlan{feat: make([]int, len(p.Features))}
	for _, n := range h.Names {
		if !r.known(n) {
			pl.problem = append(pl.problem, FieldProblem{Field: n, Kind: ProblemUnknown})
		}
	}
	for k, ft := range p.Features {
		pl.feat[k] = h.Index(ft.Name)
		if pl.feat[k] >= 0 {
			continue
		}
		if r.impute[k] {
			pl.imputed++
		} else {
			pl.problem = append(pl.problem, FieldProblem{Field: ft.Name, Kind: ProblemMissing, feature: true})
		}
	}
	for i, n := range r.schema.tupleNames() {
		pl.tuple[i] = -1
		if n == "" {
			continue
		}
		pl.tuple[i] = h.Index(n)
		if pl.tuple[i] < 0 {
			pl.problem = append(pl.problem, FieldProblem{Field: n, Kind: ProblemMissing, want: tupleWhy[i]})
		}
	}
	if len(r.plans) >= 256 {
		r.plans = map[*Header]*rulePlan{}
	}
	r.plans[h] = pl
	return pl
}

// CheckHeader returns the rules that every flow under header h breaks
// whatever its values (unknown columns, absent required columns) as a
// *FlowError, or nil. (Port columns are required in a header even though
// a flow of a protocol without ports may leave their values empty.)
func (r *Rules) CheckHeader(h *Header) error {
	if pl := r.plan(h); len(pl.problem) > 0 {
		return r.flowError(append([]FieldProblem(nil), pl.problem...))
	}
	return nil
}

// Check applies the rules to one flow. It returns how many feature values
// will be imputed when the flow is scored, or a *FlowError listing every
// rule the flow breaks.
func (r *Rules) Check(f *Flow) (imputed int, err error) {
	pl := r.plan(f.Header)
	var probs []FieldProblem
	var missing []FieldProblem
	for _, p := range pl.problem {
		if p.Kind == ProblemMissing {
			missing = append(missing, p)
		} else {
			probs = append(probs, p)
		}
	}
	imputed = pl.imputed
	value := func(i int) string {
		if i >= 0 && i < len(f.Values) {
			return f.Values[i]
		}
		return ""
	}
	// The 5-tuple first: an alert names its flow.
	names := r.schema.tupleNames()
	proto, hasPorts := uint8(0), true
	for i, n := range names {
		col := pl.tuple[i]
		if n == "" || col < 0 {
			continue
		}
		v := value(col)
		if i == tupleSrcPort || i == tupleDstPort {
			if isMissing(v) && !hasPorts {
				continue
			}
		}
		if isMissing(v) {
			missing = append(missing, FieldProblem{Field: n, Kind: ProblemMissing, want: tupleWhy[i]})
			continue
		}
		var ok bool
		var want string
		switch i {
		case tupleSrcAddr, tupleDstAddr:
			_, err := netip.ParseAddr(v)
			ok, want = err == nil, "an IP address"
		case tupleProto:
			proto, ok = protoNumber(v, r.schema.Tuple.ProtoNames)
			want = "a protocol number (0 to 255)"
			if r.schema.Tuple.ProtoNames {
				want = "a protocol number (0 to 255) or name"
			}
			hasPorts = !ok || proto == 6 || proto == 17 || proto == 132
		default:
			_, ok = portNumber(v)
			want = "a port number (0 to 65535)"
		}
		if !ok {
			probs = append(probs, FieldProblem{Field: n, Kind: ProblemInvalid, Value: v, want: want})
		}
	}
	for k, ft := range r.pipe.Features {
		col := pl.feat[k]
		if col < 0 {
			continue // counted by the plan
		}
		v := value(col)
		switch {
		case isMissing(v) && r.impute[k]:
			imputed++
		case isMissing(v):
			missing = append(missing, FieldProblem{Field: ft.Name, Kind: ProblemMissing, feature: true})
		case ft.Categorical:
		default:
			if _, ok := parseNumber(v); !ok {
				probs = append(probs, FieldProblem{Field: ft.Name, Kind: ProblemNotNumber, Value: v, want: "a number"})
			}
		}
	}
	probs = append(probs, missing...)
	if len(probs) > 0 {
		return 0, r.flowError(probs)
	}
	return imputed, nil
}

func (r *Rules) flowError(p []FieldProblem) *FlowError {
	return &FlowError{Problems: p, Dataset: r.pipe.Dataset, Features: len(r.pipe.Features)}
}

// portNumber reads a port as parsePort does, and says whether it is one.
func portNumber(v string) (uint16, bool) {
	if n, err := strconv.ParseUint(v, 0, 16); err == nil {
		return uint16(n), true
	}
	if x, err := strconv.ParseFloat(v, 64); err == nil && x >= 0 && x <= 65535 && x == float64(int(x)) {
		return uint16(x), true
	}
	return 0, false
}

// protoNumber reads an IP protocol number (0 to 255, "6" or "6.0") and,
// when names are allowed, a protocol name: a name idsledger does not know
// (Argus's "arp", "llc", ...) is protocol 0, as for the 5-tuple.
func protoNumber(v string, names bool) (uint8, bool) {
	if n, err := strconv.ParseUint(v, 10, 8); err == nil {
		return uint8(n), true
	}
	if x, err := strconv.ParseFloat(v, 64); err == nil {
		if x >= 0 && x < 256 && x == float64(int(x)) {
			return uint8(x), true
		}
		return 0, false
	}
	if !names {
		return 0, false
	}
	return protoNumbers[strings.ToLower(v)], true
}

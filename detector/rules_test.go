package detector

import (
	"errors"
	"strings"
	"testing"
)

// sampleFields returns the first flow of the NetFlow sample as named
// fields, with the labels dropped (the form a sensor sends).
func sampleFields(t *testing.T) map[string]string {
	t.Helper()
	flows, _ := loadAll(t, "nf-bot-iot-v2", LoadOptions{}, nfSample)
	f := flows[0]
	m := map[string]string{}
	for i, n := range f.Header.Names {
		m[n] = f.Values[i]
	}
	delete(m, "Label")
	delete(m, "Attack")
	delete(m, "Dataset")
	return m
}

func TestRules(t *testing.T) {
	d, err := DefaultDetector()
	if err != nil {
		t.Fatal(err)
	}
	nf := len(d.Pipeline.Features)
	only := func(keep ...string) func(map[string]string) {
		return func(m map[string]string) {
			for k := range m {
				if !strings.Contains(" "+strings.Join(keep, " ")+" ", " "+k+" ") {
					delete(m, k)
				}
			}
		}
	}
	set := func(kv ...string) func(map[string]string) {
		return func(m map[string]string) {
			for i := 0; i < len(kv); i += 2 {
				if kv[i+1] == "<absent>" {
					delete(m, kv[i])
				} else {
					m[kv[i]] = kv[i+1]
				}
			}
		}
	}
	tuple := "IPV4_SRC_ADDR L4_SRC_PORT IPV4_DST_ADDR L4_DST_PORT PROTOCOL"
	cases := []struct {
		name    string
		edit    func(map[string]string)
		impute  []string
		imputed int
		// want lists fields at fault as kind:field; the message must
		// contain every string of msg.
		want []string
		msg  []string
	}{
		{name: "good", edit: set()},
		{name: "labels and unselected NetFlow columns are known", edit: set("Label", "1", "Attack", "DoS", "Dataset", "x", "MAX_TTL", "64", "DNS_QUERY_ID", "7", "FLOW_START_MILLISECONDS", "1", "SRC_TO_DST_IAT_MIN", "0")},
		{name: "misspelt field", edit: set("IN_BYTES", "<absent>", "IN_BYTEZ", "280"),
			want: []string{"unknown_field:IN_BYTEZ", "missing:IN_BYTES"},
			msg:  []string{"unknown field IN_BYTEZ (not a column of nf-bot-iot-v2 flows)", "missing feature IN_BYTES"}},
		{name: "not a number", edit: set("IN_BYTES", "abc"),
			want: []string{"not_a_number:IN_BYTES"}, msg: []string{`IN_BYTES: "abc" is not a number`}},
		{name: "JSON true is not a number", edit: set("IN_PKTS", "true"), want: []string{"not_a_number:IN_PKTS"}},
		{name: "empty value", edit: set("IN_BYTES", ""), want: []string{"missing:IN_BYTES"}},
		{name: "NaN is missing", edit: set("IN_BYTES", "NaN"), want: []string{"missing:IN_BYTES"}},
		{name: "Inf and huge literals are numbers", edit: set("IN_BYTES", "Inf", "OUT_BYTES", "1e999999", "IN_PKTS", "0x10")},
		{name: "no source address", edit: set("IPV4_SRC_ADDR", "<absent>"),
			want: []string{"missing:IPV4_SRC_ADDR"}, msg: []string{"IPV4_SRC_ADDR: missing (an alert needs the flow's source address)"}},
		{name: "bad address", edit: set("IPV4_DST_ADDR", "10.0.0.300"),
			want: []string{"invalid:IPV4_DST_ADDR"}, msg: []string{`IPV4_DST_ADDR: "10.0.0.300" is not an IP address`}},
		{name: "protocol by name", edit: set("PROTOCOL", "tcp"), want: []string{"invalid:PROTOCOL"}},
		{name: "protocol 6.0", edit: set("PROTOCOL", "6.0")},
		{name: "bad port", edit: set("L4_SRC_PORT", "70000"), want: []string{"invalid:L4_SRC_PORT"}},
		{name: "TCP needs ports", edit: set("PROTOCOL", "6", "L4_DST_PORT", ""), want: []string{"missing:L4_DST_PORT"}},
		{name: "ICMP needs no ports", edit: set("PROTOCOL", "1", "L4_DST_PORT", "", "L4_SRC_PORT", "-")},
		{name: "one feature of all", edit: only(tuple + " IN_BYTES"),
			msg: []string{"missing 33 of the model's 35 features: L7_PROTO, IN_PKTS,", "and 25 more"}},
		{name: "imputed when allowed", edit: set("IN_BYTES", "", "OUT_BYTES", "<absent>"), impute: []string{"IN_BYTES", "out_bytes"}, imputed: 2},
		{name: "impute does not excuse a bad value", edit: set("IN_BYTES", "abc"), impute: []string{"IN_BYTES"}, want: []string{"not_a_number:IN_BYTES"}},
		{name: "impute does not excuse an unknown field", edit: set("IN_BYTEZ", "1"), impute: []string{"IN_BYTES"}, want: []string{"unknown_field:IN_BYTEZ"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := sampleFields(t)
			c.edit(m)
			f, err := d.NewFlow(m)
			if err != nil {
				t.Fatal(err)
			}
			r, err := d.Pipeline.Rules(c.impute)
			if err != nil {
				t.Fatal(err)
			}
			n, err := r.Check(f)
			var fe *FlowError
			if len(c.want) == 0 && len(c.msg) == 0 {
				if err != nil || n != c.imputed {
					t.Fatalf("imputed %d, err %v; want %d, nil", n, err, c.imputed)
				}
				return
			}
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalidFlow) {
				t.Fatalf("err %v, want a FlowError", err)
			}
			if len(c.want) > 0 {
				var got []string
				for _, p := range fe.Problems {
					got = append(got, string(p.Kind)+":"+p.Field)
				}
				if strings.Join(got, " ") != strings.Join(c.want, " ") {
					t.Errorf("problems %v, want %v (%v)", got, c.want, err)
				}
			}
			for _, s := range c.msg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q lacks %q", err, s)
				}
			}
		})
	}
	if nf != 35 {
		t.Logf("the default model has %d features; the messages above assume 35", nf)
	}
}

func TestRulesImputeList(t *testing.T) {
	d, err := DefaultDetector()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{{"IPV4_SRC_ADDR"}, {"PROTOCOL"}, {"NOPE"}, {"DNS_QUERY_ID"}} {
		if _, err := d.Pipeline.Rules(bad); !errors.Is(err, ErrImpute) {
			t.Errorf("impute %v: err %v, want ErrImpute", bad, err)
		}
	}
	r, err := d.Pipeline.Rules([]string{ImputeDeclared})
	if err != nil || len(r.Imputable()) != len(d.Pipeline.Imputable) {
		t.Fatalf("declared: %v %v", r.Imputable(), err)
	}
}

// A CSV header is judged once: what every row under it would break.
func TestRulesCheckHeader(t *testing.T) {
	d, err := DefaultDetector()
	if err != nil {
		t.Fatal(err)
	}
	m := sampleFields(t)
	var names []string
	for n := range m {
		if n != "IN_BYTES" && n != "IPV4_SRC_ADDR" {
			names = append(names, n)
		}
	}
	r, _ := d.Pipeline.Rules(nil)
	err = r.CheckHeader(NewHeader(append(names, "IN_BYTEZ")))
	var fe *FlowError
	if !errors.As(err, &fe) || strings.Join(fe.Fields(), " ") != "IN_BYTEZ IN_BYTES IPV4_SRC_ADDR" {
		t.Fatalf("header: %v", err)
	}
	r, _ = d.Pipeline.Rules([]string{"IN_BYTES"})
	if err := r.CheckHeader(NewHeader(append(names, "IPV4_SRC_ADDR"))); err != nil {
		t.Fatalf("IN_BYTES imputable, yet the header fails: %v", err)
	}
}

// Argus writes protocols by name; a flow of a protocol without ports
// (ARP) may leave them empty.
func TestRulesArgusProtocolNames(t *testing.T) {
	flows, _ := loadAll(t, "bot-iot-argus", LoadOptions{}, "testdata/bot-iot-argus-sample.tsv")
	p, err := FitPipeline("bot-iot-argus", LoadOptions{}, flows, seq(len(flows)), PipelineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Rules(nil)
	if err != nil {
		t.Fatal(err)
	}
	f := flows[0]
	if _, err := r.Check(f); err != nil {
		t.Fatalf("a sample flow: %v", err)
	}
	g := *f
	g.Values = append([]string(nil), f.Values...)
	g.Values[f.Header.Index("proto")] = "arp"
	g.Values[f.Header.Index("sport")] = ""
	g.Values[f.Header.Index("dport")] = ""
	if _, err := r.Check(&g); err != nil {
		t.Fatalf("an ARP flow without ports: %v", err)
	}
	g.Values[f.Header.Index("proto")] = "tcp"
	if _, err := r.Check(&g); err == nil || !strings.Contains(err.Error(), "sport: missing") {
		t.Fatalf("a TCP flow without ports: %v", err)
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// Training data of a kind with a fixed set of columns may hold no other:
// a misspelt column would become a feature no sensor sends.
func TestReaderRefusesUnknownColumns(t *testing.T) {
	_, err := NewReader("nf-bot-iot-v2", strings.NewReader("IN_BYTEZ,IN_BYTES,Attack\n1,2,DoS\n"), "x.csv", LoadOptions{})
	if !errors.Is(err, ErrInvalidFlow) || !strings.Contains(err.Error(), "unknown field IN_BYTEZ") {
		t.Fatalf("err %v", err)
	}
	// Kinds whose columns vary take any column.
	if _, err := NewReader("csv", strings.NewReader("anything,label\n1,0\n"), "x.csv", LoadOptions{LabelColumn: "label"}); err != nil {
		t.Fatal(err)
	}
}

// A model declares the features it can do without; the declaration keeps
// only selected features and refuses 5-tuple and unknown columns.
func TestPipelineDeclaresImputable(t *testing.T) {
	flows, _ := loadAll(t, "nf-bot-iot-v2", LoadOptions{}, nfSample)
	fit := func(names ...string) (*Pipeline, error) {
		return FitPipeline("nf-bot-iot-v2", LoadOptions{}, flows, seq(len(flows)), PipelineConfig{Imputable: names})
	}
	p, err := fit("IN_BYTES", "dns_ttl_answer", "IN_BYTES")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Imputable, " "); !strings.HasPrefix(got, "IN_BYTES") || strings.Count(got, "IN_BYTES") != 1 {
		t.Fatalf("imputable %q", got)
	}
	for _, bad := range []string{"IPV4_SRC_ADDR", "NOPE"} {
		if _, err := fit(bad); err == nil {
			t.Errorf("imputable %s accepted", bad)
		}
	}
	r, err := p.Rules([]string{ImputeDeclared})
	if err != nil {
		t.Fatal(err)
	}
	m := sampleFields(t)
	delete(m, "IN_BYTES")
	f, _ := NewFlow("nf-bot-iot-v2", m, LoadOptions{})
	if n, err := r.Check(f); err != nil || n != 1 {
		t.Fatalf("declared IN_BYTES missing: imputed %d, %v", n, err)
	}
}

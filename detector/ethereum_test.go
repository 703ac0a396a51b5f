package detector

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

const ethSample = "testdata/ethereum-accounts-sample.csv"

// TestEthAccountFeaturesDefineTheColumns: the exported definitions name
// every feature column of the dataset once, each with a meaning and a
// known unit, and no identifier, label or ignored column among them.
func TestEthAccountFeaturesDefineTheColumns(t *testing.T) {
	s, err := LookupSchema("ethereum-accounts", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := EthAccountFeatureNames()
	if len(names) != 45 || len(EthAccountFeatures) != 45 {
		t.Fatalf("%d features, want the dataset's 45", len(names))
	}
	seen := map[string]bool{}
	for _, f := range EthAccountFeatures {
		if seen[f.Column] {
			t.Errorf("%q defined twice", f.Column)
		}
		seen[f.Column] = true
		if f.Meaning == "" {
			t.Errorf("%q has no meaning", f.Column)
		}
		if !slices.Contains([]string{UnitCount, UnitMinutes, UnitEther, UnitTokens}, f.Unit) {
			t.Errorf("%q: unit %q", f.Column, f.Unit)
		}
		if s.RoleOf(f.Column) != RoleFeature {
			t.Errorf("%q is not a feature column of the kind", f.Column)
		}
	}
	// The sample's header: every column is a defined feature or one of
	// the identifier, label and ignored columns, and every feature is there.
	flows, _ := loadAll(t, "ethereum-accounts", LoadOptions{}, ethSample)
	header := flows[0].Header.Names
	for _, n := range header {
		if !seen[n] && s.RoleOf(n) == RoleFeature {
			t.Errorf("column %q of the dataset is neither defined nor dropped", n)
		}
	}
	for _, n := range names {
		if !slices.Contains(header, n) {
			t.Errorf("feature %q is not a column of the dataset", n)
		}
	}
	for _, n := range []string{"Address", "FLAG", "Index", "ERC20 most sent token type", "ERC20_most_rec_token_type"} {
		if s.RoleOf(n) == RoleFeature {
			t.Errorf("%q is a feature", n)
		}
	}
}

// TestEthereumAccountsKind loads the sample: its classes, the feature
// candidates (the 45 defined columns, never Address), the encoding of
// absent ERC20 aggregates and the log steps of the units.
func TestEthereumAccountsKind(t *testing.T) {
	flows, st := loadAll(t, "ethereum-accounts", LoadOptions{}, ethSample)
	if st.Rows != 300 || st.ByClass[BenignClass] != 150 || st.ByClass["Fraud"] != 150 {
		t.Fatalf("rows %d, classes %v; want 150 Benign, 150 Fraud", st.Rows, st.ByClass)
	}
	train := make([]int, len(flows))
	for i := range train {
		train[i] = i
	}
	p, err := FitPipeline("ethereum-accounts", LoadOptions{}, flows, train, PipelineConfig{LogScale: true, CorrThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Candidates, EthAccountFeatureNames()) {
		t.Errorf("candidates %q,\nwant the 45 defined features", p.Candidates)
	}
	for _, id := range []string{"Address", "FLAG"} {
		if slices.Contains(p.Candidates, id) || slices.Contains(p.FeatureNames(), id) {
			t.Errorf("%s is a feature", id)
		}
		if !slices.Contains(p.Dropped, id) {
			t.Errorf("%s not among the dropped columns %q", id, p.Dropped)
		}
	}
	// Constant columns of the source are never features; the rest vary.
	for _, f := range EthAccountFeatures {
		if f.SourceConstant && slices.Contains(p.FeatureNames(), f.Column) {
			t.Errorf("%q is constant in the source, yet a feature", f.Column)
		}
	}
	if n := len(p.Features); n < 20 || n > 45-9 {
		t.Errorf("%d features selected", n)
	}
	unit := map[string]string{}
	for _, f := range EthAccountFeatures {
		unit[f.Column] = f.Unit
	}
	for _, ft := range p.Features {
		want := map[string]float64{UnitEther: 1e-18, UnitTokens: 1e-18, UnitMinutes: 1.0 / 60}[unit[ft.Name]]
		if ft.LogUnit != want || !ft.Log {
			t.Errorf("%s (%s): log %v unit %v, want unit %v", ft.Name, unit[ft.Name], ft.Log, ft.LogUnit, want)
		}
	}

	// Absent ERC20 aggregates: the count reads -1, the rest 0.
	absent := 0
	for _, f := range flows {
		v, _ := f.Get("Total ERC20 tnxs")
		if v != EthERC20Absent {
			continue
		}
		absent++
		if f.Class != "Fraud" {
			t.Errorf("line %d: absent ERC20 data in a %s row", f.Line, f.Class)
		}
		if x, _ := f.Get("ERC20 max val rec"); x != "0" {
			t.Errorf("line %d: ERC20 max val rec %q, want 0", f.Line, x)
		}
	}
	if absent != 64 {
		t.Errorf("%d rows with absent ERC20 aggregates, want 64", absent)
	}
	for _, f := range flows {
		for i, v := range f.Values {
			if isMissing(v) && f.Header.Names[i] != "ERC20 most sent token type" && f.Header.Names[i] != "ERC20_most_rec_token_type" {
				t.Fatalf("line %d: %s still empty", f.Line, f.Header.Names[i])
			}
		}
	}
}

func TestEthereumAccountsRows(t *testing.T) {
	header := "Address,FLAG," + strings.Join(EthAccountFeatureNames(), ",")
	row := func(erc20 string) string {
		var v []string
		for _, f := range EthAccountFeatures {
			if f.ERC20 {
				v = append(v, erc20)
			} else {
				v = append(v, "1")
			}
		}
		return "0xabc,1," + strings.Join(v, ",")
	}
	r, err := NewReader("ethereum-accounts", strings.NewReader(header+"\n"+row("")+"\n"+row("2")+"\n"), "x.csv", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.Get("Total ERC20 tnxs"); v != EthERC20Absent || f.Class != "Fraud" {
		t.Errorf("absent ERC20 row: total %q, class %q", v, f.Class)
	}
	f, _ = r.Next()
	if v, _ := f.Get("Total ERC20 tnxs"); v != "2" {
		t.Errorf("a recorded count became %q", v)
	}

	// Partly empty ERC20 aggregates are left as they are: missing values.
	fields := map[string]string{}
	for _, f := range EthAccountFeatures {
		fields[f.Column] = "3"
	}
	fields["ERC20 min val rec"] = ""
	fl, err := NewFlow("ethereum-accounts", fields, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := fl.Get("ERC20 min val rec"); v != "" {
		t.Errorf("a lone empty value became %q", v)
	}
	if v, _ := fl.Get("Total ERC20 tnxs"); v != "3" {
		t.Errorf("total %q", v)
	}

	// A misspelt column is refused, not made a feature.
	_, err = NewReader("ethereum-accounts", strings.NewReader(strings.Replace(header, "Sent tnx", "Sent txn", 1)+"\n"), "y.csv", LoadOptions{})
	var fe *FlowError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "Sent txn") {
		t.Errorf("misspelt column: %v", err)
	}
}

func TestLogUnitCompress(t *testing.T) {
	ft := Feature{Log: true, LogUnit: 1e-18}
	if got, want := ft.compress(1e-6), math.Log1p(1e12); math.Abs(got-want) > 1e-9 {
		t.Errorf("1e-6 ether: %v, want log1p(1e12 wei) = %v", got, want)
	}
	if got := ft.compress(-2); got != -math.Log1p(2e18) {
		t.Errorf("-2 ether: %v", got)
	}
	plain := Feature{Log: true}
	if plain.compress(3) != math.Log1p(3) {
		t.Error("LogUnit 0 must be log1p(x)")
	}
	bad := Feature{Name: "x", Log: true, LogUnit: -1, Min: 0, Max: 1}
	if err := bad.validate("f"); err == nil {
		t.Error("a negative log unit validates")
	}
}

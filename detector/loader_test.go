package detector

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/internal/testenv"
)

// sharedDatasets is testenv.SharedDatasets: skipped without it, failed
// under CI.
func sharedDatasets(t testing.TB) string { return testenv.SharedDatasets(t) }

func loadAll(t testing.TB, kind string, opt LoadOptions, paths ...string) ([]*Flow, LoadStats) {
	t.Helper()
	flows, st, err := LoadFiles(kind, paths, opt)
	if err != nil {
		t.Fatalf("load %s %v: %v", kind, paths, err)
	}
	return flows, st
}

func TestLoadSharedSamples(t *testing.T) {
	dir := sharedDatasets(t)
	cases := []struct {
		kind  string
		files []string
		rows  int
		class map[string]int
	}{
		{"nf-bot-iot-v2", []string{"nf-bot-iot-v2/dev.csv"}, 4812,
			map[string]int{"Benign": 296, "DoS": 1500, "DDoS": 1500, "Reconnaissance": 1500, "Theft": 16}},
		// The README says 998 rows; the file holds 999 data rows.
		{"bot-iot-argus", []string{"bot-iot-argus/bot_iot_10best_sample.tsv"}, 999,
			map[string]int{"DDoS": 522, "DoS": 450, "Reconnaissance": 27}},
		{"ton-iot-telemetry", []string{"ton-iot-telemetry/Train_Test_IoT_Thermostat.csv"}, 52774,
			map[string]int{"Benign": 35000, "backdoor": 5000, "injection": 5000, "password": 5000, "ransomware": 2264, "scanning": 61, "xss": 449}},
		{"ton-iot-telemetry", []string{"ton-iot-telemetry/Train_Test_IoT_GPS_Tracker.csv"}, 58960,
			map[string]int{"Benign": 35000, "backdoor": 5000, "ddos": 5000, "injection": 5000, "password": 5000, "ransomware": 2833, "scanning": 550, "xss": 577}},
		{"ethereum-accounts", []string{"ethereum-accounts/dev.csv"}, 4943,
			map[string]int{"Benign": 3877, "Fraud": 1066}},
		{"n-baiot", []string{"n-baiot/benign_traffic.csv", "n-baiot/doorbell_udp.csv", "n-baiot/scan.csv", "n-baiot/thermostat_udp.csv"}, 4 * 299,
			map[string]int{"Benign": 299, "doorbell_udp": 299, "scan": 299, "thermostat_udp": 299}},
	}
	for _, tc := range cases {
		t.Run(tc.kind+"/"+filepath.Base(tc.files[0]), func(t *testing.T) {
			var paths []string
			for _, f := range tc.files {
				paths = append(paths, filepath.Join(dir, f))
			}
			flows, st := loadAll(t, tc.kind, LoadOptions{}, paths...)
			if len(flows) != tc.rows || st.Rows != tc.rows {
				t.Errorf("rows = %d (stats %d), want %d", len(flows), st.Rows, tc.rows)
			}
			if !reflect.DeepEqual(st.ByClass, tc.class) {
				t.Errorf("classes = %v, want %v", st.ByClass, tc.class)
			}
			if st.Skipped != 0 || st.Unlabeled != 0 {
				t.Errorf("skipped %d, unlabeled %d", st.Skipped, st.Unlabeled)
			}
		})
	}
}

func TestLoadBOMAndCRLF(t *testing.T) {
	flows, _ := loadAll(t, "ton-iot-telemetry", LoadOptions{}, "testdata/ton-iot-thermostat-sample.csv")
	h := flows[0].Header
	if h.Names[0] != "ts" {
		t.Fatalf("first column %q: the BOM was not stripped", h.Names[0])
	}
	for _, f := range flows {
		if typ, _ := f.Get("type"); strings.ContainsAny(typ, "\r\n") {
			t.Fatalf("line %d: type %q keeps the CR", f.Line, typ)
		}
		if tm, _ := f.Get("time"); tm != strings.TrimSpace(tm) {
			t.Fatalf("time %q not trimmed", tm)
		}
	}
	if flows[0].Line != 2 || flows[0].Time == 0 {
		t.Errorf("first flow line %d time %v", flows[0].Line, flows[0].Time)
	}
}

func TestLoadArgusTabAndTuple(t *testing.T) {
	flows, _ := loadAll(t, "bot-iot-argus", LoadOptions{}, "testdata/bot-iot-argus-sample.tsv")
	if len(flows) != 120 {
		t.Fatalf("%d flows, want 120", len(flows))
	}
	f := flows[0] // 792371 udp 192.168.100.150 48516 192.168.100.3 80 ... DoS UDP
	tu := f.Tuple
	if tu.SrcAddr.String() != "192.168.100.150" || tu.DstAddr.String() != "192.168.100.3" ||
		tu.SrcPort != 48516 || tu.DstPort != 80 || tu.Proto != 17 || !tu.Valid() {
		t.Errorf("tuple %+v", tu)
	}
	if f.Class != "DoS" || f.Key != "192.168.100.150" {
		t.Errorf("class %q key %q", f.Class, f.Key)
	}
	// The same rows, comma-separated, read the same.
	b, err := os.ReadFile("testdata/bot-iot-argus-sample.tsv")
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader("bot-iot-argus", strings.NewReader(strings.ReplaceAll(string(b), "\t", ",")), "comma.csv", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := r.Next()
	if err != nil || !reflect.DeepEqual(g.Values, f.Values) {
		t.Errorf("comma form: %v %v", g, err)
	}
}

func TestLoadArgusHeaderless(t *testing.T) {
	// The full release's CSVs have no header; its 35 columns are known.
	row := `1,1526344121.1,e,udp,192.168.100.150,0xc0a8,192.168.100.3,80,2,120,INT,1526344122.2,10,0.1,0.05,0.01,00:0c,00:0d,0.1,0.05,0.06,1,2,3,4,2,0,120,0,1.5,1.5,0,1,DDoS,UDP`
	r, err := NewReader("bot-iot-argus", strings.NewReader(row+"\n"), "full.csv", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if f.Class != "DDoS" || f.Tuple.SrcPort != 0xc0a8 || f.Line != 1 {
		t.Errorf("class %q sport %d line %d", f.Class, f.Tuple.SrcPort, f.Line)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("want EOF, got %v", err)
	}
}

func TestLoadNBaIoTClassFromName(t *testing.T) {
	s, _ := LookupSchema("n-baiot", LoadOptions{})
	for name, want := range map[string]string{
		"benign_traffic.csv": "Benign", "scan.csv": "scan", "1.mirai.scan.csv": "mirai.scan", "/x/5.benign.csv": "Benign",
	} {
		if got := s.ClassFromFile(name); got != want {
			t.Errorf("%s: class %q, want %q", name, got, want)
		}
	}
	flows, st := loadAll(t, "n-baiot", LoadOptions{}, "testdata/n-baiot/benign_traffic.csv", "testdata/n-baiot/scan.csv")
	if len(flows) != 80 || st.ByClass["Benign"] != 40 || st.ByClass["scan"] != 40 {
		t.Errorf("%d flows, %v", len(flows), st.ByClass)
	}
	if len(flows[0].Header.Names) != 115 {
		t.Errorf("%d columns", len(flows[0].Header.Names))
	}
}

func TestLoadMalformed(t *testing.T) {
	data := "a,b,label\n1,2,0\n1,2\n3,4,1\n5,\"6,1\n"
	_, err := NewReader("csv", strings.NewReader(data), "x.csv", LoadOptions{})
	if err == nil {
		t.Fatal("csv kind without a label column must fail")
	}
	opt := LoadOptions{LabelColumn: "label"}
	r, err := NewReader("csv", strings.NewReader(data), "x.csv", opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "x.csv:3") {
		t.Fatalf("want malformed error at x.csv:3, got %v", err)
	}
	opt.SkipMalformed = true
	r, _ = NewReader("csv", strings.NewReader(data), "x.csv", opt)
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 || r.Stats().Skipped != 2 {
		t.Errorf("read %d, skipped %d; want 2 and 2", n, r.Stats().Skipped)
	}
	if got := r.Stats().ByClass; got["Benign"] != 1 || got["1"] != 1 {
		t.Errorf("classes %v", got)
	}
}

func TestNewFlowFromFields(t *testing.T) {
	f, err := NewFlow("nf-bot-iot-v2", map[string]string{
		"IPV4_SRC_ADDR": "10.0.0.1", "L4_SRC_PORT": "1234", "IPV4_DST_ADDR": "10.0.0.2", "L4_DST_PORT": "443",
		"PROTOCOL": "6", "IN_BYTES": "100",
	}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "10.0.0.1:1234 -> 10.0.0.2:443/6"
	got := f.Tuple.SrcAddr.String() + ":" + strconv.Itoa(int(f.Tuple.SrcPort)) + " -> " + f.Tuple.DstAddr.String() + ":" + strconv.Itoa(int(f.Tuple.DstPort)) + "/" + strconv.Itoa(int(f.Tuple.Proto))
	if got != want || f.Class != "" {
		t.Errorf("tuple %s class %q", got, f.Class)
	}
}

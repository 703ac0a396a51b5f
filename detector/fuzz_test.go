package detector

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// FuzzReader feeds arbitrary bytes to every dataset kind's reader and the
// pipeline: no input may panic, and every flow read must transform into
// values in [0,1]. Seeds: the heads of the testdata samples plus the
// corpus in testdata/fuzz/FuzzReader.
func FuzzReader(f *testing.F) {
	for _, p := range []string{nfSample, "testdata/bot-iot-argus-sample.tsv", "testdata/ton-iot-thermostat-sample.csv", "testdata/n-baiot/scan.csv"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(head(b, 6), uint8(0))
	}
	f.Add([]byte("\xef\xbb\xbfa,b,label\r\n1,2,0\r\n\"x\"y,3,1\r\n"), uint8(4))
	flows, _ := loadAll(f, "nf-bot-iot-v2", LoadOptions{}, nfSample)
	all := make([]int, len(flows))
	for i := range all {
		all[i] = i
	}
	pipe, err := FitPipeline("nf-bot-iot-v2", LoadOptions{}, flows, all, PipelineConfig{})
	if err != nil {
		f.Fatal(err)
	}
	kinds := []string{"nf-bot-iot-v2", "bot-iot-argus", "ton-iot-telemetry", "n-baiot", "csv"}
	f.Fuzz(func(t *testing.T, data []byte, k uint8) {
		kind := kinds[int(k)%len(kinds)]
		for _, skip := range []bool{false, true} {
			r, err := NewReader(kind, bytes.NewReader(data), "fuzz.csv", LoadOptions{SkipMalformed: skip, LabelColumn: "label"})
			if err != nil {
				return
			}
			for i := 0; i < 1000; i++ {
				fl, err := r.Next()
				if err == io.EOF || err != nil {
					break
				}
				if len(fl.Values) != len(fl.Header.Names) {
					t.Fatalf("flow has %d values for %d columns", len(fl.Values), len(fl.Header.Names))
				}
				row := make([]float32, len(pipe.Features))
				pipe.Row(fl, row)
				for _, v := range row {
					if !(v >= 0 && v <= 1) {
						t.Fatalf("value %v outside [0,1]", v)
					}
				}
			}
		}
	})
}

// head returns the first n lines of b.
func head(b []byte, n int) []byte {
	for i, c := range b {
		if c == '\n' {
			if n--; n == 0 {
				return b[:i+1]
			}
		}
	}
	return b
}

package flsim

import (
	"testing"

	"github.com/idsledger/idsledger/detector"
)

// TestSplitFlowsBy: split by an identifier, the held-out flows share no
// value of it with the kept ones; every flow lands on one side; a column
// the flows lack is an error.
func TestSplitFlowsBy(t *testing.T) {
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{"../../detector/testdata/nf-bot-iot-v2-sample.csv"}, detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	keep, held, err := splitFlows(flows, 0.3, 1, "IPV4_SRC_ADDR")
	if err != nil {
		t.Fatal(err)
	}
	if len(keep)+len(held) != len(flows) || len(held) == 0 {
		t.Fatalf("%d kept, %d held of %d", len(keep), len(held), len(flows))
	}
	kept := map[string]bool{}
	for _, f := range keep {
		v, _ := f.Get("IPV4_SRC_ADDR")
		kept[v] = true
	}
	for _, f := range held {
		if v, _ := f.Get("IPV4_SRC_ADDR"); kept[v] {
			t.Fatalf("source %s on both sides", v)
		}
	}
	if _, _, err := splitFlows(flows, 0.3, 1, "NO_SUCH_COLUMN"); err == nil {
		t.Error("split by a missing column: no error")
	}
}

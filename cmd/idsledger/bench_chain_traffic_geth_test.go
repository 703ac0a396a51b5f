//go:build integration

package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/chaintraffic"
	"github.com/idsledger/idsledger/internal/gethtest"
)

// Against a real geth --dev without --key-file, `bench chain-traffic` pays
// from a fresh key the node's dev account funded (chain.FundFromDev), and
// its manifest holds what is on chain.
func TestBenchChainTrafficFundsFromGethDev(t *testing.T) {
	g := gethtest.Start(t, gethtest.Options{})
	manifest := filepath.Join(t.TempDir(), "traffic.json")
	var code int
	_, errOut := capture(t, func() {
		code = runMain([]string{"bench", "chain-traffic", "--eth-rpc", g.URL,
			"--accounts", "4", "--transfers", "12", "--token-transfers", "4", "--creations", "1", "--seed", "5",
			"--inject", "drain,registry", "--drain-fanout", "3", "--rogue-calls", "1", "--manifest", manifest})
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "funded from dev account") {
		t.Errorf("stderr does not say the key was funded from the dev account:\n%s", errOut)
	}
	m, err := chaintraffic.ReadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := chaintraffic.Check(t.Context(), dialEth(t, g.URL), m); err != nil {
		t.Fatalf("the manifest does not hold what is on chain: %v", err)
	}
}

//go:build integration

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/chaintraffic"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// TestBenchChainHuntSmall runs `bench chain-hunt` small (a short history,
// a few seconds of following) and checks what must hold whatever the
// machine's speed: every injected registry transaction and the forced
// reorg alerted, no rule alert on the service's own anchoring, the lag
// sampled and finite, the hunter caught up at the end.
func TestBenchChainHuntSmall(t *testing.T) {
	var code int
	out, errOut := capture(t, func() {
		code = runMain([]string{"bench", "chain-hunt", "--database-url", pgtest.AdminURL(t),
			"--accounts", "6", "--transfers", "30", "--drain-fanout", "4", "--flood-txs", "12", "--phishing-victims", "4",
			"--rogue-calls", "2", "--catch-up-runs", "1", "--duration", "3s", "--poll", "200ms", "--json"})
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res chainHuntResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(res.CatchUp) != 1 || res.CatchUp[0].Txs < uint64(res.History.Transactions) || res.CatchUp[0].TxPerSecond <= 0 {
		t.Errorf("catch-up %+v over %d transactions", res.CatchUp, res.History.Transactions)
	}
	for _, p := range []chaintraffic.Pattern{chaintraffic.RegistryRogueCall, chaintraffic.RegistryRoleChange, chaintraffic.RegistryForeignBatch} {
		r, ok := res.Registry[p]
		if !ok || r.Injected == 0 || r.Alerted != r.Injected {
			t.Errorf("%s: %+v; want every injected transaction alerted", p, r)
		}
	}
	if res.Reorg.Forced != 1 || res.Reorg.Alerted < 1 {
		t.Errorf("reorg: %+v", res.Reorg)
	}
	for _, a := range res.RuleFalsePositives {
		if strings.HasPrefix(a.Rule, "registry.") {
			t.Errorf("registry rule on normal traffic: %+v", a)
		}
	}
	fl := res.Follow
	if len(fl.OwnRuleAlerts) != 0 {
		t.Errorf("rule alerts on the service's own anchoring: %+v", fl.OwnRuleAlerts)
	}
	if fl.Records == 0 || fl.Blocks == 0 {
		t.Errorf("nothing anchored while following: %+v", fl)
	}
	if fl.LagSamples == 0 || fl.LagMax > fl.Blocks || fl.FinalLag != 0 {
		t.Errorf("lag: %d samples, max %d over %d blocks, %d at the end", fl.LagSamples, fl.LagMax, fl.Blocks, fl.FinalLag)
	}
}

// TestBenchChainHuntBadFlags: each bad flag is one line on stderr and exit
// status 2.
func TestBenchChainHuntBadFlags(t *testing.T) {
	base := []string{"bench", "chain-hunt", "--database-url", "postgres://127.0.0.1:1/x"}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"bench", "chain-hunt", "--database-url", "mysql://x"}, "DATABASE_URL"},
		{append(base, "--mode", "tree"), "--mode"},
		{append(base, "--accounts", "1"), "--accounts"},
		{append(base, "--duration", "0s"), "--duration"},
		{append(base, "--records-rate", "-1"), "--records-rate"},
		{append(base, "--catch-up-runs", "0"), "--catch-up-runs"},
		{append(base, "--model", "/nonexistent/model.idslm"), "--model"},
		{append(base, "extra"), `unexpected argument "extra"`},
	}
	for _, tc := range cases {
		var code int
		_, errOut := capture(t, func() { code = runMain(tc.args) })
		if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line naming %q", tc.args[2:], code, errOut, tc.want)
		}
	}
}

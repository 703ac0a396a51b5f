//go:build integration

package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/chainhunt"
	"github.com/idsledger/idsledger/chaintraffic"
	"github.com/idsledger/idsledger/internal/testenv"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// chainAlertView is what the tests read of a chain alert in a listing.
type chainAlertView struct {
	ID     string `json:"id"`
	Class  string `json:"class"`
	Source string `json:"source"`
	Chain  struct {
		Rule     string            `json:"rule"`
		Method   string            `json:"method"`
		Tx       string            `json:"tx"`
		Account  string            `json:"account"`
		Evidence map[string]string `json:"evidence"`
		Block    struct {
			Number uint64 `json:"number"`
		} `json:"block"`
	} `json:"chain"`
}

// chainAlerts lists every chain alert matching query (source=chain and
// more), following the cursor.
func chainAlerts(t *testing.T, c e2eClient, query string) []chainAlertView {
	t.Helper()
	var all []chainAlertView
	cursor := ""
	for {
		q := "/v1/alerts?source=chain&limit=1000&" + query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Items      []chainAlertView `json:"items"`
			NextCursor *string          `json:"next_cursor"`
		}
		c.getJSON(t, q, &page)
		all = append(all, page.Items...)
		if page.NextCursor == nil {
			return all
		}
		cursor = *page.NextCursor
	}
}

// TestChainHuntEndToEnd runs serve as make run does (its embedded chain,
// served over loopback JSON-RPC, hunting by default) with an
// ethereum-accounts model, then `bench chain-traffic` against that chain
// as a separate process: normal ether and token traffic and every
// injected pattern, registry misuse included. Every injected call to the
// registry gets the rule that names it, through the API; the service's own
// anchoring raises no registry alert; a chain alert is anchored and
// verifies like any record; and a restart resumes the hunt without raising
// any finding twice.
func TestChainHuntEndToEnd(t *testing.T) {
	accounts := filepath.Join(testenv.SharedDatasets(t), "ethereum-accounts", "dev.csv")
	model := filepath.Join(t.TempDir(), "eth-gbt.idslm")
	if _, stderr := capture(t, func() {
		if code := runMain([]string{"train", "--dataset", "ethereum-accounts", "--data", accounts, "--model", "gbt", "--out", model}); code != 0 {
			t.Fatalf("train: exit %d", code)
		}
	}); t.Failed() {
		t.Fatal(stderr)
	}

	databaseURL := pgtest.EmptyURL(t)
	dataDir := t.TempDir()
	addr, rpcAddr := freeAddr(t), freeAddr(t)
	args := []string{"serve", "--addr", addr, "--database-url", databaseURL, "--data-dir", dataDir,
		"--batch-interval", "200ms", "--chain-http", rpcAddr, "--hunt-model", model}
	serve := startIDSLedger(t, args...)
	base := "http://" + addr
	testenv.Eventually(t, time.Minute, "readyz", func() bool { code, _ := get(base+"/readyz", ""); return code == 200 })
	an := e2eClient{base, createKey(t, databaseURL, "analyst")}
	registry, anchorer := serveChainAccounts(t, serve)

	manifest := filepath.Join(t.TempDir(), "manifest.json")
	traffic := startIDSLedger(t, "bench", "chain-traffic", "--eth-rpc", "http://"+rpcAddr,
		"--key-file", filepath.Join(dataDir, "chain", "service.key"), "--registry", registry.Hex(),
		"--accounts", "20", "--transfers", "120", "--inject", "all", "--seed", "7", "--manifest", manifest)
	select {
	case <-traffic.done:
		if traffic.err != nil {
			t.Fatalf("bench chain-traffic: %v\n%s", traffic.err, traffic.Logs())
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("bench chain-traffic did not finish:\n%s", traffic.Logs())
	}
	m, err := chaintraffic.ReadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}

	// What every injected registry transaction must raise.
	want := map[common.Hash][]string{}
	for _, in := range m.Injections {
		if in.Skipped != "" {
			t.Fatalf("pattern %s skipped: %s", in.Pattern, in.Skipped)
		}
		for _, tx := range in.Transactions {
			if tx.To == nil || *tx.To != registry {
				continue
			}
			var rules []string
			if tx.From != anchorer {
				rules = append(rules, chainhunt.RuleForeignCaller)
			}
			switch tx.Kind {
			case chaintraffic.KindGrantAnchorer, chaintraffic.KindRevokeAnchorer, chaintraffic.KindTransferOwnership:
				rules = append(rules, chainhunt.RuleRoleChange)
			}
			if in.Pattern == chaintraffic.RegistryForeignBatch && tx.Kind == chaintraffic.KindAnchorBatch {
				rules = append(rules, chainhunt.RuleForeignBatch)
			}
			if tx.Status == 0 {
				rules = append(rules, chainhunt.RuleReverted)
			}
			want[tx.Hash] = rules
		}
	}
	if len(want) < 5 {
		t.Fatalf("only %d injected registry transactions in the manifest", len(want))
	}
	injected := func(tx string) bool { _, ok := want[common.HexToHash(tx)]; return ok }

	var alerts []chainAlertView
	missing := func() []string {
		got := map[common.Hash]map[string]bool{}
		for _, a := range alerts {
			h := common.HexToHash(a.Chain.Tx)
			if got[h] == nil {
				got[h] = map[string]bool{}
			}
			got[h][a.Chain.Rule] = true
		}
		var miss []string
		for tx, rules := range want {
			for _, r := range rules {
				if !got[tx][r] {
					miss = append(miss, fmt.Sprintf("%s on %s", r, tx.Hex()))
				}
			}
		}
		return miss
	}
	testenv.Eventually(t, 2*time.Minute, "a rule alert for every injected registry transaction", func() bool {
		alerts = chainAlerts(t, an, "")
		return len(missing()) == 0
	})
	byRule := map[string]int{}
	for _, a := range alerts {
		byRule[a.Chain.Rule]++
		if strings.HasPrefix(a.Chain.Rule, "registry.") && !injected(a.Chain.Tx) {
			t.Errorf("%s on transaction %s, which nobody injected (the service's own anchoring?): %v", a.Chain.Rule, a.Chain.Tx, a.Chain.Evidence)
		}
	}
	t.Logf("%d injected registry transactions, each alerted; chain alerts by rule: %v", len(want), byRule)

	// A chain alert is a record like any: anchored, and it verifies.
	probe := alerts[0].ID
	testenv.Eventually(t, time.Minute, "a chain alert anchored and verified", func() bool {
		code, b := an.do(t, "GET", "/v1/alerts/"+probe+"/verify", "", nil)
		var v struct {
			Status string `json:"status"`
		}
		return code == 200 && json.Unmarshal(b, &v) == nil && v.Status == "verified"
	})

	// A restart resumes from the checkpoint: nothing raised twice, and
	// the hunter goes on with new blocks (the anchoring of its own alerts
	// makes some).
	before := len(chainAlerts(t, an, ""))
	if err := serve.stop(t, 30*time.Second); err != nil {
		t.Fatalf("serve stopped with %v", err)
	}
	startIDSLedger(t, args...) // stopped when the test ends
	testenv.Eventually(t, time.Minute, "readyz after the restart", func() bool { code, _ := get(base+"/readyz", ""); return code == 200 })
	testenv.Eventually(t, time.Minute, "the hunter caught up again", func() bool {
		_, body := get(base+"/metrics", an.key)
		return strings.Contains(body, "idsledger_hunt_lag_blocks 0") && !strings.Contains(body, "idsledger_hunt_block 0\n")
	})
	after := chainAlerts(t, an, "")
	seen := map[string]bool{}
	for _, a := range after {
		if seen[a.ID] {
			t.Errorf("chain alert %s listed twice", a.ID)
		}
		seen[a.ID] = true
	}
	if len(after) < before {
		t.Fatalf("%d chain alerts before the restart, %d after", before, len(after))
	}
}

// serveChainAccounts reads the registry and the anchoring account from
// serve's "anchoring" log line.
func serveChainAccounts(t *testing.T, serve *proc) (registry, anchorer common.Address) {
	t.Helper()
	testenv.Eventually(t, time.Minute, "serve's anchoring log line", func() bool {
		for _, line := range strings.Split(serve.Logs(), "\n") {
			var l struct {
				Msg      string `json:"msg"`
				Registry string `json:"registry"`
				Anchorer string `json:"anchorer"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "anchoring" && l.Registry != "" && l.Anchorer != "" {
				registry, anchorer = common.HexToAddress(l.Registry), common.HexToAddress(l.Anchorer)
				return true
			}
		}
		return false
	})
	return registry, anchorer
}

//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/federated/flnode"
	"github.com/idsledger/idsledger/internal/testenv"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// TestFederationEndToEnd runs a federation as its operators do, every part
// real: `serve` (PostgreSQL, the embedded chain, the coordinator) and three
// sites, each an `fl-node` process talking HTTP. Two sites send their
// updates; the coordinator is killed (SIGKILL) with the round open and
// started again; the third site sends its update and the round closes with
// exactly the three acknowledged updates, judged on chain. The new model is
// promoted, scores flows, and an auditor traces one of its alerts to the
// round with `idsledger verify --provenance` against the chain's RPC: every
// check holds, and a site's update record altered in the database fails it.
func TestFederationEndToEnd(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	sample := filepath.Join(root, "detector", "testdata", "nf-bot-iot-v2-sample.csv")
	raw, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	header, rows := lines[0], lines[1:]
	dir := t.TempDir()
	// The coordinator validates on the first 100 flows; each site holds a
	// third of the rest.
	write := func(name string, part []string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(header+"\n"+strings.Join(part, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	validation := write("validation.csv", rows[:100])
	rest := rows[100:]

	databaseURL := pgtest.EmptyURL(t)
	addr, rpcAddr := freeAddr(t), freeAddr(t)
	serveArgs := []string{"serve", "--addr", addr, "--database-url", databaseURL, "--data-dir", filepath.Join(dir, "service"),
		"--batch-interval", "200ms", "--chain-http", rpcAddr, "--fl-validation", validation}
	serve := startIDSLedger(t, serveArgs...)
	base := "http://" + addr
	admin := e2eClient{base, createKey(t, databaseURL, "admin")}
	// Ready is the database (ingest works without the chain); the
	// federation runs once the chain is open.
	ready := func() {
		testenv.Eventually(t, 2*time.Minute, "the federation running", func() bool {
			code, _ := get(base+"/v1/fl/sites", admin.key)
			return code == 200
		})
	}
	ready()

	// Three sites: an fl-node key each, a site key made where fl-node will
	// find it, enrolled by the admin.
	type site struct {
		key, dir, data string
		addr           string
	}
	var sites []site
	for i := range 3 {
		s := site{key: createKey(t, databaseURL, "fl-node"), dir: filepath.Join(dir, fmt.Sprintf("site-%d", i)),
			data: write(fmt.Sprintf("site-%d.csv", i), rest[i*len(rest)/3:(i+1)*len(rest)/3])}
		k, _, err := federated.LoadOrCreateKey(flnode.KeyPath(s.dir))
		if err != nil {
			t.Fatal(err)
		}
		s.addr = crypto.PubkeyToAddress(k.PublicKey).Hex()
		var who struct {
			ID string `json:"id"`
		}
		e2eClient{base, s.key}.getJSON(t, "/v1/whoami", &who)
		body := fmt.Appendf(nil, `{"address":%q,"name":"plant %d","key_id":%q}`, s.addr, i, who.ID)
		if code, b := admin.do(t, "POST", "/v1/fl/sites", "application/json", body); code != 201 {
			t.Fatalf("enroll site %d: %d %s", i, code, b)
		}
		sites = append(sites, s)
	}
	open := `{"policy":{"epochs":1,"batch_size":32,"learning_rate":0.001,"rule":"fedavg","compression":{"encoding":"q8"}},"min_updates":3,"duration":"10m"}`
	if code, b := admin.do(t, "POST", "/v1/fl/rounds", "application/json", []byte(open)); code != 201 {
		t.Fatalf("open round: %d %s", code, b)
	}
	node := func(s site) *proc {
		return startIDSLedger(t, "fl-node", "--url", base, "--key", s.key, "--dataset", "nf-bot-iot-v2", "--data", s.data,
			"--data-dir", s.dir, "--rounds", "1", "--poll", "1s", "--timeout", "20s")
	}
	received := func() int {
		var d coordinator.RoundDetail
		code, b := admin.do(t, "GET", "/v1/fl/rounds/1", "", nil)
		if code != 200 || json.Unmarshal(b, &d) != nil {
			return -1
		}
		return len(d.Updates)
	}
	waitExit := func(p *proc, what string) {
		select {
		case <-p.done:
			if p.err != nil {
				t.Fatalf("%s: %v\n%s", what, p.err, p.Logs())
			}
		case <-time.After(3 * time.Minute):
			t.Fatalf("%s did not finish:\n%s", what, p.Logs())
		}
	}

	// Two sites send; their updates are acknowledged, then the coordinator
	// dies with the round open.
	n0, n1 := node(sites[0]), node(sites[1])
	waitExit(n0, "site 0")
	waitExit(n1, "site 1")
	if got := received(); got != 2 {
		t.Fatalf("%d updates stored after two sites sent theirs", got)
	}
	serve.kill()
	startIDSLedger(t, serveArgs...)
	ready()
	if got := received(); got != 2 {
		t.Fatalf("%d updates after the coordinator's restart, want the 2 it acknowledged", got)
	}
	n2 := node(sites[2])
	waitExit(n2, "site 2")

	var d coordinator.RoundDetail
	testenv.Eventually(t, 2*time.Minute, "round 1 closed", func() bool {
		code, b := admin.do(t, "GET", "/v1/fl/rounds/1", "", nil)
		return code == 200 && json.Unmarshal(b, &d) == nil && d.Round.State == federated.StateClosed
	})
	seen := map[string]bool{}
	for _, u := range d.Updates {
		if seen[u.Site] || u.Judgement == nil {
			t.Fatalf("update of %s twice or unjudged: %+v", u.Site, d.Updates)
		}
		seen[u.Site] = true
	}
	if len(d.Updates) != 3 || d.Round.NewModelID == "" {
		t.Fatalf("round closed with %d updates, model %q", len(d.Updates), d.Round.NewModelID)
	}

	// The round's model scores flows; an auditor traces an alert to it.
	if code, b := admin.do(t, "POST", "/v1/models/"+d.Round.NewModelID+"/promote", "", nil); code != 200 {
		t.Fatalf("promote: %d %s", code, b)
	}
	ingest := e2eClient{base, createKey(t, databaseURL, "ingest")}
	code, b := ingest.do(t, "POST", "/v1/flows?sensor=plant-0&verdicts=alerts", "text/csv", raw)
	var resp struct {
		AlertIDs []string `json:"alert_ids"`
	}
	if code != 200 || json.Unmarshal(b, &resp) != nil || len(resp.AlertIDs) == 0 {
		t.Fatalf("ingest with the round's model: %d %s", code, b)
	}
	analyst := e2eClient{base, createKey(t, databaseURL, "analyst")}
	var doc coordinator.AlertProvenance
	testenv.Eventually(t, 2*time.Minute, "the alert and the round's records anchored", func() bool {
		code, b := analyst.do(t, "GET", "/v1/alerts/"+resp.AlertIDs[0]+"/provenance", "", nil)
		if code != 200 || json.Unmarshal(b, &doc) != nil || doc.Alert.Proof == nil || doc.Model == nil || doc.Model.Global == nil ||
			doc.Model.Global.Proof == nil || doc.Model.Round.Proof == nil || doc.Alert.Proof.Status != "verified" {
			return false
		}
		for _, u := range doc.Model.Updates {
			if u.Proof == nil || u.Proof.Status != "verified" {
				return false
			}
		}
		return len(doc.Model.Updates) == 3
	})
	if doc.Model.Model.ID != d.Round.NewModelID {
		t.Fatalf("the alert's model is %s, not the round's %s", doc.Model.Model.ID, d.Round.NewModelID)
	}
	provFile := filepath.Join(dir, "provenance.json")
	b, _ = json.Marshal(doc)
	if err := os.WriteFile(provFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	registry := doc.Alert.Proof.Registry
	regText, _ := registry.MarshalText()
	verify := func() (int, string) {
		var code int
		_, stderr := capture(t, func() {
			code = runMain([]string{"verify", "--provenance", provFile, "--eth-rpc", "http://" + rpcAddr,
				"--registry", string(regText), "--federation", doc.FederationRegistry})
		})
		return code, stderr
	}
	if code, out := verify(); code != 0 || !strings.Contains(out, "verified: the alert") || strings.Contains(out, "FAIL") {
		t.Fatalf("verify --provenance: exit %d\n%s", code, out)
	}

	// A site's update record altered in the database: the provenance the
	// service now serves fails the auditor's check at that update.
	var ur coordinator.UpdateRecord
	if err := json.Unmarshal(doc.Model.Updates[0].Record, &ur); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `UPDATE records SET body = convert_to(replace(convert_from(body, 'UTF8'), '"samples":', '"samples":9'), 'UTF8') WHERE id = $1`, ur.ID); err != nil {
		t.Fatal(err)
	}
	code, b = analyst.do(t, "GET", "/v1/alerts/"+resp.AlertIDs[0]+"/provenance", "", nil)
	if code != 200 {
		t.Fatalf("provenance after tampering: %d %s", code, b)
	}
	if err := os.WriteFile(provFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := verify(); code != 1 || !strings.Contains(out, "FAIL update 1") {
		t.Fatalf("verify --provenance of an altered update: exit %d\n%s", code, out)
	}
}

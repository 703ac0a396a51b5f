//go:build integration

package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/chainhunt"
	"github.com/idsledger/idsledger/storage"
)

// chainFixture are n findings on chain 1337: even ones a registry rule on
// a transaction from an account, odd ones a model's verdict on an account.
func chainFixture(n int) []chainhunt.Alert {
	t0 := time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)
	out := make([]chainhunt.Alert, n)
	for i := range out {
		a := chainhunt.Alert{
			ChainID: 1337, BlockNumber: uint64(500 + i), BlockHash: common.HexToHash(fmt.Sprintf("0x%064x", 0xb10c+i)),
			BlockTime: t0.Add(time.Duration(i) * time.Second), Severity: "critical",
			Account: common.HexToAddress(fmt.Sprintf("0x52908400098527886e0f7030069857d2e4169e%02x", i)),
			Summary: fmt.Sprintf("finding %d", i), Evidence: map[string]string{"gas_price": fmt.Sprint(1000 + i)},
		}
		if i%2 == 0 {
			a.Subject, a.Method, a.Rule, a.Class, a.Score = chainhunt.SubjectTransaction, chainhunt.MethodRule,
				"registry.foreign_caller", "registry.foreign_caller", 1
			a.TxHash = common.HexToHash(fmt.Sprintf("0x%064x", 0x7a+i))
		} else {
			a.Subject, a.Method, a.Rule, a.Class, a.Score = chainhunt.SubjectAccount, chainhunt.MethodModel, "gbt", "fraud", 0.97
			a.ModelID, a.ModelVersion = "ab12", "eth-v1"
		}
		out[i] = a
	}
	return out
}

// commitChain stores alerts as the hunter does.
func commitChain(t testing.TB, env *testEnv, alerts []chainhunt.Alert) {
	t.Helper()
	stored, err := storage.NewChainHunt(env.db.Pool).Commit(context.Background(), chainhunt.Checkpoint{ChainID: 1337}, alerts)
	if err != nil || len(stored) != len(alerts) {
		t.Fatalf("commit: %d of %d stored, %v", len(stored), len(alerts), err)
	}
}

// Chain alerts list beside flow alerts, filter by source, account,
// transaction and rule, and carry their chain object; bad filter values
// are 400 problems naming the parameter.
func TestChainAlertsListedAndFiltered(t *testing.T) {
	env := newEnv(t, true)
	flows := ingestFixture(t, env)
	alerts := chainFixture(6)
	commitChain(t, env, alerts)

	list := func(query string) []storage.Alert {
		t.Helper()
		var p page[storage.Alert]
		env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts?limit=1000&"+query, "", nil), http.StatusOK, &p)
		return p.Items
	}
	for query, want := range map[string]int{
		"source=chain":                       6,
		"source=flow":                        len(flows),
		"account=" + alerts[3].Account.Hex(): 1,
		"account=" + strings.ToLower(alerts[3].Account.Hex()):                          1,
		"account=" + alerts[3].Account.Hex() + "," + alerts[4].Account.Hex():           2,
		"tx=" + alerts[2].TxHash.Hex():                                                 1,
		"rule=gbt":                                                                     3,
		"rule=registry.foreign_caller&severity=critical&sensor=chain:1337":             3,
		"source=flow&rule=gbt":                                                         0,
		"class=fraud&source=chain&account=" + url.QueryEscape(alerts[1].Account.Hex()): 1,
	} {
		if got := list(query); len(got) != want {
			t.Errorf("%s: %d alerts, want %d", query, len(got), want)
		}
	}

	// The chain object, as a client reads the JSON.
	w := env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts?tx="+alerts[0].TxHash.Hex(), "", nil)
	var raw struct {
		Items []map[string]json.RawMessage `json:"items"`
	}
	env.decode(w, http.StatusOK, &raw)
	var c struct {
		ChainID uint64 `json:"chain_id"`
		Block   struct {
			Number uint64    `json:"number"`
			Hash   string    `json:"hash"`
			Time   time.Time `json:"time"`
		} `json:"block"`
		Tx, Account, Rule, Method, Subject, Summary string
		Evidence                                    map[string]string
	}
	if len(raw.Items) != 1 || string(raw.Items[0]["source"]) != `"chain"` || string(raw.Items[0]["type"]) != `"chain_alert"` {
		t.Fatalf("listing %s", w.Body)
	}
	if err := json.Unmarshal(raw.Items[0]["chain"], &c); err != nil {
		t.Fatal(err)
	}
	a := alerts[0]
	if c.ChainID != 1337 || c.Block.Number != a.BlockNumber || c.Block.Hash != a.BlockHash.Hex() || !c.Block.Time.Equal(a.BlockTime) ||
		c.Tx != a.TxHash.Hex() || c.Account != a.Account.Hex() || c.Rule != a.Rule || c.Method != "rule" || c.Subject != "transaction" ||
		c.Summary != "finding 0" || c.Evidence["gas_price"] != "1000" {
		t.Fatalf("chain object %+v", c)
	}
	for _, flow := range list("source=flow&limit=1") {
		if flow.Chain != nil || flow.Source != "flow" {
			t.Fatalf("a flow alert with a chain object: %+v", flow)
		}
	}

	for query, pointer := range map[string]string{
		"source=moon":    "?source",
		"account=0x1234": "?account",
		"account=52908400098527886e0f7030069857d2e4169e00": "?account",
		// EIP-55's example with one letter's case flipped.
		"account=0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD": "?account",
		"tx=0x1234":                         "?tx",
		"tx=0x" + strings.Repeat("zz", 32):  "?tx",
		"rule=" + url.QueryEscape("a\x01b"): "?rule",
		"rule=" + strings.Repeat("r", 201):  "?rule",
	} {
		w := env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts?"+query, "", nil)
		p := decodeProblemOf(t, w, http.StatusBadRequest)
		if len(p.Errors) != 1 || p.Errors[0].Pointer != pointer {
			t.Errorf("%s: errors %+v, want one at %s", query, p.Errors, pointer)
		}
	}
}

// decodeProblemOf reads a problem+json answer of the given status.
func decodeProblemOf(t *testing.T, w *httptest.ResponseRecorder, status int) Problem {
	t.Helper()
	if w.Code != status || !isProblem(w) {
		t.Fatalf("status %d (%s), want a %d problem: %s", w.Code, w.Header().Get("Content-Type"), status, w.Body)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// A chain alert is anchored by the worker and verifies through the API
// against the simulated chain: its detail, verification, proof bundle and
// an offline check of that bundle; a row altered with SQL is tampered.
func TestChainAlertVerifiesOnChain(t *testing.T) {
	env := chainEnv(t)
	alerts := chainFixture(3)
	commitChain(t, env, alerts)
	waitAnchored(t, env)

	id := alerts[1].ID().String()
	var d storage.AlertDetail
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+id, "", nil), http.StatusOK, &d)
	canon, _ := chainhunt.Canonical(alerts[1])
	if d.Chain == nil || d.Anchor.Status != "anchored" || !bytes.Equal(d.Record, canon) {
		t.Fatalf("detail %+v record %s", d.Alert, d.Record)
	}
	var p anchor.Proof
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+id+"/verify", "", nil), http.StatusOK, &p)
	if p.Status != anchor.StatusVerified || p.Kind != chainhunt.Kind {
		t.Fatalf("verify: %+v", p)
	}
	var bundle proofBundle
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+id+"/proof", "", nil), http.StatusOK, &bundle)
	if bundle.Proof == nil || bundle.Proof.Status != anchor.StatusVerified || !bytes.Equal(bundle.Record, canon) {
		t.Fatalf("proof bundle %+v", bundle)
	}
	req, _ := json.Marshal(verifyRequest{Record: bundle.Record, Proof: bundle.Proof})
	env.decode(env.do(storage.RoleAnalyst, http.MethodPost, "/v1/verify", "application/json", req), http.StatusOK, &p)
	if p.Status != anchor.StatusVerified {
		t.Fatalf("offline verify: %+v", p)
	}

	if _, err := env.db.Pool.Exec(context.Background(), `UPDATE alerts SET account = $2 WHERE id = $1`,
		alerts[1].ID(), common.HexToAddress("0x01").Bytes()); err != nil {
		t.Fatal(err)
	}
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+id+"/verify", "", nil), http.StatusOK, &p)
	if p.Status != anchor.StatusTampered || !strings.Contains(p.Reason, "account") {
		t.Fatalf("altered row: %+v", p)
	}
}

// The OCSF export renders a chain alert as a Detection Finding with the
// account and the transaction as observables and the block among its
// resources; CSV has their columns, ECS and EVE the chain object.
func TestChainAlertExports(t *testing.T) {
	env := newEnv(t, false)
	alerts := chainFixture(2)
	commitChain(t, env, alerts)

	w := env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/export?format=ocsf&source=chain", "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("export: %d %s", w.Code, w.Body)
	}
	var docs []ocsfChainDoc
	sc := bufio.NewScanner(w.Body)
	for sc.Scan() {
		var d ocsfChainDoc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	if len(docs) != 2 {
		t.Fatalf("%d OCSF documents, want 2", len(docs))
	}
	rule, model := docs[0], docs[1] // oldest first
	tx, acct := alerts[0].TxHash.Hex(), alerts[0].Account.Hex()
	want := []ocsfObservable{
		{Name: "resources.uid", TypeID: 10, Type: "Resource UID", Value: acct},
		{Name: "resources.uid", TypeID: 10, Type: "Resource UID", Value: tx},
	}
	if rule.ClassUID != 2004 || rule.Message != "finding 0" || rule.FindingInfo.UID != alerts[0].ID().String() ||
		fmt.Sprint(rule.Observables) != fmt.Sprint(want) || rule.Device.Name != "chain:1337" ||
		rule.FindingInfo.Analytic.Name != "registry.foreign_caller" || rule.FindingInfo.Analytic.TypeID != 1 {
		t.Fatalf("rule finding %+v", rule)
	}
	if len(rule.Resources) != 3 || rule.Resources[0].Type != "Ethereum Block" || rule.Resources[0].UID != alerts[0].BlockHash.Hex() ||
		rule.Resources[0].Name != "500" || rule.Resources[1].UID != acct || rule.Resources[2].UID != tx {
		t.Fatalf("rule finding's resources %+v", rule.Resources)
	}
	if len(model.Observables) != 1 || model.Observables[0].Value != alerts[1].Account.Hex() ||
		model.FindingInfo.Analytic.TypeID != 4 || model.FindingInfo.Analytic.Name != "eth-v1" {
		t.Fatalf("model finding %+v", model)
	}

	w = env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/export?format=csv&source=chain", "", nil)
	rows, err := csv.NewReader(w.Body).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("csv export: %d rows, %v", len(rows), err)
	}
	col := func(row int, name string) string { return rows[row][slices.Index(rows[0], name)] }
	if col(1, "source") != "chain" || col(1, "chain_id") != "1337" || col(1, "block_number") != "500" || col(1, "tx") != tx ||
		col(1, "account") != acct || col(1, "rule") != "registry.foreign_caller" || col(2, "tx") != "" || col(1, "sensor") != "chain:1337" {
		t.Fatalf("csv rows %q", rows)
	}

	for _, format := range []string{"ecs", "eve"} {
		w := env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/export?format="+format+"&source=chain&max=1", "", nil)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"chain":{"chain_id":1337,`) ||
			!strings.Contains(w.Body.String(), `"account":"`+acct+`"`) ||
			strings.Contains(w.Body.String(), `"network"`) || strings.Contains(w.Body.String(), `"proto"`) {
			t.Fatalf("%s export: %d %s", format, w.Code, w.Body)
		}
	}
}

// ocsfObservable is an OCSF observable as the tests read it.
type ocsfObservable struct {
	Name   string `json:"name"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
	Value  string `json:"value"`
}

// ocsfChainDoc is the part of an OCSF Detection Finding of a chain alert
// that the tests check.
type ocsfChainDoc struct {
	ClassUID    int              `json:"class_uid"`
	Message     string           `json:"message"`
	Observables []ocsfObservable `json:"observables"`
	Resources   []struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
		Name string `json:"name"`
	} `json:"resources"`
	FindingInfo struct {
		UID      string `json:"uid"`
		Analytic struct {
			Name   string `json:"name"`
			TypeID int    `json:"type_id"`
		} `json:"analytic"`
	} `json:"finding_info"`
	Device struct {
		Name string `json:"name"`
	} `json:"device"`
}

// The live stream carries chain alerts, with their chain object, as they
// are committed.
func TestChainAlertStreamed(t *testing.T) {
	env := newEnv(t, false)
	env.srv.cfg.StreamPoll = 50 * time.Millisecond
	hs := httptest.NewServer(env.srv.Handler())
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := openStream(ctx, hs.URL+"/v1/alerts/stream?source=chain", env.keys[storage.RoleAnalyst], "")
	if err != nil {
		t.Fatal(err)
	}
	alerts := chainFixture(3)
	commitChain(t, env, alerts)
	events := collect(resp, len(alerts))
	if len(events) != len(alerts) {
		t.Fatalf("the stream gave %d events within the deadline, %d chain alerts were committed", len(events), len(alerts))
	}
	byID := map[string]chainhunt.Alert{}
	for _, a := range alerts {
		byID[a.ID().String()] = a
	}
	for i, e := range events {
		var a storage.Alert
		if err := json.Unmarshal([]byte(e.data), &a); err != nil {
			t.Fatal(err)
		}
		want, ok := byID[a.ID.String()]
		if e.event != "alert" || !ok || a.Chain == nil || a.Chain.Account != want.Account.Hex() {
			t.Fatalf("event %d: %+v", i, e)
		}
		delete(byID, a.ID.String())
	}
}

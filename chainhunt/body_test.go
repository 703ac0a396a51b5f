package chainhunt_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/chainhunt"
)

// sampleAlert is a model's verdict on an account, seen in a transaction.
func sampleAlert() chainhunt.Alert {
	return chainhunt.Alert{
		ChainID: 1337, Subject: chainhunt.SubjectAccount, Method: chainhunt.MethodModel,
		Rule: "gbt", Class: "fraud", Severity: "high", Score: 0.93,
		ModelID: "ab12", ModelVersion: "v3",
		BlockNumber: 42, BlockHash: common.HexToHash("0x0102"),
		BlockTime: time.Date(2026, 11, 28, 20, 0, 1, 0, time.FixedZone("CET", 3600)),
		TxHash:    common.HexToHash("0xbeef"),
		Account:   common.HexToAddress("0x52908400098527886e0f7030069857d2e4169ee7"),
		Summary:   "account 0x5290… sent to 40 new counterparties in one block",
		Evidence:  map[string]string{"sent_tnx": "40", "avg_min_between_sent_tnx": "0.5"},
	}
}

// The canonical body of a chain alert is fixed byte for byte: every field
// of the record contract, keys sorted, the account in EIP-55 form, the
// time in UTC. (0x5290…eE7 is EIP-55's own example of a checksummed address.)
func TestCanonicalGolden(t *testing.T) {
	got, err := chainhunt.Canonical(sampleAlert())
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"account":"0x52908400098527886E0F7030069857D2E4169EE7","block":{"hash":"0x0000000000000000000000000000000000000000000000000000000000000102","number":42,"time":"2026-11-28T19:00:01Z"},"chain_id":1337,"class":"fraud","evidence":{"avg_min_between_sent_tnx":"0.5","sent_tnx":"40"},"id":"23ffb4f8-1de4-82a4-b535-b325fb43626c","method":"model","model":{"id":"ab12","version":"v3"},"risk":93,"rule":"gbt","score":0.93,"severity":"high","subject":"account","summary":"account 0x5290… sent to 40 new counterparties in one block","tx":"0x000000000000000000000000000000000000000000000000000000000000beef","type":"chain_alert"}`
	if string(got) != want {
		t.Fatalf("canonical body\n got %s\nwant %s", got, want)
	}
}

// Canonical is anchor.Canonicalize of the body's JSON, and the body parses
// back from it: for a rule alert on a block too (no model, tx or account).
func TestCanonicalIsCanonicalizedBody(t *testing.T) {
	rule := sampleAlert()
	rule.Subject, rule.Method, rule.Rule, rule.Class, rule.Score = chainhunt.SubjectBlock, chainhunt.MethodRule, "chain.reorg", "chain.reorg", 1
	rule.ModelID, rule.ModelVersion, rule.TxHash, rule.Account, rule.Evidence = "", "", common.Hash{}, common.Address{}, nil
	for _, a := range []chainhunt.Alert{sampleAlert(), rule} {
		got, err := chainhunt.Canonical(a)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(chainhunt.NewBody(a))
		if err != nil {
			t.Fatal(err)
		}
		want, err := anchor.Canonicalize(raw)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("Canonical\n got %s\nwant %s", got, want)
		}
		var back chainhunt.Body
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		if back.ID != a.ID() || back.Type != chainhunt.Kind || back.Block.Number != a.BlockNumber || back.Risk != a.Score*100 {
			t.Fatalf("parsed back %+v", back)
		}
		if (back.Model == nil) != (a.Method == chainhunt.MethodRule) || (back.Tx == "") != (a.TxHash == common.Hash{}) {
			t.Fatalf("model or tx wrongly present: %s", got)
		}
	}
}

// Alerts that cannot be stored are refused with ErrInvalidAlert.
func TestCanonicalRefusesInvalidAlerts(t *testing.T) {
	for name, change := range map[string]func(*chainhunt.Alert){
		"subject":          func(a *chainhunt.Alert) { a.Subject = "planet" },
		"severity":         func(a *chainhunt.Alert) { a.Severity = "extreme" },
		"NaN score":        func(a *chainhunt.Alert) { a.Score = math.NaN() },
		"score above 1":    func(a *chainhunt.Alert) { a.Score = 1.5 },
		"no block hash":    func(a *chainhunt.Alert) { a.BlockHash = common.Hash{} },
		"no account":       func(a *chainhunt.Alert) { a.Account = common.Address{} },
		"no model":         func(a *chainhunt.Alert) { a.ModelID = "" },
		"no block time":    func(a *chainhunt.Alert) { a.BlockTime = time.Time{} },
		"huge chain id":    func(a *chainhunt.Alert) { a.ChainID = 1 << 60 },
		"huge block":       func(a *chainhunt.Alert) { a.BlockNumber = math.MaxUint64 },
		"invalid UTF-8":    func(a *chainhunt.Alert) { a.Summary = "bad \xff" },
		"NUL in evidence":  func(a *chainhunt.Alert) { a.Evidence = map[string]string{"k": "a\x00b"} },
		"no rule or class": func(a *chainhunt.Alert) { a.Rule = "" },
	} {
		a := sampleAlert()
		change(&a)
		if _, err := chainhunt.Canonical(a); !errors.Is(err, chainhunt.ErrInvalidAlert) {
			t.Errorf("%s: got %v, want ErrInvalidAlert", name, err)
		}
	}
}

//go:build integration

package main

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/internal/testenv"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// A registry that holds other anchors under this database's batch ids (the
// database was restored from an old backup, or the chain rebuilt) stops
// anchoring, not the service: ingest goes on, the new records stay pending,
// /readyz says chain "conflict" and the log says why, loudly.
func TestServeKeepsIngestingOnChainConflict(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	databaseURL := pgtest.EmptyURL(t)
	if err := storage.MigrateUp(databaseURL); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	// A chain of our own that the service reaches over JSON-RPC, with its
	// registry deployed, and batch ids 1 to 3 taken with a root that is not
	// this database's.
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "service.key")
	if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(crypto.FromECDSA(key))), 0o600); err != nil {
		t.Fatal(err)
	}
	emb, err := chain.StartEmbedded(chain.EmbeddedConfig{DataDir: t.TempDir(), Faucet: crypto.PubkeyToAddress(key.PublicKey), HTTP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	c, err := chain.Open(ctx, chain.Config{RPC: emb.HTTPEndpoint(), Key: key}, storage.NewChainMeta(pool))
	if err != nil {
		t.Fatal(err)
	}
	for id := uint64(1); id <= 3; id++ {
		sent, err := c.Registry.AnchorBatch(ctx, id, anchor.Hash{0xee}, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Registry.WaitIncluded(ctx, sent.Tx, 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()

	addr := freeAddr(t)
	base := "http://" + addr
	serve := startIDSLedger(t, "serve", "--addr", addr, "--database-url", databaseURL, "--data-dir", t.TempDir(),
		"--eth-rpc", emb.HTTPEndpoint(), "--eth-key-file", keyFile, "--batch-interval", "100ms")
	testenv.Eventually(t, time.Minute, "readyz", func() bool { code, _ := get(base+"/readyz", ""); return code == 200 })
	in := e2eClient{base, createKey(t, databaseURL, "ingest")}
	an := e2eClient{base, createKey(t, databaseURL, "analyst")}
	flows, err := os.ReadFile("../../api/testdata/flows.csv")
	if err != nil {
		t.Fatal(err)
	}
	post := func() {
		t.Helper()
		if code, b := in.do(t, "POST", "/v1/flows?schema=nf-bot-iot-v2&sensor=s", "text/csv", flows); code != 200 {
			t.Fatalf("POST /v1/flows: %d %s", code, b)
		}
	}
	post()

	testenv.Eventually(t, time.Minute, "readyz to report the conflict", func() bool {
		code, body := get(base+"/readyz", "")
		return code == 200 && strings.Contains(body, `"conflict"`)
	})
	// Still serving: ingest is accepted, and what it stored stays pending.
	post()
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	an.getJSON(t, "/v1/alerts?limit=5", &page)
	if len(page.Items) == 0 {
		t.Fatal("no alerts stored")
	}
	for _, it := range page.Items {
		var v struct {
			Status string `json:"status"`
		}
		an.getJSON(t, "/v1/alerts/"+it.ID+"/verify", &v)
		if v.Status != "pending" {
			t.Fatalf("alert %s: %s, want pending", it.ID, v.Status)
		}
	}
	if code, body := get(base+"/metrics", an.key); code != 200 || !strings.Contains(body, "idsledger_chain_conflict 1") {
		t.Fatalf("metrics: %d, no idsledger_chain_conflict 1", code)
	}
	logs := serve.Logs()
	if !strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, "anchoring stopped") {
		t.Fatalf("no error logged for the conflict:\n%s", logs[max(0, len(logs)-4096):])
	}
	if err := serve.stop(t, 20*time.Second); err != nil {
		t.Fatalf("serve exited with %v on SIGTERM", err)
	}
}

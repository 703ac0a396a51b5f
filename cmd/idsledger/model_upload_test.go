//go:build integration

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idsledger/idsledger/internal/modelfiles"
	"github.com/idsledger/idsledger/internal/testenv"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// TestServeSurvivesMalformedModels uploads to a real `serve` process the
// model files that ended the process before model files were validated (a
// window of 2^30 flows, whose first ingest asked for terabytes; tree
// indices out of range, which panicked in a scoring goroutine once a batch
// was large enough to be split across cores), each followed by a batch of
// 1,024 flows. Each must be refused with a 422, and the process must go on
// serving with the model it had.
func TestServeSurvivesMalformedModels(t *testing.T) {
	cases := modelfiles.Fatal(t)
	flows := flowBatch(t, 1024)
	databaseURL := pgtest.EmptyURL(t)
	addr := freeAddr(t)
	serve := startIDSLedger(t, "serve", "--addr", addr, "--database-url", databaseURL, "--data-dir", t.TempDir())
	base := "http://" + addr
	testenv.Eventually(t, time.Minute, "readyz", func() bool { code, _ := get(base+"/readyz", ""); return code == 200 })
	admin := e2eClient{base, createKey(t, databaseURL, "admin")}
	in := e2eClient{base, createKey(t, databaseURL, "ingest")}
	var before struct {
		ID      string `json:"id"`
		Version string `json:"version"`
	}
	admin.getJSON(t, "/v1/models/active", &before)

	for _, c := range cases {
		code, body := admin.do(t, "PUT", "/v1/models/active", "application/octet-stream", c.File)
		if code != 422 || !strings.Contains(string(body), c.Want) {
			t.Errorf("%s: PUT answered %d %s, want 422 naming %q", c.Name, code, body, c.Want)
		}
		// An ingest request that ended the process when the model was
		// taken: now scored by the model that stayed.
		code, body = in.do(t, "POST", "/v1/flows?sensor=survivor", "text/csv", flows)
		select {
		case <-serve.done:
			t.Fatalf("%s: serve exited (%v)", c.Name, serve.err)
		default:
		}
		var resp struct {
			Accepted int `json:"accepted"`
			Model    struct {
				ID string `json:"id"`
			} `json:"model"`
		}
		if code != 200 || json.Unmarshal(body, &resp) != nil || resp.Accepted != 1024 || resp.Model.ID != before.ID {
			t.Errorf("%s: POST /v1/flows answered %d %.300s", c.Name, code, body)
		}
	}
	if code, body := get(base+"/healthz", ""); code != 200 {
		t.Fatalf("healthz: %d %s", code, body)
	}
	if err := serve.stop(t, 20*time.Second); err != nil {
		t.Fatalf("serve exited with %v on SIGTERM", err)
	}
}

// flowBatch is a CSV body of n flows: the rows of detector's NF-BoT-IoT-v2
// sample, repeated.
func flowBatch(t *testing.T, n int) []byte {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "detector", "testdata", "nf-bot-iot-v2-sample.csv"))
	if err != nil {
		t.Fatal(err)
	}
	header, rest, _ := strings.Cut(string(b), "\n")
	rows := strings.Split(strings.TrimSpace(rest), "\n")
	return []byte(header + "\n" + strings.Join(slices.Repeat(rows, n/len(rows)+1)[:n], "\n") + "\n")
}

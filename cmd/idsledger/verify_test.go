package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/internal/fakes"
)

// TestVerifyCommand anchors a batch on an embedded chain that serves HTTP,
// then runs `idsledger verify` against it as an auditor would.
func TestVerifyCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := chain.Open(ctx, chain.Config{DataDir: t.TempDir(), EmbeddedHTTP: "127.0.0.1:0"}, &fakes.ChainMeta{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	bodies := []string{`{"a":1}`, `{"a":2}`, `{"score":0.75,"label":"ddos"}`, `{"a":4}`, `{"a":5}`}
	leaves := make([]anchor.Hash, len(bodies))
	for i, b := range bodies {
		can, err := anchor.Canonicalize([]byte(b))
		if err != nil {
			t.Fatal(err)
		}
		leaves[i] = anchor.LeafHash(can)
	}
	root, err := anchor.Root(leaves)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := c.Registry.AnchorBatch(ctx, 1, root, uint32(len(leaves)), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Registry.WaitIncluded(ctx, sent.Tx, 1, nil); err != nil {
		t.Fatal(err)
	}
	path, err := anchor.InclusionProof(2, leaves)
	if err != nil {
		t.Fatal(err)
	}
	p := anchor.Proof{
		Status: anchor.StatusVerified, RecordID: uuid.NewString(), Mode: anchor.ModeBatch,
		Leaf: anchor.HexHash(leaves[2]), LeafIndex: 2, LeafCount: 5, BatchID: 1,
		ChainID: c.Registry.ChainID(), Registry: anchor.HexAddress(c.Registry.Address()),
	}
	for _, h := range path {
		p.AuditPath = append(p.AuditPath, anchor.HexHash(h))
	}

	dir := t.TempDir()
	write := func(name string, v any) string {
		t.Helper()
		var b []byte
		if s, ok := v.(string); ok {
			b = []byte(s)
		} else if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	proofFile := write("p.json", p)
	registry := common.Address(c.Registry.Address()).Hex()
	run := func(record string, reg string) error {
		return runVerify(ctx, []string{"--record", record, "--proof", proofFile, "--eth-rpc", c.Endpoint, "--registry", reg})
	}

	tests := []struct {
		name    string
		record  string
		reg     string
		wantErr error // nil: verified
	}{
		{"the record, formatted differently", `{ "label": "ddos", "score": 0.75 }`, registry, nil},
		{"a record envelope", fmt.Sprintf(`{"id":%q,"kind":"alert","body":{"label":"ddos","score":0.75}}`, p.RecordID), registry, nil},
		{"an altered record", `{"label":"ddos","score":0.76}`, registry, errNotVerified},
		{"another record of the batch", bodies[1], registry, errNotVerified},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(write(fmt.Sprintf("r%d.json", i), tt.record), tt.reg)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("verify: %v", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("verify: err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	t.Run("an untrusted registry", func(t *testing.T) {
		err := run(write("r.json", bodies[2]), "0x00000000000000000000000000000000000000aa")
		if err == nil {
			t.Fatal("verify accepted a proof for another registry")
		}
	})
	t.Run("the expected anchorer", func(t *testing.T) {
		err := runVerify(ctx, []string{"--record", write("r.json", bodies[2]), "--proof", proofFile,
			"--eth-rpc", c.Endpoint, "--registry", registry, "--anchorer", c.Registry.Sender().Hex()})
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
	})
	t.Run("an anchor written by another account", func(t *testing.T) {
		err := runVerify(ctx, []string{"--record", write("r.json", bodies[2]), "--proof", proofFile,
			"--eth-rpc", c.Endpoint, "--registry", registry, "--anchorer", "0x00000000000000000000000000000000000000bb"})
		if !errors.Is(err, errNotVerified) {
			t.Fatalf("verify: err = %v, want %v", err, errNotVerified)
		}
	})
	t.Run("where the anchor stands", func(t *testing.T) {
		// Two more blocks on top of the anchor's.
		for i := range 2 {
			s, err := c.Registry.AnchorBatch(ctx, uint64(10+i), anchor.Hash{1}, 1, 1)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Registry.WaitIncluded(ctx, s.Tx, 1, nil); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		stdout, stderr := capture(t, func() {
			err = runVerify(ctx, []string{"--record", write("r.json", bodies[2]), "--proof", proofFile,
				"--eth-rpc", c.Endpoint, "--registry", registry, "--json"})
		})
		if err != nil {
			t.Fatalf("verify: %v\n%s", err, stderr)
		}
		var out anchor.Proof
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("--json output: %v\n%s", err, stdout)
		}
		if out.ChainID != 1337 || out.BlockNumber == 0 || out.BlockTime == nil || out.HeadBlock < out.BlockNumber+2 ||
			out.Depth != out.HeadBlock-out.BlockNumber+1 || out.FinalizedBlock == nil || out.Finalized == nil || *out.Finalized {
			t.Fatalf("proof: %s", stdout)
		}
		if len(out.Warnings) == 0 {
			t.Fatalf("no warning about the dev chain: %s", stdout)
		}
		for _, want := range []string{"chain 1337", fmt.Sprintf("block %d", out.BlockNumber), fmt.Sprintf("depth %d", out.Depth),
			fmt.Sprintf("finalized head %d", *out.FinalizedBlock), "WARNING", "development chain", "--anchorer"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
	})
	t.Run("a final anchor required, the dev chain's block not final", func(t *testing.T) {
		var err error
		_, stderr := capture(t, func() {
			err = runVerify(ctx, []string{"--record", write("r.json", bodies[2]), "--proof", proofFile,
				"--eth-rpc", c.Endpoint, "--registry", registry, "--require-final"})
		})
		if !errors.Is(err, errNotVerified) || !strings.Contains(err.Error(), "final") {
			t.Fatalf("verify: err = %v, want %v naming finality\n%s", err, errNotVerified, stderr)
		}
	})
	t.Run("missing flags", func(t *testing.T) {
		if err := runVerify(ctx, []string{"--record", "x"}); !isUsage(err) {
			t.Fatalf("err = %v, want a usage error", err)
		}
	})
}

// verify --provenance refuses what it cannot check before it dials: flags
// that do not go together, a document that is not a provenance, a model
// made by a round without the federation registry to check it against.
func TestVerifyProvenanceUsage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, s string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	reg := "0x00000000000000000000000000000000000000aa"
	made := write("made.json", `{"alert":{"record":{"type":"alert"},"proof":null},"model":{"model":{"id":"ab"},"made_by_a_round":true,"updates":[]},"federation_registry":"0x00000000000000000000000000000000000000bb"}`)
	for name, args := range map[string][]string{
		"with --bundle":       {"--provenance", made, "--bundle", "b.json", "--eth-rpc", "http://127.0.0.1:1", "--registry", reg},
		"--federation alone":  {"--bundle", "b.json", "--federation", reg, "--eth-rpc", "http://127.0.0.1:1", "--registry", reg},
		"not a provenance":    {"--provenance", write("x.json", `{"record":{},"proof":{}}`), "--eth-rpc", "http://127.0.0.1:1", "--registry", reg},
		"no --federation":     {"--provenance", made, "--eth-rpc", "http://127.0.0.1:1", "--registry", reg},
		"malformed registry":  {"--provenance", made, "--eth-rpc", "http://127.0.0.1:1", "--registry", "0x12"},
		"malformed federaton": {"--provenance", made, "--eth-rpc", "http://127.0.0.1:1", "--registry", reg, "--federation", "nope"},
	} {
		if err := runVerify(ctx, args); !isUsage(err) {
			t.Errorf("%s: err = %v, want a usage error", name, err)
		}
	}
	// The document names another federation registry than the trusted one.
	err := runVerify(ctx, []string{"--provenance", made, "--eth-rpc", "http://127.0.0.1:1", "--registry", reg,
		"--federation", "0x00000000000000000000000000000000000000cc"})
	if err == nil || isUsage(err) {
		t.Fatalf("another federation registry: %v", err)
	}
}

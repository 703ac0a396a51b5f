package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/chaintraffic"
)

// TestBenchChainTrafficEmbedded runs `bench chain-traffic` against an
// in-process embedded dev chain served over HTTP, as `serve --chain-http`
// serves it, paying with the chain's faucet key as the service key would:
// every manifest transaction must be on chain with its sender, recipient,
// value and status, and every token transfer must have logged its Transfer.
func TestBenchChainTrafficEmbedded(t *testing.T) {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "service.key")
	if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(crypto.FromECDSA(key))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emb, err := chain.StartEmbedded(chain.EmbeddedConfig{Faucet: crypto.PubkeyToAddress(key.PublicKey), HTTP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })

	manifest := filepath.Join(dir, "traffic.json")
	var code int
	out, errOut := capture(t, func() {
		code = runMain([]string{"bench", "chain-traffic", "--eth-rpc", emb.HTTPEndpoint(), "--key-file", keyFile,
			"--accounts", "6", "--transfers", "30", "--token-transfers", "10", "--creations", "1", "--seed", "3",
			"--drain-fanout", "4", "--flood-txs", "12", "--phishing-victims", "4", "--rogue-calls", "2",
			"--manifest", manifest, "--json"})
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "chain-traffic: injecting drain") {
		t.Errorf("no progress on stderr: %s", errOut)
	}
	var res chainTrafficResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(res.Injections) != len(chaintraffic.Patterns()) || res.Transactions == 0 || !res.RegistryDeployed {
		t.Errorf("summary: %+v", res)
	}
	for p, s := range res.Injections {
		if s.Skipped != "" || s.Transactions == 0 {
			t.Errorf("%s: %+v", p, s)
		}
	}

	m, err := chaintraffic.ReadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ethclient.Dial(emb.HTTPEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := chaintraffic.Check(context.Background(), c, m); err != nil {
		t.Fatal(err)
	}
	tokens := 0
	for _, tx := range m.Normal {
		if tx.Kind == chaintraffic.KindTokenTransfer && tx.Status == 1 {
			tokens++
		}
	}
	if tokens == 0 {
		t.Error("no successful token transfer in the normal activity")
	}
	if m.Funder != crypto.PubkeyToAddress(key.PublicKey) {
		t.Errorf("funder %s, want the key file's", m.Funder.Hex())
	}
	if rogue := m.Injection(chaintraffic.RegistryRogueCall); rogue == nil || rogue.Transactions[0].Status != 0 {
		t.Errorf("rogue call not reverted: %+v", rogue)
	}
}

// TestBenchChainTrafficBadFlags: each bad flag is one line on stderr and
// exit status 2, before anything is sent.
func TestBenchChainTrafficBadFlags(t *testing.T) {
	base := []string{"bench", "chain-traffic", "--eth-rpc", "http://127.0.0.1:1", "--manifest", filepath.Join(t.TempDir(), "m.json")}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"bench", "chain-traffic", "--manifest", "m.json"}, "--eth-rpc is required"},
		{[]string{"bench", "chain-traffic", "--eth-rpc", "http://127.0.0.1:1"}, "--manifest is required"},
		{append(base, "--inject", "drain,ddos"), `unknown pattern "ddos"`},
		{append(base, "--registry", "0x1234"), "--registry"},
		{append(base, "--accounts", "1"), "--accounts"},
		{append(base, "--duration", "-1s"), "--duration"},
		{append(base, "--flood-txs", "0"), "--flood-txs"},
		{append(base, "--token-transfers", "-2"), "-token-transfers"},
		{append(base, "--key-file", filepath.Join(t.TempDir(), "missing.key")), "--key-file"},
		{append(base, "--seed", "x"), "-seed"},
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

// fakeChainHead answers a chain id and a genesis header.
type fakeChainHead struct{ id int64 }

func (f fakeChainHead) ChainID(context.Context) (*big.Int, error) { return big.NewInt(f.id), nil }
func (f fakeChainHead) HeaderByNumber(context.Context, *big.Int) (*types.Header, error) {
	return &types.Header{Number: big.NewInt(0), Difficulty: big.NewInt(1)}, nil
}

func TestBenchChainTrafficRefusesARealChain(t *testing.T) {
	if err := requireDevChain(t.Context(), fakeChainHead{id: 1}); err == nil || !strings.Contains(err.Error(), "not a development chain") {
		t.Fatalf("chain 1 (mainnet's id): %v, want a refusal", err)
	}
	if err := requireDevChain(t.Context(), fakeChainHead{id: 1337}); err != nil {
		t.Fatalf("chain 1337: %v", err)
	}
}

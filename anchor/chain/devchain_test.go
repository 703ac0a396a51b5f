package chain

import (
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/idsledger/idsledger/contracts"
)

// ethConfig is the part of an EIP-7910 eth_config answer that says which
// rules a node runs: the fork's blob schedule, chain id, precompiles and
// system contracts. Its forkId is left out on purpose: it hashes the
// genesis block, which differs between chains with other allocations.
type ethConfig struct {
	ActivationTime  uint64          `json:"activationTime"`
	BlobSchedule    json.RawMessage `json:"blobSchedule"`
	ChainID         string          `json:"chainId"`
	Precompiles     map[string]common.Address
	SystemContracts map[string]common.Address
}

type ethConfigAnswer struct {
	Current, Next, Last *ethConfig
}

func readEthConfig(t *testing.T, c *rpc.Client) ethConfigAnswer {
	t.Helper()
	var a ethConfigAnswer
	if err := c.CallContext(t.Context(), &a, "eth_config"); err != nil {
		t.Fatalf("eth_config: %v", err)
	}
	if a.Current == nil {
		t.Fatal("eth_config: no current fork")
	}
	return a
}

// simulatedRules starts a simulated backend with options and reads its
// eth_config over an IPC endpoint (its own client offers no raw calls).
func simulatedRules(t *testing.T, options ...func(*node.Config, *ethconfig.Config)) ethConfigAnswer {
	t.Helper()
	dir, err := os.MkdirTemp("", "sim") // short: a socket path has at most 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ipc := filepath.Join(dir, "sim.ipc")
	options = append(options, func(nc *node.Config, _ *ethconfig.Config) { nc.IPCPath = ipc })
	b := simulated.NewBackend(types.GenesisAlloc{}, options...)
	t.Cleanup(func() { b.Close() })
	c, err := rpc.DialContext(t.Context(), ipc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return readEthConfig(t, c)
}

// TestEmbeddedAndSimulatedRunSameRules starts the embedded dev chain the
// service runs, the simulated backend of NewSimulated and the one of the
// contracts gas tests (contracts.SimulatedOsaka), and requires all
// three to report the same rules through eth_config: the same current fork
// with the same precompiles and system contracts, and no fork scheduled
// after it. A go-ethereum upgrade that changes one of them fails here.
func TestEmbeddedAndSimulatedRunSameRules(t *testing.T) {
	emb, err := StartEmbedded(EmbeddedConfig{Faucet: common.HexToAddress("0x01")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })
	embedded := readEthConfig(t, emb.Client().Client())

	for name, got := range map[string]ethConfigAnswer{
		"chain.NewSimulated":                      simulatedRules(t, simulatedOptions...),
		"simulated with contracts.SimulatedOsaka": simulatedRules(t, contracts.SimulatedOsaka),
	} {
		if !reflect.DeepEqual(got, embedded) {
			g, _ := json.Marshal(got)
			e, _ := json.Marshal(embedded)
			t.Errorf("%s runs other rules than the embedded chain:\n got %s\nwant %s", name, g, e)
		}
	}
	if embedded.Next != nil || embedded.Last != nil {
		t.Errorf("the embedded chain schedules a fork after its current one: %+v %+v", embedded.Next, embedded.Last)
	}
	if want := "0x" + big.NewInt(1337).Text(16); embedded.Current.ChainID != want {
		t.Errorf("chain id %s, want %s", embedded.Current.ChainID, want)
	}
}

// TestDevGenesisHashUnchanged pins the genesis hashes of new dev chains. A
// data directory that already holds a chain keeps its own genesis (the
// embedded chain passes none when it reopens one), so a change here does
// not stop an existing .data/chain from opening; but it does mean that
// `geth init` with testdata/geth-dev-genesis.json and the embedded chain
// of a new installation start from another block than before, which must
// be a deliberate, reported change.
func TestDevGenesisHashUnchanged(t *testing.T) {
	for name, tc := range map[string]struct {
		got  common.Hash
		want string
	}{
		"geth dev genesis": {GethDevGenesis().ToBlock().Hash(), "f08256556b7dd981c881ebb949c84487182a95da5bcc94cfe676f92382135ed4"},
		"embedded, faucet 0x01": {
			DevGenesis(DevGasLimit, common.HexToAddress("0x01")).ToBlock().Hash(),
			"45455f369442c41de14a1a85f278e49aa116a7d71fb3819e9159e25f50cc4c0b",
		},
	} {
		if tc.got != common.HexToHash(tc.want) {
			t.Errorf("%s: genesis %x, want %s", name, tc.got, tc.want)
		}
	}
}

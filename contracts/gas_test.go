package contracts_test

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/anchor"
)

// batchSizes are the batch sizes whose gas per record the issue asks for.
var batchSizes = []uint32{1, 16, 256, 1024, 4096}

// gasFigures is the gas of each registry call measured on one chain.
type gasFigures struct {
	batch         map[uint32]uint64 // anchorBatch gas by leaf count
	record        uint64            // anchor (per-record mode)
	model         uint64            // registerModel
	grant, revoke uint64
}

// measureGas runs every state-changing call once on h, on fresh ids, the way
// the anchoring worker does (each batch and record anchored once).
func measureGas(t *testing.T, h *harness) gasFigures {
	t.Helper()
	f := gasFigures{batch: map[uint32]uint64{}}
	for i, size := range batchSizes {
		root := anchor.LeafHash(binary.BigEndian.AppendUint32(nil, size))
		r := h.mustSend(h.owner, h.reg.PackAnchorBatch(uint64(1000+i), root, size, 1))
		f.batch[size] = r.GasUsed
	}
	id := [16]byte{0x01, 0x9a, 0xbc, 0xde, 0x70, 0x00, 0x7a, 0xbc, 0x80, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}
	f.record = h.mustSend(h.owner, h.reg.PackAnchor(id, anchor.LeafHash(id[:]), 1)).GasUsed
	f.model = h.mustSend(h.owner, h.reg.PackRegisterModel(7, anchor.LeafHash([]byte("model")), 3)).GasUsed
	f.grant = h.mustSend(h.owner, h.reg.PackGrantAnchorer(h.alice.addr)).GasUsed
	f.revoke = h.mustSend(h.owner, h.reg.PackRevokeAnchorer(h.alice.addr)).GasUsed
	return f
}

func (f gasFigures) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-28s %10s %14s\n", "call", "gas", "gas/record")
	for _, size := range batchSizes {
		fmt.Fprintf(&b, "%-28s %10d %14.1f\n", fmt.Sprintf("anchorBatch (%d leaves)", size), f.batch[size], float64(f.batch[size])/float64(size))
	}
	fmt.Fprintf(&b, "%-28s %10d %14d\n", "anchor (per record)", f.record, f.record)
	fmt.Fprintf(&b, "%-28s %10d\n", "registerModel", f.model)
	fmt.Fprintf(&b, "%-28s %10d\n", "grantAnchorer (new)", f.grant)
	fmt.Fprintf(&b, "%-28s %10d\n", "revokeAnchorer", f.revoke)
	return b.String()
}

// TestGasPerRecord measures every call under Osaka rules (today's mainnet)
// and holds the goal: under 100 gas per record at 1,024 records per
// batch. It logs the same figures under go-ethereum's default dev rules
// (with the experimental post-Osaka forks) for comparison; run with -v.
func TestGasPerRecord(t *testing.T) {
	osaka := measureGas(t, newHarness(t))
	t.Logf("gas under Osaka rules (contracts.OsakaDevChainConfig):\n%s", osaka)
	if perRecord := float64(osaka.batch[1024]) / 1024; perRecord >= 100 {
		t.Errorf("anchorBatch costs %.1f gas per record at 1,024 records, want < 100", perRecord)
	}
	if osaka.batch[1024] >= 100_000 {
		t.Errorf("anchorBatch costs %d gas, want < 100,000", osaka.batch[1024])
	}
	if testing.Short() {
		return
	}
	dev := measureGas(t, newHarness(t, func(*nodeConfig, *ethConfig) {}))
	t.Logf("gas under go-ethereum v1.17.8 default dev rules (params.AllDevChainProtocolChanges):\n%s", dev)
}

// BenchmarkAnchorBatch sends one anchorBatch per iteration on the simulated
// chain under Osaka rules and reports its gas per transaction and per record.
func BenchmarkAnchorBatch(b *testing.B) {
	for _, size := range batchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			h := newHarness(b)
			var gas uint64
			id := uint64(1)
			for b.Loop() {
				r := h.mustSend(h.owner, h.reg.PackAnchorBatch(id, anchor.LeafHash(binary.BigEndian.AppendUint64(nil, id)), size, 1))
				gas = r.GasUsed
				id++
			}
			b.ReportMetric(float64(gas), "gas/tx")
			b.ReportMetric(float64(gas)/float64(size), "gas/record")
		})
	}
}

// BenchmarkAnchorRecord is per-record mode: one anchor transaction per record.
func BenchmarkAnchorRecord(b *testing.B) {
	h := newHarness(b)
	var gas uint64
	n := uint64(1)
	for b.Loop() {
		var id [16]byte
		binary.BigEndian.PutUint64(id[8:], n)
		gas = h.mustSend(h.owner, h.reg.PackAnchor(id, anchor.LeafHash(id[:]), 1)).GasUsed
		n++
	}
	b.ReportMetric(float64(gas), "gas/tx")
	b.ReportMetric(float64(gas), "gas/record")
}

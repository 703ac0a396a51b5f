package chaintraffic_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/chaintraffic"
)

// TestScore checks the per-pattern precision and recall on a hand-made
// manifest: normal flags count against every pattern, counterparties and
// skipped patterns count neither way.
func TestScore(t *testing.T) {
	a := func(b byte) common.Address { return common.Address{b} }
	h := func(b byte) common.Hash { return common.Hash{b} }
	m := &chaintraffic.Manifest{
		NormalAccounts: []common.Address{a(1), a(2), a(3), a(4)},
		Normal:         []chaintraffic.Tx{{Hash: h(1)}, {Hash: h(2)}},
		Injections: []chaintraffic.Injection{
			{Pattern: chaintraffic.Drain, Anomalous: []common.Address{a(10)}, Counterparties: []common.Address{a(11)},
				Transactions: []chaintraffic.Tx{{Hash: h(10)}, {Hash: h(11)}}},
			{Pattern: chaintraffic.RegistryRoleChange, Anomalous: []common.Address{a(20), a(21)},
				Transactions: []chaintraffic.Tx{{Hash: h(20)}}},
			{Pattern: chaintraffic.RegistryForeignBatch, Skipped: "not the owner"},
		},
	}
	s := m.ScoreAccounts([]common.Address{a(10), a(11), a(20), a(1), a(99)})
	if _, ok := s.ByPattern[chaintraffic.RegistryForeignBatch]; ok || len(s.ByPattern) != 2 {
		t.Errorf("patterns scored: %v", s.ByPattern)
	}
	want := chaintraffic.Score{Positives: 1, TruePositives: 1, FalsePositives: 1, Precision: 0.5, Recall: 1}
	if got := s.ByPattern[chaintraffic.Drain]; got != want {
		t.Errorf("drain: %+v, want %+v", got, want)
	}
	want = chaintraffic.Score{Positives: 2, TruePositives: 1, FalsePositives: 1, Precision: 0.5, Recall: 0.5}
	if got := s.ByPattern[chaintraffic.RegistryRoleChange]; got != want {
		t.Errorf("role change: %+v, want %+v", got, want)
	}
	want = chaintraffic.Score{Positives: 3, TruePositives: 2, FalsePositives: 1, Precision: 2.0 / 3, Recall: 2.0 / 3}
	if s.All != want {
		t.Errorf("all: %+v, want %+v", s.All, want)
	}

	ts := m.ScoreTransactions([]common.Hash{h(20)})
	want = chaintraffic.Score{Positives: 1, TruePositives: 1, Precision: 1, Recall: 1}
	if got := ts.ByPattern[chaintraffic.RegistryRoleChange]; got != want {
		t.Errorf("role change transactions: %+v, want %+v", got, want)
	}
	if got := ts.ByPattern[chaintraffic.Drain]; got.Recall != 0 || got.Precision != 0 || got.Positives != 2 {
		t.Errorf("drain transactions: %+v", got)
	}
	if ts.All.Positives != 3 || ts.All.TruePositives != 1 {
		t.Errorf("all transactions: %+v", ts.All)
	}
}

package chaintraffic

import (
	"github.com/ethereum/go-ethereum/common"
)

// Score is how a hunter's flags fare on one pattern (or, in Scores.All,
// on every pattern together).
type Score struct {
	// Positives is the number of anomalous accounts (or injected
	// transactions) of the pattern.
	Positives int `json:"positives"`
	// TruePositives of them were flagged.
	TruePositives int `json:"true_positives"`
	// FalsePositives is the number of flagged negatives: normal accounts
	// (or normal transactions). They count against every pattern.
	FalsePositives int `json:"false_positives"`
	// Precision is TruePositives / (TruePositives + FalsePositives): the
	// precision a hunter would have if this pattern were the only anomaly
	// in the traffic. 0 when nothing counted was flagged.
	Precision float64 `json:"precision"`
	// Recall is TruePositives / Positives; 0 when there are no positives.
	Recall float64 `json:"recall"`
}

// Scores are a hunter's scores per injected pattern and over all of them.
type Scores struct {
	// ByPattern holds the score of every injection that was not skipped.
	ByPattern map[Pattern]Score `json:"by_pattern"`
	// All scores every anomalous account (or injected transaction) of the
	// run against every negative.
	All Score `json:"all"`
}

// ScoreAccounts scores the accounts a hunter flagged. The positives of a
// pattern are its Anomalous accounts, the negatives the NormalAccounts;
// flags on anything else (counterparties, the funder, accounts outside
// the run) count neither way.
func (m *Manifest) ScoreAccounts(flagged []common.Address) Scores {
	positives := map[Pattern][]common.Address{}
	for _, in := range m.Injections {
		if in.Skipped == "" {
			positives[in.Pattern] = in.Anomalous
		}
	}
	return score(flagged, positives, m.NormalAccounts)
}

// ScoreTransactions scores the transactions a hunter flagged (by a rule
// on the registry, say). The positives of a pattern are its Transactions,
// the negatives the Normal ones; setup transactions count neither way.
func (m *Manifest) ScoreTransactions(flagged []common.Hash) Scores {
	positives := map[Pattern][]common.Hash{}
	for _, in := range m.Injections {
		if in.Skipped == "" {
			for _, tx := range in.Transactions {
				positives[in.Pattern] = append(positives[in.Pattern], tx.Hash)
			}
		}
	}
	negatives := make([]common.Hash, 0, len(m.Normal))
	for _, tx := range m.Normal {
		negatives = append(negatives, tx.Hash)
	}
	return score(flagged, positives, negatives)
}

func score[K comparable](flagged []K, positives map[Pattern][]K, negatives []K) Scores {
	isFlagged := make(map[K]bool, len(flagged))
	for _, f := range flagged {
		isFlagged[f] = true
	}
	fp := 0
	for _, n := range negatives {
		if isFlagged[n] {
			fp++
		}
	}
	out := Scores{ByPattern: map[Pattern]Score{}, All: Score{FalsePositives: fp}}
	seen := map[K]bool{}
	for p, pos := range positives {
		s := Score{FalsePositives: fp}
		for _, k := range pos {
			s.Positives++
			if isFlagged[k] {
				s.TruePositives++
			}
			if !seen[k] {
				seen[k] = true
				out.All.Positives++
				if isFlagged[k] {
					out.All.TruePositives++
				}
			}
		}
		out.ByPattern[p] = s.ratios()
	}
	out.All = out.All.ratios()
	return out
}

func (s Score) ratios() Score {
	if d := s.TruePositives + s.FalsePositives; d > 0 {
		s.Precision = float64(s.TruePositives) / float64(d)
	}
	if s.Positives > 0 {
		s.Recall = float64(s.TruePositives) / float64(s.Positives)
	}
	return s
}

package detector

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// StratifiedSplit splits row indices 0..len(y)-1 into train and test so
// that each class keeps its proportion: round(testFraction·n_c) rows of
// class c go to test, except that a class with at least two rows keeps one
// on each side. The split depends only on y, testFraction and seed; both
// results are sorted. testFraction 0 puts everything in train.
func StratifiedSplit(y []int, testFraction float64, seed int64) (train, test []int) {
	byClass := map[int][]int{}
	var classes []int
	for i, c := range y {
		if _, ok := byClass[c]; !ok {
			classes = append(classes, c)
		}
		byClass[c] = append(byClass[c], i)
	}
	sort.Ints(classes)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x1d51ed9e))
	for _, c := range classes {
		idx := byClass[c]
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		k := int(math.Round(testFraction * float64(len(idx))))
		if testFraction > 0 && len(idx) >= 2 {
			k = max(1, min(k, len(idx)-1))
		}
		test = append(test, idx[:k]...)
		train = append(train, idx[k:]...)
	}
	sort.Ints(train)
	sort.Ints(test)
	return train, test
}

// Dedup drops flows whose feature values (every column the schema of kind
// does not mark identifier, label or ignored) and class repeat an earlier
// flow's; it keeps the first occurrence and returns how many it dropped.
// Run it before splitting so that no test row repeats a training row.
func Dedup(kind string, opt LoadOptions, flows []*Flow) ([]*Flow, int, error) {
	s, err := LookupSchema(kind, opt)
	if err != nil {
		return nil, 0, err
	}
	feat := map[*Header][]int{}
	seen := make(map[string]struct{}, len(flows))
	out := flows[:0:0]
	var b strings.Builder
	for _, f := range flows {
		idx, ok := feat[f.Header]
		if !ok {
			for i, n := range f.Header.Names {
				if s.RoleOf(n) == RoleFeature {
					idx = append(idx, i)
				}
			}
			feat[f.Header] = idx
		}
		b.Reset()
		b.WriteString(f.Class)
		for _, i := range idx {
			b.WriteByte(0)
			b.WriteString(f.Header.Names[i])
			b.WriteByte('=')
			b.WriteString(f.Values[i])
		}
		k := b.String()
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		out = append(out, f)
	}
	return out, len(flows) - len(out), nil
}

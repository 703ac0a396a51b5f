package detector

import (
	"fmt"
	"math"
	"math/rand/v2"
)

func init() {
	registerModel(ModelKind{Name: "iforest", Input: InputRow, New: newIForest, Defaults: classicalDefaults})
}

// iforest is an isolation forest (Liu, Ting & Zhou 2008) fitted on benign
// rows. Score = 2^(−E[h(x)]/c(ψ)) in (0,1]: higher is more anomalous.
//
// Params: "trees" (default 100), "sample_size" ψ (default 256, capped at
// the number of benign rows). Each tree is stored as a complete binary tree
// of depth ⌈log2 ψ⌉ (node i has children 2i+1, 2i+2) with three values per
// node: feature index (−1 leaf, −2 unused), split value, and the leaf's
// training size. Weights() is that array, tree after tree.
type iforest struct {
	anomalyBase
	depth int
	psi   int
	nodes []float32 // trees × nodesPerTree × 3
}

func newIForest(cfg ModelConfig) (Model, error) {
	return &iforest{anomalyBase: anomalyBase{cfg: cfg}}, nil
}

func (m *iforest) Kind() string { return "iforest" }

func (m *iforest) trees() int { return int(m.cfg.Param("trees", 100)) }

func (m *iforest) nodesPerTree() int { return 1<<(m.depth+1) - 1 }

// geometry derives depth from ψ.
func (m *iforest) geometry(psi int) {
	m.psi = psi
	m.depth = int(math.Ceil(math.Log2(float64(max(psi, 2)))))
}

func (m *iforest) Fit(train, valid Labeled, cfg TrainConfig, progress func(EpochStats)) error {
	return m.fit(train, valid, cfg, progress, m.grow, m.score)
}

func (m *iforest) grow(rows [][]float32, rng *rand.Rand) error {
	psi := min(int(m.cfg.Param("sample_size", 256)), len(rows))
	m.geometry(psi)
	per := m.nodesPerTree()
	m.nodes = make([]float32, m.trees()*per*3)
	for i := range m.nodes {
		if i%3 == 0 {
			m.nodes[i] = -2
		}
	}
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	for t := 0; t < m.trees(); t++ {
		// Sample ψ rows without replacement (partial Fisher-Yates).
		for i := 0; i < psi; i++ {
			j := i + rng.IntN(len(idx)-i)
			idx[i], idx[j] = idx[j], idx[i]
		}
		sample := make([][]float32, psi)
		for i := range sample {
			sample[i] = rows[idx[i]]
		}
		m.build(m.nodes[t*per*3:(t+1)*per*3], 0, 0, sample, rng)
	}
	return nil
}

// build grows node i of one tree from rows at depth d.
func (m *iforest) build(tree []float32, i, d int, rows [][]float32, rng *rand.Rand) {
	leaf := func() { tree[3*i], tree[3*i+1], tree[3*i+2] = -1, 0, float32(len(rows)) }
	if d >= m.depth || len(rows) <= 1 {
		leaf()
		return
	}
	w := len(rows[0])
	// Pick a random feature that varies in this node (try each once).
	perm := rng.Perm(w)
	for _, f := range perm {
		lo, hi := rows[0][f], rows[0][f]
		for _, r := range rows[1:] {
			lo, hi = min(lo, r[f]), max(hi, r[f])
		}
		if hi <= lo {
			continue
		}
		split := lo + float32(rng.Float64())*(hi-lo)
		if split <= lo { // float32 rounding: keep both sides non-empty
			split = hi
		}
		var left, right [][]float32
		for _, r := range rows {
			if r[f] < split {
				left = append(left, r)
			} else {
				right = append(right, r)
			}
		}
		tree[3*i], tree[3*i+1], tree[3*i+2] = float32(f), split, 0
		m.build(tree, 2*i+1, d+1, left, rng)
		m.build(tree, 2*i+2, d+1, right, rng)
		return
	}
	leaf()
}

// avgPath is c(n), the average path length of an unsuccessful BST search.
func avgPath(n float64) float64 {
	switch {
	case n <= 1:
		return 0
	case n == 2:
		return 1
	}
	return 2*(math.Log(n-1)+0.5772156649) - 2*(n-1)/n
}

func (m *iforest) score(x []float32) float64 {
	per := m.nodesPerTree()
	total := 0.0
	for t := 0; t < m.trees(); t++ {
		tree := m.nodes[t*per*3 : (t+1)*per*3]
		i, d := 0, 0
		for tree[3*i] >= 0 {
			if x[int(tree[3*i])] < tree[3*i+1] {
				i = 2*i + 1
			} else {
				i = 2*i + 2
			}
			d++
		}
		total += float64(d) + avgPath(float64(tree[3*i+2]))
	}
	return math.Pow(2, -total/float64(m.trees())/avgPath(float64(m.psi)))
}

func (m *iforest) Predict(x Seqs) ([]Prediction, error) { return m.predict(x, m.score) }

func (m *iforest) Weights() []float32 { return append([]float32(nil), m.nodes...) }

func (m *iforest) SetWeights(w []float32) error {
	if !m.fitted || len(w) != len(m.nodes) {
		return fmt.Errorf("%w: iforest weights %d, want %d", ErrShape, len(w), len(m.nodes))
	}
	copy(m.nodes, w)
	return nil
}

type iforestState struct {
	Psi int `json:"psi"`
}

func (m *iforest) MarshalBinary() ([]byte, error) {
	if !m.fitted {
		return nil, ErrNotFitted
	}
	return marshalModelBlob(m.Kind(), m.cfg, m.thr, iforestState{Psi: m.psi}, m.nodes)
}

func (m *iforest) UnmarshalBinary(data []byte) error {
	var st iforestState
	h, w, err := unmarshalModelBlob(m.Kind(), data, &st)
	if err != nil {
		return err
	}
	m.cfg, m.thr = h.Config, h.Threshold
	if err := m.checkSizes(st.Psi); err != nil {
		return err
	}
	m.geometry(st.Psi)
	if len(w) != m.trees()*m.nodesPerTree()*3 {
		return fmt.Errorf("%w: iforest payload has %d weights", ErrShape, len(w))
	}
	m.nodes, m.fitted = w, true
	return nil
}

// checkSizes bounds the trees and the sample size ψ before the forest's
// geometry is derived from them.
func (m *iforest) checkSizes(psi int) error {
	if t := m.cfg.Param("trees", 100); t != math.Trunc(t) || t < 1 || t > MaxTrees {
		return invalid("model_config.params.trees", "%v is not a whole number in [1, %d]", t, MaxTrees)
	}
	if psi < 2 || psi > MaxTreeSample {
		// ψ=1 would divide every score by c(1) = 0.
		return invalid("iforest psi", "%d is outside [2, %d]", psi, MaxTreeSample)
	}
	return nil
}

// Validate checks the forest's sizes and every node. Nodes are stored as
// complete binary trees, node i's children at 2i+1 and 2i+2: indices are
// implicit and always after their parent, so no file can make a cycle, but
// a split on the last level would send scoring past the tree's end. So:
// the root and every child of a split are used (a split or a leaf), every
// other node is unused (−2); a split names a feature index within the row
// and is not on the last level; a leaf's size is within [0, ψ].
func (m *iforest) Validate() error {
	if err := m.validate("iforest", m.nodes); err != nil {
		return err
	}
	if err := m.checkSizes(m.psi); err != nil {
		return err
	}
	per := m.nodesPerTree()
	if len(m.nodes) != m.trees()*per*3 {
		return invalid("iforest weights", "%d, want %d for %d trees of %d nodes", len(m.nodes), m.trees()*per*3, m.trees(), per)
	}
	width := m.width()
	for t := range m.trees() {
		tree := m.nodes[t*per*3 : (t+1)*per*3]
		for i := range per {
			f, size := tree[3*i], tree[3*i+2]
			used := i == 0 || tree[3*((i-1)/2)] >= 0 // the parent splits
			node := fmt.Sprintf("iforest tree %d node %d", t, i)
			switch {
			case !used && f != -2:
				return invalid(node, "feature %v below a leaf: want -2 (unused)", f)
			case !used:
			case f == -2:
				return invalid(node, "unused (-2), but the root or its parent's split leads here")
			case f == -1:
				if size < 0 || size > float32(m.psi) {
					return invalid(node, "leaf size %v is outside [0, ψ=%d]", size, m.psi)
				}
			case f < 0 || f != float32(int(f)) || int(f) >= width:
				return invalid(node, "feature %v: want -1 (leaf) or a feature index in [0, %d)", f, width)
			case 2*i+2 >= per:
				return invalid(node, "splits, but its children %d and %d would lie past the end of the tree (%d nodes)", 2*i+1, 2*i+2, per)
			}
		}
	}
	return nil
}

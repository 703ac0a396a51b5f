package detector

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

func init() {
	registerModel(ModelKind{Name: "cblof", Input: InputRow, New: newCBLOF, Defaults: classicalDefaults})
}

// cblofModel is the cluster-based local outlier factor (He, Xu & Deng
// 2003) without size weighting, as pyod's default: k-means clusters of
// benign rows are split into large and small ones (largest first, the
// boundary is where the large clusters first hold "alpha" of the rows, or
// where a cluster is "beta" times the next one); a row's score is its
// distance to its own cluster's centroid when that cluster is large, else
// to the nearest large centroid.
//
// Params: "k" (default 8), "alpha" (0.9), "beta" (5), "iters" (100).
// Weights() is the k·d centroids then k flags (1 large, 0 small).
type cblofModel struct {
	anomalyBase
	centroids [][]float64
	large     []bool
}

func newCBLOF(cfg ModelConfig) (Model, error) {
	return &cblofModel{anomalyBase: anomalyBase{cfg: cfg}}, nil
}

func (m *cblofModel) Kind() string { return "cblof" }

func (m *cblofModel) Fit(train, valid Labeled, cfg TrainConfig, progress func(EpochStats)) error {
	return m.fit(train, valid, cfg, progress, m.fitRows, m.score)
}

func (m *cblofModel) fitRows(rows [][]float32, rng *rand.Rand) error {
	cent, assign := kmeans(rows, int(m.cfg.Param("k", 8)), int(m.cfg.Param("iters", 100)), rng)
	size := make([]int, len(cent))
	for _, a := range assign {
		size[a]++
	}
	order := make([]int, len(cent))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return size[order[a]] > size[order[b]] })
	alpha, beta := m.cfg.Param("alpha", 0.9), m.cfg.Param("beta", 5)
	m.large = make([]bool, len(cent))
	cum := 0
	for r, c := range order {
		m.large[c] = true
		cum += size[c]
		if float64(cum) >= alpha*float64(len(rows)) {
			break
		}
		if r+1 < len(order) && size[order[r+1]] > 0 && float64(size[c])/float64(size[order[r+1]]) >= beta {
			break
		}
	}
	m.centroids = cent
	return m.SetWeights(m.Weights()) // keep the stored float32 form
}

func (m *cblofModel) score(x []float32) float64 {
	c, d := nearest(x, m.centroids)
	if m.large[c] {
		return math.Sqrt(d)
	}
	best := math.Inf(1)
	for k, cv := range m.centroids {
		if m.large[k] {
			best = math.Min(best, sqDist(x, cv))
		}
	}
	return math.Sqrt(best)
}

func (m *cblofModel) Predict(x Seqs) ([]Prediction, error) { return m.predict(x, m.score) }

func (m *cblofModel) Weights() []float32 {
	w := flatten32(m.centroids)
	for _, l := range m.large {
		if l {
			w = append(w, 1)
		} else {
			w = append(w, 0)
		}
	}
	return w
}

func (m *cblofModel) SetWeights(w []float32) error {
	if m.fitted && len(w) != m.numWeights() {
		return fmt.Errorf("%w: cblof weights %d, want %d", ErrShape, len(w), m.numWeights())
	}
	d := m.width()
	if len(w)%(d+1) != 0 || len(w) == 0 {
		return fmt.Errorf("%w: cblof weights %d for width %d", ErrShape, len(w), d)
	}
	k := len(w) / (d + 1)
	c, err := unflatten(w[:k*d], d)
	if err != nil {
		return err
	}
	large := make([]bool, k)
	anyLarge := false
	for i := range large {
		large[i] = w[k*d+i] >= 0.5
		anyLarge = anyLarge || large[i]
	}
	if !anyLarge {
		return fmt.Errorf("%w: cblof weights mark no large cluster", ErrShape)
	}
	m.centroids, m.large, m.fitted = c, large, true
	return nil
}

func (m *cblofModel) MarshalBinary() ([]byte, error) {
	if !m.fitted {
		return nil, ErrNotFitted
	}
	return marshalModelBlob(m.Kind(), m.cfg, m.thr, nil, m.Weights())
}

func (m *cblofModel) UnmarshalBinary(data []byte) error {
	h, w, err := unmarshalModelBlob(m.Kind(), data, nil)
	if err != nil {
		return err
	}
	m.cfg, m.thr = h.Config, h.Threshold
	// The flags are the last k weights, k = len(w)/(width+1); SetWeights
	// reads them as >= 0.5, and MarshalBinary writes 0 or 1 exactly.
	if d := m.width(); d > 0 && len(w)%(d+1) == 0 {
		k := len(w) / (d + 1)
		for i, f := range w[k*d:] {
			if f != 0 && f != 1 {
				return invalid("cblof weights", "large-cluster flag %d is %v: want 0 or 1", i, f)
			}
		}
	}
	return m.SetWeights(w)
}

// Validate checks the centroids: 1 to MaxClusters of them, finite, at
// least one of them large (SetWeights sees to that).
func (m *cblofModel) Validate() error {
	if err := m.validate("cblof", m.Weights()); err != nil {
		return err
	}
	return checkClusters("cblof", len(m.centroids))
}

func (m *cblofModel) numWeights() int { return len(m.centroids) * (m.width() + 1) }

package detector

import (
	"fmt"
	"math"
	"math/rand/v2"
)

func init() {
	registerModel(ModelKind{Name: "kmeans", Input: InputRow, New: newKMeans, Defaults: classicalDefaults})
}

// kmeansModel clusters benign rows with k-means (k-means++ seeding, Lloyd
// iterations); score = Euclidean distance to the nearest centroid.
//
// Params: "k" (default 8, capped at the number of distinct benign rows),
// "iters" (default 100). Weights() is the k·d centroids, row-major.
type kmeansModel struct {
	anomalyBase
	centroids [][]float64
}

func newKMeans(cfg ModelConfig) (Model, error) {
	return &kmeansModel{anomalyBase: anomalyBase{cfg: cfg}}, nil
}

func (m *kmeansModel) Kind() string { return "kmeans" }

func (m *kmeansModel) Fit(train, valid Labeled, cfg TrainConfig, progress func(EpochStats)) error {
	return m.fit(train, valid, cfg, progress, func(rows [][]float32, rng *rand.Rand) error {
		m.centroids, _ = kmeans(rows, int(m.cfg.Param("k", 8)), int(m.cfg.Param("iters", 100)), rng)
		return m.SetWeights(m.Weights()) // keep the stored float32 form
	}, m.score)
}

func (m *kmeansModel) score(x []float32) float64 {
	_, d := nearest(x, m.centroids)
	return math.Sqrt(d)
}

func (m *kmeansModel) Predict(x Seqs) ([]Prediction, error) { return m.predict(x, m.score) }

func (m *kmeansModel) Weights() []float32 { return flatten32(m.centroids) }

func (m *kmeansModel) SetWeights(w []float32) error {
	if m.fitted && len(w) != m.numWeights() {
		return fmt.Errorf("%w: kmeans weights %d, want %d", ErrShape, len(w), m.numWeights())
	}
	c, err := unflatten(w, m.width())
	if err != nil {
		return err
	}
	m.centroids, m.fitted = c, true
	return nil
}

func (m *kmeansModel) MarshalBinary() ([]byte, error) {
	if !m.fitted {
		return nil, ErrNotFitted
	}
	return marshalModelBlob(m.Kind(), m.cfg, m.thr, nil, m.Weights())
}

func (m *kmeansModel) UnmarshalBinary(data []byte) error {
	h, w, err := unmarshalModelBlob(m.Kind(), data, nil)
	if err != nil {
		return err
	}
	m.cfg, m.thr = h.Config, h.Threshold
	return m.SetWeights(w)
}

// kmeans clusters rows into at most k clusters and returns the centroids
// and each row's cluster. Seeding is k-means++ with rng, so the result is
// deterministic for a given rng state.
func kmeans(rows [][]float32, k, iters int, rng *rand.Rand) ([][]float64, []int) {
	n, d := len(rows), len(rows[0])
	k = max(1, min(k, n))
	cent := make([][]float64, 0, k)
	first := rng.IntN(n)
	cent = append(cent, to64(rows[first]))
	dist := make([]float64, n)
	for i, r := range rows {
		dist[i] = sqDist(r, cent[0])
	}
	for len(cent) < k {
		total := 0.0
		for _, v := range dist {
			total += v
		}
		if total == 0 {
			break // fewer distinct rows than k
		}
		u := rng.Float64() * total
		pick := n - 1
		for i, v := range dist {
			u -= v
			if u < 0 {
				pick = i
				break
			}
		}
		c := to64(rows[pick])
		cent = append(cent, c)
		for i, r := range rows {
			dist[i] = math.Min(dist[i], sqDist(r, c))
		}
	}
	assign := make([]int, n)
	for it := 0; it < iters; it++ {
		changed := false
		for i, r := range rows {
			c, _ := nearest(r, cent)
			if c != assign[i] || it == 0 {
				changed = changed || c != assign[i]
				assign[i] = c
			}
		}
		if !changed && it > 0 {
			break
		}
		sums := make([][]float64, len(cent))
		counts := make([]int, len(cent))
		for c := range sums {
			sums[c] = make([]float64, d)
		}
		for i, r := range rows {
			counts[assign[i]]++
			for j, v := range r {
				sums[assign[i]][j] += float64(v)
			}
		}
		for c := range cent {
			if counts[c] == 0 {
				continue // keep an emptied centroid where it was
			}
			for j := range sums[c] {
				cent[c][j] = sums[c][j] / float64(counts[c])
			}
		}
	}
	for i, r := range rows {
		assign[i], _ = nearest(r, cent)
	}
	return cent, assign
}

// nearest returns the index of the closest centroid and the squared
// distance to it.
func nearest(x []float32, cent [][]float64) (int, float64) {
	best, bd := 0, math.Inf(1)
	for c, cv := range cent {
		if d := sqDist(x, cv); d < bd {
			best, bd = c, d
		}
	}
	return best, bd
}

func to64(r []float32) []float64 {
	out := make([]float64, len(r))
	for i, v := range r {
		out[i] = float64(v)
	}
	return out
}

func flatten32(m [][]float64) []float32 {
	var w []float32
	for _, r := range m {
		for _, v := range r {
			w = append(w, float32(v))
		}
	}
	return w
}

func unflatten(w []float32, d int) ([][]float64, error) {
	if d <= 0 || len(w) == 0 || len(w)%d != 0 {
		return nil, fmt.Errorf("%w: %d weights for rows of width %d", ErrShape, len(w), d)
	}
	out := make([][]float64, len(w)/d)
	for c := range out {
		out[c] = make([]float64, d)
		for j := range out[c] {
			out[c][j] = float64(w[c*d+j])
		}
	}
	return out, nil
}

// Validate checks the centroids: 1 to MaxClusters of them, finite.
func (m *kmeansModel) Validate() error {
	if err := m.validate("kmeans", m.Weights()); err != nil {
		return err
	}
	return checkClusters("kmeans", len(m.centroids))
}

// checkClusters bounds the centroids of a cluster model.
func checkClusters(kind string, k int) error {
	if k < 1 || k > MaxClusters {
		return invalid(kind+" weights", "%d centroids, want 1 to %d", k, MaxClusters)
	}
	return nil
}

func (m *kmeansModel) numWeights() int { return len(m.centroids) * m.width() }

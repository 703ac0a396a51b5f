package detector

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

func init() {
	registerModel(ModelKind{Name: "pca", Input: InputRow, New: newPCA, Defaults: classicalDefaults})
}

// pcaModel scores a row by its Mahalanobis distance from the benign mean,
// computed in the principal-component basis of the benign covariance:
// score = Σ_k (v_k·(x−μ))² / λ_k. Eigenvalues are floored at
// "var_floor"·λ_max (default 1e-4) so directions in which benign traffic
// never varies weigh heavily but finitely.
//
// Params: "components" (default 0: all). Weights() is μ (d values), then
// per component λ_k followed by v_k (d values).
type pcaModel struct {
	anomalyBase
	mean   []float64
	lambda []float64
	vecs   [][]float64
}

func newPCA(cfg ModelConfig) (Model, error) {
	return &pcaModel{anomalyBase: anomalyBase{cfg: cfg}}, nil
}

func (m *pcaModel) Kind() string { return "pca" }

func (m *pcaModel) Fit(train, valid Labeled, cfg TrainConfig, progress func(EpochStats)) error {
	return m.fit(train, valid, cfg, progress, m.fitRows, m.score)
}

func (m *pcaModel) fitRows(rows [][]float32, _ *rand.Rand) error {
	n, d := len(rows), len(rows[0])
	m.mean = make([]float64, d)
	for _, r := range rows {
		for j, v := range r {
			m.mean[j] += float64(v)
		}
	}
	for j := range m.mean {
		m.mean[j] /= float64(n)
	}
	cov := mat.NewSymDense(d, nil)
	for a := 0; a < d; a++ {
		for b := a; b < d; b++ {
			s := 0.0
			for _, r := range rows {
				s += (float64(r[a]) - m.mean[a]) * (float64(r[b]) - m.mean[b])
			}
			cov.SetSym(a, b, s/float64(n-1))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
		return fmt.Errorf("pca: eigendecomposition did not converge")
	}
	vals := eig.Values(nil) // ascending
	var v mat.Dense
	eig.VectorsTo(&v)
	k := int(m.cfg.Param("components", 0))
	if k <= 0 || k > d {
		k = d
	}
	maxL := math.Max(vals[d-1], 1e-12)
	floor := m.cfg.Param("var_floor", 1e-4) * maxL
	m.lambda, m.vecs = nil, nil
	for c := d - 1; c >= d-k; c-- {
		m.lambda = append(m.lambda, math.Max(vals[c], floor))
		m.vecs = append(m.vecs, mat.Col(nil, c, &v))
	}
	// Keep exactly what the model file stores (float32), so the threshold
	// chosen now holds after a save and load.
	return m.SetWeights(m.Weights())
}

func (m *pcaModel) score(x []float32) float64 {
	s := 0.0
	for k, vec := range m.vecs {
		p := 0.0
		for j, v := range x {
			p += vec[j] * (float64(v) - m.mean[j])
		}
		s += p * p / m.lambda[k]
	}
	return s
}

func (m *pcaModel) Predict(x Seqs) ([]Prediction, error) { return m.predict(x, m.score) }

func (m *pcaModel) Weights() []float32 {
	w := make([]float32, 0, len(m.mean)*(1+len(m.vecs))+len(m.vecs))
	for _, v := range m.mean {
		w = append(w, float32(v))
	}
	for k, vec := range m.vecs {
		w = append(w, float32(m.lambda[k]))
		for _, v := range vec {
			w = append(w, float32(v))
		}
	}
	return w
}

func (m *pcaModel) SetWeights(w []float32) error {
	if m.fitted && len(w) != m.numWeights() {
		return fmt.Errorf("%w: pca weights %d, want %d", ErrShape, len(w), m.numWeights())
	}
	d := m.width()
	if len(w) < d || (len(w)-d)%(d+1) != 0 {
		return fmt.Errorf("%w: pca weights %d for width %d", ErrShape, len(w), d)
	}
	m.mean = make([]float64, d)
	for j := range m.mean {
		m.mean[j] = float64(w[j])
	}
	k := (len(w) - d) / (d + 1)
	m.lambda, m.vecs = make([]float64, k), make([][]float64, k)
	for c := 0; c < k; c++ {
		off := d + c*(d+1)
		m.lambda[c] = float64(w[off])
		m.vecs[c] = make([]float64, d)
		for j := range m.vecs[c] {
			m.vecs[c][j] = float64(w[off+1+j])
		}
	}
	m.fitted = true
	return nil
}

// MarshalBinary stores the float32 Weights; the model is rebuilt from them
// on load, so a saved model and its reload predict identically (a freshly
// fitted model's float64 parameters round to float32 when saved; the
// training CLI saves, then evaluates the saved form).
func (m *pcaModel) MarshalBinary() ([]byte, error) {
	if !m.fitted {
		return nil, ErrNotFitted
	}
	return marshalModelBlob(m.Kind(), m.cfg, m.thr, nil, m.Weights())
}

func (m *pcaModel) UnmarshalBinary(data []byte) error {
	h, w, err := unmarshalModelBlob(m.Kind(), data, nil)
	if err != nil {
		return err
	}
	m.cfg, m.thr = h.Config, h.Threshold
	return m.SetWeights(w)
}

// Validate checks the mean, the components and their eigenvalues: at
// least one component and at most the row width, every value finite, and
// every eigenvalue positive (scores divide by them).
func (m *pcaModel) Validate() error {
	if err := m.validate("pca", m.Weights()); err != nil {
		return err
	}
	if k, d := len(m.vecs), m.width(); k < 1 || k > d || len(m.mean) != d {
		return invalid("pca weights", "%d components of width %d for rows of %d values", k, len(m.mean), d)
	}
	for c, l := range m.lambda {
		if !(l > 0) {
			return invalid(fmt.Sprintf("pca eigenvalue %d", c), "is %v: want > 0 (scores divide by it)", l)
		}
	}
	return nil
}

func (m *pcaModel) numWeights() int { return len(m.mean) + len(m.vecs)*(len(m.mean)+1) }

package federated

import (
	"fmt"
	"math"
	"slices"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/detector"
)

// Norm is the L2 norm of v, summed in float64 in index order.
func Norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// Distance is the L2 distance ‖a − b‖₂, summed in float64 in index order.
// a and b must have one length.
func Distance(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

// Median is the coordinate-wise median of vectors (all of one length, else
// ErrShape; at least one, else ErrTooFew). With an even count it is the
// mean of the two middle values. It is the round's robust reference w̄ for
// divergence, and the Median aggregation rule.
func Median(vectors [][]float32) ([]float32, error) {
	n, err := checkVectors(vectors)
	if err != nil {
		return nil, err
	}
	out := make([]float32, n)
	col := make([]float64, len(vectors))
	for j := range out {
		for i, v := range vectors {
			col[i] = float64(v[j])
		}
		out[j] = float32(median(col))
	}
	return out, nil
}

// median sorts x and returns its middle value (mean of the two middle ones
// for an even length).
func median(x []float64) float64 {
	slices.Sort(x)
	m := len(x) / 2
	if len(x)%2 == 1 {
		return x[m]
	}
	return (x[m-1] + x[m]) / 2
}

// checkVectors returns the common length of vectors.
func checkVectors(vectors [][]float32) (int, error) {
	if len(vectors) == 0 {
		return 0, fmt.Errorf("%w: no vectors", ErrTooFew)
	}
	n := len(vectors[0])
	for i, v := range vectors {
		if len(v) != n {
			return 0, fmt.Errorf("%w: vector %d has %d coordinates, vector 0 has %d", ErrShape, i, len(v), n)
		}
	}
	return n, nil
}

// Measurement is what the coordinator measured of one update, in real
// units: everything the acceptance rule needs, and the site's own claim
// beside the coordinator's measure.
type Measurement struct {
	Site       common.Address `json:"site"`
	UpdateHash common.Hash    `json:"update_hash"`
	// Norm is ‖Δ_i‖₂ of the delta as received.
	Norm float64 `json:"norm"`
	// Divergence is D_i = ‖w_i − w̄‖₂ (eq. 12) with w̄ the coordinate-wise
	// median of the round's models; on deltas, ‖Δ_i − median(Δ)‖₂.
	Divergence float64 `json:"divergence"`
	// Accuracy is measured by the coordinator on its own labelled
	// validation set; the anomaly score a_i = 1 − Accuracy (eq. 4) is what
	// the rule uses.
	Accuracy float64 `json:"accuracy"`
	// ReportedAccuracy is the site's claim (Update.ReportedAccuracy),
	// recorded, never trusted.
	ReportedAccuracy float64 `json:"reported_accuracy"`
}

// Anomaly is a_i = 1 − accuracy (eq. 4), clamped to [0, 1].
func (m Measurement) Anomaly() float64 { return min(max(1-m.Accuracy, 0), 1) }

// ReportedAnomaly is the site's own a_i, for the record.
func (m Measurement) ReportedAnomaly() float64 { return min(max(1-m.ReportedAccuracy, 0), 1) }

// Score is THE conversion from real units to the contract's integer inputs
// (docs/federated-rule.md): anomaly in basis points round(a·10000) in
// [0, 10000]; divergence and norm in micro-units round(x·1e6), saturating
// at 2^32−1. NaN converts to the maximum (the worst score). Nothing else in
// idsledger converts scores to fixed point.
func (m Measurement) Score() Score {
	return Score{
		Site:       m.Site,
		UpdateHash: m.UpdateHash,
		Anomaly:    toBasisPoints(m.Anomaly()),
		Divergence: toMicro(m.Divergence),
		Norm:       toMicro(m.Norm),
	}
}

func toBasisPoints(x float64) uint16 {
	if math.IsNaN(x) {
		return 10000
	}
	return uint16(min(max(math.Round(x*10000), 0), 10000))
}

func toMicro(x float64) uint32 {
	if math.IsNaN(x) {
		return math.MaxUint32
	}
	return uint32(min(max(math.Round(x*1e6), 0), math.MaxUint32))
}

// Measure scores a round: for each delta its norm and its divergence from
// the coordinate-wise median of all deltas. accuracies[i] is the
// coordinator's measured accuracy of update i (MeasureAccuracy); reported
// its site's claim; sites and hashes identify the updates. All slices have
// one length.
func Measure(sites []common.Address, hashes []common.Hash, deltas [][]float32, accuracies, reported []float64) ([]Measurement, error) {
	n := len(deltas)
	if len(sites) != n || len(hashes) != n || len(accuracies) != n || len(reported) != n {
		return nil, fmt.Errorf("%w: %d deltas, %d sites, %d hashes, %d accuracies, %d reported", ErrShape, n, len(sites), len(hashes), len(accuracies), len(reported))
	}
	ref, err := Median(deltas)
	if err != nil {
		return nil, err
	}
	out := make([]Measurement, n)
	for i, d := range deltas {
		out[i] = Measurement{
			Site: sites[i], UpdateHash: hashes[i],
			Norm: Norm(d), Divergence: Distance(d, ref),
			Accuracy: accuracies[i], ReportedAccuracy: reported[i],
		}
	}
	return out, nil
}

// MeasureAccuracy is the accuracy on valid of the model base + delta. m is
// used as scratch: its weights are replaced and restored to base before
// returning, so it must not be in use elsewhere. Supervised models count a
// row right when the predicted class is its label; unsupervised ones
// (autoencoder) when they alert exactly on the rows not labelled
// BenignClass. valid must not be empty.
func MeasureAccuracy(m detector.Model, base, delta []float32, valid detector.Labeled) (float64, error) {
	if len(base) != len(delta) {
		return 0, fmt.Errorf("%w: base has %d weights, delta %d", ErrShape, len(base), len(delta))
	}
	if valid.Len() == 0 {
		return 0, fmt.Errorf("%w: empty validation set", ErrTooFew)
	}
	w := make([]float32, len(base))
	for i := range w {
		w[i] = base[i] + delta[i]
	}
	if err := m.SetWeights(w); err != nil {
		return 0, err
	}
	defer m.SetWeights(base)
	return Accuracy(m, valid)
}

// Accuracy is the fraction of valid that m gets right, as MeasureAccuracy
// counts it.
func Accuracy(m detector.Model, valid detector.Labeled) (float64, error) {
	preds, err := m.Predict(valid.X)
	if err != nil {
		return 0, err
	}
	k, ok := detector.LookupModel(m.Kind())
	benign := m.Config().BenignClass
	right := 0
	for i, p := range preds {
		if ok && k.Supervised {
			if p.Class == valid.Y[i] {
				right++
			}
		} else if p.Alert == (valid.Y[i] != benign) {
			right++
		}
	}
	return float64(right) / float64(len(preds)), nil
}

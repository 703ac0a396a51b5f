package detector

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
)

// Float is a float64 that encodes NaN (an undefined metric, e.g. ROC-AUC
// with one class only) as JSON null.
type Float float64

// MarshalJSON writes null for NaN and ±Inf.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// UnmarshalJSON reads null as NaN.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	var v float64
	err := json.Unmarshal(b, &v)
	*f = Float(v)
	return err
}

// ClassMetrics are one true class's figures.
type ClassMetrics struct {
	Precision Float `json:"precision"`
	Recall    Float `json:"recall"`
	F1        Float `json:"f1"`
	Support   int   `json:"support"`
	// DetectionRate is the fraction of the class's rows that raised an
	// alert (for Benign: the false-positive rate).
	DetectionRate Float `json:"detection_rate"`
}

// ROCPoint is one point of a ROC curve (benign vs attack, by Score).
type ROCPoint struct {
	FPR       float64 `json:"fpr"`
	TPR       float64 `json:"tpr"`
	Threshold float64 `json:"threshold"`
}

// Metrics are the evaluation figures of a model on labelled data.
//
// Task "multiclass" (supervised models): Accuracy, MacroF1 and PerClass
// are the usual multi-class figures from the confusion matrix.
//
// Task "anomaly" (unsupervised models, which only say benign or not):
// Accuracy equals BinaryAccuracy and MacroF1 is the mean F1 of the two
// binary classes; PerClass recall is the benign specificity for Benign and
// the detection rate for each attack class, precision is the binary
// precision of the side the class belongs to, and f1 combines the two.
//
// Binary figures treat every non-benign class as "attack" and an alert as
// the positive prediction.
type Metrics struct {
	Task            string                  `json:"task"`
	N               int                     `json:"n"`
	Accuracy        Float                   `json:"accuracy"`
	BinaryAccuracy  Float                   `json:"binary_accuracy"`
	MacroF1         Float                   `json:"macro_f1"`
	BinaryPrecision Float                   `json:"binary_precision"`
	BinaryRecall    Float                   `json:"binary_recall"`
	BinaryF1        Float                   `json:"binary_f1"`
	BenignFPR       Float                   `json:"benign_fpr"`
	ROCAUC          Float                   `json:"roc_auc"`
	PerClass        map[string]ClassMetrics `json:"per_class"`
	// Confusion[i][j] counts rows of true class ConfusionRows[i] predicted
	// as ConfusionCols[j]. For anomaly tasks the columns are the benign
	// class and "Anomaly", the only answers such a model gives.
	Confusion     [][]int    `json:"confusion"`
	ConfusionRows []string   `json:"confusion_rows"`
	ConfusionCols []string   `json:"confusion_cols"`
	ROC           []ROCPoint `json:"roc,omitempty"`
}

// Evaluate computes Metrics. classes are the class names, benign the
// benign index; y[i] is row i's true class (rows with y < 0 are skipped)
// and preds[i] the model's prediction.
func Evaluate(classes []string, benign int, y []int, preds []Prediction) Metrics {
	nan := Float(math.NaN())
	m := Metrics{Task: "multiclass", PerClass: map[string]ClassMetrics{}, ConfusionRows: classes}
	for _, p := range preds {
		if p.Class == ClassAnomaly {
			m.Task = "anomaly"
			break
		}
	}
	m.ConfusionCols = classes
	if m.Task == "anomaly" {
		m.ConfusionCols = []string{classes[benign], "Anomaly"}
	}
	m.Confusion = make([][]int, len(classes))
	for i := range m.Confusion {
		m.Confusion[i] = make([]int, len(m.ConfusionCols))
	}
	alerts := make([]int, len(classes))
	var scores []float64
	var attack []bool
	var tp, fp, tn, fn, correct int
	for i, p := range preds {
		t := y[i]
		if t < 0 || t >= len(classes) {
			continue
		}
		m.N++
		m.Confusion[t][confusionCol(m.Task, p.Class, benign, len(classes))]++
		if p.Class == t {
			correct++
		}
		isAttack := t != benign
		if p.Alert {
			alerts[t]++
		}
		switch {
		case isAttack && p.Alert:
			tp++
		case isAttack:
			fn++
		case p.Alert:
			fp++
		default:
			tn++
		}
		scores = append(scores, p.Score)
		attack = append(attack, isAttack)
	}
	if m.N == 0 {
		m.Accuracy, m.BinaryAccuracy, m.MacroF1, m.BinaryPrecision, m.BinaryRecall, m.BinaryF1, m.BenignFPR, m.ROCAUC = nan, nan, nan, nan, nan, nan, nan, nan
		return m
	}
	m.BinaryAccuracy = Float(float64(tp+tn) / float64(m.N))
	m.BinaryPrecision = ratio(tp, tp+fp)
	m.BinaryRecall = ratio(tp, tp+fn)
	m.BinaryF1 = f1(m.BinaryPrecision, m.BinaryRecall)
	m.BenignFPR = ratio(fp, fp+tn)
	m.ROCAUC = Float(ROCAUC(scores, attack))
	m.ROC = rocCurve(scores, attack, 200)

	if m.Task == "anomaly" {
		m.Accuracy = m.BinaryAccuracy
		benignPrec := ratio(tn, tn+fn)
		benignRec := ratio(tn, tn+fp)
		m.MacroF1 = (f1(benignPrec, benignRec) + m.BinaryF1) / 2
		for t, name := range classes {
			sup := sum(m.Confusion[t])
			cm := ClassMetrics{Support: sup, DetectionRate: ratio(alerts[t], sup)}
			if t == benign {
				cm.Precision, cm.Recall = benignPrec, benignRec
			} else {
				cm.Precision, cm.Recall = m.BinaryPrecision, ratio(alerts[t], sup)
			}
			cm.F1 = f1(cm.Precision, cm.Recall)
			m.PerClass[name] = cm
		}
		return m
	}
	m.Accuracy = Float(float64(correct) / float64(m.N))
	var f1sum float64
	nf1 := 0
	for t, name := range classes {
		sup := sum(m.Confusion[t])
		pred := 0
		for r := range classes {
			pred += m.Confusion[r][t]
		}
		cm := ClassMetrics{Support: sup, Precision: ratio(m.Confusion[t][t], pred), Recall: ratio(m.Confusion[t][t], sup), DetectionRate: ratio(alerts[t], sup)}
		cm.F1 = f1(cm.Precision, cm.Recall)
		m.PerClass[name] = cm
		if sup > 0 { // macro over the classes present in the data
			if math.IsNaN(float64(cm.F1)) {
				cm.F1 = 0
			}
			f1sum += float64(cm.F1)
			nf1++
		}
	}
	m.MacroF1 = Float(f1sum / float64(max(nf1, 1)))
	return m
}

// confusionCol is the confusion-matrix column of a prediction of class c:
// for anomaly tasks 0 (benign) or 1 (anomaly), else the class itself; a
// class out of range (cannot happen for a supervised model) counts as
// benign.
func confusionCol(task string, c, benign, classes int) int {
	switch {
	case task == "anomaly" && c == benign:
		return 0
	case task == "anomaly":
		return 1
	case c < 0 || c >= classes:
		return benign
	}
	return c
}

func sum(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}

// ratio is a/b, NaN when b is 0.
func ratio(a, b int) Float {
	if b == 0 {
		return Float(math.NaN())
	}
	return Float(float64(a) / float64(b))
}

// f1 is the harmonic mean of precision and recall (0 when both are 0, NaN
// when either is undefined).
func f1(p, r Float) Float {
	if math.IsNaN(float64(p)) || math.IsNaN(float64(r)) {
		if math.IsNaN(float64(p)) && float64(r) == 0 {
			return 0
		}
		return Float(math.NaN())
	}
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// ROCAUC is the area under the ROC curve of scores for separating positive
// (true) from negative rows: the probability that a random positive scores
// above a random negative, ties counting half. NaN when either side is
// empty.
func ROCAUC(scores []float64, positive []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var rankSum float64
	npos, nneg := 0, 0
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean of 1-based ranks i+1..j
		for k := i; k < j; k++ {
			if positive[idx[k]] {
				rankSum += avg
				npos++
			} else {
				nneg++
			}
		}
		i = j
	}
	if npos == 0 || nneg == 0 {
		return math.NaN()
	}
	return (rankSum - float64(npos)*float64(npos+1)/2) / (float64(npos) * float64(nneg))
}

// rocCurve returns at most maxPoints points of the ROC curve, from (0,0)
// to (1,1): every distinct threshold's point while there are few enough,
// else an even sample of them (which a model file keeps; ROCCurve gives
// the exact curve).
func rocCurve(scores []float64, positive []bool, maxPoints int) []ROCPoint {
	pts := rocPoints(scores, positive)
	if len(pts) <= maxPoints {
		return sanitizeROC(pts)
	}
	out := make([]ROCPoint, 0, maxPoints)
	for k := 0; k < maxPoints-1; k++ {
		out = append(out, pts[k*(len(pts)-1)/(maxPoints-1)])
	}
	return sanitizeROC(append(out, pts[len(pts)-1]))
}

// ROCCurve returns the ROC curve of scores for separating positive (true)
// from negative rows, exactly, in few points: its corners, from (0,0) to
// (1,1) in order of decreasing Threshold (rows scoring at or above a
// point's Threshold are called positive). Points inside a straight run are
// left out, so a polyline through the corners is the whole curve; there
// are at most about twice as many as the smaller side has rows. nil when
// either side is empty. Metrics.ROC is a sample of the same curve.
func ROCCurve(scores []float64, positive []bool) []ROCPoint {
	pts := sanitizeROC(rocPoints(scores, positive))
	if pts == nil {
		return nil
	}
	out := []ROCPoint{pts[0]}
	for i := 1; i+1 < len(pts); i++ {
		a, b, c := out[len(out)-1], pts[i], pts[i+1]
		// b is a corner unless it lies on the segment from a to c.
		if (b.FPR-a.FPR)*(c.TPR-a.TPR) != (b.TPR-a.TPR)*(c.FPR-a.FPR) {
			out = append(out, b)
		}
	}
	return append(out, pts[len(pts)-1])
}

// rocPoints returns the ROC curve's point at every distinct score, from
// (0,0) (threshold +Inf) to (1,1); nil when either side is empty.
func rocPoints(scores []float64, positive []bool) []ROCPoint {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	npos, nneg := 0, 0
	for _, p := range positive {
		if p {
			npos++
		} else {
			nneg++
		}
	}
	if npos == 0 || nneg == 0 {
		return nil
	}
	pts := []ROCPoint{{0, 0, math.Inf(1)}}
	tp, fp := 0, 0
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			if positive[idx[j]] {
				tp++
			} else {
				fp++
			}
			j++
		}
		pts = append(pts, ROCPoint{FPR: float64(fp) / float64(nneg), TPR: float64(tp) / float64(npos), Threshold: scores[idx[i]]})
		i = j
	}
	return pts
}

// sanitizeROC replaces the infinite first threshold, which JSON cannot
// carry, with the largest finite one.
func sanitizeROC(p []ROCPoint) []ROCPoint {
	if len(p) > 1 {
		p[0].Threshold = p[1].Threshold
	}
	return p
}

// InverseFrequencyWeights returns per-class loss weights
// (n/(C·n_c))^pow for the labels y over C classes, capped at maxWeight (0:
// no cap): pow 1 is plain inverse frequency, 0.5 its square root (gentler
// on tiny classes). Classes absent from y get weight 1.
func InverseFrequencyWeights(y []int, classes int, pow, maxWeight float64) []float32 {
	count := make([]int, classes)
	for _, c := range y {
		if c >= 0 && c < classes {
			count[c]++
		}
	}
	w := make([]float32, classes)
	for c, n := range count {
		if n == 0 {
			w[c] = 1
			continue
		}
		v := math.Pow(float64(len(y))/float64(classes*n), pow)
		if maxWeight > 0 {
			v = math.Min(v, maxWeight)
		}
		w[c] = float32(v)
	}
	return w
}

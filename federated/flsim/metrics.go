package flsim

import (
	"fmt"

	"github.com/idsledger/idsledger/detector"
)

// Figures are a model's figures on the test flows: the headline numbers,
// each class's recall, and the full metrics.
type Figures struct {
	Accuracy  detector.Float `json:"accuracy"`
	MacroF1   detector.Float `json:"macro_f1"`
	BenignFPR detector.Float `json:"benign_fpr"`
	// ROCAUC ranks the model's scores for attack against benign (eval's).
	ROCAUC detector.Float            `json:"roc_auc"`
	Recall map[string]detector.Float `json:"recall"`
	// F1 is each class's F1 (macro-F1 is their mean): with a class of a
	// few test rows (Theft in nf-bot-iot-v2), read the mean over the others.
	F1      map[string]detector.Float `json:"f1"`
	Metrics detector.Metrics          `json:"-"`
}

// Baseline is what always answering the test set's most frequent class
// scores: a model must beat it to have learnt anything (with imbalanced
// classes, accuracy alone hardly says so).
type Baseline struct {
	Class     string         `json:"class"`
	Accuracy  detector.Float `json:"accuracy"`
	MacroF1   detector.Float `json:"macro_f1"`
	BenignFPR detector.Float `json:"benign_fpr"`
	ROCAUC    detector.Float `json:"roc_auc"` // 0.5: one score for every flow
}

// testSet is the test flows with their class indices over the model's
// classes followed by any the model does not know (whose rows count as
// attacks in the binary figures, as eval does).
type testSet struct {
	flows   []*detector.Flow
	classes []string
	y       []int
}

func newTestSet(model []string, flows []*detector.Flow) testSet {
	ts := testSet{classes: append([]string(nil), model...)}
	index := map[string]int{}
	for i, c := range ts.classes {
		index[c] = i
	}
	for _, f := range flows {
		if f.Class == "" {
			continue
		}
		i, ok := index[f.Class]
		if !ok {
			i = len(ts.classes)
			ts.classes = append(ts.classes, f.Class)
			index[f.Class] = i
		}
		ts.flows = append(ts.flows, f)
		ts.y = append(ts.y, i)
	}
	return ts
}

// Evaluate measures d on the labelled test flows with detector.Evaluate.
func Evaluate(d *detector.Detector, test []*detector.Flow) (Figures, error) {
	ts := newTestSet(d.Classes(), test)
	if len(ts.flows) == 0 {
		return Figures{}, fmt.Errorf("flsim: no labelled test flows")
	}
	preds, err := d.Detect(ts.flows)
	if err != nil {
		return Figures{}, err
	}
	m := detector.Evaluate(ts.classes, d.Pipeline.BenignIndex(), ts.y, preds)
	f := Figures{Accuracy: m.Accuracy, MacroF1: m.MacroF1, BenignFPR: m.BenignFPR, ROCAUC: m.ROCAUC, Recall: map[string]detector.Float{},
		F1: map[string]detector.Float{}, Metrics: m}
	for c, pc := range m.PerClass {
		f.Recall[c], f.F1[c] = pc.Recall, pc.F1
	}
	return f, nil
}

// MajorityBaseline scores answering the test set's most frequent class
// for every flow, as the model would answer it: a supervised model names
// the class; an anomaly detector (supervised false) can only alert or
// not, so it alerts on everything when the majority is an attack.
func MajorityBaseline(d *detector.Detector, test []*detector.Flow, supervised bool) Baseline {
	ts := newTestSet(d.Classes(), test)
	count := make([]int, len(ts.classes))
	for _, y := range ts.y {
		count[y]++
	}
	maj := 0
	for c := range count {
		if count[c] > count[maj] {
			maj = c
		}
	}
	benign := d.Pipeline.BenignIndex()
	p := detector.Prediction{Class: maj, Alert: maj != benign}
	if !supervised && maj != benign {
		p.Class = detector.ClassAnomaly
	}
	if p.Alert {
		p.Score = 1
	}
	preds := make([]detector.Prediction, len(ts.flows))
	for i := range preds {
		preds[i] = p
	}
	m := detector.Evaluate(ts.classes, benign, ts.y, preds)
	return Baseline{Class: ts.classes[maj], Accuracy: m.Accuracy, MacroF1: m.MacroF1, BenignFPR: m.BenignFPR, ROCAUC: m.ROCAUC}
}

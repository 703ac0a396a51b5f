package detector

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ModelCard says, in a model file, what the model was trained on, how, and
// how well it does on the held-out test split, next to the figures of the
// dumbest possible model (always the training split's majority class), so
// that a reader can judge the figures without re-running anything. Train
// writes it into Metadata.Card when it holds out a test split; the service
// shows it (GET /v1/models/active, the start-up log). Every field is
// determined by the training data and options, so the card is part of the
// reproducible model file.
type ModelCard struct {
	Model   string `json:"model"`   // model kind
	Dataset string `json:"dataset"` // dataset kind
	// Data are the training files with their SHA-256: the data the split,
	// and so every figure below, came from.
	Data []DataFile `json:"data"`
	// Command is how the model was made, when the maker said so (e.g.
	// "make model").
	Command  string       `json:"command,omitempty"`
	Split    CardSplit    `json:"split"`
	Settings CardSettings `json:"settings"`
	// Test are the model's figures on the test split; Baseline those of
	// predicting the training split's majority class for every row.
	Test     CardFigures `json:"test"`
	Baseline CardFigures `json:"majority_baseline"`
}

// DataFile is one training file.
type DataFile struct {
	Name   string `json:"name"` // base name
	SHA256 string `json:"sha256"`
}

// CardSplit is how the labelled rows were divided: a stratified split of
// TestFraction of each class held out for the test figures, then
// ValidFraction of the rest for early stopping and thresholds, by Seed.
type CardSplit struct {
	Rows              int  `json:"rows"` // labelled rows, after Dedup
	Dedup             bool `json:"dedup"`
	DuplicatesDropped int  `json:"duplicates_dropped"`
	// SplitBy is the identifier column whose rows each split kept on one
	// side (GroupSplit), when the split was by identifier.
	SplitBy       string         `json:"split_by,omitempty"`
	TestFraction  float64        `json:"test_fraction"`
	ValidFraction float64        `json:"valid_fraction"`
	Seed          int64          `json:"seed"`
	TrainRows     int            `json:"train_rows"`
	ValidRows     int            `json:"valid_rows"`
	TestRows      int            `json:"test_rows"`
	TestClasses   map[string]int `json:"test_classes"` // test rows per class
}

// CardSettings are the settings the model was trained with, defaults
// resolved.
type CardSettings struct {
	Engine        string    `json:"engine,omitempty"`
	Input         InputMode `json:"input"`
	Features      int       `json:"features"`
	T             int       `json:"t"`
	F             int       `json:"f"`
	Hidden        int       `json:"hidden,omitempty"`
	CorrThreshold float64   `json:"corr_threshold"`
	LogScale      bool      `json:"log_scale"`
	Epochs        int       `json:"epochs,omitempty"`     // planned
	EpochsRun     int       `json:"epochs_run,omitempty"` // before early stopping
	BatchSize     int       `json:"batch_size,omitempty"`
	LearningRate  float64   `json:"learning_rate,omitempty"`
	Patience      int       `json:"patience,omitempty"`
	ClassWeights  []float32 `json:"class_weights,omitempty"`
	TargetFPR     float64   `json:"target_fpr,omitempty"`
}

// CardFigures are the headline figures of Metrics on the test split, with
// the recall of every class present in it.
type CardFigures struct {
	Accuracy       Float            `json:"accuracy"`
	BinaryAccuracy Float            `json:"binary_accuracy"`
	MacroF1        Float            `json:"macro_f1"`
	BenignFPR      Float            `json:"benign_fpr"`
	ROCAUC         Float            `json:"roc_auc"`
	Recall         map[string]Float `json:"recall"`
	// Class is the baseline's constant prediction (empty for a model).
	Class string `json:"class,omitempty"`
}

func cardFigures(m Metrics) CardFigures {
	f := CardFigures{Accuracy: m.Accuracy, BinaryAccuracy: m.BinaryAccuracy, MacroF1: m.MacroF1,
		BenignFPR: m.BenignFPR, ROCAUC: m.ROCAUC, Recall: map[string]Float{}}
	for c, pc := range m.PerClass {
		if pc.Support > 0 {
			f.Recall[c] = pc.Recall
		}
	}
	return f
}

// majorityBaseline evaluates predicting class maj for every row of y.
func majorityBaseline(classes []string, benign, maj int, y []int) CardFigures {
	f := cardFigures(constantMetrics(classes, benign, maj, y))
	f.Class = classes[maj]
	return f
}

// hashFiles returns the base name and SHA-256 of every file.
func hashFiles(paths []string) ([]DataFile, error) {
	out := make([]DataFile, 0, len(paths))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("model card: %w", err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("model card: read %s: %w", p, err)
		}
		out = append(out, DataFile{Name: filepath.Base(p), SHA256: hex.EncodeToString(h.Sum(nil))})
	}
	return out, nil
}

// Summary is the card in one line, for logs:
//
//	bilstm on nf-bot-iot-v2 dev-all.csv (sha256 3f2a…, 9464 rows, 30% test, seed 1):
//	accuracy 0.887, binary 0.995, macro-F1 0.86, benign FPR 1.1%, ROC-AUC 0.999;
//	recall Benign 0.99 DDoS 0.95 …; majority baseline (DoS) accuracy 0.51, macro-F1 0.14
func (c *ModelCard) Summary() string {
	if c == nil {
		return "no model card"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s on %s", c.Model, c.Dataset)
	var files []string
	for _, f := range c.Data {
		files = append(files, fmt.Sprintf("%s (sha256 %.12s)", f.Name, f.SHA256))
	}
	if len(files) > 0 {
		fmt.Fprintf(&b, " %s", strings.Join(files, ", "))
	}
	fmt.Fprintf(&b, ", %d rows, %.0f%% test (%d rows), seed %d: ", c.Split.Rows, 100*c.Split.TestFraction, c.Split.TestRows, c.Split.Seed)
	t := c.Test
	fmt.Fprintf(&b, "accuracy %s, binary %s, macro-F1 %s, benign FPR %s, ROC-AUC %s; recall",
		fig(t.Accuracy, 3), fig(t.BinaryAccuracy, 3), fig(t.MacroF1, 3), pct(t.BenignFPR), fig(t.ROCAUC, 3))
	names := make([]string, 0, len(t.Recall))
	for n := range t.Recall {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, " %s %s", n, fig(t.Recall[n], 2))
	}
	fmt.Fprintf(&b, "; majority baseline (%s) accuracy %s, macro-F1 %s", c.Baseline.Class, fig(c.Baseline.Accuracy, 3), fig(c.Baseline.MacroF1, 3))
	return b.String()
}

func fig(v Float, digits int) string {
	if math.IsNaN(float64(v)) {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", digits, float64(v))
}

func pct(v Float) string {
	if math.IsNaN(float64(v)) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(v))
}

// Package modelfiles builds malformed model files for the tests of every
// package a model file goes through (detector's decoder, the PUT
// /v1/models/active handler, the serve process). Each file starts from a
// real model (the default BiLSTM shipped in the repository, or a small
// model trained on detector's testdata sample), has one field edited
// through detector's exported types, and is encoded again with detector's
// own writer: what anyone who read the format's documentation can upload.
package modelfiles

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/internal/testenv"
)

// Case is one malformed model file.
type Case struct {
	Name string
	// Want is part of the refusal's message: the field it names.
	Want string
	// SelfTest: every field is in range, so the file decodes, but the
	// model's scores on a synthetic batch are not finite, so it must not
	// take over (detector's SelfTest refuses it).
	SelfTest bool
	// Fatal: without validation, the service died once this model scored
	// flows: an allocation of terabytes (fatal, not a panic), or a panic in
	// a scoring goroutine, outside any recover. Tests upload these to a
	// child process.
	Fatal bool
	File  []byte
}

var (
	once  sync.Once
	bases map[string][]byte
	cases []Case
	err   error
)

func load(t testing.TB) {
	t.Helper()
	once.Do(func() { bases, cases, err = build() })
	if err != nil {
		t.Fatalf("build the model files: %v", err)
	}
}

// Malformed returns every case, built once per test binary (it trains
// five small classical models, an autoencoder and two rounds of boosted
// trees on the testdata sample: well under a second).
func Malformed(t testing.TB) []Case {
	t.Helper()
	load(t)
	return cases
}

// Valid returns well-formed model files by model kind: the default BiLSTM
// and the small trained models the cases are edited from, and a k-means
// model in window mode ("kmeans-window").
func Valid(t testing.TB) map[string][]byte {
	t.Helper()
	load(t)
	return bases
}

// Fatal returns the cases of Malformed that are Fatal.
func Fatal(t testing.TB) []Case {
	t.Helper()
	var out []Case
	for _, c := range Malformed(t) {
		if c.Fatal {
			out = append(out, c)
		}
	}
	return out
}

// edit decodes file afresh (so edits never touch another case's model),
// applies f and encodes the result.
func edit(file []byte, f func(d *detector.Detector) error) ([]byte, error) {
	d, err := detector.DecodeDetector(file)
	if err != nil {
		return nil, err
	}
	if err := f(d); err != nil {
		return nil, err
	}
	return d.MarshalBinary()
}

// setWeight replaces weight i of d's model (i < 0 counts from the end).
func setWeight(d *detector.Detector, i int, v float32) error {
	w := d.Model.Weights()
	if i < 0 {
		i += len(w)
	}
	w[i] = v
	return d.Model.SetWeights(w)
}

func build() (map[string][]byte, []Case, error) {
	def := detector.DefaultModelFile()
	trained := map[string][]byte{"bilstm": def}
	for _, kind := range []string{"iforest", "pca", "kmeans", "cblof", "autoencoder", "kmeans-window", "gbt"} {
		b, err := train(kind)
		if err != nil {
			return nil, nil, fmt.Errorf("train %s: %w", kind, err)
		}
		trained[kind] = b
	}
	type spec struct {
		c    Case
		base []byte
		f    func(d *detector.Detector) error
	}
	specs := []spec{
		{Case{Name: "shape: the pipeline gives one feature fewer than the model reads", Want: "model_config.t"}, def,
			func(d *detector.Detector) error {
				d.Pipeline.Features = d.Pipeline.Features[:len(d.Pipeline.Features)-1]
				return nil
			}},
		{Case{Name: "window: 2^30 flows per window", Want: "pipeline.window", Fatal: true}, def,
			func(d *detector.Detector) error {
				d.Pipeline.Input, d.Pipeline.Window = detector.InputWindow, 1<<30
				return nil
			}},
		{Case{Name: "classes: the pipeline has one class more than the model", Want: "model_config.classes"}, def,
			func(d *detector.Detector) error {
				d.Pipeline.Classes = append(slices.Clone(d.Pipeline.Classes), "Worm")
				return nil
			}},
		{Case{Name: "weights: a NaN", Want: "weight 100 is NaN"}, def,
			func(d *detector.Detector) error { return setWeight(d, 100, float32(math.NaN())) }},
		{Case{Name: "weights: +Inf in the dense layer", Want: "is +Inf"}, def,
			func(d *detector.Detector) error { return setWeight(d, -1, float32(math.Inf(1))) }},
		{Case{Name: "config: the metadata says hidden 16, the payload 32", Want: "model_config.hidden"}, def,
			func(d *detector.Detector) error { d.Meta.ModelConfig.Hidden = 16; return nil }},
		{Case{Name: "threshold: the metadata says 0.99, the model 0.5", Want: "threshold"}, def,
			func(d *detector.Detector) error { d.Meta.Threshold = 0.99; return nil }},
		{Case{Name: "scaling: a numeric feature with max = min", Want: "pipeline.features[2].max"}, def,
			func(d *detector.Detector) error {
				ft := &d.Pipeline.Features[2]
				if ft.Categorical {
					return fmt.Errorf("feature 2 (%s) of the default model is categorical", ft.Name)
				}
				ft.Max = ft.Min
				return nil
			}},
		{Case{Name: "scaling: categories out of order", Want: "pipeline.features[0].categories"}, def,
			func(d *detector.Detector) error {
				slices.Reverse(d.Pipeline.Features[0].Categories)
				return nil
			}},
		{Case{Name: "input: an unknown mode", Want: "pipeline.input"}, def,
			func(d *detector.Detector) error { d.Pipeline.Input = "sideways"; return nil }},
		{Case{Name: "dataset: an unknown kind", Want: "pipeline.dataset"}, def,
			func(d *detector.Detector) error { d.Pipeline.Dataset = "nope"; return nil }},

		{Case{Name: "iforest: a split on feature 1000", Want: "tree 0 node 0", Fatal: true}, trained["iforest"],
			func(d *detector.Detector) error { return setWeight(d, 0, 1000) }},
		{Case{Name: "iforest: an internal node on the last level (children past the end)", Want: "past the end", Fatal: true}, trained["iforest"],
			deepLeafToSplit},
		{Case{Name: "iforest: a fractional feature index", Want: "tree 0 node 0"}, trained["iforest"],
			func(d *detector.Detector) error { return setWeight(d, 0, 0.5) }},
		{Case{Name: "iforest: a NaN split value", Want: "is NaN"}, trained["iforest"],
			func(d *detector.Detector) error { return setWeight(d, 1, float32(math.NaN())) }},
		{Case{Name: "iforest: an internal node with an unused child", Want: "tree 0 node 1"}, trained["iforest"],
			func(d *detector.Detector) error { return setWeight(d, 3, -2) }},
		{Case{Name: "pca: a zero eigenvalue", Want: "eigenvalue"}, trained["pca"],
			func(d *detector.Detector) error { return setWeight(d, d.Model.Config().F, 0) }},
		{Case{Name: "kmeans: a NaN centroid", Want: "is NaN"}, trained["kmeans"],
			func(d *detector.Detector) error { return setWeight(d, 0, float32(math.NaN())) }},
		{Case{Name: "cblof: an infinite centroid", Want: "is -Inf"}, trained["cblof"],
			func(d *detector.Detector) error { return setWeight(d, 0, float32(math.Inf(-1))) }},
		{Case{Name: "gbt: a split on feature 1000", Want: "gbt tree 0 node 0"}, trained["gbt"],
			func(d *detector.Detector) error { return setWeight(d, 0, 1000) }},
		{Case{Name: "gbt: a node that is its own child (scoring would never end)", Want: "children"}, trained["gbt"],
			func(d *detector.Detector) error { return setWeight(d, 2, 0) }},
		{Case{Name: "gbt: a child past the end of its tree", Want: "children"}, trained["gbt"],
			func(d *detector.Detector) error { return setWeight(d, 3, 1e6) }},
		{Case{Name: "gbt: a NaN value", Want: "is NaN"}, trained["gbt"],
			func(d *detector.Detector) error { return setWeight(d, 4, float32(math.NaN())) }},
		{Case{Name: "autoencoder: finite weights whose scores overflow", Want: "self-test", SelfTest: true}, trained["autoencoder"],
			func(d *detector.Detector) error {
				// The output layer's biases (the last F weights) at 3e38:
				// every reconstruction error overflows float32 to +Inf,
				// and a threshold below +Inf flags every flow.
				w := d.Model.Weights()
				for i := len(w) - d.Model.Config().F; i < len(w); i++ {
					w[i] = 3e38
				}
				return d.Model.SetWeights(w)
			}},
	}
	var out []Case
	for _, s := range specs {
		b, err := edit(s.base, s.f)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", s.c.Name, err)
		}
		s.c.File = b
		out = append(out, s.c)
	}
	// The default model cut short by its last weight: the payload is
	// shorter than the length the file declares.
	out = append(out, Case{Name: "truncated: the last weight cut off", Want: "payload", File: def[:len(def)-4]})
	return trained, out, nil
}

// deepLeafToSplit turns a leaf on the last level of some tree, one that
// scoring reaches, into a split whose children would lie past the tree's
// end.
func deepLeafToSplit(d *detector.Detector) error {
	w := d.Model.Weights()
	trees := int(d.Model.Config().Param("trees", 100))
	per := len(w) / 3 / trees
	lastLevel := per / 2 // nodes per tree = 2^(depth+1)−1; the last level starts at 2^depth − 1
	for t := 0; t < trees; t++ {
		for i := lastLevel; i < per; i++ {
			k := 3 * (t*per + i)
			if w[k] == -1 {
				w[k], w[k+1] = 0, 0.5
				return d.Model.SetWeights(w)
			}
		}
	}
	return fmt.Errorf("no tree has a leaf on its last level")
}

// train trains a small model of kind on detector's testdata sample (kind
// "kmeans-window": k-means on windows of 4 flows).
func train(kind string) ([]byte, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	sample := filepath.Join(root, "detector", "testdata", "nf-bot-iot-v2-sample.csv")
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{sample}, detector.LoadOptions{})
	if err != nil {
		return nil, err
	}
	opt := detector.TrainOptions{Dataset: "nf-bot-iot-v2", Files: []string{sample}, Model: kind, Seed: 3,
		Params: map[string]float64{"trees": 20}, Train: detector.TrainConfig{Epochs: 2}}
	switch kind {
	case "autoencoder":
		opt.Hidden, opt.Params = 4, map[string]float64{"width": 8}
	case "kmeans-window":
		opt.Model, opt.Pipeline = "kmeans", detector.PipelineConfig{Input: detector.InputWindow, Window: 4}
	}
	res, err := detector.Train(flows, opt)
	if err != nil {
		return nil, err
	}
	return res.Detector.MarshalBinary()
}

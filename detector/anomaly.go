package detector

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"time"
)

// classicalDefaults are the training defaults of the classical
// unsupervised kinds (iforest, pca, kmeans, cblof): fitted in one pass, no
// epochs; threshold at a 4% benign false-positive rate; correlated features
// pruned and heavy tails log-compressed (measured on
// nf-bot-iot-v2/dev.csv, BENCHMARKS.md).
var classicalDefaults = TrainDefaults{TargetFPR: 0.04, CorrThreshold: 0.95, LogScale: true}

// anomalyBase is what the classical unsupervised models share: the config,
// the alert threshold, and the fit / predict scaffolding. Each model sees a
// sequence as one flat row of T·F values.
type anomalyBase struct {
	cfg    ModelConfig
	thr    float64
	fitted bool
}

func (b *anomalyBase) Config() ModelConfig { return b.cfg }
func (b *anomalyBase) Threshold() float64  { return b.thr }
func (b *anomalyBase) width() int          { return b.cfg.T * b.cfg.F }

// validate checks what every classical model needs before it scores: to
// be fitted, its weights (w, as Weights returns them) finite, and a finite
// threshold.
func (b *anomalyBase) validate(kind string, w []float32) error {
	if !b.fitted {
		return invalid(kind+" weights", "none (the model is not fitted)")
	}
	if err := checkFinite(kind+" weights", w); err != nil {
		return err
	}
	return checkThreshold(b.thr)
}

func (b *anomalyBase) check(x Seqs) error {
	if err := x.Validate(); err != nil {
		return err
	}
	if x.T != b.cfg.T || x.F != b.cfg.F {
		return fmt.Errorf("%w: input %dx%d, model wants %dx%d", ErrShape, x.T, x.F, b.cfg.T, b.cfg.F)
	}
	if !b.fitted {
		return ErrNotFitted
	}
	return nil
}

// predict scores each row with score, in parallel for large batches.
// score must be safe for concurrent use.
func (b *anomalyBase) predict(x Seqs, score func([]float32) float64) (_ []Prediction, err error) {
	defer catchPanic(&err)
	if err := b.check(x); err != nil {
		return nil, err
	}
	out := make([]Prediction, x.N)
	one := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s := score(x.At(i))
			p := Prediction{Class: b.cfg.BenignClass, Score: s}
			if s >= b.thr {
				p.Class, p.Alert = ClassAnomaly, true
			}
			out[i] = p
		}
	}
	workers := runtime.GOMAXPROCS(0)
	if x.N < 512 || workers == 1 {
		one(0, x.N)
		return out, nil
	}
	splitRange(x.N, workers, one)
	return out, nil
}

// fit fits an anomaly detector on benign traffic and sets its threshold.
//
// The benign rows of train and valid together are split into K folds
// (Params "threshold_folds", default 5; 1 means: fit on train's benign
// rows, score valid's). Each fold is scored by a model fitted on the other
// folds, so every benign row gets an out-of-sample score; the threshold is
// set so that a fraction cfg.TargetFPR (default classicalDefaults') of those scores reach
// it. The final model is then fitted on all benign rows. With a few
// hundred benign rows, as in BoT-IoT samples, this is far steadier than a
// quantile of the few benign rows of one validation split.
func (b *anomalyBase) fit(train, valid Labeled, cfg TrainConfig, progress func(EpochStats),
	fitRows func(rows [][]float32, rng *rand.Rand) error, score func([]float32) float64) error {
	start := time.Now()
	if train.X.T != b.cfg.T || train.X.F != b.cfg.F {
		return fmt.Errorf("%w: train %dx%d, model wants %dx%d", ErrShape, train.X.T, train.X.F, b.cfg.T, b.cfg.F)
	}
	if valid.Len() > 0 && (valid.X.T != b.cfg.T || valid.X.F != b.cfg.F) {
		return fmt.Errorf("%w: valid %dx%d, model wants %dx%d", ErrShape, valid.X.T, valid.X.F, b.cfg.T, b.cfg.F)
	}
	fitB, heldB := benignRows(train, b.cfg.BenignClass), benignRows(valid, b.cfg.BenignClass)
	if len(fitB) < 2 {
		return fmt.Errorf("fit: %d benign training rows; an anomaly detector needs benign traffic", len(fitB))
	}
	rng := rand.New(rand.NewPCG(uint64(b.cfg.Seed), uint64(cfg.Seed)))
	fpr := cfg.TargetFPR
	if fpr <= 0 {
		fpr = classicalDefaults.TargetFPR
	}
	folds := int(b.cfg.Param("threshold_folds", 5))
	all := append(append([][]float32(nil), fitB...), heldB...)
	var scores []float64
	if folds <= 1 || len(all) < 2*folds {
		// One split: fit on train's benign rows, score valid's (or, with
		// no valid benign rows, the training rows themselves).
		if err := fitRows(fitB, rng); err != nil {
			return err
		}
		held := heldB
		if len(held) == 0 {
			held = fitB
		}
		for _, r := range held {
			scores = append(scores, score(r))
		}
		all = fitB
	} else {
		perm := rng.Perm(len(all))
		for k := 0; k < folds; k++ {
			var in, out [][]float32
			for j, i := range perm {
				if j%folds == k {
					out = append(out, all[i])
				} else {
					in = append(in, all[i])
				}
			}
			if err := fitRows(in, rng); err != nil {
				return err
			}
			for _, r := range out {
				scores = append(scores, score(r))
			}
		}
		if err := fitRows(all, rng); err != nil {
			return err
		}
	}
	b.fitted = true
	b.thr = thresholdAtFPR(scores, fpr)
	if progress != nil {
		progress(EpochStats{Epoch: 1, Epochs: 1, Elapsed: time.Since(start)})
	}
	return nil
}

// benignRows returns the rows of l whose class is benign (aliasing l).
func benignRows(l Labeled, benign int) [][]float32 {
	var rows [][]float32
	for i := 0; i < l.Len(); i++ {
		if l.Y[i] == benign {
			rows = append(rows, l.X.At(i))
		}
	}
	return rows
}

// thresholdAtFPR returns the smallest threshold t such that at most
// fpr·len(scores) of scores are >= t.
func thresholdAtFPR(scores []float64, fpr float64) float64 {
	s := append([]float64(nil), scores...)
	sort.Sort(sort.Reverse(sort.Float64Slice(s)))
	k := int(math.Floor(fpr * float64(len(s))))
	if k >= len(s) {
		return math.Inf(-1)
	}
	return math.Nextafter(s[k], math.Inf(1))
}

func sqDist(a []float32, c []float64) float64 {
	d := 0.0
	for j, v := range a {
		x := float64(v) - c[j]
		d += x * x
	}
	return d
}

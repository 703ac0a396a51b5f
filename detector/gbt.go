package detector

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"time"
)

func init() {
	registerModel(ModelKind{Name: "gbt", Supervised: true, Input: InputRow, New: newGBT,
		// Trees split on order, so neither pruning correlated features nor
		// log compression changes what they can learn; rounds, shrinkage and
		// early stopping were chosen on the validation split of
		// ethereum-accounts (BENCHMARKS.md).
		Defaults: TrainDefaults{Epochs: GBTDefaultRounds, LearningRate: GBTDefaultLR, Patience: 40, CorrThreshold: 1, ClassWeights: "none"}})
}

// Defaults of the gradient-boosted trees.
const (
	GBTDefaultRounds = 400
	GBTDefaultLR     = 0.1
	GBTDefaultDepth  = 4
	// GBTMaxDepth bounds the depth of a tree: 2^17−1 nodes at most.
	GBTMaxDepth = 16
)

// gbtModel is a gradient-boosted tree ensemble (Friedman 2001, with the
// second-order leaf values and gain of XGBoost, Chen & Guestrin 2016), a
// supervised classifier of flows one row at a time: tabular features such
// as an Ethereum account's aggregates, where trees beat a recurrent
// network.
//
// Each boosting round (an "epoch": TrainConfig.Epochs rounds at most) adds
// one regression tree per output to the logits: one output, the log-odds
// of class 1, for two classes; one per class, through a softmax, for more.
// Trees are grown level by level to depth "depth" (default 4) with exact
// greedy splits on the training rows (a split leaves at least "min_leaf"
// rows, default 2, on each side; leaf values −G/(H+"lambda"), lambda
// default 1, times the learning rate), on the class-weighted gradient and
// Hessian of the cross-entropy. With a validation split, training stops
// after Patience rounds without a lower validation loss and keeps the
// rounds up to the best.
//
// Weights() is, tree after tree (round-major, output-minor), five values
// per node: feature index (−1 for a leaf), threshold (row value < threshold
// goes left), left child, right child, leaf value. The base logits and
// each tree's node count are the payload's state.
type gbtModel struct {
	cfg     ModelConfig
	outputs int
	base    []float64
	sizes   []int     // nodes per tree
	nodes   []float32 // 5 per node, tree after tree
	trees   [][]gbtNode
	fitted  bool
}

type gbtNode struct {
	feature     int // −1 leaf
	thr         float32
	left, right int
	value       float64
}

func newGBT(cfg ModelConfig) (Model, error) {
	m := &gbtModel{cfg: cfg, outputs: gbtOutputs(len(cfg.Classes))}
	if err := m.checkParams(); err != nil {
		return nil, err
	}
	return m, nil
}

func gbtOutputs(classes int) int {
	if classes == 2 {
		return 1
	}
	return classes
}

func (m *gbtModel) Kind() string        { return "gbt" }
func (m *gbtModel) Config() ModelConfig { return m.cfg }
func (m *gbtModel) Threshold() float64  { return 0.5 }
func (m *gbtModel) width() int          { return m.cfg.T * m.cfg.F }
func (m *gbtModel) depth() int          { return int(m.cfg.Param("depth", GBTDefaultDepth)) }

// checkParams bounds the parameters a tree's shape comes from.
func (m *gbtModel) checkParams() error {
	if d := m.cfg.Param("depth", GBTDefaultDepth); d != math.Trunc(d) || d < 1 || d > GBTMaxDepth {
		return invalid("model_config.params.depth", "%v is not a whole number in [1, %d]", d, GBTMaxDepth)
	}
	if l := m.cfg.Param("min_leaf", 2); l != math.Trunc(l) || l < 1 {
		return invalid("model_config.params.min_leaf", "%v is not a whole number of at least 1", l)
	}
	if l := m.cfg.Param("lambda", 1); !(l >= 0) {
		return invalid("model_config.params.lambda", "%v is not a non-negative number", l)
	}
	return nil
}

// gbtTrainer holds what growing the trees of one Fit shares.
type gbtTrainer struct {
	x       [][]float32 // training rows
	sorted  [][]int32   // per feature, the rows by increasing value
	g, h    []float64   // per row, for the tree being grown
	node    []int32     // per row, its node in the tree being grown
	depth   int
	minLeaf int
	lambda  float64
	lr      float64
}

func (m *gbtModel) Fit(train, valid Labeled, cfg TrainConfig, progress func(EpochStats)) (err error) {
	defer catchPanic(&err)
	if train.X.T != m.cfg.T || train.X.F != m.cfg.F || (valid.Len() > 0 && (valid.X.T != m.cfg.T || valid.X.F != m.cfg.F)) {
		return fmt.Errorf("%w: gbt wants %dx%d rows", ErrShape, m.cfg.T, m.cfg.F)
	}
	n, C, K := train.Len(), len(m.cfg.Classes), m.outputs
	if n < 2 {
		return fmt.Errorf("gbt fit: %d training rows", n)
	}
	def := mustDefaults("gbt")
	cfg = cfg.withDefaults(def)
	if cfg.Epochs < 1 || cfg.Epochs*K > MaxTrees {
		return fmt.Errorf("gbt fit: %d rounds of %d trees: want 1 to %d trees", cfg.Epochs, K, MaxTrees)
	}
	rowWeight := func(y int) float64 {
		if cfg.ClassWeights != nil {
			return float64(cfg.ClassWeights[y])
		}
		return 1
	}
	t := &gbtTrainer{x: make([][]float32, n), g: make([]float64, n), h: make([]float64, n), node: make([]int32, n),
		depth: m.depth(), minLeaf: int(m.cfg.Param("min_leaf", 2)), lambda: m.cfg.Param("lambda", 1), lr: cfg.LearningRate}
	for i := range n {
		t.x[i] = train.X.At(i)
	}
	t.sorted = make([][]int32, m.width())
	splitRange(m.width(), runtime.GOMAXPROCS(0), func(lo, hi int) {
		for f := lo; f < hi; f++ {
			s := make([]int32, n)
			for i := range s {
				s[i] = int32(i)
			}
			sort.SliceStable(s, func(a, b int) bool { return t.x[s[a]][f] < t.x[s[b]][f] })
			t.sorted[f] = s
		}
	})

	// Base logits: the weighted class frequencies.
	freq := make([]float64, C)
	var wsum float64
	for _, y := range train.Y {
		freq[y] += rowWeight(y)
		wsum += rowWeight(y)
	}
	m.base = make([]float64, K)
	for k := range K {
		if K == 1 {
			p := math.Min(math.Max(freq[1]/wsum, 1e-6), 1-1e-6)
			m.base[0] = math.Log(p / (1 - p))
		} else {
			m.base[k] = math.Log(math.Max(freq[k]/wsum, 1e-6))
		}
	}
	logits := func(rows int) []float64 {
		z := make([]float64, rows*K)
		for i := range rows {
			copy(z[i*K:], m.base)
		}
		return z
	}
	zt, zv := logits(n), logits(valid.Len())
	probs := make([]float64, C)
	m.trees, m.sizes, m.nodes, m.fitted = nil, nil, nil, false
	bestLoss, bestRounds, sinceBest := math.Inf(1), 0, 0
	start := time.Now()
	for round := 1; round <= cfg.Epochs; round++ {
		var loss float64
		grad := make([][2][]float64, K)
		for k := range grad {
			grad[k] = [2][]float64{make([]float64, n), make([]float64, n)}
		}
		for i, y := range train.Y {
			m.probs(zt[i*K:(i+1)*K], probs)
			w := rowWeight(y)
			loss -= w * math.Log(math.Max(probs[y], 1e-15))
			for k := range K {
				c := k
				if K == 1 {
					c = 1
				}
				p, target := probs[c], 0.0
				if y == c {
					target = 1
				}
				grad[k][0][i] = w * (p - target)
				grad[k][1][i] = w * math.Max(p*(1-p), 1e-6)
			}
		}
		for k := range K {
			t.g, t.h = grad[k][0], grad[k][1]
			tree := t.grow()
			m.trees = append(m.trees, tree)
			for i := range n {
				zt[i*K+k] += gbtScore(tree, t.x[i])
			}
			for i := range valid.Len() {
				zv[i*K+k] += gbtScore(tree, valid.X.At(i))
			}
		}
		st := EpochStats{Epoch: round, Epochs: cfg.Epochs, Task: "multiclass", TrainLoss: loss / wsum, Elapsed: time.Since(start)}
		if valid.Len() > 0 {
			preds := make([]Prediction, valid.Len())
			var vl, vw float64
			for i, y := range valid.Y {
				preds[i] = m.prediction(zv[i*K : (i+1)*K])
				w := rowWeight(y)
				vl -= w * math.Log(math.Max(float64(preds[i].Probs[y]), 1e-15))
				vw += w
			}
			mt := Evaluate(m.cfg.Classes, m.cfg.BenignClass, valid.Y, preds)
			st.ValidLoss, st.ValidAcc, st.ValidF1, st.ValidFPR = vl/vw, float64(mt.Accuracy), float64(mt.MacroF1), mt.BenignFPR
		}
		if progress != nil {
			progress(st)
		}
		if valid.Len() == 0 || cfg.Patience <= 0 {
			bestRounds = round
			continue
		}
		if st.ValidLoss < bestLoss {
			bestLoss, bestRounds, sinceBest = st.ValidLoss, round, 0
		} else if sinceBest++; sinceBest >= cfg.Patience {
			break
		}
	}
	m.trees = m.trees[:bestRounds*K]
	m.encode()
	m.fitted = true
	return nil
}

// grow grows one tree on t.g and t.h, level by level: at each level every
// feature's sorted rows are scanned once for the best split of every node
// of that level.
func (t *gbtTrainer) grow() []gbtNode {
	type stats struct{ g, h float64 }
	clear(t.node)
	var root stats
	for i := range t.g {
		root.g += t.g[i]
		root.h += t.h[i]
	}
	tree := []gbtNode{{feature: -1}}
	sum := []stats{root}
	count := []int{len(t.g)}
	level := []int{0} // the nodes of this level
	for d := 0; d < t.depth && len(level) > 0; d++ {
		slot := make([]int, len(tree))
		for i := range slot {
			slot[i] = -1
		}
		var open []int
		for _, nd := range level {
			if count[nd] >= 2*t.minLeaf {
				slot[nd] = len(open)
				open = append(open, nd)
			}
		}
		if len(open) == 0 {
			break
		}
		bestGain := make([]float64, len(open))
		bestF := make([]int, len(open))
		bestThr := make([]float32, len(open))
		for s := range bestF {
			bestF[s] = -1
		}
		left := make([]stats, len(open))
		seen := make([]int, len(open))
		last := make([]float32, len(open))
		for f, rows := range t.sorted {
			clear(left)
			clear(seen)
			for _, i := range rows {
				s := slot[t.node[i]]
				if s < 0 {
					continue
				}
				v := t.x[i][f]
				nd := open[s]
				if seen[s] >= t.minLeaf && count[nd]-seen[s] >= t.minLeaf && v != last[s] {
					l, all := left[s], sum[nd]
					r := stats{all.g - l.g, all.h - l.h}
					gain := l.g*l.g/(l.h+t.lambda) + r.g*r.g/(r.h+t.lambda) - all.g*all.g/(all.h+t.lambda)
					if gain > bestGain[s]+1e-12 {
						thr := float32((float64(last[s]) + float64(v)) / 2)
						if !(thr > last[s]) {
							thr = v
						}
						bestGain[s], bestF[s], bestThr[s] = gain, f, thr
					}
				}
				left[s].g += t.g[i]
				left[s].h += t.h[i]
				seen[s]++
				last[s] = v
			}
		}
		var next []int
		for s, nd := range open {
			if bestF[s] < 0 {
				continue
			}
			l, r := len(tree), len(tree)+1
			tree[nd].feature, tree[nd].thr, tree[nd].left, tree[nd].right = bestF[s], bestThr[s], l, r
			tree = append(tree, gbtNode{feature: -1}, gbtNode{feature: -1})
			sum = append(sum, stats{}, stats{})
			count = append(count, 0, 0)
			next = append(next, l, r)
		}
		for i := range t.node {
			nd := t.node[i]
			if n := tree[nd]; n.feature >= 0 {
				c := n.right
				if t.x[i][n.feature] < n.thr {
					c = n.left
				}
				t.node[i] = int32(c)
				sum[c].g += t.g[i]
				sum[c].h += t.h[i]
				count[c]++
			}
		}
		level = next
	}
	for nd := range tree {
		if tree[nd].feature < 0 {
			// Stored as float32: the value scored is the value saved.
			tree[nd].value = float64(float32(-sum[nd].g / (sum[nd].h + t.lambda) * t.lr))
		}
	}
	return tree
}

// gbtScore is the value of the leaf x falls in.
func gbtScore(tree []gbtNode, x []float32) float64 {
	i := 0
	for tree[i].feature >= 0 {
		if x[tree[i].feature] < tree[i].thr {
			i = tree[i].left
		} else {
			i = tree[i].right
		}
	}
	return tree[i].value
}

// probs turns the logits z of one row into class probabilities.
func (m *gbtModel) probs(z []float64, p []float64) {
	if m.outputs == 1 {
		p[1] = 1 / (1 + math.Exp(-z[0]))
		p[0] = 1 - p[1]
		return
	}
	top := slices.Max(z)
	var s float64
	for k, v := range z {
		p[k] = math.Exp(v - top)
		s += p[k]
	}
	for k := range p {
		p[k] /= s
	}
}

// prediction is the verdict of the logits z of one row.
func (m *gbtModel) prediction(z []float64) Prediction {
	p := make([]float64, len(m.cfg.Classes))
	m.probs(z, p)
	pr := Prediction{Probs: make([]float32, len(p))}
	for k, v := range p {
		pr.Probs[k] = float32(v)
		if v > p[pr.Class] {
			pr.Class = k
		}
	}
	pr.Score = 1 - p[m.cfg.BenignClass]
	pr.Alert = pr.Class != m.cfg.BenignClass
	return pr
}

func (m *gbtModel) Predict(x Seqs) (_ []Prediction, err error) {
	defer catchPanic(&err)
	if !m.fitted {
		return nil, ErrNotFitted
	}
	if err := x.Validate(); err != nil {
		return nil, err
	}
	if x.T != m.cfg.T || x.F != m.cfg.F {
		return nil, fmt.Errorf("%w: input %dx%d, gbt wants %dx%d", ErrShape, x.T, x.F, m.cfg.T, m.cfg.F)
	}
	out := make([]Prediction, x.N)
	one := func(lo, hi int) {
		z := make([]float64, m.outputs)
		for i := lo; i < hi; i++ {
			copy(z, m.base)
			row := x.At(i)
			for j, tree := range m.trees {
				z[j%m.outputs] += gbtScore(tree, row)
			}
			out[i] = m.prediction(z)
		}
	}
	if workers := runtime.GOMAXPROCS(0); x.N >= 512 && workers > 1 {
		splitRange(x.N, workers, one)
	} else {
		one(0, x.N)
	}
	return out, nil
}

// encode writes the trees into the flat weights and sizes.
func (m *gbtModel) encode() {
	m.sizes, m.nodes = m.sizes[:0], m.nodes[:0]
	for _, tree := range m.trees {
		m.sizes = append(m.sizes, len(tree))
		for _, n := range tree {
			m.nodes = append(m.nodes, float32(n.feature), n.thr, float32(n.left), float32(n.right), float32(n.value))
		}
	}
}

// decode rebuilds the trees from the flat weights and sizes, which must
// agree in length (Validate checks the rest).
func (m *gbtModel) decode() error {
	total := 0
	for _, s := range m.sizes {
		if s < 1 || s > 1<<(GBTMaxDepth+1)-1 {
			return invalid("gbt state.nodes", "a tree of %d nodes: want 1 to %d", s, 1<<(GBTMaxDepth+1)-1)
		}
		total += s
	}
	if len(m.nodes) != 5*total {
		return fmt.Errorf("%w: gbt weights %d, want %d for %d nodes", ErrShape, len(m.nodes), 5*total, total)
	}
	m.trees = make([][]gbtNode, len(m.sizes))
	w := m.nodes
	for t, s := range m.sizes {
		tree := make([]gbtNode, s)
		for i := range tree {
			v := w[5*i : 5*i+5]
			tree[i] = gbtNode{feature: int(v[0]), thr: v[1], left: int(v[2]), right: int(v[3]), value: float64(v[4])}
			if v[0] < 0 {
				tree[i].feature = -1
			}
		}
		m.trees[t] = tree
		w = w[5*s:]
	}
	return nil
}

func (m *gbtModel) Weights() []float32 { return append([]float32(nil), m.nodes...) }

func (m *gbtModel) SetWeights(w []float32) error {
	if !m.fitted || len(w) != len(m.nodes) {
		return fmt.Errorf("%w: gbt weights %d, want %d", ErrShape, len(w), len(m.nodes))
	}
	m.nodes = append(m.nodes[:0], w...)
	return m.decode()
}

type gbtState struct {
	Base  []float64 `json:"base"`
	Nodes []int     `json:"nodes"`
}

func (m *gbtModel) MarshalBinary() ([]byte, error) {
	if !m.fitted {
		return nil, ErrNotFitted
	}
	return marshalModelBlob(m.Kind(), m.cfg, m.Threshold(), gbtState{Base: m.base, Nodes: m.sizes}, m.nodes)
}

func (m *gbtModel) UnmarshalBinary(data []byte) error {
	var st gbtState
	h, w, err := unmarshalModelBlob(m.Kind(), data, &st)
	if err != nil {
		return err
	}
	m.cfg, m.outputs = h.Config, gbtOutputs(len(h.Config.Classes))
	if err := m.checkParams(); err != nil {
		return err
	}
	if len(st.Base) != m.outputs || len(st.Nodes) == 0 || len(st.Nodes)%m.outputs != 0 || len(st.Nodes) > MaxTrees {
		return invalid("gbt state", "%d base logits and %d trees for %d outputs (at most %d trees)", len(st.Base), len(st.Nodes), m.outputs, MaxTrees)
	}
	m.base, m.sizes, m.nodes = st.Base, st.Nodes, w
	if err := m.decode(); err != nil {
		return err
	}
	m.fitted = true
	return nil
}

// Validate checks the ensemble: its sizes within the bounds, every weight
// and base logit finite, and every tree sound: a split names a feature of
// the row and two children after itself (so no path loops or leaves the
// tree), no tree deeper than the "depth" parameter.
func (m *gbtModel) Validate() error {
	if !m.fitted {
		return invalid("gbt weights", "none (the model is not fitted)")
	}
	if err := checkFinite("gbt weights", m.nodes); err != nil {
		return err
	}
	for k, b := range m.base {
		if !isFinite(b) {
			return invalid("gbt state.base", "logit %d is %v", k, b)
		}
	}
	if err := m.checkParams(); err != nil {
		return err
	}
	if len(m.trees) == 0 || len(m.trees)%m.outputs != 0 || len(m.trees) > MaxTrees || len(m.base) != m.outputs {
		return invalid("gbt state", "%d trees for %d outputs", len(m.trees), m.outputs)
	}
	width, maxNodes, off := m.width(), 1<<(m.depth()+1)-1, 0
	for t, tree := range m.trees {
		if len(tree) > maxNodes {
			return invalid(fmt.Sprintf("gbt tree %d", t), "%d nodes, more than depth %d allows (%d)", len(tree), m.depth(), maxNodes)
		}
		depth := make([]int, len(tree))
		for i, n := range tree {
			v := m.nodes[5*(off+i):][:5]
			where := fmt.Sprintf("gbt tree %d node %d", t, i)
			switch {
			case v[0] == -1:
			case v[0] != float32(n.feature) || n.feature < 0 || n.feature >= width:
				return invalid(where, "feature %v: want -1 (leaf) or a feature index in [0, %d)", v[0], width)
			case v[2] != float32(n.left) || v[3] != float32(n.right) || n.left <= i || n.right <= i || n.left >= len(tree) || n.right >= len(tree):
				return invalid(where, "children %v and %v: want indices after %d within the tree's %d nodes", v[2], v[3], i, len(tree))
			default:
				for _, c := range []int{n.left, n.right} {
					if depth[c] = depth[i] + 1; depth[c] > m.depth() {
						return invalid(where, "a child at depth %d, deeper than %d", depth[c], m.depth())
					}
				}
			}
		}
		off += len(tree)
	}
	return nil
}

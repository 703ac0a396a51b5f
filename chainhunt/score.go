package chainhunt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/detector"
)

// Scorer scores an account's feature vector (Account.Features: the columns
// of detector.EthAccountFeatures, in order): higher is more suspicious,
// in [0, 1].
type Scorer interface {
	Score(features []float64) (float64, error)
}

// Thresholder is a Scorer that knows its own alert threshold (a model's
// calibrated one); Config.Threshold overrides it.
type Thresholder interface {
	Threshold() float64
}

// Identifier is a Scorer that names its model, for the alerts it raises.
type Identifier interface {
	// Model returns the model's id and version, and its kind ("gbt", ...).
	Model() (id, version, kind string)
}

// DetectorScorer scores accounts with a detector model trained on the
// ethereum-accounts kind (detector.LoadDetector of a file `train` wrote).
// Each feature vector becomes a row of the kind, so it goes through the
// model's own pipeline (log scaling, min-max, the columns it kept) exactly
// as a dataset row would.
//
// Its scores lie in [0, 1]: a supervised model's is its own (1 −
// P(benign)), with its threshold; an unsupervised model's raw anomaly score
// s is mapped to s / (s + t), where t is the model's calibrated threshold,
// so that the threshold maps to 0.5 (and Threshold says 0.5).
type DetectorScorer struct {
	d       *detector.Detector
	header  *detector.Header
	version string
}

// NewDetectorScorer wraps d, which must read the ethereum-accounts kind.
// version names the model's version in the alerts (may be empty).
func NewDetectorScorer(d *detector.Detector, version string) (*DetectorScorer, error) {
	if d == nil {
		return nil, errors.New("chainhunt: no detector")
	}
	if d.Dataset() != "ethereum-accounts" {
		return nil, fmt.Errorf("chainhunt: the model reads %q flows, not ethereum-accounts", d.Dataset())
	}
	return &DetectorScorer{d: d, header: detector.NewHeader(detector.EthAccountFeatureNames()), version: version}, nil
}

// Score scores one account's features.
func (s *DetectorScorer) Score(features []float64) (float64, error) {
	if len(features) != len(s.header.Names) {
		return 0, fmt.Errorf("chainhunt: %d features, want %d", len(features), len(s.header.Names))
	}
	vals := make([]string, len(features))
	for i, v := range features {
		vals[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	f, err := s.d.NewFlowRow(s.header, vals)
	if err != nil {
		return 0, err
	}
	ps, err := s.d.Detect([]*detector.Flow{f})
	if err != nil {
		return 0, err
	}
	sc := ps[0].Score
	if !s.d.Meta.Supervised {
		t := s.d.Model.Threshold()
		if sc <= 0 || t <= 0 {
			return 0, nil
		}
		sc /= sc + t
	}
	return min(1, max(0, sc)), nil
}

// Threshold is the model's alert threshold on Score.
func (s *DetectorScorer) Threshold() float64 {
	if !s.d.Meta.Supervised {
		return 0.5
	}
	return s.d.Model.Threshold()
}

// Model names the model.
func (s *DetectorScorer) Model() (id, version, kind string) {
	return s.d.ID(), s.version, s.d.Meta.ModelKind
}

// score scores the accounts block b changed (contracts, the registry and
// the anchorers excepted), each at most once every
// ScoreEvery blocks (an account changed meanwhile is scored when that
// time is up, changed again or not), and returns a fraud alert for each at or above the
// threshold.
func (h *Hunter) score(ctx context.Context, b *blockCtx) ([]Alert, error) {
	if h.cfg.Scorer == nil {
		return nil, nil
	}
	id, version, kind := "scorer", "", "model"
	if m, ok := h.cfg.Scorer.(Identifier); ok {
		id, version, kind = m.Model()
	}
	n := b.block.NumberU64()
	// The accounts to score: those the block changed, and those changed
	// while their debounce held whose debounce is over.
	cands := map[common.Address]bool{}
	for a := range b.touched {
		cands[a] = true
	}
	for a, at := range h.scoreDue {
		if at <= n {
			cands[a] = true
		}
	}
	// Contracts are not scored (the dataset's rows are the histories of
	// accounts people hold; a token or a registry looks nothing like
	// them), nor the service's own registry and anchorers (the registry
	// rules watch those).
	for a := range cands {
		c, err := h.isContract(ctx, a)
		if err != nil {
			return nil, err
		}
		if c || a == h.cfg.Registry || h.anchorers[a] {
			delete(cands, a)
		}
	}
	addrs := keys(cands)
	slices.SortFunc(addrs, func(x, y common.Address) int { return x.Cmp(y) })
	// Read every account first: with the contract test above, the only
	// steps that can fail (the node, the Store), before the debounce
	// changes, so that a block processed again after a failure is scored
	// the same.
	if err := h.loadAccounts(ctx, cands); err != nil {
		return nil, err
	}
	var out []Alert
	for _, a := range addrs {
		if last, ok := h.lastScored[a]; ok && n < last+h.cfg.ScoreEvery && n >= last {
			h.scoreDue[a] = last + h.cfg.ScoreEvery
			continue
		}
		delete(h.scoreDue, a)
		h.lastScored[a] = n
		features := h.accounts[a].Features()
		sc, err := h.cfg.Scorer.Score(features)
		if err != nil {
			// A model that cannot score an account will not do better
			// on a second try: skip it rather than stop following.
			h.log.Warn("cannot score account", "account", a, "block", n, "err", err)
			continue
		}
		if sc < h.cfg.Threshold {
			continue
		}
		ev := map[string]string{"score": strconv.FormatFloat(sc, 'f', -1, 64),
			"threshold": strconv.FormatFloat(h.cfg.Threshold, 'f', -1, 64)}
		for i, f := range detector.EthAccountFeatures {
			ev[f.Column] = strconv.FormatFloat(features[i], 'g', -1, 64)
		}
		out = append(out, b.alert(h.cfg.ChainID, Alert{
			Subject: SubjectAccount, Method: MethodModel, Rule: kind, Class: ClassFraud, Severity: severity(sc),
			Score: sc, ModelID: id, ModelVersion: version, Account: a, Evidence: ev,
			Summary: fmt.Sprintf("the %s model scores account %s %.3f, at or above its threshold %.3f, on its history up to block %d",
				kind, a.Hex(), sc, h.cfg.Threshold, n),
		}))
	}
	h.pruneScored(n)
	return out, nil
}

// severity grades a model score.
func severity(score float64) string {
	switch {
	case score >= 0.95:
		return "high"
	case score >= 0.75:
		return "medium"
	}
	return "low"
}

// pruneScored forgets accounts scored more than ScoreEvery blocks ago
// (they may be scored again anyway), so the map holds only recent ones.
func (h *Hunter) pruneScored(n uint64) {
	if n%h.cfg.ScoreEvery != 0 {
		return
	}
	for a, last := range h.lastScored {
		if last+h.cfg.ScoreEvery <= n {
			delete(h.lastScored, a)
		}
	}
}

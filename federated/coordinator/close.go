package coordinator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
)

// Run closes rounds when they are due and registers the models they make,
// until ctx ends. A failed step is logged and tried again at the next tick:
// every step can be repeated (see closeRound).
func (c *Coordinator) Run(ctx context.Context) {
	t := time.NewTicker(c.opt.Tick)
	defer t.Stop()
	for {
		if err := c.Step(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("federated coordinator step failed; trying again", "error", err.Error(), "retry_in", c.opt.Tick.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.wake:
		}
	}
}

// Step does what is due now: it fails a round whose deadline passed
// without enough updates, closes one that is ready (or finishes closing one
// a crash interrupted), and registers in the federation registry the models
// planned for it.
func (c *Coordinator) Step(ctx context.Context) error {
	if err := c.closeDue(ctx); err != nil {
		return err
	}
	return c.registerPlanned(ctx)
}

func (c *Coordinator) closeDue(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, err := c.store.CurrentRound(ctx)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now := c.now()
	switch {
	case r.State == federated.StateOpen && r.Expired(now):
		return c.fail(ctx, r, nil, fmt.Sprintf("the deadline passed with %d of the %d updates needed", len(r.Received), r.MinUpdates))
	case r.State == federated.StateOpen && r.ReadyToClose(now):
		if err := r.BeginClosing(now); err != nil {
			return err
		}
		if err := c.store.SaveRound(ctx, r); err != nil {
			return err
		}
		c.log.Info("federated round closing", "round", r.Number, "updates", len(r.Received))
		return c.closeRound(ctx, r)
	case r.State == federated.StateClosing:
		return c.closeRound(ctx, r) // a crash interrupted it
	}
	return nil
}

// closeRound measures the round's updates, has the contract judge them,
// aggregates the accepted ones into the next global model and stores it
// all in one transaction. It can be repeated: the contract answers a round
// it already judged with that judgement, and nothing is stored until the
// end, so a crash anywhere leaves the round closing, and the next try
// finishes it with the same verdicts. (Central DP noise is drawn afresh on
// a retry: no model was stored or registered with the lost draw.)
func (c *Coordinator) closeRound(ctx context.Context, r federated.Round) error {
	ups, err := c.store.Updates(ctx, r.Number)
	if err != nil {
		return err
	}
	base, err := c.store.Model(ctx, r.BaseModelID)
	if err != nil {
		return fmt.Errorf("round %d base model: %w", r.Number, err)
	}
	global, err := detector.DecodeDetector(base.File)
	if err != nil {
		return err
	}
	scratch, err := detector.DecodeDetector(base.File) // MeasureAccuracy sets its weights
	if err != nil {
		return err
	}
	baseW := global.Model.Weights()
	valid := detector.Labeled{X: global.Pipeline.Transform(c.opt.Validation), Y: global.Pipeline.Labels(c.opt.Validation)}

	n := len(ups)
	sites, leaves, updates := make([]common.Address, n), make([]common.Hash, n), make([]*federated.Update, n)
	for i, u := range ups {
		sites[i], leaves[i], updates[i] = u.Update.Site, common.Hash(u.Leaf), u.Update
	}
	deltas, ms, err := MeasureRound(r, scratch.Model, baseW, valid, updates, leaves)
	if err != nil {
		var bad *BadUpdateError
		if errors.As(err, &bad) {
			return fmt.Errorf("round %d update %s: %w", r.Number, ups[bad.Index].RecordID, bad.Err)
		}
		return err
	}
	scores := make([]federated.Score, n)
	for i := range ms {
		scores[i] = ms[i].Score()
	}
	startReps, err := c.roundStartReputations(ctx, sites)
	if err != nil {
		return err
	}
	th, err := c.chain.Thresholds(ctx)
	if err != nil {
		return err
	}
	judged, err := c.chain.SubmitRound(ctx, r.Number, scores)
	if err != nil {
		return fmt.Errorf("round %d: judgement: %w", r.Number, err)
	}
	if len(judged.Verdicts) != n {
		return fmt.Errorf("round %d: %d verdicts for %d updates", r.Number, len(judged.Verdicts), n)
	}

	reps := map[common.Address]uint16{}
	var contribs []federated.Contribution
	var refs []UpdateRef
	var acceptedReps []uint16
	for i := range ups {
		v := judged.Verdicts[i]
		ups[i].Judgement = &Judgement{Measurement: ms[i], Score: scores[i], Reasons: v.Reasons, Accepted: v.Accepted, Reputation: v.Reputation}
		reps[sites[i]] = v.Reputation
		if v.Accepted {
			contribs = append(contribs, federated.Contribution{Site: sites[i], Delta: deltas[i], Samples: ups[i].Update.Samples})
			refs = append(refs, UpdateRef{RecordID: ups[i].RecordID, Site: sites[i], Leaf: anchor.HexHash(ups[i].Leaf)})
			acceptedReps = append(acceptedReps, startReps[sites[i]])
		}
	}
	for i, t := range federated.TrustWeights(acceptedReps) {
		contribs[i].Trust = t
	}
	c.log.Info("federated round judged", "round", r.Number, "updates", n, "accepted", len(contribs),
		"divergence_median", judged.DivergenceMedian, "divergence_band", judged.DivergenceBand, "tx", hex.EncodeToString(judged.Inclusion.Tx[:]))

	need := max(1, r.Policy.Rule.MinUpdates())
	if len(contribs) < need {
		return c.fail(ctx, r, &roundJudgement{ups: ups, reps: reps, th: th, judged: judged},
			fmt.Sprintf("%d updates accepted; rule %s needs %d", len(contribs), r.Policy.Rule, need))
	}
	res, err := federated.Aggregate(r.Policy.Rule, contribs)
	if errors.Is(err, federated.ErrTooFew) {
		return c.fail(ctx, r, &roundJudgement{ups: ups, reps: reps, th: th, judged: judged}, err.Error())
	}
	if err != nil {
		return err
	}
	if r.Policy.DP.Mode == federated.DPCentral && r.Policy.DP.Sigma > 0 {
		var seed [32]byte
		if _, err := rand.Read(seed[:]); err != nil {
			return err
		}
		federated.AddGaussian(res.Delta, federated.CentralNoiseStd(r.Policy.DP.Sigma, r.Policy.DP.Clip, res.Weights),
			federated.NewNoiseSource(seed))
	}
	next, err := federated.Apply(baseW, res.Delta)
	if err != nil {
		return err
	}
	model, newDet, err := c.newGlobalModel(base, next, r.Number, valid)
	if errors.Is(err, errUnusableModel) {
		// Retrying would make the same aggregate: the round fails, with why.
		return c.fail(ctx, r, &roundJudgement{ups: ups, reps: reps, th: th, judged: judged}, err.Error())
	}
	if err != nil {
		return err
	}
	validAcc, err := federated.Accuracy(newDet.Model, valid)
	if err != nil {
		return err
	}
	root, err := UpdatesRoot(refs)
	if err != nil {
		return err
	}
	if model.Version, err = c.store.NextModelVersion(ctx); err != nil {
		return err
	}
	model.UpdatesRoot = anchor.HexHash(root)
	if err := r.Complete(model.ID); err != nil {
		return err
	}
	out, err := c.outcome(ctx, r, &roundJudgement{ups: ups, reps: reps, th: th, judged: judged})
	if err != nil {
		return err
	}
	roundID := out.RoundRecord.ID
	modelID := newID()
	mrec, err := record("global_model", modelID, ModelRecord{
		Type: "global_model", ID: modelID, ModelID: model.ID, Kind: newDet.Meta.ModelKind, Version: model.Version,
		Round: r.Number, BaseModel: r.BaseModelID, Rule: r.Policy.Rule.String(), Updates: refs, UpdatesRoot: model.UpdatesRoot,
		RoundRecord: roundID, ValidationAccuracy: validAcc, CreatedAt: c.now(),
	})
	if err != nil {
		return err
	}
	model.RecordID = modelID
	out.Model, out.ModelRecord = &model, &mrec
	if err := c.store.CompleteRound(ctx, out); err != nil {
		return err
	}
	c.log.Info("federated round closed", "round", r.Number, "model", model.ID, "registry_version", model.Version,
		"accepted", len(contribs), "rule", r.Policy.Rule.String(), "validation_accuracy", validAcc)
	c.maybePromote(ctx, r, model, newDet, valid, validAcc)
	c.notify() // registers the model
	return nil
}

// BadUpdateError is an update MeasureRound could not decode or measure.
type BadUpdateError struct {
	Index int // in the updates given
	Err   error
}

func (e *BadUpdateError) Error() string { return fmt.Sprintf("update %d: %v", e.Index, e.Err) }
func (e *BadUpdateError) Unwrap() error { return e.Err }

// MeasureRound is the coordinator's work on round r's updates before the
// contract judges them: decode and check each (Update.Validate; under
// central DP its delta is clipped to the policy's C, as Accept did),
// measure the accuracy on valid of the model base + delta (scratch holds a
// copy of the base model and is used as scratch), and measure each
// delta's norm and divergence from the coordinate-wise median of the
// round's deltas. hashes name the updates in the measurements (the
// records' leaves). It returns the deltas and the measurements; a bad
// update is a *BadUpdateError.
func MeasureRound(r federated.Round, scratch detector.Model, base []float32, valid detector.Labeled, updates []*federated.Update,
	hashes []common.Hash) ([][]float32, []federated.Measurement, error) {
	n := len(updates)
	sites := make([]common.Address, n)
	deltas, acc, reported := make([][]float32, n), make([]float64, n), make([]float64, n)
	for i, u := range updates {
		d, err := u.Validate(r.Dim, r.Limits)
		if err != nil {
			return nil, nil, &BadUpdateError{Index: i, Err: err}
		}
		if r.Policy.DP.Mode == federated.DPCentral {
			federated.ClipL2(d, r.Policy.DP.Clip) // as Accept did: the coordinator enforces the clip
		}
		if acc[i], err = federated.MeasureAccuracy(scratch, base, d, valid); err != nil {
			return nil, nil, &BadUpdateError{Index: i, Err: fmt.Errorf("measure: %w", err)}
		}
		sites[i], deltas[i], reported[i] = u.Site, d, u.ReportedAccuracy
	}
	ms, err := federated.Measure(sites, hashes, deltas, acc, reported)
	return deltas, ms, err
}

// roundJudgement is what a judged round carries into its outcome.
type roundJudgement struct {
	ups    []StoredUpdate
	reps   map[common.Address]uint16
	th     federated.Thresholds
	judged Judged
}

// fail ends a round without a model, storing its round record (with the
// contract's verdicts when it got that far).
func (c *Coordinator) fail(ctx context.Context, r federated.Round, j *roundJudgement, reason string) error {
	if err := r.Fail(reason); err != nil {
		return err
	}
	if j == nil {
		ups, err := c.store.Updates(ctx, r.Number)
		if err != nil {
			return err
		}
		j = &roundJudgement{ups: ups}
	}
	out, err := c.outcome(ctx, r, j)
	if err != nil {
		return err
	}
	if err := c.store.CompleteRound(ctx, out); err != nil {
		return err
	}
	c.log.Warn("federated round failed", "round", r.Number, "reason", reason)
	return nil
}

// outcome assembles what CompleteRound stores: the round record (with the
// judgement when there is one), reputations and the privacy accounting.
func (c *Coordinator) outcome(ctx context.Context, r federated.Round, j *roundJudgement) (Outcome, error) {
	acct, err := c.store.Accountant(ctx)
	if err != nil {
		return Outcome{}, err
	}
	if r.Policy.DP.Mode != federated.DPOff && r.Policy.DP.Sigma > 0 {
		q := 1.0 // local DP: each site spends the whole mechanism each round it takes part in
		if r.Policy.DP.Mode == federated.DPCentral {
			if sites, err := c.store.Sites(ctx); err == nil && len(sites) > 0 {
				q = min(1, float64(len(r.Sites))/float64(len(sites)))
			}
		}
		for _, u := range j.ups {
			acct.Record(u.Update.Site, r.Policy.DP.Sigma, q)
		}
	}
	id := newID()
	rr := RoundRecord{
		Type: "fl_round", ID: id, Round: r.Number, ChainID: r.ChainID, BaseModel: r.BaseModelID, Policy: r.Policy,
		Thresholds: j.th, Opened: r.Opened, Deadline: r.Deadline, Closed: c.now(), State: r.State, FailReason: r.FailReason,
		Updates: make([]JudgedUpdate, len(j.ups)), DivergenceMedian: j.judged.DivergenceMedian, DivergenceBand: j.judged.DivergenceBand,
		JudgementTx: anchor.HexHash(j.judged.Inclusion.Tx), NewModel: r.NewModelID, BytesUp: r.BytesUp, BytesDown: r.BytesDown,
	}
	for i, u := range j.ups {
		ju := JudgedUpdate{RecordID: u.RecordID, Site: u.Update.Site, UpdateHash: u.Hash, Leaf: anchor.HexHash(u.Leaf),
			Samples: u.Update.Samples, ReportedAccuracy: u.Update.ReportedAccuracy, Reasons: []string{}}
		if g := u.Judgement; g != nil {
			ju.Judged, ju.Norm, ju.Divergence, ju.Accuracy = true, g.Measurement.Norm, g.Measurement.Divergence, g.Measurement.Accuracy
			ju.Score, ju.Reasons, ju.Accepted, ju.Reputation = g.Score, reasonNames(g.Reasons), g.Accepted, g.Reputation
		}
		rr.Updates[i] = ju
	}
	rec, err := record("fl_round", id, rr)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Round: r, Updates: j.ups, Reputations: j.reps, Accountant: acct, RoundRecord: rec}, nil
}

// roundStartReputations are the sites' reputations before this round's
// judgement: the store's mirror of the last judged round, and for a site
// never judged the contract's (its enrollment reputation).
func (c *Coordinator) roundStartReputations(ctx context.Context, sites []common.Address) (map[common.Address]uint16, error) {
	known, err := c.store.Reputations(ctx)
	if err != nil {
		return nil, err
	}
	out := map[common.Address]uint16{}
	for _, s := range sites {
		if r, ok := known[s]; ok {
			out[s] = r
			continue
		}
		r, err := c.chain.Reputation(ctx, s)
		if err != nil {
			return nil, err
		}
		out[s] = r
	}
	return out, nil
}

// newGlobalModel is the base model with new weights: its pipeline,
// architecture and threshold, no training record of its own (its story is
// its global_model record).
// errUnusableModel: a round's aggregate does not make a model that may
// score flows (a weight that overflowed, scores that are not finite): the
// gate every model passes before it is stored (detector.DecodeDetector,
// then Detector.SelfTest).
var errUnusableModel = errors.New("the aggregate is not a usable model")

// calibrator is an anomaly model whose alert threshold is set from benign
// rows (detector.Autoencoder).
type calibrator interface {
	Calibrate(benign detector.Seqs, fpr float64) error
}

// minCalibrationRows is the fewest benign validation rows a round model's
// threshold is recalibrated on; with fewer, the base model's threshold is
// kept (and the log says so), since a quantile of a handful of rows is
// noise.
const minCalibrationRows = 20

func (c *Coordinator) newGlobalModel(base ModelFile, weights []float32, round uint64, valid detector.Labeled) (ModelFile, *detector.Detector, error) {
	d, err := detector.DecodeDetector(base.File)
	if err != nil {
		return ModelFile{}, nil, err
	}
	if err := d.Model.SetWeights(weights); err != nil {
		return ModelFile{}, nil, err
	}
	// Averaged weights reconstruct on another scale than the base model's:
	// an anomaly model's threshold is set again, on the coordinator's
	// benign validation rows, at the false-positive rate it was trained
	// for. Without it the round's model kept the base's threshold and
	// could alert on nothing.
	if cal, ok := d.Model.(calibrator); ok {
		var benign []int
		for i, y := range valid.Y {
			if y == d.Pipeline.BenignIndex() {
				benign = append(benign, i)
			}
		}
		fpr := 0.0
		if d.Meta.Card != nil {
			fpr = d.Meta.Card.Settings.TargetFPR
		}
		if fpr <= 0 {
			fpr = detector.AEDefaultTargetFPR
		}
		if len(benign) >= minCalibrationRows {
			if err := cal.Calibrate(valid.Subset(benign).X, fpr); err != nil {
				return ModelFile{}, nil, fmt.Errorf("%w: calibrate its threshold: %w", errUnusableModel, err)
			}
		} else {
			c.log.Warn("round model keeps the base model's alert threshold: too few benign validation rows to calibrate it",
				"round", round, "benign_rows", len(benign), "need", minCalibrationRows)
		}
	}
	nd, err := detector.NewDetector(d.Pipeline, d.Model, nil)
	if err != nil {
		return ModelFile{}, nil, err
	}
	file, err := nd.MarshalBinary()
	if err != nil {
		return ModelFile{}, nil, err
	}
	saved, err := detector.DecodeDetector(file)
	if err == nil {
		err = saved.SelfTest()
	}
	if err != nil {
		return ModelFile{}, nil, fmt.Errorf("%w: %w", errUnusableModel, err)
	}
	return ModelFile{ID: saved.ID(), Kind: saved.Meta.ModelKind, File: file, Round: round, Parent: base.ID, CreatedAt: c.now()}, saved, nil
}

// maybePromote makes a round's model the serving one when the round asked
// for it and the model does not lose to the serving one on the validation
// set. A failure is logged: the model stays available for an admin.
func (c *Coordinator) maybePromote(ctx context.Context, r federated.Round, m ModelFile, d *detector.Detector, valid detector.Labeled, acc float64) {
	if !r.Policy.AutoPromote || c.opt.Promote == nil {
		return
	}
	if s := c.opt.Serving; s != nil && s() != nil {
		cur := s()
		if cur.Pipeline.Dataset != d.Pipeline.Dataset {
			return
		}
		curX := detector.Labeled{X: cur.Pipeline.Transform(c.opt.Validation), Y: cur.Pipeline.Labels(c.opt.Validation)}
		curAcc, err := federated.Accuracy(cur.Model, curX)
		if err == nil && acc < curAcc {
			c.log.Info("round model not promoted: it loses on the validation set", "round", r.Number, "model", m.ID,
				"validation_accuracy", acc, "serving_accuracy", curAcc)
			return
		}
	}
	reason := fmt.Sprintf("round %d policy: validation accuracy %.4f does not lose to the serving model", r.Number, acc)
	if err := c.opt.Promote(ctx, m, reason); err != nil {
		c.log.Warn("round model not promoted", "round", r.Number, "model", m.ID, "error", err.Error())
	}
}

// registerPlanned registers in the federation registry every model whose
// registration is planned: round models and the initial models rounds
// started from.
func (c *Coordinator) registerPlanned(ctx context.Context) error {
	models, err := c.store.Unregistered(ctx)
	if err != nil {
		return err
	}
	for _, m := range models {
		hash, err := modelHash(m.ID)
		if err != nil {
			return err
		}
		if _, err := c.chain.RegisterModel(ctx, m.Version, hash, m.Round, anchor.Hash(m.UpdatesRoot)); err != nil {
			return fmt.Errorf("register model %s as version %d: %w", m.ID, m.Version, err)
		}
		if err := c.store.MarkRegistered(ctx, m.ID); err != nil {
			return err
		}
		c.log.Info("global model registered", "model", m.ID, "registry_version", m.Version, "round", m.Round)
	}
	return nil
}

// modelHash is a model id (hex keccak256 of its file) as a hash.
func modelHash(id string) (anchor.Hash, error) {
	var h anchor.Hash
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("model id %q is not 32 bytes of hex", id)
	}
	copy(h[:], b)
	return h, nil
}

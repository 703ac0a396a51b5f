package federated

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/detector"
)

// Policy is how a round asks sites to train and how the coordinator
// combines what they send. The coordinator publishes it with the round.
type Policy struct {
	// Epochs, BatchSize and LearningRate drive each site's local training
	// (detector.TrainConfig; zero means the model kind's default).
	Epochs       int     `json:"epochs,omitempty"`
	BatchSize    int     `json:"batch_size,omitempty"`
	LearningRate float64 `json:"learning_rate,omitempty"`
	// Rule aggregates the accepted updates.
	Rule Rule `json:"rule"`
	// DP is the round's differential privacy.
	DP DPPolicy `json:"dp"`
	// Compression is how sites encode their deltas.
	Compression Compression `json:"compression"`
	// AutoPromote makes the round's model the serving one when it does not
	// lose to the serving model on the coordinator's validation set.
	AutoPromote bool `json:"auto_promote,omitempty"`
}

// Validate checks the policy's parts, and that central DP is used with
// FedAvg only: its noise is calibrated to a weighted mean's sensitivity,
// which the robust rules do not have.
func (p Policy) Validate() error {
	if p.Epochs < 0 || p.BatchSize < 0 || p.LearningRate < 0 {
		return fmt.Errorf("%w: negative epochs, batch size or learning rate", ErrPolicy)
	}
	if err := p.Rule.Validate(); err != nil {
		return err
	}
	if err := p.DP.Validate(); err != nil {
		return err
	}
	if p.DP.Mode == DPCentral && p.Rule.Kind != RuleFedAvg && p.Rule.Kind != RuleFedAvgTrust {
		return fmt.Errorf("%w: central dp needs a fedavg rule, not %s", ErrPolicy, p.Rule)
	}
	return p.Compression.Validate()
}

// TrainConfig is the detector training configuration the policy asks for
// when model m trains on the rows train: its epochs, batch size and
// learning rate, and the class weights detector.Train would use on those
// rows (the kind's default weighting, detector.ClassWeightsFor), so that
// a site's local step weighs its classes as `idsledger train` does.
func (p Policy) TrainConfig(m detector.Model, train detector.Labeled, seed int64) (detector.TrainConfig, error) {
	tc := detector.TrainConfig{Epochs: p.Epochs, BatchSize: p.BatchSize, LearningRate: p.LearningRate, Seed: seed}
	var err error
	tc.ClassWeights, err = detector.ClassWeightsFor(m.Kind(), "", train.Y, len(m.Config().Classes))
	return tc, err
}

// State is where a round is in its life.
type State string

const (
	// StateOpen: taking updates.
	StateOpen State = "open"
	// StateClosing: no more updates; the coordinator scores, evaluates and
	// aggregates the received ones.
	StateClosing State = "closing"
	// StateClosed: done; NewModel is the resulting global model.
	StateClosed State = "closed"
	// StateFailed: ended without a new model (FailReason says why).
	StateFailed State = "failed"
)

// Receipt is the record of an update the round acknowledged.
type Receipt struct {
	Site       common.Address `json:"site"`
	UpdateHash common.Hash    `json:"update_hash"`
	Samples    uint64         `json:"samples"`
	Bytes      int            `json:"bytes"` // len(Payload)
	At         time.Time      `json:"at"`
}

// Round is one federated round as plain data: the coordinator persists it
// as JSON (every field is exported) and its methods are the only
// transitions. It is not safe for concurrent use; the coordinator
// serialises calls per round.
//
// Crash safety is the coordinator's part: persist the Round (its Received)
// together with the update itself in one transaction after Accept returns
// nil and before acknowledging the site. If that fails, discard this Round
// value and reload the stored one. A restarted coordinator reloads the
// Round and the stored updates of its Received and goes on: every
// acknowledged update is there, and a site that retries one whose
// acknowledgement it never got gets ErrResubmitted, which the coordinator
// answers as a success, so none is counted twice.
type Round struct {
	Number  uint64 `json:"number"`
	ChainID uint64 `json:"chain_id"`
	// BaseModelID is the id of the global model w̄(t−1) every update must
	// start from (detector.Detector.ID).
	BaseModelID string `json:"base_model_id"`
	// Dim is the number of weights of that model.
	Dim int `json:"dim"`
	// Sites are the sites invited to the round: enrolled, within their
	// privacy budget and, where the coordinator samples, sampled.
	Sites    []common.Address `json:"sites"`
	Opened   time.Time        `json:"opened"`
	Deadline time.Time        `json:"deadline"`
	// MinUpdates is how many updates the round needs to close (at least
	// Policy.Rule.MinUpdates()); MaxUpdates, if > 0, closes it early.
	MinUpdates int       `json:"min_updates"`
	MaxUpdates int       `json:"max_updates,omitempty"`
	Policy     Policy    `json:"policy"`
	Limits     Limits    `json:"limits"`
	State      State     `json:"state"`
	Received   []Receipt `json:"received"`
	// BytesUp is the sum of accepted payload sizes; BytesDown what the
	// coordinator served to sites for this round (RecordDownload).
	BytesUp   uint64 `json:"bytes_up"`
	BytesDown uint64 `json:"bytes_down"`
	// NewModelID is the resulting global model (closed rounds).
	NewModelID string `json:"new_model_id,omitempty"`
	FailReason string `json:"fail_reason,omitempty"`
}

// Open checks the round's configuration and puts it in StateOpen: a valid
// base model id and policy, Dim > 0, Deadline after Opened, at least
// Policy.Rule.MinUpdates() updates required, and as many sites invited
// (else the round could never aggregate). Sites are sorted and must be
// distinct.
func (r *Round) Open() error {
	if r.State != "" {
		return fmt.Errorf("%w: round %d is already %s", ErrRoundClosed, r.Number, r.State)
	}
	if _, err := parseModelID(r.BaseModelID); err != nil {
		return err
	}
	if err := r.Policy.Validate(); err != nil {
		return err
	}
	switch {
	case r.Dim <= 0:
		return fmt.Errorf("%w: round %d: model dimension %d", ErrPolicy, r.Number, r.Dim)
	case !r.Deadline.After(r.Opened):
		return fmt.Errorf("%w: round %d: deadline %v is not after opening %v", ErrPolicy, r.Number, r.Deadline, r.Opened)
	case r.MinUpdates < r.Policy.Rule.MinUpdates():
		return fmt.Errorf("%w: round %d: min updates %d, but %s needs %d", ErrPolicy, r.Number, r.MinUpdates, r.Policy.Rule, r.Policy.Rule.MinUpdates())
	case r.MaxUpdates != 0 && r.MaxUpdates < r.MinUpdates:
		return fmt.Errorf("%w: round %d: max updates %d below min %d", ErrPolicy, r.Number, r.MaxUpdates, r.MinUpdates)
	case len(r.Sites) < r.MinUpdates:
		return fmt.Errorf("%w: round %d: %d sites invited, %d updates needed", ErrPolicy, r.Number, len(r.Sites), r.MinUpdates)
	}
	r.Sites = slices.Clone(r.Sites)
	slices.SortFunc(r.Sites, func(a, b common.Address) int { return bytes.Compare(a[:], b[:]) })
	for i := 1; i < len(r.Sites); i++ {
		if r.Sites[i] == r.Sites[i-1] {
			return fmt.Errorf("%w: round %d: site %s invited twice", ErrPolicy, r.Number, r.Sites[i].Hex())
		}
	}
	r.State = StateOpen
	return nil
}

// Accept checks u against the round and, when it belongs, records its
// receipt and returns its decoded delta. Checks, cheapest first: the round
// is open (ErrRoundClosed) and before its deadline (ErrLate); u's chain,
// round and base model (ErrWrongChain, ErrWrongRound, ErrWrongBase); its
// site is invited (ErrNotEnrolled) and has no update in the round yet
// (ErrResubmitted for this same update, ErrDuplicate for another); the
// round is not full (ErrRoundFull); u follows the policy's encoding and DP
// (ErrPolicy); and u.Validate (shape, values, size, signature). On any
// error the round is unchanged. Under central DP the returned delta is
// clipped to the policy's C, whatever the site sent.
func (r *Round) Accept(u *Update, now time.Time) ([]float32, error) {
	switch {
	case r.State != StateOpen:
		return nil, fmt.Errorf("%w: round %d is %s", ErrRoundClosed, r.Number, r.State)
	case now.After(r.Deadline):
		return nil, fmt.Errorf("%w: round %d closed for updates at %v", ErrLate, r.Number, r.Deadline)
	case u.ChainID != r.ChainID:
		return nil, fmt.Errorf("%w: update for chain %d, round %d is on chain %d", ErrWrongChain, u.ChainID, r.Number, r.ChainID)
	case u.Round != r.Number:
		return nil, fmt.Errorf("%w: update for round %d, this is round %d", ErrWrongRound, u.Round, r.Number)
	case u.BaseModel != r.BaseModelID:
		return nil, fmt.Errorf("%w: update trained from %q, round %d starts from %q", ErrWrongBase, u.BaseModel, r.Number, r.BaseModelID)
	}
	if _, ok := slices.BinarySearchFunc(r.Sites, u.Site, func(a, b common.Address) int { return bytes.Compare(a[:], b[:]) }); !ok {
		return nil, fmt.Errorf("%w: %s is not a site of round %d", ErrNotEnrolled, u.Site.Hex(), r.Number)
	}
	if rc, ok := r.Receipt(u.Site); ok {
		if rc.UpdateHash == u.UpdateHash() {
			return nil, fmt.Errorf("%w: round %d already holds update %s of %s", ErrResubmitted, r.Number, rc.UpdateHash.Hex(), u.Site.Hex())
		}
		return nil, fmt.Errorf("%w: round %d already holds update %s of %s", ErrDuplicate, r.Number, rc.UpdateHash.Hex(), u.Site.Hex())
	}
	if r.MaxUpdates > 0 && len(r.Received) >= r.MaxUpdates {
		return nil, fmt.Errorf("%w: round %d has its %d updates", ErrRoundFull, r.Number, r.MaxUpdates)
	}
	if u.Encoding != r.Policy.Compression.Encoding {
		return nil, fmt.Errorf("%w: update encoded %q, round %d asks for %q", ErrPolicy, u.Encoding, r.Number, r.Policy.Compression.Encoding)
	}
	if want := r.Policy.DP.SiteParams(); u.DP != want {
		return nil, fmt.Errorf("%w: update declares dp clip %v sigma %v, round %d asks for clip %v sigma %v", ErrPolicy, u.DP.Clip, u.DP.Sigma, r.Number, want.Clip, want.Sigma)
	}
	delta, err := u.Validate(r.Dim, r.Limits)
	if err != nil {
		return nil, err
	}
	if r.Policy.DP.Mode == DPCentral {
		// The noise is calibrated to deltas of norm <= C: enforce it here
		// rather than trust every site to have clipped (compression can
		// also push a clipped delta a little over C).
		ClipL2(delta, r.Policy.DP.Clip)
	}
	r.Received = append(r.Received, Receipt{Site: u.Site, UpdateHash: u.UpdateHash(), Samples: u.Samples, Bytes: len(u.Payload), At: now})
	r.BytesUp += uint64(len(u.Payload))
	return delta, nil
}

// Receipt returns the receipt of site's update, if the round has one.
func (r *Round) Receipt(site common.Address) (Receipt, bool) {
	for _, rc := range r.Received {
		if rc.Site == site {
			return rc, true
		}
	}
	return Receipt{}, false
}

// RecordDownload adds n bytes served to a site for this round (the global
// model, the policy) to BytesDown.
func (r *Round) RecordDownload(n int) { r.BytesDown += uint64(n) }

// ReadyToClose reports whether an open round should stop taking updates:
// every invited site has sent one, or MaxUpdates are in, or the deadline
// has passed with at least MinUpdates. Stragglers do not hold a round past
// its deadline.
func (r *Round) ReadyToClose(now time.Time) bool {
	if r.State != StateOpen {
		return false
	}
	n := len(r.Received)
	return n == len(r.Sites) ||
		(r.MaxUpdates > 0 && n >= r.MaxUpdates) ||
		(!now.Before(r.Deadline) && n >= r.MinUpdates)
}

// Expired reports whether an open round has passed its deadline without
// MinUpdates: the coordinator fails it (Fail) and opens another.
func (r *Round) Expired(now time.Time) bool {
	return r.State == StateOpen && !now.Before(r.Deadline) && len(r.Received) < r.MinUpdates
}

// BeginClosing moves an open round that is ReadyToClose to StateClosing;
// from then on Accept refuses updates. ErrNotReady when it is not ready,
// ErrRoundClosed when it is not open.
func (r *Round) BeginClosing(now time.Time) error {
	if r.State != StateOpen {
		return fmt.Errorf("%w: round %d is %s", ErrRoundClosed, r.Number, r.State)
	}
	if !r.ReadyToClose(now) {
		return fmt.Errorf("%w: round %d has %d of %d updates needed, deadline %v", ErrNotReady, r.Number, len(r.Received), r.MinUpdates, r.Deadline)
	}
	r.State = StateClosing
	return nil
}

// Complete moves a closing round to StateClosed with the id of the global
// model it produced.
func (r *Round) Complete(newModelID string) error {
	if r.State != StateClosing {
		return fmt.Errorf("%w: round %d is %s, not closing", ErrRoundClosed, r.Number, r.State)
	}
	if _, err := parseModelID(newModelID); err != nil {
		return err
	}
	r.State, r.NewModelID = StateClosed, newModelID
	return nil
}

// Fail ends an open or closing round without a model.
func (r *Round) Fail(reason string) error {
	if r.State != StateOpen && r.State != StateClosing {
		return fmt.Errorf("%w: round %d is %s", ErrRoundClosed, r.Number, r.State)
	}
	r.State, r.FailReason = StateFailed, reason
	return nil
}

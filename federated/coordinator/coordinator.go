package coordinator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
)

// Errors of the coordinator's operations, checked with errors.Is. The
// federated package's sentinels (ErrWrongRound, ErrBadSignature, ...) come
// through Submit as they are.
var (
	// ErrNotASite: the API key speaks for no enrolled site.
	ErrNotASite = errors.New("this key speaks for no enrolled site")
	// ErrSiteMismatch: the update names another site than the key's.
	ErrSiteMismatch = errors.New("the update is not the key's site's")
	// ErrNoRound: no round is open.
	ErrNoRound = errors.New("no round is open")
	// ErrNotInvited: the site is not one of the open round's sites.
	ErrNotInvited = errors.New("the site is not in this round")
	// ErrNoValidation: the coordinator has no labelled validation flows, so
	// it cannot measure updates and opens no round.
	ErrNoValidation = errors.New("the coordinator has no validation set")
	// ErrInvalid: a request's values are wrong (the message says which).
	ErrInvalid = errors.New("invalid request")
)

// Options configure a Coordinator. Zero values take the defaults noted.
type Options struct {
	// Validation is the coordinator's own small labelled set of flows of
	// the federation's dataset: every update is measured on it (a_i = 1 −
	// accuracy, FL-BCID eq. 4) and every new global model too.
	Validation []*detector.Flow
	// Limits bound what an update may be (default: 64 MiB of payload,
	// 10,000,000 samples).
	Limits federated.Limits
	// Budget is each site's privacy budget over the federation; zero
	// means none.
	Budget federated.Budget
	// Promote makes a model the one that scores flows; rounds whose policy
	// says AutoPromote call it when their model does not lose to Serving on
	// the validation set. Nil: no round promotes.
	Promote func(ctx context.Context, m ModelFile, reason string) error
	// Serving is the model scoring flows now (for that comparison).
	Serving func() *detector.Detector
	// Tick is how often Run looks for rounds to close (default 1 s).
	Tick   time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Coordinator runs the federation: it enrolls sites, opens rounds, takes
// the sites' signed updates, and closes each round by measuring the
// updates, having the registry contract judge them, aggregating the
// accepted ones into the next global model and anchoring the whole story
// (update records, the round's judgement, the model). One coordinator
// runs per database; it is safe for concurrent use (round changes are
// serialized).
type Coordinator struct {
	store Store
	chain Chain
	opt   Options
	log   *slog.Logger

	mu   sync.Mutex // serializes every change to the current round
	wake chan struct{}
}

// New returns a coordinator over store and chain.
func New(store Store, chain Chain, opt Options) *Coordinator {
	if opt.Limits.MaxPayloadBytes == 0 {
		opt.Limits.MaxPayloadBytes = 64 << 20
	}
	if opt.Limits.MaxSamples == 0 {
		opt.Limits.MaxSamples = 10_000_000
	}
	if opt.Tick <= 0 {
		opt.Tick = time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Coordinator{store: store, chain: chain, opt: opt, log: opt.Logger, wake: make(chan struct{}, 1)}
}

func (c *Coordinator) now() time.Time { return c.opt.Now().UTC().Truncate(time.Microsecond) }

// notify wakes Run (a round may be ready to close).
func (c *Coordinator) notify() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Enroll lets a site take part: its address is enrolled in the registry
// contract, then bound to the fl-node API key it will submit with, with an
// audit event naming the actor. Enrolling a removed site again restores it.
func (c *Coordinator) Enroll(ctx context.Context, addr common.Address, name string, keyID uuid.UUID, actor string) (Site, error) {
	if addr == (common.Address{}) || keyID == uuid.Nil || strings.TrimSpace(name) == "" || len(name) > 200 {
		return Site{}, fmt.Errorf("%w: a site needs an address, a name (at most 200 characters) and an fl-node key", ErrInvalid)
	}
	if err := c.chain.EnrollSite(ctx, addr); err != nil {
		return Site{}, fmt.Errorf("enroll %s on chain: %w", addr.Hex(), err)
	}
	s := Site{Address: addr, Name: name, KeyID: keyID, EnrolledAt: c.now()}
	ev, err := c.event(Event{Action: "fl.site.enroll", Actor: actor, Site: &addr, SiteName: name, SiteKey: &keyID})
	if err != nil {
		return Site{}, err
	}
	if err := c.store.PutSite(ctx, s, ev); err != nil {
		return Site{}, err
	}
	return s, nil
}

// Remove stops a site from taking part in later rounds (it keeps its
// reputation, and its past updates stay as they are).
func (c *Coordinator) Remove(ctx context.Context, addr common.Address, actor string) error {
	if err := c.chain.RemoveSite(ctx, addr); err != nil {
		return fmt.Errorf("remove %s on chain: %w", addr.Hex(), err)
	}
	ev, err := c.event(Event{Action: "fl.site.remove", Actor: actor, Site: &addr})
	if err != nil {
		return err
	}
	return c.store.RemoveSite(ctx, addr, ev)
}

// Thresholds are the acceptance rule's thresholds, as the contract holds
// them.
func (c *Coordinator) Thresholds(ctx context.Context) (federated.Thresholds, error) {
	return c.chain.Thresholds(ctx)
}

// SetThresholds changes the rule's thresholds in the contract (its owner
// only: the service's key) and records who did.
func (c *Coordinator) SetThresholds(ctx context.Context, th federated.Thresholds, actor string) error {
	if err := th.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := c.chain.SetThresholds(ctx, th); err != nil {
		return err
	}
	ev, err := c.event(Event{Action: "fl.thresholds.set", Actor: actor, Thresholds: &th})
	if err != nil {
		return err
	}
	return c.store.AddEvent(ctx, ev)
}

// OpenRequest is what an admin asks of a new round.
type OpenRequest struct {
	// BaseModel is the model the round starts from; "" means the last
	// global model the federation made, or the model serving now before
	// the first round.
	BaseModel string           `json:"base_model,omitempty"`
	Policy    federated.Policy `json:"policy"`
	// MinUpdates is how many updates the round needs (default: the rule's
	// minimum); MaxUpdates, if set, closes it as soon as that many came.
	MinUpdates int `json:"min_updates,omitempty"`
	MaxUpdates int `json:"max_updates,omitempty"`
	// Duration is how long the round takes updates (default 10 minutes).
	Duration time.Duration `json:"duration,omitempty"`
	// Sites are the sites invited; empty means every enrolled site within
	// its privacy budget.
	Sites []common.Address `json:"sites,omitempty"`
}

// Open opens the next round: it picks the base model and the invited
// sites, stores the round with an audit event, and makes sure the base
// model is registered in the federation registry (an initial model, round
// 0), so every site can check what it downloads against the chain.
func (c *Coordinator) Open(ctx context.Context, req OpenRequest, actor string) (federated.Round, error) {
	if len(c.opt.Validation) == 0 {
		return federated.Round{}, ErrNoValidation
	}
	if req.Duration == 0 {
		req.Duration = 10 * time.Minute
	}
	if req.Duration < 0 || req.MinUpdates < 0 || req.MaxUpdates < 0 {
		return federated.Round{}, fmt.Errorf("%w: negative duration or update counts", ErrInvalid)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.store.CurrentRound(ctx); err == nil {
		return federated.Round{}, ErrRoundOpen
	} else if !errors.Is(err, ErrNotFound) {
		return federated.Round{}, err
	}
	base, err := c.baseModel(ctx, req.BaseModel)
	if err != nil {
		return federated.Round{}, err
	}
	d, err := detector.DecodeDetector(base.File)
	if err != nil {
		return federated.Round{}, fmt.Errorf("base model %s: %w", base.ID, err)
	}
	if !federated.Federable(d.Meta.ModelKind) {
		return federated.Round{}, fmt.Errorf("%w: base model %s is a %s", federated.ErrNotFederable, base.ID, d.Meta.ModelKind)
	}
	sites, err := c.invite(ctx, req)
	if err != nil {
		return federated.Round{}, err
	}
	last, err := c.store.LastRound(ctx)
	if err != nil {
		return federated.Round{}, err
	}
	now := c.now()
	r := federated.Round{
		Number: last + 1, ChainID: c.chain.ChainID(), BaseModelID: base.ID, Dim: len(d.Model.Weights()),
		Sites: sites, Opened: now, Deadline: now.Add(req.Duration),
		MinUpdates: req.MinUpdates, MaxUpdates: req.MaxUpdates, Policy: req.Policy, Limits: c.opt.Limits,
	}
	if r.MinUpdates == 0 {
		r.MinUpdates = max(1, req.Policy.Rule.MinUpdates())
	}
	if err := r.Open(); err != nil {
		return federated.Round{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !base.Registered {
		if err := c.planInitial(ctx, base); err != nil {
			return federated.Round{}, err
		}
	}
	ev, err := c.event(Event{Action: "fl.round.open", Actor: actor, Round: r.Number, BaseModel: base.ID, Policy: &r.Policy})
	if err != nil {
		return federated.Round{}, err
	}
	if err := c.store.OpenRound(ctx, r, ev); err != nil {
		return federated.Round{}, err
	}
	c.log.Info("federated round opened", "round", r.Number, "base_model", base.ID, "sites", len(sites),
		"min_updates", r.MinUpdates, "deadline", r.Deadline.Format(time.RFC3339), "rule", r.Policy.Rule.String(), "actor", actor)
	c.notify() // registers the base model
	return r, nil
}

// baseModel is the model a round starts from.
func (c *Coordinator) baseModel(ctx context.Context, id string) (ModelFile, error) {
	if id != "" {
		return c.store.Model(ctx, id)
	}
	models, err := c.store.Models(ctx)
	if err != nil {
		return ModelFile{}, err
	}
	for _, m := range models { // newest first
		if m.Round > 0 {
			return c.store.Model(ctx, m.ID)
		}
	}
	if c.opt.Serving == nil || c.opt.Serving() == nil {
		return ModelFile{}, fmt.Errorf("%w: no base model: name one, or activate a model first", ErrInvalid)
	}
	return c.store.Model(ctx, c.opt.Serving().ID())
}

// planInitial plans the registration of a model no round made, as a
// round-0 entry of the registry.
func (c *Coordinator) planInitial(ctx context.Context, m ModelFile) error {
	if m.Version > 0 {
		return nil
	}
	v, err := c.store.NextModelVersion(ctx)
	if err != nil {
		return err
	}
	return c.store.PlanRegistration(ctx, m.ID, v)
}

// invite returns the sites of a new round: those asked for (each must be
// enrolled), or every enrolled site, less those whose privacy budget the
// round would exceed.
func (c *Coordinator) invite(ctx context.Context, req OpenRequest) ([]common.Address, error) {
	sites, err := c.store.Sites(ctx)
	if err != nil {
		return nil, err
	}
	enrolled := map[common.Address]bool{}
	var all []common.Address
	for _, s := range sites {
		if s.RemovedAt == nil {
			enrolled[s.Address] = true
			all = append(all, s.Address)
		}
	}
	want := req.Sites
	if len(want) == 0 {
		want = all
	}
	acct, err := c.store.Accountant(ctx)
	if err != nil {
		return nil, err
	}
	var out []common.Address
	for _, a := range want {
		if !enrolled[a] {
			return nil, fmt.Errorf("%w: site %s is not enrolled", ErrInvalid, a.Hex())
		}
		if c.opt.Budget.Epsilon > 0 && req.Policy.DP.Mode != federated.DPOff {
			if ok, eps := acct.CanTakePart(a, c.opt.Budget, req.Policy.DP.Sigma, 1); !ok {
				c.log.Info("site left out: privacy budget spent", "site", a.Hex(), "epsilon_after", eps, "budget", c.opt.Budget.Epsilon)
				continue
			}
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no site can take part (none enrolled, or every budget spent)", ErrInvalid)
	}
	return out, nil
}

// Task is what a site's fl-node needs to take part in the open round.
// ErrNoRound when none is open, ErrNotInvited when the site is not in it,
// federated.ErrDuplicate when it has already submitted.
func (c *Coordinator) Task(ctx context.Context, keyID uuid.UUID) (federated.Task, error) {
	site, err := c.siteOf(ctx, keyID)
	if err != nil {
		return federated.Task{}, err
	}
	r, err := c.store.CurrentRound(ctx)
	if errors.Is(err, ErrNotFound) || (err == nil && r.State != federated.StateOpen) {
		return federated.Task{}, ErrNoRound
	}
	if err != nil {
		return federated.Task{}, err
	}
	if !contains(r.Sites, site.Address) {
		return federated.Task{}, ErrNotInvited
	}
	if _, done := r.Receipt(site.Address); done {
		return r.Task(), fmt.Errorf("%w: round %d already has this site's update", federated.ErrDuplicate, r.Number)
	}
	return r.Task(), nil
}

// SiteOf returns the enrolled site an fl-node key speaks for, or
// ErrNotASite.
func (c *Coordinator) SiteOf(ctx context.Context, keyID uuid.UUID) (Site, error) {
	return c.siteOf(ctx, keyID)
}

func (c *Coordinator) siteOf(ctx context.Context, keyID uuid.UUID) (Site, error) {
	s, err := c.store.SiteForKey(ctx, keyID)
	if errors.Is(err, ErrNotFound) || (err == nil && s.RemovedAt != nil) {
		return Site{}, ErrNotASite
	}
	return s, err
}

// Submit takes one site's signed update (its JSON), sent with the fl-node
// key keyID. The update is checked (it must be the key's site's, for the
// open round and its base model, well formed, finite, within the limits,
// signed by the site) and, once stored with its model_update record, it is
// acknowledged: Submit returns it. A site sending again an update already
// acknowledged gets it back with again true. A refused update that reached
// validation is kept as a Rejection; the error says why (federated's
// sentinels, ErrSiteMismatch, ErrNoRound, ErrNotASite).
func (c *Coordinator) Submit(ctx context.Context, keyID uuid.UUID, body []byte) (u StoredUpdate, again bool, err error) {
	site, err := c.siteOf(ctx, keyID)
	if err != nil {
		return StoredUpdate{}, false, err
	}
	var upd federated.Update
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&upd); err != nil || dec.More() {
		return StoredUpdate{}, false, fmt.Errorf("%w: not an update document: %v", federated.ErrMalformed, err)
	}
	if upd.Site != site.Address {
		return StoredUpdate{}, false, fmt.Errorf("%w: the key speaks for %s, the update is %s's", ErrSiteMismatch, site.Address.Hex(), upd.Site.Hex())
	}
	hash := upd.UpdateHash()

	c.mu.Lock()
	defer c.mu.Unlock()
	r, err := c.store.CurrentRound(ctx)
	if errors.Is(err, ErrNotFound) {
		return StoredUpdate{}, false, ErrNoRound
	}
	if err != nil {
		return StoredUpdate{}, false, err
	}
	now := c.now()
	if _, err := r.Accept(&upd, now); err != nil {
		if errors.Is(err, federated.ErrResubmitted) {
			prev, ferr := c.findUpdate(ctx, r.Number, hash)
			return prev, true, ferr
		}
		if validationError(err) {
			if rerr := c.store.AddRejection(ctx, Rejection{Round: r.Number, Site: site.Address, UpdateHash: hash, Reason: err.Error(), At: now}); rerr != nil {
				c.log.Warn("cannot keep a rejected update", "round", r.Number, "site", site.Address.Hex(), "error", rerr.Error())
			}
		}
		return StoredUpdate{}, false, err
	}
	id := newID()
	rec, err := record("model_update", id, UpdateRecord{Type: "model_update", ID: id, Round: r.Number, Site: site.Address,
		SubmittedBy: keyID, UpdateHash: hash, ReceivedAt: now, Update: &upd})
	if err != nil {
		return StoredUpdate{}, false, err
	}
	su := StoredUpdate{RecordID: id, Round: r.Number, Update: &upd, Hash: hash, Leaf: rec.Leaf(), ReceivedAt: now}
	if err := c.store.AddUpdate(ctx, r, su, rec); err != nil {
		return StoredUpdate{}, false, err
	}
	c.log.Info("federated update accepted for judging", "round", r.Number, "site", site.Address.Hex(), "record", id.String(),
		"samples", upd.Samples, "payload_bytes", len(upd.Payload), "encoding", string(upd.Encoding))
	if r.ReadyToClose(now) {
		c.notify()
	}
	return su, false, nil
}

// validationError reports errors about the update itself (kept as
// rejections), as opposed to the round's state.
func validationError(err error) bool {
	for _, e := range []error{federated.ErrShape, federated.ErrNonFinite, federated.ErrTooLarge, federated.ErrEncoding,
		federated.ErrMalformed, federated.ErrBadSignature, federated.ErrWrongChain, federated.ErrWrongRound,
		federated.ErrWrongBase, federated.ErrLate, federated.ErrDuplicate, federated.ErrPolicy} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (c *Coordinator) findUpdate(ctx context.Context, round uint64, hash common.Hash) (StoredUpdate, error) {
	ups, err := c.store.Updates(ctx, round)
	if err != nil {
		return StoredUpdate{}, err
	}
	for _, u := range ups {
		if u.Hash == hash {
			return u, nil
		}
	}
	return StoredUpdate{}, fmt.Errorf("round %d: acknowledged update %s: %w", round, hash.Hex(), ErrNotFound)
}

// Download returns a model file for a site to train from, counting the
// bytes against the open round when it is that round's base model.
func (c *Coordinator) Download(ctx context.Context, keyID uuid.UUID, modelID string) (ModelFile, error) {
	if _, err := c.siteOf(ctx, keyID); err != nil {
		return ModelFile{}, err
	}
	m, err := c.store.Model(ctx, modelID)
	if err != nil {
		return ModelFile{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, err := c.store.CurrentRound(ctx); err == nil && r.BaseModelID == modelID && r.State == federated.StateOpen {
		r.RecordDownload(len(m.File))
		if err := c.store.SaveRound(ctx, r); err != nil {
			c.log.Warn("cannot count a download", "round", r.Number, "error", err.Error())
		}
	}
	return m, nil
}

// event makes an audit event record.
func (c *Coordinator) event(e Event) (Record, error) {
	e.Type, e.ID, e.At = "audit_event", newID(), c.now()
	return record("audit_event", e.ID, e)
}

func contains(list []common.Address, a common.Address) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

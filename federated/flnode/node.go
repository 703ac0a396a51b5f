// Package flnode is a federated learning site: it waits for a round,
// downloads and checks the global model, trains it on the site's own flows,
// and submits the signed, private, compressed update (federated.TrainUpdate)
// through the coordinator's HTTP API (flclient). The site's raw flows never
// leave it: only the update does.
//
// A node survives its own crashes and the coordinator's restarts. Its data
// directory (see state.go) holds the site key, each round's update saved
// before it is first sent, and the error-feedback residual: after a crash
// the saved update is sent again, byte for byte, instead of training anew,
// and the coordinator, idempotent by update hash, acknowledges it once.
// Network errors and 5xx answers are retried (flclient) and, when they
// persist, the node waits and tries again; a refusal (403, 409, 413, 422)
// is final for the round.
package flnode

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/flclient"
)

// API is the coordinator as a site sees it; *flclient.Client is one.
type API interface {
	Task(ctx context.Context) (flclient.Task, error)
	DownloadModel(ctx context.Context, id string, version uint64) (flclient.Model, error)
	Submit(ctx context.Context, round uint64, body []byte) (flclient.Ack, error)
}

// TrainFunc makes a site's update for one round. federated.TrainUpdate is
// the honest site; fl-sim's attacks wrap it.
type TrainFunc func(federated.LocalStep) (*federated.Update, federated.LocalReport, error)

// Config configures a Node. Zero values take the defaults noted.
type Config struct {
	API API
	// Dir is the site's data directory (created 0700 if missing).
	Dir string
	// Key is the site's key (federated.LoadOrCreateKey(KeyPath(Dir))).
	Key *ecdsa.PrivateKey
	// Dataset is the dataset kind of Flows; the federation's model must
	// read that kind. Flows are the site's flows, loaded once; the global
	// model's pipeline turns them into inputs each round. Flows without a
	// label, or of a class the model does not know, are left out.
	Dataset string
	Flows   []*detector.Flow
	// ValidFraction of each class is held out of local training to measure
	// the local accuracy the site reports (0: none, report on the training
	// rows).
	ValidFraction float64
	// Seed seeds the validation split; round n trains with seed Seed+n.
	Seed int64
	// Poll is how long to wait between asking for a round when the
	// coordinator does not say (default 10 s), and before trying again
	// after an error.
	Poll time.Duration
	// Train makes the update (default federated.TrainUpdate).
	Train TrainFunc
	// Noise, when set, gives the local DP noise source of round n (fl-sim
	// uses seeded ones to be reproducible); nil draws a fresh secret seed
	// each round, which is what a real site wants.
	Noise func(round uint64) *rand.Rand
	// Registry, when set, is the federation registry the site trusts:
	// tasks naming another are refused (the API's client checks models
	// against it, see flclient.ChainVerifier).
	Registry *common.Address
	// Log receives the progress lines (default: discarded).
	Log io.Writer
}

// Node is one site. Its methods are not safe for concurrent use.
type Node struct {
	cfg  Config
	st   state
	addr common.Address

	made     map[uint64]*federated.LocalReport // rounds whose update this process made
	global   *detector.Detector                // the last model trained from
	dataFor  string                            // the pipeline the data below was made with
	train    detector.Labeled
	valid    detector.Labeled
	lastWait string
}

// ErrWrongSite: the API key speaks for another site than the node's key.
var ErrWrongSite = errors.New("flnode: the API key is bound to another site")

// New checks cfg and returns a node.
func New(cfg Config) (*Node, error) {
	switch {
	case cfg.API == nil:
		return nil, errors.New("flnode: no API client")
	case cfg.Dir == "":
		return nil, errors.New("flnode: no data directory")
	case cfg.Key == nil:
		return nil, errors.New("flnode: no site key")
	case cfg.ValidFraction < 0 || cfg.ValidFraction >= 1:
		return nil, fmt.Errorf("flnode: validation fraction %v is not in [0,1)", cfg.ValidFraction)
	}
	labelled := 0
	for _, f := range cfg.Flows {
		if f.Class != "" {
			labelled++
		}
	}
	if labelled == 0 {
		return nil, errors.New("flnode: no labelled flows: a site trains on its own labelled traffic")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 10 * time.Second
	}
	if cfg.Train == nil {
		cfg.Train = federated.TrainUpdate
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	return &Node{cfg: cfg, st: state{dir: cfg.Dir}, addr: crypto.PubkeyToAddress(cfg.Key.PublicKey),
		made: map[uint64]*federated.LocalReport{}}, nil
}

// Address is the site's address, which the admin enrolls.
func (n *Node) Address() common.Address { return n.addr }

// Run takes part in rounds until it has taken part in rounds of them (0:
// until ctx ends), calling each, if set, with every round's result. An
// ended ctx is a normal stop (nil); other errors are fatal (bad data, a
// key bound to another site, an unusable data directory...).
func (n *Node) Run(ctx context.Context, rounds int, each func(Result)) error {
	for done := 0; rounds == 0 || done < rounds; done++ {
		res, err := n.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if each != nil {
			each(res)
		}
	}
	return nil
}

// fatalError marks errors that waiting will not cure.
type fatalError struct{ err error }

func (e fatalError) Error() string { return e.err.Error() }
func (e fatalError) Unwrap() error { return e.err }

func fatal(err error) error { return fatalError{err} }

// Next waits for a round this site has not taken part in yet, takes part,
// and returns what became of its update. Errors that waiting may cure (no
// round, the coordinator unreachable or failing, a model that does not
// check out yet) are logged and waited out; Next returns only fatal ones,
// or ctx's.
func (n *Node) Next(ctx context.Context) (Result, error) {
	for {
		res, wait, err := n.try(ctx)
		if res != nil {
			return *res, nil
		}
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		var f fatalError
		if errors.As(err, &f) {
			return Result{}, err
		}
		if err != nil {
			n.waiting(fmt.Sprintf("%v; trying again in %s", err, wait))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Result{}, ctx.Err()
		case <-t.C:
		}
	}
}

// try asks for the task once and, when there is a round to take part in,
// takes part and returns its result. Otherwise it says how long to wait
// before trying again, and why (a nil error: no round for this site now).
func (n *Node) try(ctx context.Context) (*Result, time.Duration, error) {
	t, err := n.cfg.API.Task(ctx)
	var nr *flclient.NoRoundError
	switch {
	case errors.As(err, &nr):
		n.waiting("waiting for a round")
		if nr.RetryAfter > 0 {
			return nil, nr.RetryAfter, nil
		}
		return nil, n.cfg.Poll, nil
	case errors.Is(err, flclient.ErrUnauthorized):
		return nil, 0, fatal(fmt.Errorf("the coordinator does not know this API key: %w", err))
	case errors.Is(err, flclient.ErrForbidden) && !errors.Is(err, flclient.ErrNotEnrolled):
		// A key of another role: waiting does not change it (a site not
		// enrolled yet waits below, for an admin to enroll it).
		return nil, 0, fatal(fmt.Errorf("the coordinator refuses this API key (fl-node needs a key of role fl-node): %w", err))
	case err != nil:
		return nil, n.cfg.Poll, err
	}
	if t.Site != (common.Address{}) && t.Site != n.addr {
		return nil, 0, fatal(fmt.Errorf("%w: the key speaks for %s, this site is %s (enroll %s with this key)", ErrWrongSite, t.Site.Hex(), n.addr.Hex(), n.addr.Hex()))
	}
	if n.cfg.Registry != nil {
		if err := t.CheckRegistry(*n.cfg.Registry); err != nil {
			return nil, 0, fatal(err)
		}
	}
	prev, err := n.st.result(t.Round)
	if err != nil {
		return nil, 0, fatal(err)
	}
	if prev != nil && prev.BaseModel == t.BaseModel {
		n.waiting(fmt.Sprintf("round %d done (%s); waiting for the next round", t.Round, prev.Outcome))
		return nil, n.cfg.Poll, nil
	}
	res, err := n.takePart(ctx, t)
	if err != nil {
		return nil, n.cfg.Poll, err
	}
	return &res, 0, nil
}

// takePart makes (or finds) this round's update and submits it.
func (n *Node) takePart(ctx context.Context, t flclient.Task) (Result, error) {
	res := Result{Round: t.Round, BaseModel: t.BaseModel, Site: n.addr}
	saved, body, err := n.st.savedUpdate(t.Round)
	if err != nil {
		return res, fatal(err)
	}
	if saved != nil && (saved.ChainID != t.ChainID || saved.BaseModel != t.BaseModel || saved.Round != t.Round || saved.Site != n.addr) {
		to, err := n.st.setAside(t.Round)
		if err != nil {
			return res, fatal(err)
		}
		n.logf("round %d: the saved update was made for another federation (chain %d, model %s); moved to %s", t.Round, saved.ChainID, short(saved.BaseModel), to)
		saved = nil
	}
	if saved == nil && t.Submitted {
		// The round holds an update of this site that this directory did
		// not make: never send a second one.
		res.Outcome, res.At = Elsewhere, time.Now().UTC()
		n.logf("round %d: the coordinator already holds an update of this site that this data directory did not make; skipping the round", t.Round)
		if err := n.st.saveResult(res); err != nil {
			return res, fatal(err)
		}
		return res, nil
	}
	var u *federated.Update
	switch {
	case saved != nil && n.made[t.Round] != nil:
		// This process made it; an earlier attempt to send it failed.
		u, res.Report = saved, n.made[t.Round]
		n.logf("round %d: sending the update again (%s)", t.Round, short(u.UpdateHash().Hex()))
	case saved != nil:
		u, res.Resubmitted = saved, true
		if err := n.st.restoreFeedback(t.Round); err != nil {
			return res, fatal(err)
		}
		n.logf("round %d: sending again the update saved before a restart (%s)", t.Round, short(u.UpdateHash().Hex()))
	default:
		var rep federated.LocalReport
		if u, body, rep, err = n.makeUpdate(ctx, t); err != nil {
			return res, err
		}
		res.Report = &rep
		n.made[t.Round] = &rep
	}
	res.UpdateHash = u.UpdateHash()

	ack, err := n.cfg.API.Submit(ctx, t.Round, body)
	var fe *flclient.Error
	switch {
	case errors.Is(err, flclient.ErrUnauthorized):
		return res, fatal(err)
	case errors.As(err, &fe) && flclient.Final(err):
		res.Outcome, res.Status, res.Detail = Refused, fe.Status, fe.Detail
		n.logf("round %d: update %s refused (%d %s): %s; it will not be sent again", t.Round, short(res.UpdateHash.Hex()), fe.Status, fe.Type, fe.Detail)
	case err != nil:
		return res, fmt.Errorf("round %d: %w", t.Round, err) // sent again after the wait
	case ack.UpdateHash != res.UpdateHash:
		return res, fmt.Errorf("round %d: the coordinator acknowledged update %s, this site sent %s", t.Round, ack.UpdateHash.Hex(), res.UpdateHash.Hex())
	default:
		res.Outcome, res.RecordID, res.Again = Acknowledged, ack.RecordID, ack.Again
		again := ""
		if ack.Again {
			again = " (it had been before)"
		}
		n.logf("round %d: update %s acknowledged as record %s%s", t.Round, short(res.UpdateHash.Hex()), ack.RecordID, again)
	}
	res.At = time.Now().UTC()
	if err := n.st.saveResult(res); err != nil {
		return res, fatal(err)
	}
	return res, nil
}

// makeUpdate downloads the round's model, trains it on the site's flows
// and saves the signed update before it is sent.
func (n *Node) makeUpdate(ctx context.Context, t flclient.Task) (*federated.Update, []byte, federated.LocalReport, error) {
	var rep federated.LocalReport
	global, err := n.model(ctx, t)
	if err != nil {
		return nil, nil, rep, err
	}
	if err := n.prepare(global); err != nil {
		return nil, nil, rep, fatal(err)
	}
	fb, err := n.st.feedback()
	if err != nil {
		return nil, nil, rep, fatal(err)
	}
	p := t.Policy
	n.logf("round %d: training %s %s on %d flows (%d held out): epochs %s, batch %s, learning rate %s, dp %s, encoding %s",
		t.Round, global.Model.Kind(), short(t.BaseModel), n.train.Len(), n.valid.Len(), orDefault(float64(p.Epochs)), orDefault(float64(p.BatchSize)),
		orDefault(p.LearningRate), dpMode(p.DP), p.Compression.Encoding)
	step := federated.LocalStep{Task: t.Local(), Global: global, Train: n.train, Valid: n.valid, Key: n.cfg.Key,
		Feedback: fb, Seed: n.cfg.Seed + int64(t.Round)}
	if n.cfg.Noise != nil {
		step.Noise = n.cfg.Noise(t.Round)
	}
	u, rep, err := n.cfg.Train(step)
	if err != nil {
		return nil, nil, rep, fatal(fmt.Errorf("round %d: %w", t.Round, err))
	}
	body, err := json.Marshal(u)
	if err != nil {
		return nil, nil, rep, fatal(err)
	}
	if err := n.st.saveUpdate(t.Round, body, fb); err != nil {
		return nil, nil, rep, fatal(fmt.Errorf("round %d: save the update before sending it: %w", t.Round, err))
	}
	n.logf("round %d: samples %d, local accuracy %.4f, loss %.4f, pre-clip norm %.4f, payload %d bytes (%.1f%% of f32)",
		t.Round, rep.Samples, rep.Accuracy, rep.Loss, rep.PreClipNorm, rep.PayloadBytes, 100*float64(rep.PayloadBytes)/float64(max(rep.RawBytes, 1)))
	return u, body, rep, nil
}

// model is the round's base model, downloaded (and checked) once.
func (n *Node) model(ctx context.Context, t flclient.Task) (*detector.Detector, error) {
	if n.global != nil && n.global.ID() == t.BaseModel {
		return n.global, nil
	}
	m, err := n.cfg.API.DownloadModel(ctx, t.BaseModel, t.BaseModelVersion)
	if err != nil {
		return nil, fmt.Errorf("round %d: %w", t.Round, err)
	}
	d, err := detector.DecodeDetector(m.File)
	if err != nil {
		return nil, fatal(fmt.Errorf("round %d: model %s: %w", t.Round, short(t.BaseModel), err))
	}
	if d.Dataset() != n.cfg.Dataset {
		return nil, fatal(fmt.Errorf("round %d: the federation's model reads %s flows, this site loaded %s", t.Round, d.Dataset(), n.cfg.Dataset))
	}
	n.global = d
	return d, nil
}

// prepare turns the site's flows into the model's inputs, once per
// pipeline (the federation's base model fixes it, so in practice once).
func (n *Node) prepare(d *detector.Detector) error {
	pj, err := json.Marshal(d.Pipeline)
	if err != nil {
		return err
	}
	key := string(crypto.Keccak256(pj))
	if key == n.dataFor {
		return nil
	}
	train, valid, unknown := LocalData(d, n.cfg.Flows, n.cfg.ValidFraction, n.cfg.Seed)
	if len(unknown) > 0 {
		left := 0
		for _, c := range unknown {
			left += c
		}
		n.logf("left out %d flows of classes the model does not know: %v", left, unknown)
	}
	if train.Len()+valid.Len() == 0 {
		return fmt.Errorf("%w: no flow of a class the model knows", federated.ErrTooFew)
	}
	n.train, n.valid, n.dataFor = train, valid, key
	return nil
}

// LocalData is what a site trains on: its labelled flows through d's
// pipeline (in their order, so windows follow the traffic), less those of
// classes d does not know (counted in unknown), split per class into
// training and validation rows (detector.StratifiedSplit with
// validFraction and seed). fl-sim's centralized baseline takes the union
// of the sites' training rows made the same way.
func LocalData(d *detector.Detector, flows []*detector.Flow, validFraction float64, seed int64) (train, valid detector.Labeled, unknown map[string]int) {
	all := detector.Labeled{X: d.Pipeline.Transform(flows), Y: d.Pipeline.Labels(flows)}
	var keep []int
	unknown = map[string]int{}
	for i, y := range all.Y {
		if y >= 0 {
			keep = append(keep, i)
		} else if c := flows[i].Class; c != "" {
			unknown[c]++
		}
	}
	labelled := all.Subset(keep)
	tr, va := detector.StratifiedSplit(labelled.Y, validFraction, seed)
	return labelled.Subset(tr), labelled.Subset(va), unknown
}

// waiting logs a waiting state once, not at every poll.
func (n *Node) waiting(msg string) {
	if msg != n.lastWait {
		n.lastWait = msg
		fmt.Fprintln(n.cfg.Log, msg)
	}
}

func (n *Node) logf(format string, a ...any) {
	n.lastWait = ""
	fmt.Fprintf(n.cfg.Log, format+"\n", a...)
}

func dpMode(p federated.DPPolicy) string {
	switch p.Mode {
	case federated.DPLocal:
		return fmt.Sprintf("local (clip %g, sigma %g)", p.Clip, p.Sigma)
	case federated.DPCentral:
		return fmt.Sprintf("central (clip %g)", p.Clip)
	}
	return "off"
}

// orDefault prints a policy number, 0 meaning the model kind's default.
func orDefault(v float64) string {
	if v == 0 {
		return "default"
	}
	return fmt.Sprintf("%g", v)
}

// short abbreviates a hash or model id for log lines.
func short(h string) string {
	h = strings.TrimPrefix(h, "0x")
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

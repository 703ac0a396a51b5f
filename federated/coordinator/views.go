package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/federated"
)

// What analysts read of the federation. Payloads (the deltas) stay in the
// records: views carry what people look at.

// SiteView is a site with its standing.
type SiteView struct {
	Site
	// Reputation is the last known reputation (after the last round the
	// site was judged in; its enrollment value before).
	Reputation uint16 `json:"reputation"`
	// Epsilon is the privacy the site has spent (δ = Budget.Delta, or 1e-5),
	// over Rounds rounds with noise.
	Epsilon float64 `json:"epsilon"`
	Delta   float64 `json:"delta"`
}

// Sites lists every site ever enrolled with its reputation and privacy
// spent.
func (c *Coordinator) Sites(ctx context.Context) ([]SiteView, error) {
	sites, err := c.store.Sites(ctx)
	if err != nil {
		return nil, err
	}
	reps, err := c.store.Reputations(ctx)
	if err != nil {
		return nil, err
	}
	acct, err := c.store.Accountant(ctx)
	if err != nil {
		return nil, err
	}
	delta := c.delta()
	out := make([]SiteView, len(sites))
	for i, s := range sites {
		v := SiteView{Site: s, Delta: delta}
		if r, ok := reps[s.Address]; ok {
			v.Reputation = r
		} else if r, err := c.chain.Reputation(ctx, s.Address); err == nil {
			v.Reputation = r
		}
		if len(acct.Sites[s.Address]) > 0 {
			v.Epsilon, _ = acct.Epsilon(s.Address, delta)
		}
		out[i] = v
	}
	return out, nil
}

func (c *Coordinator) delta() float64 {
	if c.opt.Budget.Delta > 0 {
		return c.opt.Budget.Delta
	}
	return 1e-5
}

// Round returns round n.
func (c *Coordinator) Round(ctx context.Context, n uint64) (federated.Round, error) {
	return c.store.Round(ctx, n)
}

// Rounds lists rounds newest first, below before (0: from the newest).
func (c *Coordinator) Rounds(ctx context.Context, before uint64, limit int) ([]federated.Round, error) {
	return c.store.Rounds(ctx, before, limit)
}

// RoundDetail is one round with every update it received (judged once the
// round closed, payloads left out) and the submissions it refused.
type RoundDetail struct {
	Round      federated.Round `json:"round"`
	Updates    []UpdateView    `json:"updates"`
	Rejections []Rejection     `json:"rejections"`
}

// UpdateView is an update as analysts see it: who, what, how it was judged.
type UpdateView struct {
	RecordID         uuid.UUID          `json:"record_id"`
	Site             string             `json:"site"`
	UpdateHash       string             `json:"update_hash"`
	Leaf             anchor.HexHash     `json:"leaf"`
	Samples          uint64             `json:"samples"`
	Encoding         federated.Encoding `json:"encoding"`
	PayloadBytes     int                `json:"payload_bytes"`
	ReportedAccuracy float64            `json:"reported_accuracy"`
	DP               federated.DPParams `json:"dp"`
	ReceivedAt       string             `json:"received_at"`
	Judgement        *JudgementView     `json:"judgement,omitempty"`
}

// JudgementView is a Judgement with its reasons by name.
type JudgementView struct {
	Judgement
	ReasonNames []string `json:"reason_names"`
}

// SiteStatus is what a site may read about itself: its standing and how
// its recent updates were judged (a site learns whether the rule accepted
// its update, and why not, without seeing the other sites').
type SiteStatus struct {
	Site SiteView `json:"site"`
	// Rounds are the last rounds the site was invited to, newest first,
	// each with the site's update (nil when it sent none).
	Rounds []SiteRound `json:"rounds"`
}

// SiteRound is one round as a site sees it.
type SiteRound struct {
	Round  uint64          `json:"round"`
	State  federated.State `json:"state"`
	Update *UpdateView     `json:"update"`
}

// SiteStatus returns the status of the site the fl-node key speaks for,
// over its last rounds (at most limit).
func (c *Coordinator) SiteStatus(ctx context.Context, key uuid.UUID, limit int) (SiteStatus, error) {
	site, err := c.store.SiteForKey(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return SiteStatus{}, ErrNotASite
	}
	if err != nil {
		return SiteStatus{}, err
	}
	views, err := c.Sites(ctx)
	if err != nil {
		return SiteStatus{}, err
	}
	st := SiteStatus{Rounds: []SiteRound{}}
	for _, v := range views {
		if v.Address == site.Address {
			st.Site = v
		}
	}
	rounds, err := c.store.Rounds(ctx, 0, limit)
	if err != nil {
		return SiteStatus{}, err
	}
	for _, r := range rounds {
		if !slices.Contains(r.Sites, site.Address) {
			continue
		}
		d, err := c.RoundDetail(ctx, r.Number)
		if err != nil {
			return SiteStatus{}, err
		}
		sr := SiteRound{Round: r.Number, State: r.State}
		for i := range d.Updates {
			if d.Updates[i].Site == site.Address.Hex() {
				sr.Update = &d.Updates[i]
			}
		}
		st.Rounds = append(st.Rounds, sr)
	}
	return st, nil
}

// RoundDetail returns round n with its updates and rejections.
func (c *Coordinator) RoundDetail(ctx context.Context, n uint64) (RoundDetail, error) {
	r, err := c.store.Round(ctx, n)
	if err != nil {
		return RoundDetail{}, err
	}
	ups, err := c.store.Updates(ctx, n)
	if err != nil {
		return RoundDetail{}, err
	}
	rej, err := c.store.Rejections(ctx, n)
	if err != nil {
		return RoundDetail{}, err
	}
	d := RoundDetail{Round: r, Updates: make([]UpdateView, len(ups)), Rejections: rej}
	if d.Rejections == nil {
		d.Rejections = []Rejection{}
	}
	for i, u := range ups {
		d.Updates[i] = UpdateView{RecordID: u.RecordID, Site: u.Update.Site.Hex(), UpdateHash: u.Hash.Hex(),
			Leaf: anchor.HexHash(u.Leaf), Samples: u.Update.Samples, Encoding: u.Update.Encoding, PayloadBytes: len(u.Update.Payload),
			ReportedAccuracy: u.Update.ReportedAccuracy, DP: u.Update.DP, ReceivedAt: u.ReceivedAt.Format("2006-01-02T15:04:05.999999Z07:00")}
		if u.Judgement != nil {
			d.Updates[i].Judgement = &JudgementView{Judgement: *u.Judgement, ReasonNames: reasonNames(u.Judgement.Reasons)}
		}
	}
	return d, nil
}

// Models lists the stored model files, newest first, without their bytes.
func (c *Coordinator) Models(ctx context.Context) ([]ModelFile, error) { return c.store.Models(ctx) }

// Model returns one stored model file.
func (c *Coordinator) Model(ctx context.Context, id string) (ModelFile, error) {
	return c.store.Model(ctx, id)
}

// PutModel keeps a model file (an upload, the model built into the
// binary) so that rounds can start from it and sites download it.
func (c *Coordinator) PutModel(ctx context.Context, m ModelFile) error {
	return c.store.PutModel(ctx, m)
}

// Promote makes a stored model the one that scores flows, through
// Options.Promote, on an admin's word.
func (c *Coordinator) Promote(ctx context.Context, id, actor string) (ModelFile, error) {
	m, err := c.store.Model(ctx, id)
	if err != nil {
		return ModelFile{}, err
	}
	if c.opt.Promote == nil {
		return ModelFile{}, fmt.Errorf("%w: this service cannot promote models", ErrInvalid)
	}
	return m, c.opt.Promote(ctx, m, "promoted by "+actor)
}

// RecordReader reads a stored record's body (storage.Outbox).
type RecordReader interface {
	Record(ctx context.Context, id anchor.RecordID) (anchor.StoredRecord, error)
}

// Prover proves a stored record against the chain (anchor.Verifier).
type Prover interface {
	Verify(ctx context.Context, id anchor.RecordID) (*anchor.Proof, error)
}

// ProvenRecord is a record's stored body and its proof.
type ProvenRecord struct {
	Record json.RawMessage `json:"record"`
	Proof  *anchor.Proof   `json:"proof"`
}

// ModelProvenance is the evidence behind a model: its global_model record,
// the round record that judged the updates it was made of, and every update
// record of that round (accepted or not), each with its proof. A model no
// round made (uploaded, built in) has none of these: Made says so.
type ModelProvenance struct {
	Model   ModelFile      `json:"model"`
	Made    bool           `json:"made_by_a_round"`
	Global  *ProvenRecord  `json:"global_model,omitempty"`
	Round   *ProvenRecord  `json:"round,omitempty"`
	Updates []ProvenRecord `json:"updates"`
}

// Provenance gathers the evidence behind model id: record bodies from src,
// proofs from prover. Auditors check it offline (idsledger verify
// --provenance): every proof against the chain, every update's signature,
// the model's registry entry and its updates root.
func (c *Coordinator) Provenance(ctx context.Context, modelID string, src RecordReader, prover Prover) (*ModelProvenance, error) {
	m, err := c.store.Model(ctx, modelID)
	if err != nil {
		return nil, err
	}
	m.File = nil
	p := &ModelProvenance{Model: m, Updates: []ProvenRecord{}}
	if m.RecordID == uuid.Nil {
		return p, nil
	}
	p.Made = true
	prove := func(id uuid.UUID) (*ProvenRecord, error) {
		rec, err := src.Record(ctx, anchor.RecordID(id))
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", id, err)
		}
		proof, err := prover.Verify(ctx, anchor.RecordID(id))
		if err != nil && !errors.Is(err, anchor.ErrNotFound) {
			return nil, fmt.Errorf("prove record %s: %w", id, err)
		}
		return &ProvenRecord{Record: rec.Body, Proof: proof}, nil
	}
	if p.Global, err = prove(m.RecordID); err != nil {
		return nil, err
	}
	var mr ModelRecord
	if err := json.Unmarshal(p.Global.Record, &mr); err != nil {
		return nil, fmt.Errorf("model %s: its record: %w", modelID, err)
	}
	if p.Round, err = prove(mr.RoundRecord); err != nil {
		return nil, err
	}
	var rr RoundRecord
	if err := json.Unmarshal(p.Round.Record, &rr); err != nil {
		return nil, fmt.Errorf("round %d: its record: %w", mr.Round, err)
	}
	for _, u := range rr.Updates {
		pr, err := prove(u.RecordID)
		if err != nil {
			return nil, err
		}
		p.Updates = append(p.Updates, *pr)
	}
	return p, nil
}

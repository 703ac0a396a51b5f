package coordinator

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/federated"
)

// AlertProvenance is the document GET /v1/alerts/{id}/provenance returns
// and `idsledger verify --provenance` checks: an alert, the model that
// decided it and the evidence behind that model, every record with its
// proof.
type AlertProvenance struct {
	Alert ProvenRecord     `json:"alert"`
	Model *ModelProvenance `json:"model"`
	// FederationRegistry is the address of the federation registry that
	// judged the model's round ("" when this service runs none).
	FederationRegistry string `json:"federation_registry"`
}

// FederationReader is the federation registry as an auditor reads it
// (chain.Judge over a read-only chain.Federation).
type FederationReader interface {
	// GlobalModel reads registered model version; ok is false when the
	// registry holds no such version.
	GlobalModel(ctx context.Context, version uint64) (RegisteredModel, bool, error)
	// Verdicts reads the contract's verdicts on round, in submission order;
	// ok is false when the round was never judged.
	Verdicts(ctx context.Context, round uint64) ([]federated.Verdict, bool, error)
}

// RegisteredModel is a global model version as the registry holds it.
type RegisteredModel struct {
	ModelHash   anchor.Hash
	UpdatesRoot anchor.Hash
	Round       uint64
}

// Check is one finding of an audit.
type Check struct {
	What string `json:"check"`
	OK   bool   `json:"ok"`
	// Detail says what was found: the evidence when OK, the discrepancy
	// when not.
	Detail string `json:"detail"`
}

// Audit is the outcome of checking an alert's provenance.
type Audit struct {
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`

	auditor Auditor
}

// Failed returns the checks that did not hold.
func (a *Audit) Failed() []Check {
	var out []Check
	for _, c := range a.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

func (a *Audit) check(ok bool, what, format string, args ...any) bool {
	a.Checks = append(a.Checks, Check{What: what, OK: ok, Detail: fmt.Sprintf(format, args...)})
	if !ok {
		a.OK = false
	}
	return ok
}

// Auditor checks alert provenances with no database, against the chain
// alone.
type Auditor struct {
	// Records is the audit registry every record is anchored in.
	Records anchor.RegistryReader
	// Federation is the federation registry; it may be nil only for a
	// model no round made.
	Federation FederationReader
	// ModelFile, when set, is the bytes of the alert's model, checked
	// against its id.
	ModelFile []byte
	// Anchorer, when set, is the account every anchor must have been
	// written by (the service's key).
	Anchorer *anchor.Address
}

// Audit checks doc: every record against its proof and the audit registry
// (and the anchorer), the alert's model against the model record (and
// against the model file), every update's hash and site signature, the
// round's verdicts against the ones the federation registry emitted, the
// accepted updates' Merkle root against the model record and the
// registry, and the registry's entry for the model. The error is for a
// check that could not run (the chain unreachable); a check that ran and
// failed is in the Audit.
func (au Auditor) Audit(ctx context.Context, doc AlertProvenance) (*Audit, error) {
	a := &Audit{OK: true, auditor: au}
	var alert struct {
		Type  string `json:"type"`
		Model struct {
			ID string `json:"id"`
		} `json:"model"`
	}
	if _, err := a.proven(ctx, "alert", doc.Alert); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(doc.Alert.Record, &alert); err != nil || alert.Type != "alert" {
		a.check(false, "alert record", "the alert record is not an alert body")
		return a, nil
	}
	if doc.Model == nil {
		a.check(false, "model", "the document carries no model")
		return a, nil
	}
	m := doc.Model.Model
	a.check(strings.EqualFold(alert.Model.ID, m.ID), "alert's model",
		"the alert names model %s; the provenance is of model %s", alert.Model.ID, m.ID)
	if au.ModelFile != nil {
		got := hex.EncodeToString(crypto.Keccak256(au.ModelFile))
		a.check(strings.EqualFold(got, m.ID), "model file", "the file hashes to %s; the alert's model is %s", got, m.ID)
	}
	if !doc.Model.Made {
		a.check(true, "model origin", "model %s was not made by a federated round (uploaded or built in): it has no round to trace", m.ID)
		return a, nil
	}
	if au.Federation == nil {
		return nil, fmt.Errorf("model %s was made by round %d: its audit needs the federation registry", m.ID, m.Round)
	}
	if doc.Model.Global == nil || doc.Model.Round == nil {
		a.check(false, "model records", "model %s was made by a round, but the document lacks its global_model or fl_round record", m.ID)
		return a, nil
	}
	return a, a.round(ctx, doc.Model)
}

// round checks a round-made model's records and registry entries.
func (a *Audit) round(ctx context.Context, mp *ModelProvenance) error {
	fed := a.auditor.Federation
	m := mp.Model
	if _, err := a.proven(ctx, "global_model record", *mp.Global); err != nil {
		return err
	}
	var mr ModelRecord
	if err := json.Unmarshal(mp.Global.Record, &mr); err != nil || mr.Type != "global_model" {
		a.check(false, "global_model record", "not a global_model body")
		return nil
	}
	a.check(strings.EqualFold(mr.ModelID, m.ID), "global_model record", "the record is of model %s; the alert's model is %s", mr.ModelID, m.ID)
	if _, err := a.proven(ctx, "fl_round record", *mp.Round); err != nil {
		return err
	}
	var rr RoundRecord
	if err := json.Unmarshal(mp.Round.Record, &rr); err != nil || rr.Type != "fl_round" {
		a.check(false, "fl_round record", "not an fl_round body")
		return nil
	}
	a.check(rr.ID == mr.RoundRecord && rr.Round == mr.Round && rr.NewModel == mr.ModelID, "fl_round record",
		"round %d (record %s, made %q); the model record names round %d (record %s)", rr.Round, rr.ID, rr.NewModel, mr.Round, mr.RoundRecord)

	// Every update the round judged: anchored, signed by its site, for this
	// round, chain and base model.
	leaves := map[anchor.Hash]JudgedUpdate{}
	for _, u := range rr.Updates {
		leaves[anchor.Hash(u.Leaf)] = u
	}
	seen := map[anchor.Hash]bool{}
	for i, pr := range mp.Updates {
		what := fmt.Sprintf("update %d", i+1)
		out, err := a.proven(ctx, what, pr)
		if err != nil {
			return err
		}
		var ur UpdateRecord
		if err := json.Unmarshal(pr.Record, &ur); err != nil || ur.Type != "model_update" || ur.Update == nil {
			a.check(false, what, "not a model_update body")
			continue
		}
		what = fmt.Sprintf("update %d (site %s)", i+1, ur.Site.Hex())
		a.update(what, ur, rr)
		if out == nil {
			continue
		}
		ju, listed := leaves[anchor.Hash(out.Leaf)]
		a.check(listed && ju.RecordID == ur.ID && ju.Site == ur.Site, what+" in the round",
			"the round record lists leaf %x for record %s", out.Leaf[:], ur.ID)
		seen[anchor.Hash(out.Leaf)] = true
	}
	a.check(len(seen) == len(rr.Updates), "round's updates", "%d of the %d updates the round record lists are in the document with a proof", len(seen), len(rr.Updates))

	// The verdicts the contract emitted are the round record's.
	verdicts, ok, err := fed.Verdicts(ctx, rr.Round)
	if err != nil {
		return fmt.Errorf("read round %d from the federation registry: %w", rr.Round, err)
	}
	if a.check(ok, "round judged on chain", "the federation registry judged round %d: %t", rr.Round, ok) {
		a.verdicts(rr, verdicts)
	}

	// The accepted updates make the root the model record and the registry hold.
	var accepted []UpdateRef
	for _, u := range rr.Updates {
		if u.Accepted {
			accepted = append(accepted, UpdateRef{RecordID: u.RecordID, Site: u.Site, Leaf: u.Leaf})
		}
	}
	a.check(slices.Equal(accepted, mr.Updates), "model's updates",
		"the model record lists %d updates; the round accepted %d", len(mr.Updates), len(accepted))
	root, err := UpdatesRoot(mr.Updates)
	if err != nil {
		a.check(false, "updates root", "%v", err)
		return nil
	}
	a.check(root == anchor.Hash(mr.UpdatesRoot), "updates root", "recomputed %x; the model record says %x", root[:], mr.UpdatesRoot[:])

	reg, ok, err := fed.GlobalModel(ctx, mr.Version)
	if err != nil {
		return fmt.Errorf("read model version %d from the federation registry: %w", mr.Version, err)
	}
	if !a.check(ok, "registry entry", "the federation registry holds version %d: %t", mr.Version, ok) {
		return nil
	}
	want, _ := modelHash(m.ID)
	a.check(reg.ModelHash == want && reg.Round == mr.Round && reg.UpdatesRoot == root, "registry entry",
		"version %d: model %x, round %d, updates root %x", mr.Version, reg.ModelHash[:], reg.Round, reg.UpdatesRoot[:])
	return nil
}

// update checks one update record: its hash, its signature and that it is
// an update of the round's base model on the round's chain.
func (a *Audit) update(what string, ur UpdateRecord, rr RoundRecord) {
	u := ur.Update
	h := u.UpdateHash()
	a.check(h == ur.UpdateHash, what+" hash", "the update hashes to %x; the record says %x", h[:], ur.UpdateHash[:])
	err := u.Verify(ur.Site)
	a.check(err == nil, what+" signature", "signed by %s: %v", ur.Site.Hex(), errOrYes(err))
	a.check(u.Round == rr.Round && u.ChainID == rr.ChainID && strings.EqualFold(u.BaseModel, rr.BaseModel), what+" target",
		"round %d on chain %d from model %s; the round is %d on chain %d from %s", u.Round, u.ChainID, u.BaseModel, rr.Round, rr.ChainID, rr.BaseModel)
}

// verdicts compares the contract's verdicts with the round record's.
func (a *Audit) verdicts(rr RoundRecord, onChain []federated.Verdict) {
	var judged []JudgedUpdate
	for _, u := range rr.Updates {
		if u.Judged {
			judged = append(judged, u)
		}
	}
	if !a.check(len(onChain) == len(judged), "verdicts", "the contract judged %d updates; the round record %d", len(onChain), len(judged)) {
		return
	}
	for i, v := range onChain {
		u := judged[i]
		same := v.Site == u.Site && v.UpdateHash == common.Hash(u.Leaf) && v.Accepted == u.Accepted &&
			slices.Equal(reasonNames(v.Reasons), u.Reasons)
		a.check(same, fmt.Sprintf("verdict %d (site %s)", i+1, u.Site.Hex()),
			"contract: accepted %t %v; round record: accepted %t %v", v.Accepted, reasonNames(v.Reasons), u.Accepted, u.Reasons)
	}
}

// proven checks a record against its proof. It returns the checked proof,
// nil when the record is not (yet) anchored or does not match.
func (a *Audit) proven(ctx context.Context, what string, pr ProvenRecord) (*anchor.Proof, error) {
	if pr.Proof == nil || pr.Proof.Status == anchor.StatusPending {
		a.check(false, what, "not anchored yet: no proof")
		return nil, nil
	}
	out, err := anchor.VerifyOffline(ctx, a.auditor.Records, pr.Record, *pr.Proof)
	if errors.Is(err, anchor.ErrBadProof) {
		a.check(false, what, "%v", err)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if a.auditor.Anchorer != nil {
		out.RequireSubmitter(*a.auditor.Anchorer)
	}
	if !a.check(out.Status == anchor.StatusVerified, what, "%s: %s", out.Status, out.Reason) {
		return nil, nil
	}
	a.Checks[len(a.Checks)-1].Detail = fmt.Sprintf("record %s is leaf %d of %d, anchored in block %d", out.RecordID, out.LeafIndex, out.LeafCount, out.BlockNumber)
	return out, nil
}

func errOrYes(err error) string {
	if err == nil {
		return "yes"
	}
	return err.Error()
}

package coordinator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
)

// ledger anchors records in one batch of an in-memory audit registry: it is
// the store's record reader, the prover, and (through registry) the chain
// an auditor reads.
type ledger struct {
	bodies map[uuid.UUID][]byte
	proofs map[uuid.UUID]*anchor.Proof
	root   anchor.Hash
	count  uint32
}

var auditRegistry = anchor.Address{0xaa}

// anchorAll anchors the bodies, in id order of the slice, as batch 1.
func anchorAll(t *testing.T, ids []uuid.UUID, bodies [][]byte) *ledger {
	t.Helper()
	l := &ledger{bodies: map[uuid.UUID][]byte{}, proofs: map[uuid.UUID]*anchor.Proof{}}
	leaves := make([]anchor.Hash, len(bodies))
	for i, b := range bodies {
		c, err := anchor.Canonicalize(b)
		if err != nil {
			t.Fatal(err)
		}
		leaves[i] = anchor.LeafHash(c)
		l.bodies[ids[i]] = c
	}
	tree, err := anchor.NewTree(leaves)
	if err != nil {
		t.Fatal(err)
	}
	l.root, l.count = tree.Root(), uint32(len(leaves))
	for i, id := range ids {
		path, err := tree.InclusionProof(uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		hp := make([]anchor.HexHash, len(path))
		for j, h := range path {
			hp[j] = anchor.HexHash(h)
		}
		l.proofs[id] = &anchor.Proof{Status: anchor.StatusVerified, RecordID: id.String(), Mode: anchor.ModeBatch,
			Leaf: anchor.HexHash(leaves[i]), LeafIndex: uint64(i), AuditPath: hp, BatchID: 1, ChainID: 1337,
			Registry: anchor.HexAddress(auditRegistry)}
	}
	return l
}

func (l *ledger) Record(_ context.Context, id anchor.RecordID) (anchor.StoredRecord, error) {
	b, ok := l.bodies[uuid.UUID(id)]
	if !ok {
		return anchor.StoredRecord{}, fmt.Errorf("record %s: %w", uuid.UUID(id), anchor.ErrNotFound)
	}
	return anchor.StoredRecord{ID: id, Body: b, Status: "anchored", BatchID: 1}, nil
}

func (l *ledger) Verify(_ context.Context, id anchor.RecordID) (*anchor.Proof, error) {
	p, ok := l.proofs[uuid.UUID(id)]
	if !ok {
		return nil, anchor.ErrNotFound
	}
	cp := *p
	return &cp, nil
}

// registry is the audit registry holding the ledger's batch.
func (l *ledger) registry() registryReader { return registryReader{l} }

type registryReader struct{ l *ledger }

func (r registryReader) ChainID() uint64         { return 1337 }
func (r registryReader) Address() anchor.Address { return auditRegistry }
func (r registryReader) Batch(_ context.Context, id uint64) (anchor.OnChainBatch, bool, error) {
	if id != 1 {
		return anchor.OnChainBatch{}, false, nil
	}
	return anchor.OnChainBatch{Root: r.l.root, LeafCount: r.l.count, BlockNumber: 7}, true, nil
}
func (r registryReader) Record(context.Context, anchor.RecordID) (anchor.OnChainRecord, bool, error) {
	return anchor.OnChainRecord{}, false, nil
}

// provenanceWorld runs one round (four honest sites, one boosted attacker)
// and returns the world, the new model's id and an alert body naming it.
func provenanceWorld(t *testing.T) (*world, string, []byte) {
	t.Helper()
	ctx := context.Background()
	w := newWorld(t, 5)
	w.open(fedavg, 5)
	for i, s := range w.sites {
		scale := float32(1)
		if i == 4 {
			scale = 50
		}
		if _, _, err := w.c.Submit(ctx, s.keyID, w.update(s, scale)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.c.Step(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := w.store.Round(ctx, 1)
	if err != nil || r.NewModelID == "" {
		t.Fatalf("round 1: %+v %v", r, err)
	}
	alert := fmt.Appendf(nil, `{"type":"alert","class":"attack","model":{"id":%q,"version":"fl-1"}}`, r.NewModelID)
	return w, r.NewModelID, alert
}

// provenance anchors the world's records (edited by edit first, as a
// dishonest server would before anchoring) and the alert, and gathers the
// alert's provenance as the API serves it.
func provenance(t *testing.T, w *world, modelID string, alert []byte, edit func(kind string, body []byte) []byte) (coordinator.AlertProvenance, *ledger) {
	t.Helper()
	alertID := uuid.New()
	ids, bodies := []uuid.UUID{alertID}, [][]byte{alert}
	for _, rec := range w.store.Records() {
		b := rec.Body
		if edit != nil {
			b = edit(rec.Kind, b)
		}
		ids, bodies = append(ids, rec.ID), append(bodies, b)
	}
	l := anchorAll(t, ids, bodies)
	mp, err := w.c.Provenance(context.Background(), modelID, l, l)
	if err != nil {
		t.Fatal(err)
	}
	proof, _ := l.Verify(context.Background(), anchor.RecordID(alertID))
	return coordinator.AlertProvenance{Alert: coordinator.ProvenRecord{Record: l.bodies[alertID], Proof: proof}, Model: mp}, l
}

// roundTrip passes the document through JSON, as the auditor receives it.
func roundTrip(t *testing.T, doc coordinator.AlertProvenance) coordinator.AlertProvenance {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var out coordinator.AlertProvenance
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// An honest provenance passes every check; each kind of lie fails the
// check that should catch it, and only the audit says so (no error).
func TestAuditProvenance(t *testing.T) {
	ctx := context.Background()
	w, modelID, alert := provenanceWorld(t)
	doc, l := provenance(t, w, modelID, alert, nil)
	doc = roundTrip(t, doc)
	m, err := w.store.Model(ctx, modelID)
	if err != nil {
		t.Fatal(err)
	}

	a, err := coordinator.Auditor{Records: l.registry(), Federation: w.chain, ModelFile: m.File}.Audit(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	if !a.OK || len(a.Failed()) != 0 {
		t.Fatalf("honest provenance failed: %+v", a.Failed())
	}
	if len(doc.Model.Updates) != 5 {
		t.Fatalf("%d updates in the provenance, want all 5 the round judged", len(doc.Model.Updates))
	}
	// alert, its model, the file, global_model and fl_round (proof and
	// content each), 5 x (proof, hash, signature, target, in the round),
	// round's updates, judged, verdicts + 5, model's updates, root,
	// registry entry x 2.
	if want := 3 + 4 + 5*5 + 1 + 1 + 6 + 1 + 1 + 2; len(a.Checks) != want {
		t.Errorf("%d checks, want %d: %+v", len(a.Checks), want, a.Checks)
	}

	cases := []struct {
		name string
		// lie changes what the auditor gets; it returns the doc, the
		// registry and the federation registry to audit against.
		lie  func() (coordinator.AlertProvenance, registryReader, coordinator.FederationReader, []byte)
		want string // the check that must fail
	}{
		{"update altered after anchoring", func() (coordinator.AlertProvenance, registryReader, coordinator.FederationReader, []byte) {
			d := roundTrip(t, doc)
			d.Model.Updates[2].Record = []byte(strings.Replace(string(d.Model.Updates[2].Record), `"samples":`, `"samples":1`, 1))
			return d, l.registry(), w.chain, nil
		}, "update 3"},
		{"update forged before anchoring", func() (coordinator.AlertProvenance, registryReader, coordinator.FederationReader, []byte) {
			d, l2 := provenance(t, w, modelID, alert, func(kind string, b []byte) []byte {
				if kind != "model_update" {
					return b
				}
				var ur coordinator.UpdateRecord
				if err := json.Unmarshal(b, &ur); err != nil {
					t.Fatal(err)
				}
				// More weight than the site claimed, the record's hash
				// recomputed to match: only the signature can tell.
				ur.Update.Samples *= 10
				ur.UpdateHash = ur.Update.UpdateHash()
				out, _ := json.Marshal(ur)
				return out
			})
			return d, l2.registry(), w.chain, nil
		}, "signature"},
		{"another model file", func() (coordinator.AlertProvenance, registryReader, coordinator.FederationReader, []byte) {
			base, _ := w.store.Model(ctx, w.base.ID())
			return doc, l.registry(), w.chain, base.File
		}, "model file"},
		{"alert of another model", func() (coordinator.AlertProvenance, registryReader, coordinator.FederationReader, []byte) {
			d := roundTrip(t, doc)
			d.Model.Model.ID = w.base.ID()
			return d, l.registry(), w.chain, nil
		}, "alert's model"},
		{"an update left out", func() (coordinator.AlertProvenance, registryReader, coordinator.FederationReader, []byte) {
			d := roundTrip(t, doc)
			d.Model.Updates = d.Model.Updates[:4]
			return d, l.registry(), w.chain, nil
		}, "round's updates"},
		{"the contract judged otherwise", func() (coordinator.AlertProvenance, registryReader, coordinator.FederationReader, []byte) {
			return doc, l.registry(), lyingChain{w.chain, flipVerdict}, nil
		}, "verdict 1"},
		{"the registry holds another model", func() (coordinator.AlertProvenance, registryReader, coordinator.FederationReader, []byte) {
			return doc, l.registry(), lyingChain{w.chain, otherRoot}, nil
		}, "registry entry"},
		{"the round never judged", func() (coordinator.AlertProvenance, registryReader, coordinator.FederationReader, []byte) {
			return doc, l.registry(), lyingChain{w.chain, noRound}, nil
		}, "round judged on chain"},
		{"another batch root on chain", func() (coordinator.AlertProvenance, registryReader, coordinator.FederationReader, []byte) {
			l2 := *l
			l2.root[0] ^= 1
			return doc, l2.registry(), w.chain, nil
		}, "alert"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, reg, fed, file := tc.lie()
			a, err := coordinator.Auditor{Records: reg, Federation: fed, ModelFile: file}.Audit(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			if a.OK {
				t.Fatalf("the lie passed the audit")
			}
			failed := a.Failed()
			found := false
			for _, c := range failed {
				found = found || strings.HasPrefix(c.What, tc.want) || strings.HasSuffix(c.What, tc.want)
			}
			if !found {
				t.Fatalf("no failed check %q; failed: %+v", tc.want, failed)
			}
		})
	}
}

// A model no round made has nothing to trace: the audit says so and needs
// no federation registry.
func TestAuditProvenanceOfAnUploadedModel(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1)
	alert := fmt.Appendf(nil, `{"type":"alert","model":{"id":%q}}`, w.base.ID())
	doc, l := provenance(t, w, w.base.ID(), alert, nil)
	a, err := coordinator.Auditor{Records: l.registry()}.Audit(ctx, roundTrip(t, doc))
	if err != nil || !a.OK {
		t.Fatalf("audit %+v %v", a, err)
	}
	if last := a.Checks[len(a.Checks)-1]; last.What != "model origin" || !strings.Contains(last.Detail, "not made by a federated round") {
		t.Fatalf("last check %+v", last)
	}
}

// lyingChain is a federation registry that answers one question falsely.
type lyingChain struct {
	coordinator.FederationReader
	lie int
}

const (
	flipVerdict = iota
	otherRoot
	noRound
)

func (c lyingChain) Verdicts(ctx context.Context, round uint64) ([]federated.Verdict, bool, error) {
	v, ok, err := c.FederationReader.Verdicts(ctx, round)
	switch c.lie {
	case flipVerdict:
		v[0].Accepted = !v[0].Accepted
	case noRound:
		return nil, false, nil
	}
	return v, ok, err
}

func (c lyingChain) GlobalModel(ctx context.Context, version uint64) (coordinator.RegisteredModel, bool, error) {
	m, ok, err := c.FederationReader.GlobalModel(ctx, version)
	if c.lie == otherRoot {
		m.UpdatesRoot[0] ^= 1
	}
	return m, ok, err
}

package coordinator_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/internal/fakes"
)

const sample = "../../detector/testdata/nf-bot-iot-v2-sample.csv"

// world is a coordinator over the in-memory store and the mirror chain,
// with an autoencoder trained on part of the sample as the first global
// model, and sites holding the rest of the flows.
type world struct {
	t      *testing.T
	store  *fakes.FedStore
	chain  *fakes.FedChain
	c      *coordinator.Coordinator
	base   *detector.Detector
	now    time.Time
	sites  []*site
	served *detector.Detector
	valid  []*detector.Flow
}

type site struct {
	key   *ecdsa.PrivateKey
	addr  common.Address
	keyID uuid.UUID
	data  detector.Labeled
}

func newWorld(t *testing.T, nSites int) *world {
	t.Helper()
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{sample}, detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(flows), func(i, j int) { flows[i], flows[j] = flows[j], flows[i] })
	res, err := detector.Train(flows[:150], detector.TrainOptions{Dataset: "nf-bot-iot-v2", Model: "autoencoder", Seed: 1,
		Train: detector.TrainConfig{Epochs: 5}})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, store: fakes.NewFedStore(), chain: fakes.NewFedChain(), base: res.Detector,
		now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	w.served = w.base
	file, err := w.base.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.store.PutModel(context.Background(), coordinator.ModelFile{ID: w.base.ID(), Kind: "autoencoder", File: file}); err != nil {
		t.Fatal(err)
	}
	w.valid = flows[150:230]
	w.c = w.coordinator()
	// A small autoencoder on a few hundred flows catches about half of the
	// validation set's attacks: let the anomaly check pass at that level,
	// so that these tests are about the other checks.
	th := federated.DefaultThresholds()
	th.MaxAnomalyBp = 9000
	if err := w.chain.SetThresholds(context.Background(), th); err != nil {
		t.Fatal(err)
	}
	rest := flows[230:]
	per := len(rest) / nSites
	for i := range nSites {
		key, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		part := rest[i*per : (i+1)*per]
		s := &site{key: key, addr: crypto.PubkeyToAddress(key.PublicKey), keyID: uuid.New(),
			data: detector.Labeled{X: w.base.Pipeline.Transform(part), Y: w.base.Pipeline.Labels(part)}}
		if _, err := w.c.Enroll(context.Background(), s.addr, "site", s.keyID, "admin"); err != nil {
			t.Fatal(err)
		}
		w.sites = append(w.sites, s)
	}
	return w
}

// coordinator is a coordinator over the world's store and chain, as a
// (re)started service makes it.
func (w *world) coordinator() *coordinator.Coordinator {
	return coordinator.New(w.store, w.chain, coordinator.Options{
		Validation: w.valid, Now: func() time.Time { return w.now },
		Serving: func() *detector.Detector { return w.served },
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

// update is site s's update for the open round; scale multiplies its delta
// (an attacker's boost), 1 for an honest site.
func (w *world) update(s *site, scale float32) []byte {
	w.t.Helper()
	task, err := w.c.Task(context.Background(), s.keyID)
	if err != nil {
		w.t.Fatal(err)
	}
	global, err := w.model(task.BaseModel)
	if err != nil {
		w.t.Fatal(err)
	}
	u, _, err := federated.TrainUpdate(federated.LocalStep{Task: task, Global: global, Train: s.data, Key: s.key, Seed: 1})
	if err != nil {
		w.t.Fatal(err)
	}
	if scale != 1 {
		d, err := federated.Decode(u.Encoding, u.Payload, int(u.Dim))
		if err != nil {
			w.t.Fatal(err)
		}
		for i := range d {
			d[i] *= scale
		}
		if u.Payload, err = (federated.Compression{Encoding: u.Encoding}).Encode(d, nil); err != nil {
			w.t.Fatal(err)
		}
		if err := u.Sign(s.key); err != nil {
			w.t.Fatal(err)
		}
	}
	b, err := json.Marshal(u)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

func (w *world) model(id string) (*detector.Detector, error) {
	m, err := w.store.Model(context.Background(), id)
	if err != nil {
		return nil, err
	}
	return detector.DecodeDetector(m.File)
}

func (w *world) open(policy federated.Policy, min int) federated.Round {
	w.t.Helper()
	r, err := w.c.Open(context.Background(), coordinator.OpenRequest{Policy: policy, MinUpdates: min, Duration: time.Hour}, "admin")
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

var fedavg = federated.Policy{Epochs: 2, BatchSize: 32, LearningRate: 0.003, Rule: federated.Rule{Kind: federated.RuleFedAvg},
	Compression: federated.Compression{Encoding: federated.EncF32}}

func kinds(recs []coordinator.Record) map[string]int {
	out := map[string]int{}
	for _, r := range recs {
		out[r.Kind]++
	}
	return out
}

// A whole round: four honest sites and one that boosts its update fifty
// times; the rule rejects the attacker, the honest updates make the next
// global model, registered with the root of their records, and every step
// leaves a record.
func TestRoundJudgesAggregatesAndRecords(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 5)
	r := w.open(fedavg, 5)
	if r.Number != 1 || r.BaseModelID != w.base.ID() || len(r.Sites) != 5 {
		t.Fatalf("round %+v", r)
	}
	var acks []coordinator.StoredUpdate
	for i, s := range w.sites {
		scale := float32(1)
		if i == 4 {
			scale = 50
		}
		u, again, err := w.c.Submit(ctx, s.keyID, w.update(s, scale))
		if err != nil || again {
			t.Fatalf("site %d: %v again=%v", i, err, again)
		}
		acks = append(acks, u)
	}
	if err := w.c.Step(ctx); err != nil {
		t.Fatal(err)
	}
	done, err := w.store.Round(ctx, 1)
	if err != nil || done.State != federated.StateClosed || done.NewModelID == "" {
		t.Fatalf("round after closing: %+v %v", done, err)
	}
	ups, _ := w.store.Updates(ctx, 1)
	for i, u := range ups {
		j := u.Judgement
		if j == nil {
			t.Fatalf("update %d not judged", i)
		}
		if want := i != 4; j.Accepted != want {
			t.Errorf("site %d: accepted %v, reasons %v (divergence %.3f, accuracy %.3f)", i, j.Accepted, j.Reasons,
				j.Measurement.Divergence, j.Measurement.Accuracy)
		}
	}
	if ups[4].Judgement.Reasons&federated.ReasonDivergence == 0 {
		t.Errorf("the boosted update was not flagged as divergent: %v", ups[4].Judgement.Reasons)
	}

	m, err := w.store.Model(ctx, done.NewModelID)
	if err != nil || m.Round != 1 || m.Parent != w.base.ID() || m.Version == 0 {
		t.Fatalf("new model %+v %v", m, err)
	}
	var refs []coordinator.UpdateRef
	for _, u := range acks[:4] {
		refs = append(refs, coordinator.UpdateRef{RecordID: u.RecordID, Site: u.Update.Site, Leaf: anchor.HexHash(u.Leaf)})
	}
	root, _ := coordinator.UpdatesRoot(refs)
	reg, ok := w.chain.Registered(m.Version)
	if !ok || reg.Round != 1 || reg.UpdatesRoot != root || common.Hash(reg.Hash).Hex()[2:] != m.ID {
		t.Fatalf("registry entry %+v (ok %v), want round 1, root %x, hash %s", reg, ok, root, m.ID)
	}
	// The base model was registered too, as the initial model (round 0).
	if reg0, ok := w.chain.Registered(1); !ok || reg0.Round != 0 || common.Hash(reg0.Hash).Hex()[2:] != w.base.ID() {
		t.Fatalf("initial model entry %+v %v", reg0, ok)
	}
	got := kinds(w.store.Records())
	if got["model_update"] != 5 || got["fl_round"] != 1 || got["global_model"] != 1 || got["audit_event"] != 6 {
		t.Fatalf("records %v, want 5 updates, 1 round, 1 model, 6 audit events (5 enrolls, 1 open)", got)
	}
	var rr coordinator.RoundRecord
	var mr coordinator.ModelRecord
	for _, rec := range w.store.Records() {
		switch rec.Kind {
		case "fl_round":
			if err := json.Unmarshal(rec.Body, &rr); err != nil || rr.ID != rec.ID {
				t.Fatalf("round record %v id %s vs %s", err, rr.ID, rec.ID)
			}
		case "global_model":
			if err := json.Unmarshal(rec.Body, &mr); err != nil || mr.ID != rec.ID {
				t.Fatalf("model record %v", err)
			}
		}
	}
	if len(rr.Updates) != 5 || rr.Updates[4].Accepted || len(rr.Updates[4].Reasons) == 0 || rr.NewModel != m.ID || !rr.Updates[0].Judged {
		t.Fatalf("round record %+v", rr)
	}
	if mr.ModelID != m.ID || len(mr.Updates) != 4 || anchor.Hash(mr.UpdatesRoot) != root || mr.RoundRecord != rr.ID {
		t.Fatalf("model record %+v", mr)
	}

	// The next round starts from the new model.
	r2 := w.open(fedavg, 4)
	if r2.Number != 2 || r2.BaseModelID != m.ID {
		t.Fatalf("round 2 starts from %s, want %s", r2.BaseModelID, m.ID)
	}
}

// Submissions are idempotent, refused when they are not the key's site's,
// and refused with a kept rejection when they are bad.
func TestSubmitRefusals(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 3)
	w.open(fedavg, 3)
	body := w.update(w.sites[0], 1)
	first, _, err := w.c.Submit(ctx, w.sites[0].keyID, body)
	if err != nil {
		t.Fatal(err)
	}
	again, isAgain, err := w.c.Submit(ctx, w.sites[0].keyID, body)
	if err != nil || !isAgain || again.RecordID != first.RecordID {
		t.Fatalf("resubmission: %v again=%v id %s vs %s", err, isAgain, again.RecordID, first.RecordID)
	}
	if n := kinds(w.store.Records())["model_update"]; n != 1 {
		t.Fatalf("%d update records after a resubmission", n)
	}
	if _, _, err := w.c.Submit(ctx, w.sites[1].keyID, body); !errors.Is(err, coordinator.ErrSiteMismatch) {
		t.Fatalf("another site's update: %v", err)
	}
	if _, _, err := w.c.Submit(ctx, uuid.New(), body); !errors.Is(err, coordinator.ErrNotASite) {
		t.Fatalf("unbound key: %v", err)
	}
	var u federated.Update
	if err := json.Unmarshal(w.update(w.sites[1], 1), &u); err != nil {
		t.Fatal(err)
	}
	u.Samples++ // altered after signing
	tampered, _ := json.Marshal(u)
	if _, _, err := w.c.Submit(ctx, w.sites[1].keyID, tampered); !errors.Is(err, federated.ErrBadSignature) {
		t.Fatalf("altered update: %v", err)
	}
	if _, _, err := w.c.Submit(ctx, w.sites[1].keyID, []byte(`{"round":1,"extra":true}`)); !errors.Is(err, federated.ErrMalformed) {
		t.Fatalf("unknown field: %v", err)
	}
	rej, _ := w.store.Rejections(ctx, 1)
	if len(rej) != 1 || rej[0].Site != w.sites[1].addr || !strings.Contains(rej[0].Reason, "signature") {
		t.Fatalf("rejections %+v", rej)
	}
	if _, err := w.c.Task(ctx, w.sites[0].keyID); !errors.Is(err, federated.ErrDuplicate) {
		t.Fatalf("task after submitting: %v", err)
	}
}

// A coordinator that dies while closing a round (its database write
// fails) leaves the round closing; a new coordinator over the same store
// finishes it with the judgement the contract already gave, and no update
// is counted twice.
func TestCrashWhileClosing(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 3)
	w.open(fedavg, 3)
	for _, s := range w.sites {
		if _, _, err := w.c.Submit(ctx, s.keyID, w.update(s, 1)); err != nil {
			t.Fatal(err)
		}
	}
	// Begin closing as Step does, then lose the database for the final
	// write (CompleteRound).
	r, _ := w.store.CurrentRound(ctx)
	if err := r.BeginClosing(w.now); err != nil {
		t.Fatal(err)
	}
	if err := w.store.SaveRound(ctx, r); err != nil {
		t.Fatal(err)
	}
	w.store.FailNext = errors.New("database lost")
	if err := w.c.Step(ctx); err == nil {
		t.Fatal("closing succeeded with the database lost")
	}
	if r, _ := w.store.Round(ctx, 1); r.State != federated.StateClosing {
		t.Fatalf("round %s after the crash, want closing", r.State)
	}
	w.c = w.coordinator() // restarted
	if err := w.c.Step(ctx); err != nil {
		t.Fatal(err)
	}
	r, _ = w.store.Round(ctx, 1)
	if r.State != federated.StateClosed {
		t.Fatalf("round %s after the restart", r.State)
	}
	if w.chain.Submitted != 1 {
		t.Fatalf("the contract judged the round %d times", w.chain.Submitted)
	}
	if got := kinds(w.store.Records()); got["model_update"] != 3 || got["fl_round"] != 1 || got["global_model"] != 1 {
		t.Fatalf("records %v", got)
	}
}

// A round whose deadline passes without enough updates fails, with a
// round record listing what came.
func TestExpiredRoundFails(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 3)
	w.open(fedavg, 3)
	if _, _, err := w.c.Submit(ctx, w.sites[0].keyID, w.update(w.sites[0], 1)); err != nil {
		t.Fatal(err)
	}
	if err := w.c.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := w.store.CurrentRound(ctx); r.State != federated.StateOpen {
		t.Fatalf("round closed before its deadline: %s", r.State)
	}
	w.now = w.now.Add(2 * time.Hour)
	if err := w.c.Step(ctx); err != nil {
		t.Fatal(err)
	}
	r, _ := w.store.Round(ctx, 1)
	if r.State != federated.StateFailed || !strings.Contains(r.FailReason, "1 of the 3") {
		t.Fatalf("round %s: %q", r.State, r.FailReason)
	}
	var rr coordinator.RoundRecord
	for _, rec := range w.store.Records() {
		if rec.Kind == "fl_round" {
			_ = json.Unmarshal(rec.Body, &rr)
		}
	}
	if rr.State != federated.StateFailed || len(rr.Updates) != 1 || rr.Updates[0].Judged || w.chain.Submitted != 0 {
		t.Fatalf("round record %+v, judged %d", rr, w.chain.Submitted)
	}
	// A new round can open.
	if r2 := w.open(fedavg, 1); r2.Number != 2 || r2.BaseModelID != w.base.ID() {
		t.Fatalf("round 2: %+v", r2)
	}
}

// Open refuses what cannot work: no validation set, a second open round,
// a model kind that does not federate.
func TestOpenRefusals(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 2)
	w.open(fedavg, 2)
	if _, err := w.c.Open(ctx, coordinator.OpenRequest{Policy: fedavg}, "admin"); !errors.Is(err, coordinator.ErrRoundOpen) {
		t.Fatalf("second round: %v", err)
	}
	bare := coordinator.New(w.store, w.chain, coordinator.Options{})
	if _, err := bare.Open(ctx, coordinator.OpenRequest{Policy: fedavg}, "admin"); !errors.Is(err, coordinator.ErrNoValidation) {
		t.Fatalf("no validation set: %v", err)
	}
}

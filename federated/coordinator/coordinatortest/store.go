// Package coordinatortest holds the contract tests of coordinator.Store.
// Every implementation runs them (the in-memory fakes.FedStore in a unit
// test, PostgreSQL's storage.Federation in an integration test), so the
// store the coordinator's own tests run on provably behaves as the real
// one.
package coordinatortest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
)

// Env is a store under test and what the tests need beside it.
type Env struct {
	Store coordinator.Store
	// NewKey returns the id of a new fl-node API key (a store may bind
	// only keys that exist).
	NewKey func(t *testing.T) uuid.UUID
	// Records returns every record the store appended to the anchoring
	// outbox, in order.
	Records func(t *testing.T) []coordinator.Record
}

// TestStore runs the contract tests of coordinator.Store; open returns a
// new, empty store for each.
func TestStore(t *testing.T, open func(t *testing.T) Env) {
	tests := []struct {
		name string
		run  func(f *fixture)
	}{
		{"Sites", testSites},
		{"Rounds", testRounds},
		{"RoundStates", testRoundStates},
		{"Updates", testUpdates},
		{"AddUpdateIsAtomic", testAddUpdateAtomic},
		{"Rejections", testRejections},
		{"CompleteRound", testCompleteRound},
		{"CompleteRoundIsAtomic", testCompleteRoundAtomic},
		{"CompleteFailedRound", testCompleteFailedRound},
		{"EmptyHistory", testEmptyHistory},
		{"Events", testEvents},
		{"Models", testModels},
		{"ModelVersions", testModelVersions},
		{"Registration", testRegistration},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := open(t)
			tc.run(&fixture{t: t, Env: env, ctx: context.Background(), now: time.Now().UTC().Truncate(time.Microsecond)})
		})
	}
}

// fixture makes the values the tests store. Times are UTC at microsecond
// precision, as the coordinator makes them and PostgreSQL keeps them.
type fixture struct {
	t *testing.T
	Env
	ctx context.Context
	now time.Time
}

func (f *fixture) records() []coordinator.Record { return f.Records(f.t) }

// record makes a record of kind with a new id and the canonical JSON of
// body (with the id added).
func (f *fixture) record(kind string, body map[string]any) coordinator.Record {
	f.t.Helper()
	id := uuid.Must(uuid.NewV7())
	body["type"], body["id"] = kind, id
	canon, err := anchor.CanonicalJSON(body)
	if err != nil {
		f.t.Fatal(err)
	}
	return coordinator.Record{ID: id, Kind: kind, Body: canon}
}

func (f *fixture) event(action string) coordinator.Record {
	return f.record("audit_event", map[string]any{"action": action, "actor": "admin", "at": f.now})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func (f *fixture) newSite(name string) coordinator.Site {
	return coordinator.Site{Address: common.BytesToAddress(randomBytes(20)), Name: name, KeyID: f.NewKey(f.t), EnrolledAt: f.now}
}

// enroll enrolls n new sites.
func (f *fixture) enroll(n int) []coordinator.Site {
	f.t.Helper()
	var out []coordinator.Site
	for i := range n {
		s := f.newSite(fmt.Sprintf("site %d", i))
		if err := f.Store.PutSite(f.ctx, s, f.event("fl.site.enroll")); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// round is an open round n of sites with every field set, so that storing
// and loading it shows any field lost or changed.
func (f *fixture) round(n uint64, sites []coordinator.Site) federated.Round {
	f.t.Helper()
	rule, err := federated.ParseRule("multikrum:1:2")
	if err != nil {
		f.t.Fatal(err)
	}
	addrs := make([]common.Address, len(sites))
	for i, s := range sites {
		addrs[i] = s.Address
	}
	return federated.Round{
		Number: n, ChainID: 31337, BaseModelID: detector.ModelID([]byte("base")), Dim: 1234, Sites: addrs,
		Opened: f.now, Deadline: f.now.Add(10 * time.Minute), MinUpdates: 2, MaxUpdates: 5,
		Policy: federated.Policy{Epochs: 3, BatchSize: 64, LearningRate: 0.001, Rule: rule,
			DP:          federated.DPPolicy{Mode: federated.DPLocal, Clip: 1.5, Sigma: 0.7},
			Compression: federated.Compression{Encoding: federated.EncTopKQ8, TopK: 0.1}, AutoPromote: true},
		Limits: federated.Limits{MaxPayloadBytes: 1 << 20, MaxSamples: 1_000_000},
		State:  federated.StateOpen, BytesDown: 4096,
	}
}

// open stores r as a new round.
func (f *fixture) open(r federated.Round) {
	f.t.Helper()
	if err := f.Store.OpenRound(f.ctx, r, f.event("fl.round.open")); err != nil {
		f.t.Fatal(err)
	}
}

// update is an update of site s for round r (not signed: a store does not
// check signatures), with its record, and r with its receipt as Accept
// would leave it.
func (f *fixture) update(r federated.Round, s coordinator.Site, payload int) (federated.Round, coordinator.StoredUpdate, coordinator.Record) {
	f.t.Helper()
	u := &federated.Update{ChainID: r.ChainID, Round: r.Number, BaseModel: r.BaseModelID, Site: s.Address, Samples: 500,
		Dim: uint32(r.Dim), Encoding: r.Policy.Compression.Encoding, Payload: randomBytes(payload),
		ReportedAccuracy: 0.93, ReportedLoss: 0.21, DP: r.Policy.DP.SiteParams(), Signature: randomBytes(65)}
	hash := u.UpdateHash()
	rec := f.record("model_update", map[string]any{"round": r.Number, "site": s.Address, "update_hash": hash, "update": u})
	su := coordinator.StoredUpdate{RecordID: rec.ID, Round: r.Number, Update: u, Hash: hash, Leaf: rec.Leaf(), ReceivedAt: f.now}
	r.Received = append(slices.Clone(r.Received), federated.Receipt{Site: s.Address, UpdateHash: hash, Samples: u.Samples, Bytes: len(u.Payload), At: f.now})
	r.BytesUp += uint64(len(u.Payload))
	return r, su, rec
}

// addUpdates stores an update of each site in open round r and returns the
// round and the updates as stored.
func (f *fixture) addUpdates(r federated.Round, sites []coordinator.Site) (federated.Round, []coordinator.StoredUpdate) {
	f.t.Helper()
	var ups []coordinator.StoredUpdate
	for _, s := range sites {
		var u coordinator.StoredUpdate
		var rec coordinator.Record
		r, u, rec = f.update(r, s, 512)
		if err := f.Store.AddUpdate(f.ctx, r, u, rec); err != nil {
			f.t.Fatal(err)
		}
		ups = append(ups, u)
	}
	return r, ups
}

// modelFile is a model file whose id is its keccak256, as a round would
// make it when round > 0.
func (f *fixture) modelFile(size int, round uint64, parent string) coordinator.ModelFile {
	file := randomBytes(size)
	m := coordinator.ModelFile{ID: detector.ModelID(file), Kind: "autoencoder", File: file, CreatedAt: f.now}
	if round > 0 {
		m.Round, m.Parent, m.UpdatesRoot = round, parent, anchor.HexHash(randomBytes(32))
	}
	return m
}

func (f *fixture) putModel(m coordinator.ModelFile) {
	f.t.Helper()
	if err := f.Store.PutModel(f.ctx, m); err != nil {
		f.t.Fatal(err)
	}
}

// equal fails the test when got and want differ, showing both as JSON.
func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

// is fails the test unless errors.Is(err, target).
func is(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// val carries a value and its error to must: val(st.Sites(ctx)).must(t).
func val[T any](v T, err error) result[T] { return result[T]{v, err} }

type result[T any] struct {
	v   T
	err error
}

// must returns the value, or fails the test with the error.
func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

// recordsAre fails the test unless the store's records are want.
func (f *fixture) recordsAre(what string, want []coordinator.Record) {
	f.t.Helper()
	got := f.records()
	if len(got) != len(want) {
		f.t.Fatalf("%s: %d records, want %d", what, len(got), len(want))
	}
	equal(f.t, what, got, want)
}

func testSites(f *fixture) {
	t, st := f.t, f.Store
	if got := val(st.Sites(f.ctx)).must(t); len(got) != 0 {
		t.Fatalf("a new store has sites: %v", got)
	}
	a, b := f.newSite("a"), f.newSite("b")
	evA, evB := f.event("fl.site.enroll"), f.event("fl.site.enroll")
	if err := st.PutSite(f.ctx, a, evA); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSite(f.ctx, b, evB); err != nil {
		t.Fatal(err)
	}
	equal(t, "sites, oldest first", val(st.Sites(f.ctx)).must(t), []coordinator.Site{a, b})
	equal(t, "site for a's key", val(st.SiteForKey(f.ctx, a.KeyID)).must(t), a)
	_, err := st.SiteForKey(f.ctx, uuid.New())
	is(t, "site for an unknown key", err, coordinator.ErrNotFound)
	records := []coordinator.Record{evA, evB}
	f.recordsAre("enrolment events", records)

	c := f.newSite("c")
	c.KeyID = a.KeyID
	is(t, "a site with a's key", st.PutSite(f.ctx, c, f.event("fl.site.enroll")), coordinator.ErrConflict)
	equal(t, "sites after a key conflict", val(st.Sites(f.ctx)).must(t), []coordinator.Site{a, b})
	f.recordsAre("records after a key conflict", records)

	evRm := f.event("fl.site.remove")
	if err := st.RemoveSite(f.ctx, a.Address, evRm); err != nil {
		t.Fatal(err)
	}
	records = append(records, evRm)
	sites := val(st.Sites(f.ctx)).must(t)
	if len(sites) != 2 || sites[0].Address != a.Address || sites[0].RemovedAt == nil || sites[1].RemovedAt != nil {
		t.Fatalf("sites after removing a: %+v", sites)
	}
	_, err = st.SiteForKey(f.ctx, a.KeyID)
	is(t, "site for a removed site's key", err, coordinator.ErrNotFound)
	is(t, "removing a removed site", st.RemoveSite(f.ctx, a.Address, f.event("fl.site.remove")), coordinator.ErrNotFound)
	is(t, "removing a site never enrolled", st.RemoveSite(f.ctx, c.Address, f.event("fl.site.remove")), coordinator.ErrNotFound)
	f.recordsAre("records after failed removals", records)

	// A removed site keeps its key: no other site may take it.
	c.KeyID = a.KeyID
	is(t, "a site with a removed site's key", st.PutSite(f.ctx, c, f.event("fl.site.enroll")), coordinator.ErrConflict)

	// Enrolled again: the new name and key, the first enrolment time.
	again := a
	again.Name, again.KeyID, again.EnrolledAt = "a again", f.NewKey(t), f.now.Add(time.Hour)
	evAgain := f.event("fl.site.enroll")
	if err := st.PutSite(f.ctx, again, evAgain); err != nil {
		t.Fatal(err)
	}
	records = append(records, evAgain)
	again.EnrolledAt = a.EnrolledAt
	equal(t, "sites after enrolling a again", val(st.Sites(f.ctx)).must(t), []coordinator.Site{again, b})
	equal(t, "site for a's new key", val(st.SiteForKey(f.ctx, again.KeyID)).must(t), again)
	_, err = st.SiteForKey(f.ctx, a.KeyID)
	is(t, "site for a's old key", err, coordinator.ErrNotFound)
	f.recordsAre("records after enrolling again", records)
}

func testRounds(f *fixture) {
	t, st := f.t, f.Store
	if n := val(st.LastRound(f.ctx)).must(t); n != 0 {
		t.Fatalf("last round of a new store: %d", n)
	}
	_, err := st.CurrentRound(f.ctx)
	is(t, "current round of a new store", err, coordinator.ErrNotFound)
	_, err = st.Round(f.ctx, 1)
	is(t, "round 1 of a new store", err, coordinator.ErrNotFound)
	if rs := val(st.Rounds(f.ctx, 0, 10)).must(t); len(rs) != 0 {
		t.Fatalf("rounds of a new store: %v", rs)
	}

	sites := f.enroll(3)
	r1 := f.round(1, sites)
	r1.Received = []federated.Receipt{{Site: sites[0].Address, UpdateHash: common.BytesToHash(randomBytes(32)), Samples: 7, Bytes: 99, At: f.now}}
	ev := f.event("fl.round.open")
	if err := st.OpenRound(f.ctx, r1, ev); err != nil {
		t.Fatal(err)
	}
	records := f.records()
	if last := records[len(records)-1]; last.ID != ev.ID {
		t.Fatalf("the last record is %s, not the round's event", last.ID)
	}
	equal(t, "round 1", val(st.Round(f.ctx, 1)).must(t), r1)
	equal(t, "current round", val(st.CurrentRound(f.ctx)).must(t), r1)
	if n := val(st.LastRound(f.ctx)).must(t); n != 1 {
		t.Fatalf("last round %d, want 1", n)
	}

	is(t, "opening round 2 while 1 is open", st.OpenRound(f.ctx, f.round(2, sites), f.event("fl.round.open")), coordinator.ErrRoundOpen)
	is(t, "opening round 1 again while it is open", st.OpenRound(f.ctx, f.round(1, sites), f.event("fl.round.open")), coordinator.ErrRoundOpen)
	f.recordsAre("records after refused openings", records)
	if n := val(st.LastRound(f.ctx)).must(t); n != 1 {
		t.Fatalf("last round %d after refused openings, want 1", n)
	}

	r1.RecordDownload(1000)
	if err := st.SaveRound(f.ctx, r1); err != nil {
		t.Fatal(err)
	}
	equal(t, "round 1 after a download", val(st.Round(f.ctx, 1)).must(t), r1)
	r1.State = federated.StateClosing
	if err := st.SaveRound(f.ctx, r1); err != nil {
		t.Fatal(err)
	}
	equal(t, "current round while closing", val(st.CurrentRound(f.ctx)).must(t), r1)
	is(t, "opening round 2 while 1 is closing", st.OpenRound(f.ctx, f.round(2, sites), f.event("fl.round.open")), coordinator.ErrRoundOpen)
	is(t, "saving round 99", st.SaveRound(f.ctx, f.round(99, sites)), coordinator.ErrNotFound)
	f.recordsAre("records after saving rounds", records)

	f.fail(r1)
	_, err = st.CurrentRound(f.ctx)
	is(t, "current round after round 1 failed", err, coordinator.ErrNotFound)
	is(t, "opening round 1 again", st.OpenRound(f.ctx, f.round(1, sites), f.event("fl.round.open")), coordinator.ErrConflict)

	r2 := f.round(2, sites)
	f.open(r2)
	f.fail(r2)
	r3 := f.round(3, sites)
	f.open(r3)
	r1, r2 = val(st.Round(f.ctx, 1)).must(t), val(st.Round(f.ctx, 2)).must(t)
	for _, c := range []struct {
		before uint64
		limit  int
		want   []federated.Round
	}{
		{0, 10, []federated.Round{r3, r2, r1}},
		{0, 2, []federated.Round{r3, r2}},
		{3, 10, []federated.Round{r2, r1}},
		{2, 1, []federated.Round{r1}},
		{1, 10, nil},
		{0, 0, nil},
		{0, -1, nil},
	} {
		got := val(st.Rounds(f.ctx, c.before, c.limit)).must(t)
		if len(got) == 0 && len(c.want) == 0 {
			continue
		}
		equal(t, fmt.Sprintf("rounds before %d, at most %d", c.before, c.limit), got, c.want)
	}
}

// fail completes round r as failed, without updates or a model.
func (f *fixture) fail(r federated.Round) {
	f.t.Helper()
	if err := r.Fail("test"); err != nil {
		f.t.Fatal(err)
	}
	o := coordinator.Outcome{Round: r, Reputations: map[common.Address]uint16{}, RoundRecord: f.record("fl_round", map[string]any{"round": r.Number})}
	if err := f.Store.CompleteRound(f.ctx, o); err != nil {
		f.t.Fatal(err)
	}
}

// A round's state only moves forward, and an ended round changes no more.
func testRoundStates(f *fixture) {
	t, st := f.t, f.Store
	sites := f.enroll(2)
	r := f.round(1, sites)
	f.open(r)
	r.State = federated.StateClosing
	if err := st.SaveRound(f.ctx, r); err != nil {
		t.Fatal(err)
	}
	back := r
	back.State = federated.StateOpen
	is(t, "saving a closing round as open", st.SaveRound(f.ctx, back), federated.ErrRoundClosed)
	equal(t, "round 1 after a refused reopening", val(st.Round(f.ctx, 1)).must(t), r)

	f.fail(r)
	failed := val(st.Round(f.ctx, 1)).must(t)
	r.State = federated.StateClosing
	is(t, "saving a failed round as closing", st.SaveRound(f.ctx, r), federated.ErrRoundClosed)
	records := f.records()
	again := coordinator.Outcome{Round: failed, Reputations: map[common.Address]uint16{},
		RoundRecord: f.record("fl_round", map[string]any{"round": 1})}
	is(t, "completing a failed round again", st.CompleteRound(f.ctx, again), federated.ErrRoundClosed)
	f.recordsAre("records after completing a round twice", records)
	equal(t, "round 1 after refused changes", val(st.Round(f.ctx, 1)).must(t), failed)
	missing := again
	missing.Round.Number = 99
	is(t, "completing a round never opened", st.CompleteRound(f.ctx, missing), coordinator.ErrNotFound)
	open := f.round(2, sites)
	f.open(open)
	wrong := coordinator.Outcome{Round: open, RoundRecord: f.record("fl_round", map[string]any{"round": 2})}
	if err := st.CompleteRound(f.ctx, wrong); err == nil {
		t.Fatal("an open round was completed")
	}
	equal(t, "round 2 after completing it as open", val(st.Round(f.ctx, 2)).must(t), open)
}

func testUpdates(f *fixture) {
	t, st := f.t, f.Store
	sites := f.enroll(3)
	r := f.round(1, sites)
	f.open(r)

	r, u0, rec0 := f.update(r, sites[0], 1000)
	if err := st.AddUpdate(f.ctx, r, u0, rec0); err != nil {
		t.Fatal(err)
	}
	// An update of 200 kB, as a large model's delta makes.
	r, u1, rec1 := f.update(r, sites[1], 200_000)
	if err := st.AddUpdate(f.ctx, r, u1, rec1); err != nil {
		t.Fatal(err)
	}
	equal(t, "updates, as received", val(st.Updates(f.ctx, 1)).must(t), []coordinator.StoredUpdate{u0, u1})
	equal(t, "update 1 by id", val(st.Update(f.ctx, u1.RecordID)).must(t), u1)
	equal(t, "round with its receipts", val(st.Round(f.ctx, 1)).must(t), r)
	records := f.records()
	equal(t, "the updates' records", records[len(records)-2:], []coordinator.Record{rec0, rec1})

	// Another update of site 0.
	r2, dup, recDup := f.update(r, sites[0], 10)
	is(t, "a second update of one site", st.AddUpdate(f.ctx, r2, dup, recDup), coordinator.ErrConflict)
	equal(t, "updates after a second update of one site", val(st.Updates(f.ctx, 1)).must(t), []coordinator.StoredUpdate{u0, u1})
	equal(t, "round after a second update of one site", val(st.Round(f.ctx, 1)).must(t), r)
	f.recordsAre("records after a second update of one site", records)

	_, err := st.Update(f.ctx, uuid.New())
	is(t, "an unknown update", err, coordinator.ErrNotFound)
	if ups := val(st.Updates(f.ctx, 99)).must(t); len(ups) != 0 {
		t.Fatalf("updates of a round never opened: %v", ups)
	}
	stranger := f.newSite("never enrolled")
	r.Sites = append(r.Sites, stranger.Address)
	rs, us, recS := f.update(r, stranger, 10)
	is(t, "an update of a site never enrolled", st.AddUpdate(f.ctx, rs, us, recS), coordinator.ErrNotFound)
	r99 := f.round(99, sites)
	r99, u99, rec99 := f.update(r99, sites[2], 10)
	is(t, "an update of a round never opened", st.AddUpdate(f.ctx, r99, u99, rec99), coordinator.ErrNotFound)

	// No update once the round is closing.
	closing := val(st.Round(f.ctx, 1)).must(t)
	closing.State = federated.StateClosing
	if err := st.SaveRound(f.ctx, closing); err != nil {
		t.Fatal(err)
	}
	r.Sites = closing.Sites
	late, u2, rec2 := f.update(r, sites[2], 10)
	is(t, "an update of a closing round", st.AddUpdate(f.ctx, late, u2, rec2), federated.ErrRoundClosed)
	equal(t, "updates after refused updates", val(st.Updates(f.ctx, 1)).must(t), []coordinator.StoredUpdate{u0, u1})
	equal(t, "round after refused updates", val(st.Round(f.ctx, 1)).must(t), closing)
	f.recordsAre("records after refused updates", records)
}

// A failing AddUpdate leaves neither the update nor its record nor the
// round's new receipt.
func testAddUpdateAtomic(f *fixture) {
	t, st := f.t, f.Store
	sites := f.enroll(2)
	r := f.round(1, sites)
	f.open(r)
	r, ups := f.addUpdates(r, sites[:1])
	records := f.records()

	// The record's id is taken (by the round's opening event): the update
	// and the round would be stored before the record fails.
	next, u, rec := f.update(r, sites[1], 100)
	rec.ID = records[len(records)-2].ID
	u.RecordID = rec.ID
	if err := st.AddUpdate(f.ctx, next, u, rec); !errors.Is(err, coordinator.ErrConflict) {
		t.Fatalf("an update whose record id is taken: %v, want ErrConflict", err)
	}
	equal(t, "updates after a failed AddUpdate", val(st.Updates(f.ctx, 1)).must(t), ups)
	equal(t, "round after a failed AddUpdate", val(st.Round(f.ctx, 1)).must(t), r)
	f.recordsAre("records after a failed AddUpdate", records)

	// The same update with a fresh record is stored whole.
	next, u, rec = f.update(r, sites[1], 100)
	if err := st.AddUpdate(f.ctx, next, u, rec); err != nil {
		t.Fatal(err)
	}
	equal(t, "updates after a retry", val(st.Updates(f.ctx, 1)).must(t), append(ups, u))
	equal(t, "round after a retry", val(st.Round(f.ctx, 1)).must(t), next)
	f.recordsAre("records after a retry", append(records, rec))
}

func testRejections(f *fixture) {
	t, st := f.t, f.Store
	rej := func(round uint64, reason string) coordinator.Rejection {
		return coordinator.Rejection{Round: round, Site: common.BytesToAddress(randomBytes(20)),
			UpdateHash: common.BytesToHash(randomBytes(32)), Reason: reason, At: f.now}
	}
	a, b, c := rej(1, "bad signature"), rej(2, "late"), rej(1, "wrong shape")
	for _, r := range []coordinator.Rejection{a, b, c} {
		if err := st.AddRejection(f.ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	equal(t, "round 1 rejections, oldest first", val(st.Rejections(f.ctx, 1)).must(t), []coordinator.Rejection{a, c})
	equal(t, "round 2 rejections", val(st.Rejections(f.ctx, 2)).must(t), []coordinator.Rejection{b})
	if rs := val(st.Rejections(f.ctx, 3)).must(t); len(rs) != 0 {
		t.Fatalf("rejections of round 3: %v", rs)
	}
	if rs := f.records(); len(rs) != 0 {
		t.Fatalf("rejections made records: %v", rs)
	}
}

// closing is a closing round 1 of three sites with an update each, and the
// outcome of closing it with a new model, ready for CompleteRound.
func (f *fixture) closing() ([]coordinator.Site, coordinator.Outcome) {
	t, st := f.t, f.Store
	sites := f.enroll(3)
	base := f.modelFile(300, 0, "")
	f.putModel(base)
	r := f.round(1, sites)
	r.BaseModelID = base.ID
	f.open(r)
	r, ups := f.addUpdates(r, sites)
	r.State = federated.StateClosing
	if err := st.SaveRound(f.ctx, r); err != nil {
		t.Fatal(err)
	}
	for i := range ups {
		ups[i].Judgement = &coordinator.Judgement{
			Measurement: federated.Measurement{Site: sites[i].Address, UpdateHash: ups[i].Hash, Norm: 1.25 + float64(i),
				Divergence: 0.125, Accuracy: 0.9375, ReportedAccuracy: 0.93},
			Score:   federated.Score{Site: sites[i].Address, UpdateHash: common.Hash(ups[i].Leaf), Anomaly: 625, Divergence: 125000, Norm: 1250000},
			Reasons: federated.Reason(i & 1), Accepted: i&1 == 0, Reputation: uint16(50 + i),
		}
	}
	var acct federated.Accountant
	acct.Orders = []float64{1.5, 2, 32}
	acct.Record(sites[0].Address, 0.7, 1)
	acct.Record(sites[0].Address, 0.7, 1)
	acct.Record(sites[1].Address, 1.1, 0.3333333333333333)
	model := f.modelFile(400, 1, base.ID)
	model.Version = val(st.NextModelVersion(f.ctx)).must(t)
	if err := r.Complete(model.ID); err != nil {
		t.Fatal(err)
	}
	roundRec := f.record("fl_round", map[string]any{"round": 1, "state": "closed"})
	modelRec := f.record("global_model", map[string]any{"model_id": model.ID, "round_record": roundRec.ID})
	model.RecordID = modelRec.ID
	return sites, coordinator.Outcome{Round: r, Updates: ups,
		Reputations: map[common.Address]uint16{sites[0].Address: 50, sites[1].Address: 51, sites[2].Address: 52},
		Accountant:  acct, RoundRecord: roundRec, Model: &model, ModelRecord: &modelRec}
}

func testCompleteRound(f *fixture) {
	t, st := f.t, f.Store
	sites, o := f.closing()
	records := f.records()
	if err := st.CompleteRound(f.ctx, o); err != nil {
		t.Fatal(err)
	}
	equal(t, "round 1, closed", val(st.Round(f.ctx, 1)).must(t), o.Round)
	_, err := st.CurrentRound(f.ctx)
	is(t, "current round after closing", err, coordinator.ErrNotFound)
	equal(t, "judged updates", val(st.Updates(f.ctx, 1)).must(t), o.Updates)
	equal(t, "judged update by id", val(st.Update(f.ctx, o.Updates[2].RecordID)).must(t), o.Updates[2])
	equal(t, "reputations", val(st.Reputations(f.ctx)).must(t), o.Reputations)
	equal(t, "accountant", val(st.Accountant(f.ctx)).must(t), o.Accountant)
	equal(t, "new model", val(st.Model(f.ctx, o.Model.ID)).must(t), *o.Model)
	listed := *o.Model
	listed.File = nil
	equal(t, "unregistered models", val(st.Unregistered(f.ctx)).must(t), []coordinator.ModelFile{listed})
	f.recordsAre("records after closing", append(records, o.RoundRecord, *o.ModelRecord))
	got := f.records()
	if k := got[len(got)-2].Kind + " " + got[len(got)-1].Kind; k != "fl_round global_model" {
		t.Fatalf("the round's records are of kinds %s", k)
	}

	// The next round judges one site: the others keep their reputation.
	r2 := f.round(2, sites)
	f.open(r2)
	r2, ups := f.addUpdates(r2, sites[:1])
	if err := r2.Fail("too few"); err != nil {
		t.Fatal(err)
	}
	o2 := coordinator.Outcome{Round: r2, Updates: ups, Reputations: map[common.Address]uint16{sites[0].Address: 40},
		Accountant: o.Accountant, RoundRecord: f.record("fl_round", map[string]any{"round": 2})}
	if err := st.CompleteRound(f.ctx, o2); err != nil {
		t.Fatal(err)
	}
	o.Reputations[sites[0].Address] = 40
	equal(t, "reputations after round 2", val(st.Reputations(f.ctx)).must(t), o.Reputations)
}

// A failing CompleteRound changes nothing, and a retry then stores it all.
func testCompleteRoundAtomic(f *fixture) {
	t, st := f.t, f.Store
	_, o := f.closing()
	before := val(st.Round(f.ctx, 1)).must(t)
	ups := val(st.Updates(f.ctx, 1)).must(t)
	records := f.records()
	check := func(what string) {
		t.Helper()
		equal(t, what+": round", val(st.Round(f.ctx, 1)).must(t), before)
		equal(t, what+": updates", val(st.Updates(f.ctx, 1)).must(t), ups)
		if reps := val(st.Reputations(f.ctx)).must(t); len(reps) != 0 {
			t.Fatalf("%s: reputations %v", what, reps)
		}
		equal(t, what+": accountant", val(st.Accountant(f.ctx)).must(t), federated.Accountant{})
		_, err := st.Model(f.ctx, o.Model.ID)
		is(t, what+": model", err, coordinator.ErrNotFound)
		f.recordsAre(what+": records", records)
	}

	// The model record's id is taken: it is the last thing written.
	taken := *o.ModelRecord
	taken.ID = records[0].ID
	bad := o
	bad.ModelRecord = &taken
	is(t, "completing with a taken record id", st.CompleteRound(f.ctx, bad), coordinator.ErrConflict)
	check("after a taken record id")

	// An update that is not the round's.
	bad = o
	bad.Updates = append(slices.Clone(o.Updates), coordinator.StoredUpdate{RecordID: uuid.New(), Round: 1})
	is(t, "completing with an update not stored", st.CompleteRound(f.ctx, bad), coordinator.ErrNotFound)
	check("after an update not stored")

	if err := st.CompleteRound(f.ctx, o); err != nil {
		t.Fatal(err)
	}
	equal(t, "round after a retry", val(st.Round(f.ctx, 1)).must(t), o.Round)
	equal(t, "updates after a retry", val(st.Updates(f.ctx, 1)).must(t), o.Updates)
	f.recordsAre("records after a retry", append(records, o.RoundRecord, *o.ModelRecord))
}

// A round that failed before the contract judged it: no model, updates
// without judgement.
func testCompleteFailedRound(f *fixture) {
	t, st := f.t, f.Store
	sites := f.enroll(2)
	r := f.round(1, sites)
	f.open(r)
	r, ups := f.addUpdates(r, sites[:1])
	if err := r.Fail("the deadline passed with 1 of the 2 updates needed"); err != nil {
		t.Fatal(err)
	}
	var acct federated.Accountant
	acct.Record(sites[0].Address, 0.5, 1)
	o := coordinator.Outcome{Round: r, Updates: ups, Reputations: map[common.Address]uint16{}, Accountant: acct,
		RoundRecord: f.record("fl_round", map[string]any{"round": 1, "state": "failed"})}
	records := f.records()
	if err := st.CompleteRound(f.ctx, o); err != nil {
		t.Fatal(err)
	}
	equal(t, "failed round", val(st.Round(f.ctx, 1)).must(t), r)
	equal(t, "updates of a failed round", val(st.Updates(f.ctx, 1)).must(t), ups)
	equal(t, "accountant", val(st.Accountant(f.ctx)).must(t), acct)
	if ms := val(st.Models(f.ctx)).must(t); len(ms) != 0 {
		t.Fatalf("a failed round stored models: %v", ms)
	}
	f.recordsAre("records of a failed round", append(records, o.RoundRecord))
}

func testEmptyHistory(f *fixture) {
	t, st := f.t, f.Store
	equal(t, "accountant before any round", val(st.Accountant(f.ctx)).must(t), federated.Accountant{})
	if reps := val(st.Reputations(f.ctx)).must(t); len(reps) != 0 {
		t.Fatalf("reputations before any round: %v", reps)
	}
}

func testEvents(f *fixture) {
	t, st := f.t, f.Store
	a, b := f.event("fl.thresholds.set"), f.event("fl.thresholds.set")
	for _, ev := range []coordinator.Record{a, b} {
		if err := st.AddEvent(f.ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	f.recordsAre("events", []coordinator.Record{a, b})
	dup := f.event("fl.thresholds.set")
	dup.ID = a.ID
	is(t, "an event with a taken id", st.AddEvent(f.ctx, dup), coordinator.ErrConflict)
	f.recordsAre("events after a taken id", []coordinator.Record{a, b})
}

func testModels(f *fixture) {
	t, st := f.t, f.Store
	if ms := val(st.Models(f.ctx)).must(t); len(ms) != 0 {
		t.Fatalf("models of a new store: %v", ms)
	}
	a := f.modelFile(1000, 0, "")
	b := f.modelFile(2000, 7, a.ID)
	b.RecordID = uuid.New()
	f.putModel(a)
	f.putModel(b)
	equal(t, "model a", val(st.Model(f.ctx, a.ID)).must(t), a)
	equal(t, "model b", val(st.Model(f.ctx, b.ID)).must(t), b)
	la, lb := a, b
	la.File, lb.File = nil, nil
	equal(t, "models, newest first, without files", val(st.Models(f.ctx)).must(t), []coordinator.ModelFile{lb, la})

	// The same id again changes nothing.
	other := a
	other.Kind, other.Round, other.CreatedAt = "mlp", 3, f.now.Add(time.Hour)
	f.putModel(other)
	equal(t, "model a after storing it again", val(st.Model(f.ctx, a.ID)).must(t), a)
	equal(t, "models after storing a again", val(st.Models(f.ctx)).must(t), []coordinator.ModelFile{lb, la})

	wrong := f.modelFile(10, 0, "")
	wrong.ID = detector.ModelID([]byte("another file"))
	if err := st.PutModel(f.ctx, wrong); err == nil {
		t.Fatal("a model whose id is not its file's hash was stored")
	}
	_, err := st.Model(f.ctx, wrong.ID)
	is(t, "a model never stored", err, coordinator.ErrNotFound)
	if rs := f.records(); len(rs) != 0 {
		t.Fatalf("storing models made records: %v", rs)
	}
}

// NextModelVersion never hands a number out twice, also to callers at
// once.
func testModelVersions(f *fixture) {
	t, st := f.t, f.Store
	seen := map[uint64]bool{}
	var last uint64
	for range 10 {
		v := val(st.NextModelVersion(f.ctx)).must(t)
		if v == 0 || v <= last {
			t.Fatalf("version %d after %d", v, last)
		}
		seen[v], last = true, v
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				v, err := st.NextModelVersion(f.ctx)
				mu.Lock()
				if err != nil || seen[v] || v == 0 {
					t.Errorf("version %d (error %v) handed out twice or zero", v, err)
				}
				seen[v] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func testRegistration(f *fixture) {
	t, st := f.t, f.Store
	a, b, c := f.modelFile(100, 0, ""), f.modelFile(100, 1, ""), f.modelFile(100, 0, "")
	for _, m := range []coordinator.ModelFile{a, b, c} {
		f.putModel(m)
	}
	if ms := val(st.Unregistered(f.ctx)).must(t); len(ms) != 0 {
		t.Fatalf("unregistered models before any plan: %v", ms)
	}
	v1 := val(st.NextModelVersion(f.ctx)).must(t)
	v2 := val(st.NextModelVersion(f.ctx)).must(t)
	is(t, "planning a model never stored", st.PlanRegistration(f.ctx, detector.ModelID([]byte("none")), v1), coordinator.ErrNotFound)

	// Planned out of the order they were stored in: listed by version.
	if err := st.PlanRegistration(f.ctx, b.ID, v1); err != nil {
		t.Fatal(err)
	}
	if err := st.PlanRegistration(f.ctx, a.ID, v2); err != nil {
		t.Fatal(err)
	}
	a.Version, b.Version = v2, v1
	la, lb := a, b
	la.File, lb.File = nil, nil
	equal(t, "unregistered models, by version", val(st.Unregistered(f.ctx)).must(t), []coordinator.ModelFile{lb, la})

	if err := st.PlanRegistration(f.ctx, a.ID, v2); err != nil {
		t.Fatalf("planning a model again as its version: %v", err)
	}
	is(t, "planning a model as another version", st.PlanRegistration(f.ctx, a.ID, val(st.NextModelVersion(f.ctx)).must(t)), coordinator.ErrConflict)
	is(t, "planning a model as another model's version", st.PlanRegistration(f.ctx, c.ID, v1), coordinator.ErrConflict)
	equal(t, "model c after a refused plan", val(st.Model(f.ctx, c.ID)).must(t), c)

	is(t, "marking a model never stored", st.MarkRegistered(f.ctx, detector.ModelID([]byte("none"))), coordinator.ErrNotFound)
	if err := st.MarkRegistered(f.ctx, c.ID); err == nil {
		t.Fatal("a model with no version planned was marked registered")
	}
	if err := st.MarkRegistered(f.ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	equal(t, "unregistered models after registering b", val(st.Unregistered(f.ctx)).must(t), []coordinator.ModelFile{la})
	b.Registered = true
	equal(t, "model b, registered", val(st.Model(f.ctx, b.ID)).must(t), b)
	if err := st.MarkRegistered(f.ctx, b.ID); err != nil {
		t.Fatalf("marking a registered model again: %v", err)
	}
	equal(t, "model c", val(st.Model(f.ctx, c.ID)).must(t), c)
}

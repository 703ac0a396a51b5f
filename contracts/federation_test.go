package contracts_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/bindings"
)

func TestFederationDeploy(t *testing.T) {
	f := newFedHarness(t)
	owner := fcall(f, f.fed.PackOwner(), f.fed.UnpackOwner)
	if owner != f.owner.addr || !f.isCoordinator(f.owner.addr) || f.isCoordinator(f.alice.addr) {
		t.Fatalf("owner %s, owner coordinator %v, alice coordinator %v", owner, f.isCoordinator(f.owner.addr), f.isCoordinator(f.alice.addr))
	}
	if got := f.thresholds(); got != defaultThresholds {
		t.Fatalf("thresholds() = %+v, want the spec's defaults %+v", got, defaultThresholds)
	}
	if f.lastRound() != 0 || f.getRound(1) != (bindings.FederationRegistryRoundSummary{}) {
		t.Fatal("a fresh registry has rounds")
	}
	// The deployment announces the owner, the first coordinator and the
	// default thresholds (from all zeros), so that events alone tell every
	// threshold ever in force.
	logs := f.allLogs()
	if len(logs) != 3 {
		t.Fatalf("deployment emitted %d logs, want 3", len(logs))
	}
	ot, err := f.fed.UnpackOwnershipTransferredEvent(&logs[0])
	if err != nil || ot.PreviousOwner != (common.Address{}) || ot.NewOwner != f.owner.addr {
		t.Fatalf("OwnershipTransferred = %+v, %v", ot, err)
	}
	cg, err := f.fed.UnpackCoordinatorGrantedEvent(&logs[1])
	if err != nil || cg.Account != f.owner.addr || cg.Id != 1 {
		t.Fatalf("CoordinatorGranted = %+v, %v", cg, err)
	}
	tc, err := f.fed.UnpackThresholdsChangedEvent(&logs[2])
	if err != nil || tc.Previous != (thresholds{}) || tc.Current != defaultThresholds {
		t.Fatalf("ThresholdsChanged = %+v, %v", tc, err)
	}
}

func TestFederationTransferOwnership(t *testing.T) {
	f := newFedHarness(t)
	_, err := f.send(f.alice, f.fed.PackTransferOwnership(f.alice.addr))
	f.wantRevert(err, &bindings.FederationRegistryNotOwner{Caller: f.alice.addr})
	_, err = f.send(f.owner, f.fed.PackTransferOwnership(common.Address{}))
	f.wantRevert(err, &bindings.FederationRegistryZeroAddress{})

	r := f.mustSend(f.owner, f.fed.PackTransferOwnership(f.alice.addr))
	ev, err := f.fed.UnpackOwnershipTransferredEvent(onlyLog(t, r))
	if err != nil || ev.PreviousOwner != f.owner.addr || ev.NewOwner != f.alice.addr {
		t.Fatalf("OwnershipTransferred = %+v, %v", ev, err)
	}
	// The old owner lost every owner right; the new one has them.
	for _, data := range [][]byte{
		f.fed.PackSetThresholds(defaultThresholds),
		f.fed.PackGrantCoordinator(f.bob.addr),
		f.fed.PackRevokeCoordinator(f.owner.addr),
		f.fed.PackTransferOwnership(f.owner.addr),
	} {
		_, err = f.send(f.owner, data)
		f.wantRevert(err, &bindings.FederationRegistryNotOwner{Caller: f.owner.addr})
	}
	f.mustSend(f.alice, f.fed.PackSetThresholds(defaultThresholds))
	// Ownership does not carry the coordinator role, in either direction.
	if f.isCoordinator(f.alice.addr) || !f.isCoordinator(f.owner.addr) {
		t.Fatal("ownership transfer changed coordinator roles")
	}
	f.mustSend(f.owner, f.fed.PackEnrollSite(f.newSite()))
}

func TestFederationCoordinatorRole(t *testing.T) {
	f := newFedHarness(t)
	site := f.newSite()

	_, err := f.send(f.alice, f.fed.PackGrantCoordinator(f.alice.addr))
	f.wantRevert(err, &bindings.FederationRegistryNotOwner{Caller: f.alice.addr})
	_, err = f.send(f.owner, f.fed.PackGrantCoordinator(common.Address{}))
	f.wantRevert(err, &bindings.FederationRegistryZeroAddress{})
	_, err = f.send(f.owner, f.fed.PackGrantCoordinator(f.owner.addr))
	f.wantRevert(err, &bindings.FederationRegistryCoordinatorAlreadyGranted{Account: f.owner.addr})

	// Without the role, alice can do none of a coordinator's work.
	coordinatorOnly := [][]byte{ // in an order that succeeds once alice may
		f.fed.PackEnrollSite(site),
		f.packRound(1, []update{{site: site, hash: hashOf(1, 0)}}),
		f.fed.PackRegisterGlobalModel(1, anchor.LeafHash([]byte("m")), 0, [32]byte{}),
		f.fed.PackRemoveSite(site),
	}
	for _, data := range coordinatorOnly {
		_, err = f.send(f.alice, data)
		f.wantRevert(err, &bindings.FederationRegistryNotCoordinator{Caller: f.alice.addr})
	}

	r := f.mustSend(f.owner, f.fed.PackGrantCoordinator(f.alice.addr))
	granted, err := f.fed.UnpackCoordinatorGrantedEvent(onlyLog(t, r))
	if err != nil || granted.Account != f.alice.addr || granted.Id != 2 {
		t.Fatalf("CoordinatorGranted = %+v, %v", granted, err)
	}
	if !f.isCoordinator(f.alice.addr) {
		t.Fatal("alice not coordinator after grant")
	}
	// A coordinator is not an owner.
	_, err = f.send(f.alice, f.fed.PackSetThresholds(defaultThresholds))
	f.wantRevert(err, &bindings.FederationRegistryNotOwner{Caller: f.alice.addr})
	for _, data := range coordinatorOnly {
		f.mustSend(f.alice, data)
	}
	f.mustSend(f.alice, f.fed.PackEnrollSite(site))

	_, err = f.send(f.alice, f.fed.PackRevokeCoordinator(f.owner.addr))
	f.wantRevert(err, &bindings.FederationRegistryNotOwner{Caller: f.alice.addr})
	r = f.mustSend(f.owner, f.fed.PackRevokeCoordinator(f.alice.addr))
	revoked, err := f.fed.UnpackCoordinatorRevokedEvent(onlyLog(t, r))
	if err != nil || revoked.Account != f.alice.addr {
		t.Fatalf("CoordinatorRevoked = %+v, %v", revoked, err)
	}
	if f.isCoordinator(f.alice.addr) {
		t.Fatal("alice still coordinator after revoke")
	}
	_, err = f.send(f.owner, f.fed.PackRevokeCoordinator(f.alice.addr))
	f.wantRevert(err, &bindings.FederationRegistryCoordinatorNotGranted{Account: f.alice.addr})
	_, err = f.send(f.alice, f.fed.PackRemoveSite(site))
	f.wantRevert(err, &bindings.FederationRegistryNotCoordinator{Caller: f.alice.addr})
	// The model alice registered keeps naming her; a second grant restores
	// the role under the same id.
	if got := f.getGlobalModel(1).Submitter; got != f.alice.addr {
		t.Fatalf("model 1 submitter after revoke = %s, want alice", got)
	}
	r = f.mustSend(f.owner, f.fed.PackGrantCoordinator(f.alice.addr))
	if granted, err = f.fed.UnpackCoordinatorGrantedEvent(onlyLog(t, r)); err != nil || granted.Id != 2 {
		t.Fatalf("re-grant = %+v, %v", granted, err)
	}
	// The owner can revoke its own role.
	f.mustSend(f.owner, f.fed.PackRevokeCoordinator(f.owner.addr))
	_, err = f.send(f.owner, f.fed.PackEnrollSite(f.newSite()))
	f.wantRevert(err, &bindings.FederationRegistryNotCoordinator{Caller: f.owner.addr})
}

func TestFederationSites(t *testing.T) {
	f := newFedHarness(t)
	site, never := f.newSite(), f.newSite()
	if f.isSite(never) || f.reputation(never) != 0 || f.getSite(never) != (bindings.FederationRegistrySite{}) {
		t.Fatal("a site never enrolled has state")
	}

	_, err := f.send(f.owner, f.fed.PackEnrollSite(common.Address{}))
	f.wantRevert(err, &bindings.FederationRegistryZeroAddress{})
	_, err = f.send(f.owner, f.fed.PackRemoveSite(site))
	f.wantRevert(err, &bindings.FederationRegistrySiteNotEnrolled{Site: site})

	r := f.mustSend(f.owner, f.fed.PackEnrollSite(site))
	ev, err := f.fed.UnpackSiteEnrolledEvent(onlyLog(t, r))
	if err != nil || ev.Site != site {
		t.Fatalf("SiteEnrolled = %+v, %v", ev, err)
	}
	want := bindings.FederationRegistrySite{Reputation: 50, Enrolled: true, Known: true}
	if got := f.getSite(site); got != want || !f.isSite(site) || f.reputation(site) != 50 {
		t.Fatalf("enrolled site = %+v, want %+v", got, want)
	}
	_, err = f.send(f.owner, f.fed.PackEnrollSite(site))
	f.wantRevert(err, &bindings.FederationRegistrySiteAlreadyEnrolled{Site: site})

	// A round lowers its reputation; removal and re-enrollment keep it,
	// even after repInit changed.
	ups := []update{{site: site, hash: hashOf(1, 0), anomaly: 9000}}
	f.mustSubmit(1, ups)
	r = f.mustSend(f.owner, f.fed.PackRemoveSite(site))
	removed, err := f.fed.UnpackSiteRemovedEvent(onlyLog(t, r))
	if err != nil || removed.Site != site {
		t.Fatalf("SiteRemoved = %+v, %v", removed, err)
	}
	want = bindings.FederationRegistrySite{Reputation: 30, Enrolled: false, Known: true, LastRound: 1}
	if got := f.getSite(site); got != want || f.isSite(site) || f.reputation(site) != 30 {
		t.Fatalf("removed site = %+v, want %+v", got, want)
	}
	_, err = f.send(f.owner, f.fed.PackRemoveSite(site))
	f.wantRevert(err, &bindings.FederationRegistrySiteNotEnrolled{Site: site})
	_, err = f.submit(f.owner, 2, []update{{site: site, hash: hashOf(2, 0)}})
	f.wantRevert(err, &bindings.FederationRegistrySiteNotEnrolled{Site: site})

	th := defaultThresholds
	th.RepInit = 77
	f.mustSend(f.owner, f.fed.PackSetThresholds(th))
	f.mustSend(f.owner, f.fed.PackEnrollSite(site))
	want.Enrolled = true
	if got := f.getSite(site); got != want {
		t.Fatalf("re-enrolled site = %+v, want %+v (reputation kept)", got, want)
	}
	// A first enrollment takes the repInit in force.
	f.mustSend(f.owner, f.fed.PackEnrollSite(never))
	if got := f.reputation(never); got != 77 {
		t.Fatalf("new site reputation %d, want repInit 77", got)
	}
}

func TestFederationSetThresholds(t *testing.T) {
	f := newFedHarness(t)
	set := func(th thresholds) error {
		_, err := f.send(f.owner, f.fed.PackSetThresholds(th))
		return err
	}
	with := func(edit func(*thresholds)) thresholds {
		th := defaultThresholds
		edit(&th)
		return th
	}
	for _, tc := range []struct {
		name string
		th   thresholds
		want any // nil: accepted
	}{
		{"maxAnomalyBp at scale", with(func(th *thresholds) { th.MaxAnomalyBp = 10000 }), nil},
		{"maxAnomalyBp above scale", with(func(th *thresholds) { th.MaxAnomalyBp = 10001 }),
			&bindings.FederationRegistryMaxAnomalyAboveScale{MaxAnomalyBp: 10001}},
		{"repInit at repMax", with(func(th *thresholds) { th.RepInit = 100 }), nil},
		{"repInit above repMax", with(func(th *thresholds) { th.RepInit = 101 }),
			&bindings.FederationRegistryRepInitAboveRepMax{RepInit: 101, RepMax: 100}},
		{"minReputation at repMax", with(func(th *thresholds) { th.MinReputation = 100 }), nil},
		{"minReputation above repMax", with(func(th *thresholds) { th.MinReputation = 101 }),
			&bindings.FederationRegistryMinReputationAboveRepMax{MinReputation: 101, RepMax: 100}},
		{"all zero", thresholds{}, nil},
		{"every field at its top", thresholds{MaxAnomalyBp: 10000, MadK: math.MaxUint16, DivSlack: math.MaxUint32,
			MaxNorm: math.MaxUint32, MinReputation: math.MaxUint16, RepInit: math.MaxUint16, RepMax: math.MaxUint16,
			DeltaPlus: math.MaxUint16, DeltaMinus: math.MaxUint16}, nil},
		// Distinct values in every field check that the packed slot keeps them apart.
		{"distinct", thresholds{MaxAnomalyBp: 1, MadK: 2, DivSlack: 3, MaxNorm: 4, MinReputation: 5, RepInit: 6,
			RepMax: 7, DeltaPlus: 8, DeltaMinus: 9}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.t = t
			before := f.thresholds()
			err := set(tc.th)
			if tc.want != nil {
				f.wantRevert(err, tc.want)
				if got := f.thresholds(); got != before {
					t.Fatalf("refused thresholds changed them: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("setThresholds: %v (%T%+v)", err, f.revert(err), f.revert(err))
			}
			if got := f.thresholds(); got != tc.th {
				t.Fatalf("thresholds() = %+v, want %+v", got, tc.th)
			}
			logs := f.allLogs()
			ev, err := f.fed.UnpackThresholdsChangedEvent(&logs[len(logs)-1])
			if err != nil || ev.Previous != before || ev.Current != tc.th {
				t.Fatalf("ThresholdsChanged = %+v, %v; want %+v -> %+v", ev, err, before, tc.th)
			}
		})
	}
	f.t = t
	// Thresholds share a slot with the last round: each keeps the other.
	f.mustSend(f.owner, f.fed.PackSetThresholds(defaultThresholds))
	site := f.newSite()
	f.mustSend(f.owner, f.fed.PackEnrollSite(site))
	f.mustSubmit(7, []update{{site: site, hash: hashOf(7, 0)}})
	th := thresholds{MaxAnomalyBp: 10000, MadK: math.MaxUint16, DivSlack: math.MaxUint32, MaxNorm: math.MaxUint32,
		MinReputation: math.MaxUint16, RepInit: math.MaxUint16, RepMax: math.MaxUint16, DeltaPlus: math.MaxUint16, DeltaMinus: math.MaxUint16}
	f.mustSend(f.owner, f.fed.PackSetThresholds(th))
	if f.lastRound() != 7 || f.thresholds() != th {
		t.Fatalf("lastRound %d, thresholds %+v", f.lastRound(), f.thresholds())
	}
}

// TestSubmitRoundRefusals checks every way submitRound refuses a round, and
// that a refused round changes nothing.
func TestSubmitRoundRefusals(t *testing.T) {
	f := newFedHarness(t)
	a, b, removed, stranger := f.newSite(), f.newSite(), f.newSite(), f.newSite()
	f.enrollMany([]common.Address{a, b, removed})
	f.mustSend(f.owner, f.fed.PackRemoveSite(removed))
	ok := func(round uint64) []update {
		return []update{{site: a, hash: hashOf(round, 0)}, {site: b, hash: hashOf(round, 1)}}
	}
	f.mustSubmit(1, ok(1))
	f.mustSubmit(3, ok(3)) // rounds may skip numbers

	tooMany := make([]update, 256)
	for i := range tooMany {
		tooMany[i] = update{site: a, hash: hashOf(4, i)}
	}
	reserved := packRound(ok(4))
	reserved.words[1].SetBit(reserved.words[1], 240, 1) // the lowest reserved bit
	p := packRound(ok(4))
	for _, tc := range []struct {
		name string
		data []byte
		want any
	}{
		{"round 0", f.packRound(0, ok(0)), &bindings.FederationRegistryZeroRound{}},
		{"round already submitted", f.packRound(3, ok(3)), &bindings.FederationRegistryRoundAlreadySubmitted{Round: 3}},
		{"round before the last", f.packRound(2, ok(2)), &bindings.FederationRegistryRoundOutOfOrder{Round: 2, LastRound: 3}},
		{"empty round", f.packRound(4, nil), &bindings.FederationRegistryEmptyRound{}},
		{"256 updates", f.packRound(4, tooMany), &bindings.FederationRegistryTooManyUpdates{Count: big.NewInt(256)}},
		{"fewer hashes", f.fed.PackSubmitRound(4, p.middles, p.words, p.hashes[:1]), &bindings.FederationRegistryLengthMismatch{Updates: big.NewInt(2), UpdateHashes: big.NewInt(1)}},
		{"more hashes", f.fed.PackSubmitRound(4, p.middles, p.words[:1], p.hashes), &bindings.FederationRegistryLengthMismatch{Updates: big.NewInt(1), UpdateHashes: big.NewInt(2)}},
		{"reserved bit", f.fed.PackSubmitRound(4, reserved.middles, reserved.words, reserved.hashes), &bindings.FederationRegistryReservedBitsSet{Index: big.NewInt(1)}},
		{"zero update hash", f.packRound(4, []update{ok(4)[0], {site: b}}), &bindings.FederationRegistryZeroUpdateHash{Index: big.NewInt(1)}},
		{"site never enrolled", f.packRound(4, append(ok(4), update{site: stranger, hash: hashOf(4, 2)})), &bindings.FederationRegistrySiteNotEnrolled{Site: stranger}},
		{"site removed", f.packRound(4, append(ok(4), update{site: removed, hash: hashOf(4, 2)})), &bindings.FederationRegistrySiteNotEnrolled{Site: removed}},
		{"duplicate site", f.packRound(4, append(ok(4), update{site: a, hash: hashOf(4, 2)})), &bindings.FederationRegistryDuplicateSite{Site: a}},
		{"not a coordinator", nil, &bindings.FederationRegistryNotCoordinator{Caller: f.alice.addr}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.t = t
			from, data := f.owner, tc.data
			if data == nil {
				from, data = f.alice, f.packRound(4, ok(4))
			}
			_, err := f.send(from, data)
			f.wantRevert(err, tc.want)
		})
	}
	f.t = t
	if f.lastRound() != 3 || f.reputation(a) != 60 || f.reputation(b) != 60 || f.getRound(4) != (bindings.FederationRegistryRoundSummary{}) {
		t.Fatalf("a refused round changed state: last %d, reputations %d %d", f.lastRound(), f.reputation(a), f.reputation(b))
	}
	// A site may appear in consecutive rounds; the duplicate check is per round.
	f.mustSubmit(4, ok(4))
	if got := f.getSite(a).LastRound; got != 4 {
		t.Fatalf("site lastRound %d, want 4", got)
	}
}

// TestSubmitRoundChecksMiddles offers each middle order statistic off by
// one, both ways, and requires every such round to be refused.
func TestSubmitRoundChecksMiddles(t *testing.T) {
	f := newFedHarness(t)
	round := uint64(0)
	for _, divs := range [][]uint32{
		{1000, 100, 400, 250},       // even: middles 250, 400; med 325; deviations 75 75 225 675
		{2000, 1000, 400, 250, 100}, // odd: middle 400; deviations 0 150 300 600 1600
		{7},                         // one update: 7 and deviation 0
	} {
		round++
		sites := make([]common.Address, len(divs))
		ups := make([]update, len(divs))
		for i, d := range divs {
			sites[i] = f.newSite()
			ups[i] = update{site: sites[i], hash: hashOf(round, i), divergence: d}
		}
		f.enrollMany(sites)
		p := packRound(ups)
		for field := range 4 {
			for _, delta := range []int64{-1, 1} {
				v := int64(p.middles.Uint64()>>(32*field)) & math.MaxUint32
				if v+delta < 0 {
					continue
				}
				wrong := new(big.Int).Set(p.middles)
				for b := range 32 {
					wrong.SetBit(wrong, 32*field+b, uint((v+delta)>>b&1))
				}
				_, err := f.send(f.owner, f.fed.PackSubmitRound(round, wrong, p.words, p.hashes))
				f.wantRevert(err, &bindings.FederationRegistryMiddlesMismatch{Middles: wrong})
			}
		}
		high := new(big.Int).SetBit(new(big.Int).Set(p.middles), 128, 1)
		_, err := f.send(f.owner, f.fed.PackSubmitRound(round, high, p.words, p.hashes))
		f.wantRevert(err, &bindings.FederationRegistryMiddlesMismatch{Middles: high})
		if f.lastRound() != round-1 {
			t.Fatal("a refused round was recorded")
		}
		f.mustSubmit(round, ups)
	}
}

func (f *fedHarness) mustSubmit(round uint64, ups []update) {
	f.t.Helper()
	if _, err := f.submit(f.owner, round, ups); err != nil {
		f.t.Fatalf("submitRound(%d): %v (%T%+v)", round, err, f.revert(err), f.revert(err))
	}
}

func (f *fedHarness) getSite(site common.Address) bindings.FederationRegistrySite {
	return fcall(f, f.fed.PackGetSite(site), f.fed.UnpackGetSite)
}

func (f *fedHarness) getGlobalModel(version uint64) bindings.FederationRegistryGlobalModel {
	return fcall(f, f.fed.PackGetGlobalModel(version), f.fed.UnpackGetGlobalModel)
}

// score is one update's scores in a rule case.
type score struct {
	anomaly    uint16
	divergence uint32
	norm       uint32
}

// TestRuleBoundaries runs the rule on every threshold boundary. Each case's
// expected reasons, reputations, median and band are worked out by hand from
// docs/federated-rule.md (the comments show the arithmetic) and must also be what
// refEvaluate computes.
func TestRuleBoundaries(t *testing.T) {
	const max32 = math.MaxUint32
	with := func(edit func(*thresholds)) thresholds {
		th := defaultThresholds
		edit(&th)
		return th
	}
	cases := []struct {
		name        string
		th          thresholds
		reps        []uint16 // reputations at round start
		scores      []score
		wantReasons []uint8
		wantReps    []uint16
		wantMedian  uint32
		wantBand    uint64
	}{
		{
			// D all 0: med 0, mad 0, band 0 + 0 + 10000.
			name: "anomaly at maxAnomalyBp accepted, one above rejected", th: defaultThresholds,
			reps:   []uint16{50, 50, 50},
			scores: []score{{anomaly: 5000}, {anomaly: 5001}, {}},
			// valid: 50+5; invalid: 50-20.
			wantReasons: []uint8{0, reasonAnomaly, 0}, wantReps: []uint16{55, 30, 55},
			wantMedian: 0, wantBand: 10000,
		},
		{
			name: "maxAnomalyBp 0 accepts only 0", th: with(func(th *thresholds) { th.MaxAnomalyBp = 0 }),
			reps:        []uint16{50, 50},
			scores:      []score{{anomaly: 0}, {anomaly: 1}},
			wantReasons: []uint8{0, reasonAnomaly}, wantReps: []uint16{55, 30}, wantBand: 10000,
		},
		{
			name: "anomaly above the scale is rejected at maxAnomalyBp 10000", th: with(func(th *thresholds) { th.MaxAnomalyBp = 10000 }),
			reps:        []uint16{50, 50},
			scores:      []score{{anomaly: 10000}, {anomaly: math.MaxUint16}},
			wantReasons: []uint8{0, reasonAnomaly}, wantReps: []uint16{55, 30}, wantBand: 10000,
		},
		{
			// D 1000, 1000, 11000: med 1000, deviations 0, 0, 10000: mad 0;
			// band 1000 + 0 + 10000 = 11000.
			name: "divergence at the band accepted", th: defaultThresholds,
			reps:        []uint16{50, 50, 50},
			scores:      []score{{divergence: 1000}, {divergence: 1000}, {divergence: 11000}},
			wantReasons: []uint8{0, 0, 0}, wantReps: []uint16{55, 55, 55},
			wantMedian: 1000, wantBand: 11000,
		},
		{
			name: "divergence one above the band rejected", th: defaultThresholds,
			reps:        []uint16{50, 50, 50},
			scores:      []score{{divergence: 1000}, {divergence: 1000}, {divergence: 11001}},
			wantReasons: []uint8{0, 0, reasonDivergence}, wantReps: []uint16{55, 55, 30},
			wantMedian: 1000, wantBand: 11000,
		},
		{
			// D 0, 100, 200, 300, 500: med 200; deviations 200, 100, 0, 100,
			// 300 sorted 0, 100, 100, 200, 300: mad 100; band 200 + 300 + 0.
			name: "band from the MAD, odd n, at the band", th: with(func(th *thresholds) { th.DivSlack = 0 }),
			reps:        []uint16{50, 50, 50, 50, 50},
			scores:      []score{{divergence: 0}, {divergence: 100}, {divergence: 200}, {divergence: 300}, {divergence: 500}},
			wantReasons: []uint8{0, 0, 0, 0, 0}, wantReps: []uint16{55, 55, 55, 55, 55},
			wantMedian: 200, wantBand: 500,
		},
		{
			// As above with 501: deviation 301, mad still 100, band 500.
			name: "band from the MAD, odd n, one above", th: with(func(th *thresholds) { th.DivSlack = 0 }),
			reps:        []uint16{50, 50, 50, 50, 50},
			scores:      []score{{divergence: 0}, {divergence: 100}, {divergence: 200}, {divergence: 300}, {divergence: 501}},
			wantReasons: []uint8{0, 0, 0, 0, reasonDivergence}, wantReps: []uint16{55, 55, 55, 55, 30},
			wantMedian: 200, wantBand: 500,
		},
		{
			// D 10, 13, 13, 16, 21: med 13; deviations 3, 0, 0, 3, 8: mad 3;
			// madK 2.50: floor(250 * 3 / 100) = floor(7.5) = 7; band 20, so
			// 21 is out (a rounded-up band, 21, would let it in).
			name: "madK * mad / 100 is floored", th: with(func(th *thresholds) { th.MadK, th.DivSlack = 250, 0 }),
			reps:        []uint16{50, 50, 50, 50, 50},
			scores:      []score{{divergence: 10}, {divergence: 13}, {divergence: 13}, {divergence: 16}, {divergence: 21}},
			wantReasons: []uint8{0, 0, 0, 0, reasonDivergence}, wantReps: []uint16{55, 55, 55, 55, 30},
			wantMedian: 13, wantBand: 20,
		},
		{
			// n even: med floor((20 + 31) / 2) = 25; deviations 15, 5, 6, 15
			// sorted 5, 6, 15, 15: mad floor((6 + 15) / 2) = 10; band 25 + 30.
			name: "even n: medians floor the mean of the middle two", th: with(func(th *thresholds) { th.DivSlack = 0 }),
			reps:        []uint16{50, 50, 50, 50},
			scores:      []score{{divergence: 40}, {divergence: 10}, {divergence: 31}, {divergence: 20}},
			wantReasons: []uint8{0, 0, 0, 0}, wantReps: []uint16{55, 55, 55, 55},
			wantMedian: 25, wantBand: 55,
		},
		{
			// n even: med floor(3 / 2) = 1; deviations 0, 1: mad floor(1 / 2)
			// = 0; band 1, so 2 is out.
			name: "even n: both floors at once", th: with(func(th *thresholds) { th.DivSlack = 0 }),
			reps:        []uint16{50, 50},
			scores:      []score{{divergence: 1}, {divergence: 2}},
			wantReasons: []uint8{0, reasonDivergence}, wantReps: []uint16{55, 30},
			wantMedian: 1, wantBand: 1,
		},
		{
			// n even: med (0 + 0) / 2 = 0, mad 0, band 1000.
			name: "even n: at and above the band", th: with(func(th *thresholds) { th.DivSlack = 1000 }),
			reps:        []uint16{50, 50, 50, 50, 50, 50},
			scores:      []score{{divergence: 1001}, {}, {}, {divergence: 1000}, {}, {}},
			wantReasons: []uint8{reasonDivergence, 0, 0, 0, 0, 0}, wantReps: []uint16{30, 55, 55, 55, 55, 55},
			wantMedian: 0, wantBand: 1000,
		},
		{
			// madK 0, divSlack 0: band = med = 2; only the values at or below
			// the median pass (the band is one-sided).
			name: "madK 0 and divSlack 0", th: with(func(th *thresholds) { th.MadK, th.DivSlack = 0, 0 }),
			reps:        []uint16{50, 50, 50},
			scores:      []score{{divergence: 3}, {divergence: 1}, {divergence: 2}},
			wantReasons: []uint8{reasonDivergence, 0, 0}, wantReps: []uint16{30, 55, 55},
			wantMedian: 2, wantBand: 2,
		},
		{
			name: "a single update is its own median", th: with(func(th *thresholds) { th.DivSlack = 0 }),
			reps:        []uint16{50},
			scores:      []score{{divergence: 123456}},
			wantReasons: []uint8{0}, wantReps: []uint16{55},
			wantMedian: 123456, wantBand: 123456,
		},
		{
			// All at 2^32-1: med 2^32-1, mad 0, band 2^32-1 + 10000, which
			// RoundEvaluated saturates and getRound keeps.
			name: "saturated divergences", th: defaultThresholds,
			reps:        []uint16{50, 50, 50},
			scores:      []score{{divergence: max32}, {divergence: max32}, {divergence: max32}},
			wantReasons: []uint8{0, 0, 0}, wantReps: []uint16{55, 55, 55},
			wantMedian: max32, wantBand: max32 + 10000,
		},
		{
			// med floor((0 + 2^32-1) / 2) = 2147483647; deviations
			// 2147483647 (twice) and 2147483648 (twice): mad 2147483647;
			// band 2147483647 + 3 * 2147483647 + 10000 = 8589944588.
			name: "saturated divergences, even n, no overflow", th: defaultThresholds,
			reps:        []uint16{50, 50, 50, 50},
			scores:      []score{{divergence: max32}, {}, {divergence: max32}, {}},
			wantReasons: []uint8{0, 0, 0, 0}, wantReps: []uint16{55, 55, 55, 55},
			wantMedian: 2147483647, wantBand: 8589944588,
		},
		{
			// med 2^32-1, mad 0: 0 is far below the band and passes.
			name: "saturated median, zero divergence", th: defaultThresholds,
			reps:        []uint16{50, 50, 50},
			scores:      []score{{divergence: max32}, {}, {divergence: max32}},
			wantReasons: []uint8{0, 0, 0}, wantReps: []uint16{55, 55, 55},
			wantMedian: max32, wantBand: max32 + 10000,
		},
		{
			name: "norm at maxNorm accepted, one above rejected", th: with(func(th *thresholds) { th.MaxNorm = 1000 }),
			reps:        []uint16{50, 50, 50},
			scores:      []score{{norm: 1000}, {norm: 1001}, {}},
			wantReasons: []uint8{0, reasonNorm, 0}, wantReps: []uint16{55, 30, 55}, wantBand: 10000,
		},
		{
			name: "maxNorm 0 is no limit", th: defaultThresholds,
			reps:        []uint16{50, 50},
			scores:      []score{{norm: max32}, {}},
			wantReasons: []uint8{0, 0}, wantReps: []uint16{55, 55}, wantBand: 10000,
		},
		{
			name: "maxNorm 1", th: with(func(th *thresholds) { th.MaxNorm = 1 }),
			reps:        []uint16{50, 50},
			scores:      []score{{norm: 1}, {norm: 2}},
			wantReasons: []uint8{0, reasonNorm}, wantReps: []uint16{55, 30}, wantBand: 10000,
		},
		{
			// 19 < minReputation 20: not accepted, but the update is valid,
			// so the site still gains deltaPlus and can redeem itself.
			name: "reputation at minReputation accepted, one below not (but gains deltaPlus)", th: defaultThresholds,
			reps:        []uint16{20, 19, 0},
			scores:      []score{{}, {}, {}},
			wantReasons: []uint8{0, reasonReputation, reasonReputation}, wantReps: []uint16{25, 24, 5}, wantBand: 10000,
		},
		{
			name: "minReputation 0 lets reputation 0 in", th: with(func(th *thresholds) { th.MinReputation = 0 }),
			reps:        []uint16{0},
			scores:      []score{{}},
			wantReasons: []uint8{0}, wantReps: []uint16{5}, wantBand: 10000,
		},
		{
			name: "reputation capped at repMax", th: defaultThresholds,
			reps:        []uint16{96, 95, 100},
			scores:      []score{{}, {}, {}},
			wantReasons: []uint8{0, 0, 0}, wantReps: []uint16{100, 100, 100}, wantBand: 10000,
		},
		{
			// 20 - 20 and 5 - 20 floor at 0; 21 - 20 = 1. 5 is also below
			// minReputation.
			name: "reputation floored at 0", th: defaultThresholds,
			reps:        []uint16{20, 21, 5},
			scores:      []score{{anomaly: 6000}, {anomaly: 6000}, {anomaly: 6000}},
			wantReasons: []uint8{reasonAnomaly, reasonAnomaly, reasonAnomaly | reasonReputation}, wantReps: []uint16{0, 1, 0},
			wantBand: 10000,
		},
		{
			name: "deltaMinus 0, the paper's rule", th: with(func(th *thresholds) { th.DeltaMinus = 0 }),
			reps:        []uint16{50, 0, 50},
			scores:      []score{{anomaly: 6000}, {anomaly: 6000}, {}},
			wantReasons: []uint8{reasonAnomaly, reasonAnomaly | reasonReputation, 0}, wantReps: []uint16{50, 0, 55},
			wantBand: 10000,
		},
		{
			name: "deltaPlus 0", th: with(func(th *thresholds) { th.DeltaPlus = 0 }),
			reps:        []uint16{50},
			scores:      []score{{}},
			wantReasons: []uint8{0}, wantReps: []uint16{50}, wantBand: 10000,
		},
		{
			// D 20000, 0, 0: med 0, mad 0, band 10000.
			name: "every reason at once", th: with(func(th *thresholds) { th.MaxNorm = 1000 }),
			reps:        []uint16{10, 50, 50},
			scores:      []score{{anomaly: 6000, divergence: 20000, norm: 2000}, {}, {}},
			wantReasons: []uint8{0x0f, 0, 0}, wantReps: []uint16{0, 55, 55},
			wantMedian: 0, wantBand: 10000,
		},
		{
			// After repMax came down to 60: a valid update brings 80 down to
			// 60, an invalid one takes 80 to 70 (deltaMinus 10), still above.
			name: "reputation above a lowered repMax", th: with(func(th *thresholds) { th.RepInit, th.RepMax, th.DeltaMinus = 50, 60, 10 }),
			reps:        []uint16{80, 80},
			scores:      []score{{}, {anomaly: 6000}},
			wantReasons: []uint8{0, reasonAnomaly}, wantReps: []uint16{60, 70}, wantBand: 10000,
		},
		{
			// 65535 + 65535 and 1 + 65535 overflow uint16 and are capped;
			// 65535 > 65535 is false, so the invalid one floors at 0.
			name: "reputation arithmetic at the top of uint16",
			th: with(func(th *thresholds) {
				th.RepInit, th.RepMax, th.DeltaPlus, th.DeltaMinus = 1, math.MaxUint16, math.MaxUint16, math.MaxUint16
			}),
			reps:        []uint16{math.MaxUint16, 1, math.MaxUint16},
			scores:      []score{{}, {}, {anomaly: 6000}},
			wantReasons: []uint8{0, reasonReputation, reasonAnomaly}, wantReps: []uint16{math.MaxUint16, math.MaxUint16, 0},
			wantBand: 10000,
		},
	}

	f := newFedHarness(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.t = t
			round := uint64(i + 1)
			sites := f.sitesWithReputations(tc.reps)
			f.mustSend(f.owner, f.fed.PackSetThresholds(tc.th))
			ups := make([]update, len(tc.scores))
			for j, s := range tc.scores {
				ups[j] = update{site: sites[j], hash: hashOf(round, j), anomaly: s.anomaly, divergence: s.divergence, norm: s.norm}
			}
			want := refRound{reasons: tc.wantReasons, reps: tc.wantReps, median: tc.wantMedian, band: tc.wantBand}
			for _, r := range tc.wantReasons {
				if r == 0 {
					want.accepted++
				}
			}
			if ref := refEvaluate(tc.th, tc.reps, ups); !reflect.DeepEqual(ref, want) {
				t.Fatalf("the hand-worked case and refEvaluate disagree:\nhand %+v\n ref %+v", want, ref)
			}
			r, err := f.submit(f.owner, round, ups)
			if err != nil {
				t.Fatalf("submitRound: %v (%T%+v)", err, f.revert(err), f.revert(err))
			}
			f.checkRound(r, round, ups, want)
		})
	}
}

// TestSubmitRoundMatchesReference runs rounds of random scores, with ties,
// boundary values and threshold changes between rounds, and requires every
// verdict, reputation, median and band to be what refEvaluate says.
func TestSubmitRoundMatchesReference(t *testing.T) {
	f := newFedHarness(t)
	rng := rand.New(rand.NewPCG(9, 3))
	pool := make([]common.Address, 40)
	for i := range pool {
		pool[i] = f.newSite()
	}
	f.enrollMany(pool)
	reps := map[common.Address]uint16{}
	for _, s := range pool {
		reps[s] = defaultThresholds.RepInit
	}
	th := defaultThresholds
	rounds := 60
	if testing.Short() {
		rounds = 15
	}
	for round := uint64(1); round <= uint64(rounds); round++ {
		if rng.IntN(4) == 0 {
			th = randomThresholds(rng)
			f.mustSend(f.owner, f.fed.PackSetThresholds(th))
		}
		n := 1 + rng.IntN(len(pool))
		if rng.IntN(3) == 0 {
			n = 1 + rng.IntN(4) // small rounds have the most median corner cases
		}
		order := rng.Perm(len(pool))[:n]
		ups := make([]update, n)
		start := make([]uint16, n)
		center := rng.Uint32N(1 << 20)
		for i, k := range order {
			ups[i] = update{site: pool[k], hash: hashOf(round, i), anomaly: randomAnomaly(rng, th),
				divergence: randomDivergence(rng, center), norm: randomNorm(rng, th)}
			start[i] = reps[pool[k]]
		}
		want := refEvaluate(th, start, ups)
		// Any other middles are refused: offer one field off by a little.
		p := packRound(ups)
		wrong := new(big.Int).Xor(p.middles, new(big.Int).Lsh(big.NewInt(1+rng.Int64N(3)), uint(32*rng.IntN(4))))
		_, err := f.send(f.owner, f.fed.PackSubmitRound(round, wrong, p.words, p.hashes))
		f.wantRevert(err, &bindings.FederationRegistryMiddlesMismatch{Middles: wrong})
		r, err := f.submit(f.owner, round, ups)
		if err != nil {
			t.Fatalf("round %d: %v (%T%+v)", round, err, f.revert(err), f.revert(err))
		}
		f.checkRound(r, round, ups, want)
		if t.Failed() {
			t.Fatalf("round %d: thresholds %+v, updates %+v, reputations %v", round, th, ups, start)
		}
		for i, u := range ups {
			reps[u.site] = want.reps[i]
		}
	}
}

func randomThresholds(rng *rand.Rand) thresholds {
	repMax := uint16(1 + rng.IntN(200))
	return thresholds{
		MaxAnomalyBp:  uint16(rng.IntN(10001)),
		MadK:          uint16(rng.IntN(600)),
		DivSlack:      rng.Uint32N(20000),
		MaxNorm:       []uint32{0, 0, rng.Uint32N(1 << 21)}[rng.IntN(3)],
		MinReputation: uint16(rng.IntN(int(repMax) + 1)),
		RepInit:       uint16(rng.IntN(int(repMax) + 1)),
		RepMax:        repMax,
		DeltaPlus:     uint16(rng.IntN(30)),
		DeltaMinus:    uint16(rng.IntN(40)),
	}
}

func randomAnomaly(rng *rand.Rand, th thresholds) uint16 {
	switch rng.IntN(5) {
	case 0:
		return th.MaxAnomalyBp
	case 1:
		return th.MaxAnomalyBp + 1
	default:
		return uint16(rng.IntN(10001))
	}
}

// randomDivergence clusters around center with ties and a few outliers and
// extremes, so that bands and boundaries are often hit.
func randomDivergence(rng *rand.Rand, center uint32) uint32 {
	switch rng.IntN(8) {
	case 0:
		return center
	case 1:
		return math.MaxUint32
	case 2:
		return 0
	case 3:
		return center + rng.Uint32N(1<<24) // outlier
	default:
		return center + rng.Uint32N(20000) - 10000
	}
}

func randomNorm(rng *rand.Rand, th thresholds) uint32 {
	switch rng.IntN(4) {
	case 0:
		return th.MaxNorm
	case 1:
		return th.MaxNorm + 1
	default:
		return rng.Uint32N(1 << 21)
	}
}

func TestRegisterGlobalModel(t *testing.T) {
	f := newFedHarness(t)
	site := f.newSite()
	f.mustSend(f.owner, f.fed.PackEnrollSite(site))
	f.mustSubmit(5, []update{{site: site, hash: hashOf(5, 0)}})
	modelHash := anchor.LeafHash([]byte("global model"))
	root := anchor.LeafHash([]byte("accepted update"))

	if got := f.getGlobalModel(1); got != (bindings.FederationRegistryGlobalModel{}) {
		t.Fatalf("unknown model = %+v, want zero", got)
	}
	for _, c := range []struct {
		version, round uint64
		root           [32]byte
	}{
		{1, 0, [32]byte{}}, // an initial model: no round, no updates
		{2, 5, root},
		{math.MaxUint64, 5, root}, // one round may yield several versions
		{3, 0, root},
	} {
		r := f.mustSend(f.owner, f.fed.PackRegisterGlobalModel(c.version, modelHash, c.round, c.root))
		ev, err := f.fed.UnpackGlobalModelRegisteredEvent(onlyLog(t, r))
		want := &bindings.FederationRegistryGlobalModelRegistered{Version: c.version, ModelHash: modelHash, Round: c.round,
			UpdatesRoot: c.root, Submitter: f.owner.addr, Raw: r.Logs[0]}
		if err != nil || !reflect.DeepEqual(ev, want) {
			t.Fatalf("GlobalModelRegistered = %+v, %v; want %+v", ev, err, want)
		}
		hdr := f.block(r)
		wantModel := bindings.FederationRegistryGlobalModel{ModelHash: modelHash, UpdatesRoot: c.root, Round: c.round,
			BlockNumber: hdr.Number.Uint64(), Timestamp: hdr.Time, Submitter: f.owner.addr}
		if got := f.getGlobalModel(c.version); got != wantModel {
			t.Fatalf("getGlobalModel(%d) = %+v, want %+v", c.version, got, wantModel)
		}
	}
	for name, tc := range map[string]struct {
		data []byte
		want any
	}{
		"version reused": {f.fed.PackRegisterGlobalModel(2, anchor.LeafHash([]byte("v2 again")), 5, root),
			&bindings.FederationRegistryModelAlreadyRegistered{Version: 2}},
		"version 0":       {f.fed.PackRegisterGlobalModel(0, modelHash, 5, root), &bindings.FederationRegistryZeroModelVersion{}},
		"zero model hash": {f.fed.PackRegisterGlobalModel(9, [32]byte{}, 5, root), &bindings.FederationRegistryZeroHash{}},
		"zero updates root after round 0": {f.fed.PackRegisterGlobalModel(9, modelHash, 5, [32]byte{}),
			&bindings.FederationRegistryZeroUpdatesRoot{Round: 5}},
		"round never evaluated": {f.fed.PackRegisterGlobalModel(9, modelHash, 4, root),
			&bindings.FederationRegistryRoundNotEvaluated{Round: 4}},
		"round in the future": {f.fed.PackRegisterGlobalModel(9, modelHash, 6, root),
			&bindings.FederationRegistryRoundNotEvaluated{Round: 6}},
	} {
		t.Run(name, func(t *testing.T) {
			f.t = t
			_, err := f.send(f.owner, tc.data)
			f.wantRevert(err, tc.want)
		})
	}
	f.t = t
	if got := f.getGlobalModel(9); got != (bindings.FederationRegistryGlobalModel{}) {
		t.Fatalf("refused model was stored: %+v", got)
	}
}

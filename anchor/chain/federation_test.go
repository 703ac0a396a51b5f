package chain

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/internal/fakes"
)

// newFederation deploys a FederationRegistry on a fresh simulated chain
// from the key that also owns the chain's AuditRegistry.
func newFederation(t *testing.T) (*Chain, *Federation) {
	t.Helper()
	ctx := ctxT(t)
	c, err := newSim(t).Open(ctx, &fakes.ChainMeta{})
	if err != nil {
		t.Fatal(err)
	}
	f, block, err := DeployFederation(ctx, c.Registry)
	if err != nil {
		t.Fatal(err)
	}
	if block == 0 || f.Address() == (common.Address{}) {
		t.Fatalf("deployed at %s in block %d", f.Address(), block)
	}
	return c, f
}

func testSite(i int) common.Address {
	return common.BytesToAddress(crypto.Keccak256([]byte(fmt.Sprintf("site %d", i)))[12:])
}

func testHash(round uint64, i int) anchor.Hash {
	return anchor.LeafHash([]byte(fmt.Sprintf("update %d of round %d", i, round)))
}

// wantFederationError requires err to be the contract's refusal name, of
// kind sentinel.
func wantFederationError(t *testing.T, err, sentinel error, name string) {
	t.Helper()
	var fe *FederationError
	if !errors.Is(err, sentinel) || !errors.As(err, &fe) || fe.Name != name {
		t.Fatalf("err = %v, want %s (%v)", err, name, sentinel)
	}
}

func TestFederationOpen(t *testing.T) {
	ctx := ctxT(t)
	c, f := newFederation(t)
	again, err := OpenFederation(ctx, c.Registry, f.Address())
	if err != nil || again.Address() != f.Address() {
		t.Fatalf("OpenFederation: %v", err)
	}
	if _, err := OpenFederation(ctx, c.Registry, common.HexToAddress("0x1234")); !errors.Is(err, ErrNoRegistry) {
		t.Fatalf("OpenFederation of an empty address: %v, want ErrNoRegistry", err)
	}
	r, err := NewFederationReader(ctx, c.Client(), f.Address())
	if err != nil {
		t.Fatal(err)
	}
	th, err := r.Thresholds(ctx)
	want := Thresholds{MaxAnomalyBp: 5000, MadK: 300, DivSlack: 10000, MaxNorm: 0, MinReputation: 20, RepInit: 50, RepMax: 100, DeltaPlus: 5, DeltaMinus: 20}
	if err != nil || th != want {
		t.Fatalf("Thresholds = %+v, %v; want the spec's defaults", th, err)
	}
	if _, err := r.EnrollSite(ctx, testSite(1)); !errors.Is(err, errReadOnly) {
		t.Fatalf("reader EnrollSite: %v", err)
	}
	if ok, err := r.IsCoordinator(ctx, c.Registry.Sender()); err != nil || !ok {
		t.Fatalf("the deploying key is not coordinator: %v %v", ok, err)
	}
}

func TestFederationSitesAndThresholds(t *testing.T) {
	ctx := ctxT(t)
	_, f := newFederation(t)
	site := testSite(1)
	inc, err := f.EnrollSite(ctx, site)
	if err != nil || inc.BlockNumber == 0 || inc.GasUsed == 0 {
		t.Fatalf("EnrollSite: %+v, %v", inc, err)
	}
	if s, err := f.Site(ctx, site); err != nil || s != (SiteState{Reputation: 50, Enrolled: true, Known: true}) {
		t.Fatalf("Site = %+v, %v", s, err)
	}
	_, err = f.EnrollSite(ctx, site)
	wantFederationError(t, err, ErrSiteEnrolled, "SiteAlreadyEnrolled")

	th, _ := f.Thresholds(ctx)
	th.DeltaMinus = 0
	if _, err := f.SetThresholds(ctx, th); err != nil {
		t.Fatal(err)
	}
	if got, err := f.Thresholds(ctx); err != nil || got != th {
		t.Fatalf("Thresholds = %+v, %v; want %+v", got, err, th)
	}
	bad := th
	bad.RepInit = bad.RepMax + 1
	_, err = f.SetThresholds(ctx, bad)
	wantFederationError(t, err, ErrInvalidThresholds, "RepInitAboveRepMax")

	if _, err := f.RemoveSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	_, err = f.RemoveSite(ctx, site)
	wantFederationError(t, err, ErrSiteNotEnrolled, "SiteNotEnrolled")
	if rep, err := f.Reputation(ctx, site); err != nil || rep != 50 {
		t.Fatalf("reputation after removal = %d, %v; want 50", rep, err)
	}

	// Without the coordinator role the key may do no coordinator's work.
	me := f.s.from
	if _, err := f.RevokeCoordinator(ctx, me); err != nil {
		t.Fatal(err)
	}
	_, err = f.EnrollSite(ctx, site)
	wantFederationError(t, err, ErrNotAuthorized, "NotCoordinator")
	if _, err := f.GrantCoordinator(ctx, me); err != nil {
		t.Fatal(err)
	}
	if _, err := f.EnrollSite(ctx, site); err != nil {
		t.Fatal(err)
	}
}

func TestFederationSubmitRound(t *testing.T) {
	ctx := ctxT(t)
	_, f := newFederation(t)
	a, b, c, d := testSite(1), testSite(2), testSite(3), testSite(4)
	for _, s := range []common.Address{a, b, c, d} {
		if _, err := f.EnrollSite(ctx, s); err != nil {
			t.Fatal(err)
		}
	}

	// Divergences 490k, 500k, 510k: median 500,000; deviations 0, 10k, 10k:
	// mad 10,000; band 500,000 + 3.00 * 10,000 + 10,000 = 540,000. b's
	// anomaly 6000 > 5000.
	round1 := []RoundUpdate{
		{Site: a, Hash: testHash(1, 0), Anomaly: 1000, Divergence: 500_000, Norm: 1_000_000},
		{Site: b, Hash: testHash(1, 1), Anomaly: 6000, Divergence: 510_000, Norm: 1_000_000},
		{Site: c, Hash: testHash(1, 2), Anomaly: 0, Divergence: 490_000, Norm: 1_000_000},
	}
	res, err := f.SubmitRound(ctx, 1, round1)
	if err != nil {
		t.Fatal(err)
	}
	want := []Verdict{
		{Site: a, UpdateHash: testHash(1, 0), Reasons: 0, Reputation: 55},
		{Site: b, UpdateHash: testHash(1, 1), Reasons: ReasonAnomaly, Reputation: 30},
		{Site: c, UpdateHash: testHash(1, 2), Reasons: 0, Reputation: 55},
	}
	if !reflect.DeepEqual(res.Verdicts, want) || res.Round != 1 || res.Accepted != 2 ||
		res.DivergenceMedian != 500_000 || res.DivergenceBand != 540_000 {
		t.Fatalf("round 1 = %+v", res)
	}
	if res.Inclusion.GasUsed == 0 || res.Inclusion.BlockNumber == 0 || res.Inclusion.BlockTime.IsZero() {
		t.Fatalf("round 1 inclusion %+v", res.Inclusion)
	}
	if !want[0].Accepted() || want[1].Accepted() || want[1].Valid() {
		t.Fatal("Verdict.Accepted/Valid")
	}

	// n even, d far out: divergences 100, 200, 300, 10M: median
	// floor(500 / 2) = 250; deviations 150, 50, 50, 9,999,750: mad
	// floor((50 + 150) / 2) = 100; band 250 + 300 + 10,000 = 10,550.
	round2 := []RoundUpdate{
		{Site: d, Hash: testHash(2, 0), Divergence: 10_000_000},
		{Site: c, Hash: testHash(2, 1), Divergence: 300},
		{Site: b, Hash: testHash(2, 2), Divergence: 200},
		{Site: a, Hash: testHash(2, 3), Divergence: 100},
	}
	res2, err := f.SubmitRound(ctx, 2, round2)
	if err != nil {
		t.Fatal(err)
	}
	want2 := []Verdict{
		{Site: d, UpdateHash: testHash(2, 0), Reasons: ReasonDivergence, Reputation: 30},
		{Site: c, UpdateHash: testHash(2, 1), Reputation: 60},
		{Site: b, UpdateHash: testHash(2, 2), Reputation: 35},
		{Site: a, UpdateHash: testHash(2, 3), Reputation: 60},
	}
	if !reflect.DeepEqual(res2.Verdicts, want2) || res2.Accepted != 3 || res2.DivergenceMedian != 250 || res2.DivergenceBand != 10_550 {
		t.Fatalf("round 2 = %+v", res2)
	}

	// What the chain recorded reads back the same.
	got, ok, err := f.RoundResult(ctx, 1)
	if err != nil || !ok || !reflect.DeepEqual(got, res) {
		t.Fatalf("RoundResult(1) = %+v, %v, %v; want %+v", got, ok, err, res)
	}
	sum, ok, err := f.Round(ctx, 2)
	if err != nil || !ok || sum.Updates != 4 || sum.Accepted != 3 || sum.DivergenceBand != 10_550 || sum.BlockNumber != res2.Inclusion.BlockNumber {
		t.Fatalf("Round(2) = %+v, %v, %v", sum, ok, err)
	}
	if _, ok, err := f.Round(ctx, 3); ok || err != nil {
		t.Fatalf("Round(3) = %v, %v; want not found", ok, err)
	}
	if _, ok, err := f.RoundResult(ctx, 3); ok || err != nil {
		t.Fatalf("RoundResult(3) = %v, %v; want not found", ok, err)
	}
	if last, err := f.LastRound(ctx); err != nil || last != 2 {
		t.Fatalf("LastRound = %d, %v", last, err)
	}

	// Submitting a recorded round again is idempotent with the same
	// updates, refused with others.
	again, err := f.SubmitRound(ctx, 1, round1)
	if err != nil || !reflect.DeepEqual(again, res) {
		t.Fatalf("resubmitting round 1: %+v, %v; want the recorded %+v", again, err, res)
	}
	other := slices.Clone(round1)
	other[0].Hash = testHash(9, 9)
	_, err = f.SubmitRound(ctx, 1, other)
	wantFederationError(t, err, ErrRoundSubmitted, "RoundAlreadySubmitted")

	for _, tc := range []struct {
		name     string
		round    uint64
		updates  []RoundUpdate
		sentinel error
		refusal  string
	}{
		{"round 0", 0, round1, ErrRoundOutOfOrder, "ZeroRound"},
		{"no updates", 3, nil, ErrFederationRefused, ""},
		{"duplicate site", 3, []RoundUpdate{round1[0], {Site: a, Hash: testHash(3, 1)}}, ErrDuplicateSite, "DuplicateSite"},
		{"site not enrolled", 3, []RoundUpdate{{Site: testSite(99), Hash: testHash(3, 0)}}, ErrSiteNotEnrolled, "SiteNotEnrolled"},
		{"zero hash", 3, []RoundUpdate{{Site: a}}, ErrFederationRefused, "ZeroUpdateHash"},
		{"too many", 3, make([]RoundUpdate, MaxRoundUpdates+1), ErrFederationRefused, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.SubmitRound(ctx, tc.round, tc.updates)
			if tc.refusal == "" {
				if !errors.Is(err, tc.sentinel) {
					t.Fatalf("err = %v, want %v", err, tc.sentinel)
				}
				return
			}
			wantFederationError(t, err, tc.sentinel, tc.refusal)
		})
	}
	if _, err := f.SubmitRound(ctx, 5, round1[:1]); err != nil {
		t.Fatal(err)
	}
	_, err = f.SubmitRound(ctx, 4, round1[:1])
	wantFederationError(t, err, ErrRoundOutOfOrder, "RoundOutOfOrder")
}

func TestFederationGlobalModel(t *testing.T) {
	ctx := ctxT(t)
	_, f := newFederation(t)
	site := testSite(1)
	if _, err := f.EnrollSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	res, err := f.SubmitRound(ctx, 1, []RoundUpdate{{Site: site, Hash: testHash(1, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	root, err := anchor.Root([]anchor.Hash{res.Verdicts[0].UpdateHash})
	if err != nil {
		t.Fatal(err)
	}
	modelHash := anchor.LeafHash([]byte("global model v1"))
	if _, err := f.RegisterGlobalModel(ctx, 1, modelHash, 0, anchor.Hash{}); err != nil {
		t.Fatal(err)
	}
	inc, err := f.RegisterGlobalModel(ctx, 2, modelHash, 1, root)
	if err != nil {
		t.Fatal(err)
	}
	m, ok, err := f.GlobalModel(ctx, 2)
	want := GlobalModel{ModelHash: modelHash, UpdatesRoot: root, Round: 1, BlockNumber: inc.BlockNumber, BlockTime: inc.BlockTime, Submitter: f.s.from}
	if err != nil || !ok || m != want {
		t.Fatalf("GlobalModel(2) = %+v, %v, %v; want %+v", m, ok, err, want)
	}
	if _, ok, err := f.GlobalModel(ctx, 3); ok || err != nil {
		t.Fatalf("GlobalModel(3) = %v, %v; want not found", ok, err)
	}
	_, err = f.RegisterGlobalModel(ctx, 2, modelHash, 1, root)
	wantFederationError(t, err, ErrModelRegistered, "ModelAlreadyRegistered")
	_, err = f.RegisterGlobalModel(ctx, 3, modelHash, 7, root)
	wantFederationError(t, err, ErrFederationRefused, "RoundNotEvaluated")
	_, err = f.RegisterGlobalModel(ctx, 3, modelHash, 1, anchor.Hash{})
	wantFederationError(t, err, ErrFederationRefused, "ZeroUpdatesRoot")
}

// TestFederationSharesTheRegistryKey sends anchors and federation writes
// from the same key at once: they share one nonce sequence, so none is
// refused.
func TestFederationSharesTheRegistryKey(t *testing.T) {
	ctx := ctxT(t)
	c, f := newFederation(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			sent, err := c.Registry.AnchorBatch(ctx, uint64(i+1), anchor.Hash{byte(i + 1)}, 1, 1)
			if err == nil {
				_, err = c.Registry.WaitIncluded(ctx, sent.Tx, 1, nil)
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := f.EnrollSite(ctx, testSite(i))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestRoundMiddles holds roundMiddles to the definition of an order
// statistic: v is the k-th of n values iff #{x < v} <= k < #{x <= v}.
func TestRoundMiddles(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	kth := func(vals []uint64, v uint64, k int) bool {
		less, notMore := 0, 0
		for _, x := range vals {
			if x < v {
				less++
			}
			if x <= v {
				notMore++
			}
		}
		return less <= k && k < notMore
	}
	for range 2000 {
		n := 1 + rng.IntN(12)
		ups := make([]RoundUpdate, n)
		d := make([]uint64, n)
		for i := range ups {
			ups[i].Divergence = []uint32{rng.Uint32N(8), rng.Uint32(), 1<<32 - 1}[rng.IntN(3)]
			d[i] = uint64(ups[i].Divergence)
		}
		m := roundMiddles(ups)
		field := func(i uint) uint64 { return new(big.Int).Rsh(m, 32*i).Uint64() & (1<<32 - 1) }
		lo, hi, elo, ehi := field(0), field(1), field(2), field(3)
		med := (lo + hi) / 2
		e := make([]uint64, n)
		for i, x := range d {
			e[i] = max(x, med) - min(x, med)
		}
		if m.BitLen() > 128 || !kth(d, lo, (n-1)/2) || !kth(d, hi, n/2) || !kth(e, elo, (n-1)/2) || !kth(e, ehi, n/2) {
			t.Fatalf("roundMiddles(%v) = %d %d %d %d", d, lo, hi, elo, ehi)
		}
	}
}

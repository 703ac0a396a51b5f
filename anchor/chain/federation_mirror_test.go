package chain

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/federated"
)

// The contract and federated.Evaluate, the Go mirror fl-sim and the
// coordinator's tests rely on, judge the same rounds the same way: random
// thresholds (deltaMinus 0 and reputations at the bounds included) and
// rounds of 1 to 20 updates with scores around every boundary, each round
// submitted on chain and evaluated by the mirror from the reputations the
// contract held at its start.
func TestFederationAgreesWithTheGoMirror(t *testing.T) {
	ctx := ctxT(t)
	_, f := newFederation(t)
	r := rand.New(rand.NewPCG(7, 11))
	const sites = 24
	for i := range sites {
		if _, err := f.EnrollSite(ctx, testSite(i)); err != nil {
			t.Fatal(err)
		}
	}
	for round := uint64(1); round <= 40; round++ {
		th := federated.DefaultThresholds()
		if round > 1 { // round 1 runs the defaults
			th.RepMax = uint16(50 + r.IntN(100))
			th.RepInit = uint16(r.IntN(int(th.RepMax) + 1))
			th.MinReputation = uint16(r.IntN(int(th.RepMax) + 1))
			th.MaxAnomalyBp = uint16(r.IntN(10001))
			th.MadK = uint16(r.IntN(600))
			th.DivSlack = uint32(r.IntN(50000))
			th.MaxNorm = uint32(r.IntN(3)) * uint32(r.IntN(2_000_000))
			th.DeltaPlus = uint16(r.IntN(30))
			th.DeltaMinus = uint16(r.IntN(3)) * uint16(r.IntN(40))
		}
		if _, err := f.SetThresholds(ctx, Thresholds(th)); err != nil {
			t.Fatalf("round %d thresholds %+v: %v", round, th, err)
		}
		n := 1 + r.IntN(20)
		order := r.Perm(sites)[:n]
		reps := map[common.Address]uint16{}
		scores := make([]federated.Score, n)
		updates := make([]RoundUpdate, n)
		for k, i := range order {
			site := testSite(i)
			rep, err := f.Reputation(ctx, site)
			if err != nil {
				t.Fatal(err)
			}
			reps[site] = rep
			s := federated.Score{Site: site, UpdateHash: testHash(round, k),
				Anomaly: near(r, th.MaxAnomalyBp, 10000), Divergence: uint32(r.IntN(3_000_000)), Norm: uint32(r.IntN(4_000_000))}
			if r.IntN(4) == 0 {
				s.Divergence = ^uint32(0) - uint32(r.IntN(3)) // saturated
			}
			scores[k] = s
			updates[k] = RoundUpdate{Site: s.Site, Hash: s.UpdateHash, Anomaly: s.Anomaly, Divergence: s.Divergence, Norm: s.Norm}
		}
		want, err := federated.Evaluate(th, reps, scores)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.SubmitRound(ctx, round, updates)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if got.DivergenceMedian != want.DivergenceMedian || got.DivergenceBand != want.BandEvent() || int(got.Accepted) != want.Accepted {
			t.Fatalf("round %d: contract median %d band %d accepted %d, mirror %d %d %d", round,
				got.DivergenceMedian, got.DivergenceBand, got.Accepted, want.DivergenceMedian, want.BandEvent(), want.Accepted)
		}
		for k, v := range got.Verdicts {
			w := want.Verdicts[k]
			if v.Site != w.Site || federated.Reason(v.Reasons) != w.Reasons || v.Reputation != w.Reputation {
				t.Fatalf("round %d update %d (thresholds %+v): contract reasons %#x reputation %d, mirror %#x %d",
					round, k, th, v.Reasons, v.Reputation, uint8(w.Reasons), w.Reputation)
			}
		}
		for _, i := range order {
			rep, err := f.Reputation(ctx, testSite(i))
			if err != nil {
				t.Fatal(err)
			}
			if rep != want.Reputations[testSite(i)] {
				t.Fatalf("round %d: site %d reputation %d on chain, %d in the mirror", round, i, rep, want.Reputations[testSite(i)])
			}
		}
		if slices.ContainsFunc(got.Verdicts, func(v Verdict) bool { return v.Reasons&^0x0f != 0 }) {
			t.Fatalf("round %d: a verdict with reserved bits", round)
		}
	}
}

// near is a value within a few units of limit half the time (the boundary
// cases), anywhere in [0, hi] otherwise.
func near(r *rand.Rand, limit uint16, hi int) uint16 {
	if r.IntN(2) == 0 {
		v := int(limit) + r.IntN(5) - 2
		return uint16(max(0, min(hi, v)))
	}
	return uint16(r.IntN(hi + 1))
}

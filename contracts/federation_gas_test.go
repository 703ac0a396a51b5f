package contracts_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
)

// roundSizes are the round sizes whose gas the issue asks for, and the
// largest round the contract takes.
var roundSizes = []int{1, 10, 50, 100, 255}

// fedGasFigures is the gas of each FederationRegistry call measured on one chain.
type fedGasFigures struct {
	round       map[int]uint64 // submitRound gas by number of updates
	enroll      uint64         // enrollSite, first enrollment
	remove      uint64         // removeSite
	reenroll    uint64         // enrollSite of a removed site
	thresholds  uint64         // setThresholds
	model       uint64         // registerGlobalModel
	modelRound0 uint64         // registerGlobalModel of an initial model (round 0, root 0)
}

// realisticRound is a round of n updates from sites with the scores a
// federation of honest sites yields (divergences spread around a common
// value, one site in ten off), so that sorting and the reputation writes
// cost what they will in service.
func realisticRound(rng *rand.Rand, round uint64, sites []common.Address) []update {
	ups := make([]update, len(sites))
	for i, s := range sites {
		ups[i] = update{site: s, hash: hashOf(round, i), anomaly: uint16(500 + rng.IntN(1000)),
			divergence: 400_000 + rng.Uint32N(200_000), norm: 1_000_000 + rng.Uint32N(500_000)}
		if rng.IntN(10) == 0 {
			ups[i].anomaly, ups[i].divergence = 7000, 5_000_000
		}
	}
	return ups
}

// measureFedGas runs every state-changing call of the FederationRegistry on
// f, with 255 sites enrolled, each round on fresh round numbers and every
// site having taken part in a round before (as in service: the site's slot
// is written, not created).
func measureFedGas(t testing.TB, f *fedHarness) fedGasFigures {
	t.Helper()
	g := fedGasFigures{round: map[int]uint64{}}
	sites := make([]common.Address, 255)
	for i := range sites {
		sites[i] = f.newSite()
	}
	site := sites[0]
	g.enroll = f.mustSend(f.owner, f.fed.PackEnrollSite(site)).GasUsed
	f.enrollMany(sites[1:])
	rng := rand.New(rand.NewPCG(1, 2))
	round := uint64(1)
	f.mustSubmit(round, realisticRound(rng, round, sites)) // every site has a reputation slot written once
	for _, n := range roundSizes {
		round++
		r, err := f.submit(f.owner, round, realisticRound(rng, round, sites[:n]))
		if err != nil {
			t.Fatalf("submitRound(%d updates): %v (%T%+v)", n, err, f.revert(err), f.revert(err))
		}
		g.round[n] = r.GasUsed
	}
	g.remove = f.mustSend(f.owner, f.fed.PackRemoveSite(site)).GasUsed
	g.reenroll = f.mustSend(f.owner, f.fed.PackEnrollSite(site)).GasUsed
	th := defaultThresholds
	th.DeltaMinus = 0
	g.thresholds = f.mustSend(f.owner, f.fed.PackSetThresholds(th)).GasUsed
	g.model = f.mustSend(f.owner, f.fed.PackRegisterGlobalModel(2, anchor.LeafHash([]byte("model v2")), round, anchor.LeafHash([]byte("updates")))).GasUsed
	g.modelRound0 = f.mustSend(f.owner, f.fed.PackRegisterGlobalModel(1, anchor.LeafHash([]byte("model v1")), 0, [32]byte{})).GasUsed
	return g
}

func (g fedGasFigures) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-36s %10s %12s\n", "call", "gas", "gas/update")
	for _, n := range roundSizes {
		fmt.Fprintf(&b, "%-36s %10d %12.1f\n", fmt.Sprintf("submitRound (%d updates)", n), g.round[n], float64(g.round[n])/float64(n))
	}
	fmt.Fprintf(&b, "%-36s %10d\n", "enrollSite (first)", g.enroll)
	fmt.Fprintf(&b, "%-36s %10d\n", "removeSite", g.remove)
	fmt.Fprintf(&b, "%-36s %10d\n", "enrollSite (again)", g.reenroll)
	fmt.Fprintf(&b, "%-36s %10d\n", "setThresholds", g.thresholds)
	fmt.Fprintf(&b, "%-36s %10d\n", "registerGlobalModel", g.model)
	fmt.Fprintf(&b, "%-36s %10d\n", "registerGlobalModel (round 0)", g.modelRound0)
	return b.String()
}

// denseRound is a round of 10 updates whose calldata has no zero byte but
// the two reserved ones per word (zero bytes cost 4 gas, others 16): the
// dearest round of 10 the contract can be sent.
func denseRound(f *fedHarness, round uint64) []update {
	noZero := func(b []byte) []byte {
		for i := range b {
			if b[i] == 0 {
				b[i] = 1
			}
		}
		return b
	}
	ups := make([]update, 10)
	sites := make([]common.Address, len(ups))
	for i := range ups {
		sites[i] = common.BytesToAddress(noZero(f.newSite().Bytes()))
		h := hashOf(round, i)
		copy(h[:], noZero(h[:]))
		ups[i] = update{site: sites[i], hash: h, anomaly: 0x1111,
			divergence: 0x11111111 + uint32(i)*0x01010101, norm: 0x22222222}
	}
	f.enrollMany(sites)
	return ups
}

// TestFederationGas measures every FederationRegistry call under Osaka
// rules and holds the goal: the validation transaction of a round
// of 10 updates costs at most 15,000 gas per update, all of it counted (the
// 21,000 of the transaction, calldata, events, reputation writes). Run with
// -v for the figures.
func TestFederationGas(t *testing.T) {
	f := newFedHarness(t)
	g := measureFedGas(t, f)
	t.Logf("FederationRegistry gas under Osaka rules (contracts.OsakaDevChainConfig):\n%s", g)
	if perUpdate := float64(g.round[10]) / 10; perUpdate > 15_000 {
		t.Errorf("submitRound costs %.1f gas per update in a round of 10, want at most 15,000", perUpdate)
	}
	round := f.lastRound() + 1
	r, err := f.submit(f.owner, round, denseRound(f, round))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("submitRound of 10 updates with the densest calldata: %d gas, %.1f per update", r.GasUsed, float64(r.GasUsed)/10)
	if perUpdate := float64(r.GasUsed) / 10; perUpdate > 15_000 {
		t.Errorf("submitRound costs %.1f gas per update in a round of 10 with dense calldata, want at most 15,000", perUpdate)
	}
	// Per update, a round never costs more than a lone update does.
	for _, n := range roundSizes[1:] {
		if per := g.round[n] / uint64(n); per > g.round[1] {
			t.Errorf("submitRound costs %d gas per update at %d updates, more than a round of 1 (%d)", per, n, g.round[1])
		}
	}
}

// BenchmarkSubmitRound sends one round per iteration on the simulated chain
// under Osaka rules and reports its gas per transaction and per update.
func BenchmarkSubmitRound(b *testing.B) {
	for _, n := range roundSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			f := newFedHarness(b)
			sites := make([]common.Address, n)
			for i := range sites {
				sites[i] = f.newSite()
			}
			f.enrollMany(sites)
			rng := rand.New(rand.NewPCG(1, 2))
			round := uint64(1)
			f.mustSubmit(round, realisticRound(rng, round, sites))
			var gas uint64
			for b.Loop() {
				round++
				r, err := f.submit(f.owner, round, realisticRound(rng, round, sites))
				if err != nil {
					b.Fatal(err)
				}
				gas = r.GasUsed
			}
			b.ReportMetric(float64(gas), "gas/tx")
			b.ReportMetric(float64(gas)/float64(n), "gas/update")
		})
	}
}

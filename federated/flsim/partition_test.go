package flsim

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/idsledger/idsledger/detector"
)

const sample = "../../detector/testdata/nf-bot-iot-v2-sample.csv"

func loadSample(t *testing.T) []*detector.Flow {
	t.Helper()
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{sample}, detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return flows
}

func TestParsePartition(t *testing.T) {
	for _, s := range []string{"iid", "by-dst", "dirichlet:0.5", "dirichlet:100"} {
		p, err := ParsePartition(s)
		if err != nil || p.String() != s {
			t.Errorf("%q: %+v, %v", s, p, err)
		}
	}
	for _, s := range []string{"", "IID", "iid:1", "dirichlet", "dirichlet:", "dirichlet:0", "dirichlet:-1", "dirichlet:NaN", "dirichlet:Inf", "by-dst:x", "random"} {
		if _, err := ParsePartition(s); !errors.Is(err, ErrPartition) {
			t.Errorf("%q accepted (%v)", s, err)
		}
	}
}

// Every partition: each labelled flow in exactly one site, every site
// non-empty, each site's flows in their original order, and the same
// seed giving the same split.
func TestSplitInvariants(t *testing.T) {
	flows := loadSample(t)
	pos := map[*detector.Flow]int{}
	for i, f := range flows {
		pos[f] = i
	}
	for _, spec := range []string{"iid", "dirichlet:0.1", "dirichlet:1", "dirichlet:1000", "by-dst"} {
		for _, sites := range []int{1, 3, 7} {
			t.Run(fmt.Sprintf("%s/%d", spec, sites), func(t *testing.T) {
				p, _ := ParsePartition(spec)
				parts, err := p.Split(flows, sites, 42)
				if err != nil {
					t.Fatal(err)
				}
				seen := map[*detector.Flow]bool{}
				for s, part := range parts {
					if len(part) == 0 {
						t.Fatalf("site %d is empty", s)
					}
					for j, f := range part {
						if seen[f] {
							t.Fatalf("flow at %d in two sites", pos[f])
						}
						seen[f] = true
						if j > 0 && pos[part[j-1]] > pos[f] {
							t.Fatalf("site %d: flows out of order", s)
						}
					}
				}
				if len(seen) != len(flows) {
					t.Fatalf("%d of %d flows placed", len(seen), len(flows))
				}
				again, _ := p.Split(flows, sites, 42)
				if !reflect.DeepEqual(parts, again) {
					t.Fatal("same seed, another split")
				}
			})
		}
	}
}

// IID keeps every site's class mix close to the whole's; a small α skews
// it far more than a large one.
func TestSplitSkew(t *testing.T) {
	flows := loadSample(t)
	skew := func(spec string) float64 {
		p, _ := ParsePartition(spec)
		var total float64
		for seed := int64(1); seed <= 5; seed++ {
			parts, err := p.Split(flows, 4, seed)
			if err != nil {
				t.Fatal(err)
			}
			total += meanTVD(flows, parts)
		}
		return total / 5
	}
	iid, small, large := skew("iid"), skew("dirichlet:0.1"), skew("dirichlet:1000")
	if iid > 0.05 || large > 0.1 || small < 0.3 {
		t.Fatalf("mean total-variation distance of site mix from the whole: iid %.3f, α=1000 %.3f, α=0.1 %.3f", iid, large, small)
	}
	p, _ := ParsePartition("iid")
	parts, _ := p.Split(flows, 4, 1)
	for _, part := range parts {
		if d := len(part) - len(flows)/4; d < -1 || d > 1 {
			t.Fatalf("iid sizes %d of %d", len(part), len(flows))
		}
	}
}

// meanTVD is the mean over sites of the total-variation distance between
// the site's class distribution and the whole's.
func meanTVD(flows []*detector.Flow, parts [][]*detector.Flow) float64 {
	all := ClassCounts([][]*detector.Flow{flows})[0]
	var sum float64
	for _, c := range ClassCounts(parts) {
		n := 0
		for _, v := range c {
			n += v
		}
		var d float64
		for k, v := range all {
			d += math.Abs(float64(c[k])/float64(n) - float64(v)/float64(len(flows)))
		}
		sum += d / 2
	}
	return sum / float64(len(parts))
}

// by-dst gives whole victim hosts: no host's flows in two sites, and the
// biggest hosts spread over the sites.
func TestSplitByDstKeepsHostsWhole(t *testing.T) {
	flows := loadSample(t)
	p, _ := ParsePartition("by-dst")
	parts, err := p.Split(flows, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	owner := map[string]int{}
	for s, hosts := range Hosts(parts) {
		for _, h := range hosts {
			if o, dup := owner[h]; dup {
				t.Fatalf("host %s in sites %d and %d", h, o, s)
			}
			owner[h] = s
		}
	}
	// The sample's largest host (192.168.100.3, 184 flows) is alone in its
	// site's top spot; the next ones go to the other sites.
	if owner["192.168.100.3"] == owner["192.168.100.5"] || owner["192.168.100.5"] == owner["192.168.100.7"] {
		t.Fatalf("big hosts share a site: %v", owner)
	}
	if _, err := p.Split(flows, 100, 1); !errors.Is(err, ErrPartition) {
		t.Fatalf("more sites than hosts: %v", err)
	}
	counts := ClassCounts(parts)
	total := 0
	for _, c := range counts {
		for _, v := range c {
			total += v
		}
	}
	if total != len(flows) {
		t.Fatalf("class counts sum to %d", total)
	}
}

func TestSplitRefusesTooFewFlows(t *testing.T) {
	flows := loadSample(t)[:3]
	p, _ := ParsePartition("iid")
	if _, err := p.Split(flows, 4, 1); !errors.Is(err, ErrPartition) {
		t.Fatalf("3 flows, 4 sites: %v", err)
	}
}

func TestDirichletDraws(t *testing.T) {
	rng := newRand(7)
	for _, a := range []float64{0.01, 0.5, 1, 5} {
		var mean float64
		for range 2000 {
			p := dirichlet(rng, 4, a)
			var s float64
			for _, x := range p {
				if x < 0 {
					t.Fatalf("negative share %v", x)
				}
				s += x
			}
			if math.Abs(s-1) > 1e-9 {
				t.Fatalf("shares sum to %v", s)
			}
			mean += p[0]
		}
		if mean /= 2000; math.Abs(mean-0.25) > 0.05 {
			t.Errorf("α=%v: mean share %.3f, want 0.25", a, mean)
		}
	}
	// Gamma(a) has mean a.
	for _, a := range []float64{0.3, 1, 2.5, 10} {
		var m float64
		for range 20000 {
			m += gammaDraw(rng, a)
		}
		if m /= 20000; math.Abs(m-a)/a > 0.05 {
			t.Errorf("Gamma(%v) mean %.3f", a, m)
		}
	}
}

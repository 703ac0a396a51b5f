package flsim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/idsledger/idsledger/detector"
)

// ErrPartition: a partition spec is invalid, or the flows cannot be split
// that way between that many sites.
var ErrPartition = errors.New("flsim: partition")

// PartitionKind names how flows are split between sites.
type PartitionKind string

const (
	// IID deals each class's flows round-robin after a seeded shuffle:
	// every site gets about the same class mix.
	IID PartitionKind = "iid"
	// Dirichlet gives each site a share of each class drawn from
	// Dirichlet(α): small α makes sites hold few classes (label skew),
	// large α approaches IID.
	Dirichlet PartitionKind = "dirichlet"
	// ByDst gives each site whole victim hosts (the DstColumn value, e.g.
	// IPV4_DST_ADDR): what a real deployment looks like, one plant's
	// traffic per site. The column is used only to split, never as a
	// feature.
	ByDst PartitionKind = "by-dst"
)

// DstColumn is the column by-dst groups flows by.
const DstColumn = "IPV4_DST_ADDR"

// Partition is a way to split labelled flows between sites. Its text form
// (ParsePartition, String) is "iid", "dirichlet:<α>" or "by-dst".
type Partition struct {
	Kind  PartitionKind
	Alpha float64 // Dirichlet's concentration, > 0
}

// ParsePartition parses a partition's text form.
func ParsePartition(s string) (Partition, error) {
	kind, arg, hasArg := strings.Cut(s, ":")
	p := Partition{Kind: PartitionKind(kind)}
	switch p.Kind {
	case IID, ByDst:
		if hasArg {
			return Partition{}, fmt.Errorf("%w: %q takes no parameter", ErrPartition, s)
		}
	case Dirichlet:
		a, err := strconv.ParseFloat(arg, 64)
		if !hasArg || err != nil || !(a > 0) || math.IsInf(a, 0) {
			return Partition{}, fmt.Errorf("%w: %q: want dirichlet:<alpha> with alpha > 0, e.g. dirichlet:0.5", ErrPartition, s)
		}
		p.Alpha = a
	default:
		return Partition{}, fmt.Errorf("%w: %q: want iid, dirichlet:<alpha> or by-dst", ErrPartition, s)
	}
	return p, nil
}

func (p Partition) String() string {
	if p.Kind == Dirichlet {
		return "dirichlet:" + strconv.FormatFloat(p.Alpha, 'g', -1, 64)
	}
	return string(p.Kind)
}

// Split splits the labelled flows (unlabelled ones are left out) between
// sites: every site gets at least one flow, each site's flows keep their
// order in flows (so windows follow the traffic), and the split depends
// only on the flows, sites and seed. ErrPartition when there are fewer
// flows (or, for by-dst, victim hosts) than sites.
func (p Partition) Split(flows []*detector.Flow, sites int, seed int64) ([][]*detector.Flow, error) {
	var labelled []*detector.Flow
	for _, f := range flows {
		if f.Class != "" {
			labelled = append(labelled, f)
		}
	}
	if sites < 1 {
		return nil, fmt.Errorf("%w: %d sites", ErrPartition, sites)
	}
	if len(labelled) < sites {
		return nil, fmt.Errorf("%w: %d labelled flows for %d sites", ErrPartition, len(labelled), sites)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5175e5))
	var owner []int // owner[i] is the site of labelled[i]
	var err error
	switch p.Kind {
	case IID:
		owner = splitIID(labelled, sites, rng)
	case Dirichlet:
		owner = splitDirichlet(labelled, sites, p.Alpha, rng)
	case ByDst:
		owner, err = splitByDst(labelled, sites)
	default:
		err = fmt.Errorf("%w: unknown kind %q", ErrPartition, p.Kind)
	}
	if err != nil {
		return nil, err
	}
	parts := make([][]*detector.Flow, sites)
	for i, f := range labelled {
		parts[owner[i]] = append(parts[owner[i]], f)
	}
	return parts, nil
}

// byClass lists the indices of each class, classes sorted by name.
func byClass(flows []*detector.Flow) [][]int {
	idx := map[string][]int{}
	for i, f := range flows {
		idx[f.Class] = append(idx[f.Class], i)
	}
	names := make([]string, 0, len(idx))
	for c := range idx {
		names = append(names, c)
	}
	sort.Strings(names)
	out := make([][]int, len(names))
	for j, c := range names {
		out[j] = idx[c]
	}
	return out
}

// splitIID deals each class's shuffled flows round-robin, each class
// starting where the previous one stopped, so sizes differ by at most one.
func splitIID(flows []*detector.Flow, sites int, rng *rand.Rand) []int {
	owner := make([]int, len(flows))
	next := 0
	for _, idx := range byClass(flows) {
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for _, i := range idx {
			owner[i] = next
			next = (next + 1) % sites
		}
	}
	return owner
}

// splitDirichlet gives site s the share p_s of each class, p ~ Dir(α),
// cutting the class's shuffled flows at the cumulative shares. Draws are
// repeated (up to 100 times) until no site is empty; after that, each
// empty site takes one flow from the largest.
func splitDirichlet(flows []*detector.Flow, sites int, alpha float64, rng *rand.Rand) []int {
	classes := byClass(flows)
	owner := make([]int, len(flows))
	for try := 0; ; try++ {
		size := make([]int, sites)
		for _, idx := range classes {
			rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
			p := dirichlet(rng, sites, alpha)
			lo, cum := 0, 0.0
			for s := range sites {
				cum += p[s]
				hi := int(math.Round(cum * float64(len(idx))))
				if s == sites-1 {
					hi = len(idx)
				}
				for _, i := range idx[lo:hi] {
					owner[i] = s
				}
				size[s] += hi - lo
				lo = hi
			}
		}
		if !slices.Contains(size, 0) {
			return owner
		}
		if try < 100 {
			continue
		}
		for s := range sites {
			if size[s] > 0 {
				continue
			}
			big := 0
			for t := range sites {
				if size[t] > size[big] {
					big = t
				}
			}
			for i := range owner {
				if owner[i] == big {
					owner[i] = s
					size[big]--
					size[s]++
					break
				}
			}
		}
		return owner
	}
}

// dirichlet draws p ~ Dir(α,…,α) of n components, as normalised Gamma(α)
// draws. When every draw underflows (tiny α), one component gets it all.
func dirichlet(rng *rand.Rand, n int, alpha float64) []float64 {
	p := make([]float64, n)
	var sum float64
	for i := range p {
		p[i] = gammaDraw(rng, alpha)
		sum += p[i]
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		clear(p)
		p[rng.IntN(n)] = 1
		return p
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// gammaDraw draws from Gamma(a, 1): Marsaglia and Tsang's method, with
// Gamma(a) = Gamma(a+1)·U^(1/a) for a < 1.
func gammaDraw(rng *rand.Rand, a float64) float64 {
	if a < 1 {
		return gammaDraw(rng, a+1) * math.Pow(rng.Float64(), 1/a)
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// splitByDst gives whole victim hosts to sites: largest host first, each
// to the site holding the fewest flows so far (ties to the lower site), so
// sizes come out as even as whole hosts allow. Deterministic.
func splitByDst(flows []*detector.Flow, sites int) ([]int, error) {
	hosts := map[string][]int{}
	for i, f := range flows {
		h, ok := f.Get(DstColumn)
		if !ok {
			return nil, fmt.Errorf("%w: by-dst needs a %s column; %s has none", ErrPartition, DstColumn, f.Source)
		}
		hosts[h] = append(hosts[h], i)
	}
	if len(hosts) < sites {
		return nil, fmt.Errorf("%w: the flows have %d victim hosts (%s) for %d sites", ErrPartition, len(hosts), DstColumn, sites)
	}
	names := make([]string, 0, len(hosts))
	for h := range hosts {
		names = append(names, h)
	}
	sort.Slice(names, func(a, b int) bool {
		if la, lb := len(hosts[names[a]]), len(hosts[names[b]]); la != lb {
			return la > lb
		}
		return names[a] < names[b]
	})
	owner := make([]int, len(flows))
	size := make([]int, sites)
	for _, h := range names {
		s := 0
		for t := range sites {
			if size[t] < size[s] {
				s = t
			}
		}
		for _, i := range hosts[h] {
			owner[i] = s
		}
		size[s] += len(hosts[h])
	}
	return owner, nil
}

// ClassCounts counts each site's flows per class.
func ClassCounts(parts [][]*detector.Flow) []map[string]int {
	out := make([]map[string]int, len(parts))
	for s, part := range parts {
		out[s] = map[string]int{}
		for _, f := range part {
			out[s][f.Class]++
		}
	}
	return out
}

// Hosts lists each site's victim hosts (DstColumn values), sorted.
func Hosts(parts [][]*detector.Flow) [][]string {
	out := make([][]string, len(parts))
	for s, part := range parts {
		seen := map[string]bool{}
		for _, f := range part {
			if h, ok := f.Get(DstColumn); ok && !seen[h] {
				seen[h] = true
				out[s] = append(out[s], h)
			}
		}
		sort.Strings(out[s])
	}
	return out
}

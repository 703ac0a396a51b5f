package contracts_test

import (
	"bytes"
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm/runtime"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/bindings"
	"github.com/idsledger/idsledger/contracts"
)

func bigU(v uint64) *big.Int { return new(big.Int).SetUint64(v) }

func toArrays(hashes []anchor.Hash) [][32]byte {
	out := make([][32]byte, len(hashes))
	copy(out, hashes)
	return out
}

// verifier runs the registry's verifyInclusion somewhere real EVM code runs.
type verifier interface {
	verify(t testing.TB, leaf anchor.Hash, index, size *big.Int, proof []anchor.Hash, root anchor.Hash) bool
}

// chainVerifier calls verifyInclusion on the simulated chain (eth_call).
type chainVerifier struct{ h *harness }

func (v chainVerifier) verify(t testing.TB, leaf anchor.Hash, index, size *big.Int, proof []anchor.Hash, root anchor.Hash) bool {
	t.Helper()
	ok, err := bind.Call(v.h.contract, nil, v.h.reg.PackVerifyInclusion(leaf, index, size, toArrays(proof), root), v.h.reg.UnpackVerifyInclusion)
	if err != nil {
		t.Fatalf("verifyInclusion call: %v", err)
	}
	return ok
}

// evmVerifier runs the same deployed runtime code directly in go-ethereum's
// EVM (core/vm/runtime) under Osaka rules: about twenty times faster than an
// eth_call, which lets the property test cover every proof element.
type evmVerifier struct {
	cfg  *runtime.Config
	addr common.Address
	reg  *bindings.AuditRegistry
	code []byte
}

func newEVMVerifier(t testing.TB) *evmVerifier {
	cfg := &runtime.Config{
		ChainConfig: contracts.OsakaDevChainConfig(),
		BlockNumber: big.NewInt(1),
		Time:        1,
		Random:      &common.Hash{1}, // post-merge rules
		GasLimit:    30_000_000,
	}
	code, addr, _, err := runtime.Create(common.FromHex(bindings.AuditRegistryMetaData.Bin), cfg)
	if err != nil {
		t.Fatalf("create in EVM: %v", err)
	}
	return &evmVerifier{cfg: cfg, addr: addr, reg: bindings.NewAuditRegistry(), code: code}
}

func (v *evmVerifier) verify(t testing.TB, leaf anchor.Hash, index, size *big.Int, proof []anchor.Hash, root anchor.Hash) bool {
	t.Helper()
	out, _, err := runtime.Call(v.addr, v.reg.PackVerifyInclusion(leaf, index, size, toArrays(proof), root), v.cfg)
	if err != nil {
		t.Fatalf("verifyInclusion in EVM: %v", err)
	}
	ok, err := v.reg.UnpackVerifyInclusion(out)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// agreement counts queries and checks each on the contract and in Go.
type agreement struct {
	t     *testing.T
	v     verifier
	calls int
}

// check runs one query on both verifiers, fails the test if they differ, and
// returns the common answer.
func (a *agreement) check(what string, leaf anchor.Hash, index, size uint64, proof []anchor.Hash, root anchor.Hash) bool {
	a.t.Helper()
	a.calls++
	goErr := anchor.VerifyInclusion(index, size, leaf, proof, root)
	if goErr != nil && !errors.Is(goErr, anchor.ErrProofMismatch) && !errors.Is(goErr, anchor.ErrProofSize) && !errors.Is(goErr, anchor.ErrIndexOutOfRange) {
		a.t.Fatalf("%s: unexpected Go error %v", what, goErr)
	}
	onChain := a.v.verify(a.t, leaf, bigU(index), bigU(size), proof, root)
	if onChain != (goErr == nil) {
		a.t.Fatalf("%s (index %d, size %d, %d proof hashes): contract %v, Go %v", what, index, size, len(proof), onChain, goErr)
	}
	return onChain
}

func (a *agreement) refuse(what string, leaf anchor.Hash, index, size uint64, proof []anchor.Hash, root anchor.Hash) {
	a.t.Helper()
	if a.check(what, leaf, index, size, proof, root) {
		a.t.Fatalf("%s accepted: index %d, size %d", what, index, size)
	}
}

func testLeaves(n uint64) []anchor.Hash {
	leaves := make([]anchor.Hash, n)
	for i := range leaves {
		leaves[i] = anchor.LeafHash([]byte{byte(i >> 8), byte(i)})
	}
	return leaves
}

func flipBit(rng *rand.Rand, h anchor.Hash) anchor.Hash {
	h[rng.IntN(32)] ^= 1 << rng.IntN(8)
	return h
}

// TestInclusionAgreesWithGo checks on the contract's runtime code, for every
// leaf of every tree of 1..300 leaves, that verifyInclusion accepts the Go
// proof and refuses an altered leaf, and that the contract and
// anchor.VerifyInclusion refuse alike every other alteration: another leaf's
// index, an index past the end, an altered proof element, a shortened or
// lengthened proof, an altered root. Up to 32 leaves every alteration is
// tried for every leaf; above, one alteration per leaf, taken in turn, with
// seeded random choices of index, element and bit.
func TestInclusionAgreesWithGo(t *testing.T) {
	t.Parallel()
	const exhaustiveUpTo = 32
	maxSize := uint64(300)
	if testing.Short() {
		maxSize = 70
	}
	a := &agreement{t: t, v: newEVMVerifier(t)}
	start := time.Now()
	all := testLeaves(maxSize)
	rng := rand.New(rand.NewPCG(1, 2))
	turn := 0
	for size := uint64(1); size <= maxSize; size++ {
		tree, err := anchor.NewTree(all[:size])
		if err != nil {
			t.Fatal(err)
		}
		root := tree.Root()
		for index := range size {
			leaf := tree.Leaf(index)
			proof, err := tree.InclusionProof(index)
			if err != nil {
				t.Fatal(err)
			}
			if !a.check("valid proof", leaf, index, size, proof, root) {
				t.Fatalf("valid proof refused: index %d, size %d", index, size)
			}
			a.refuse("altered leaf", flipBit(rng, leaf), index, size, proof, root)
			var alterations []alteration
			if size <= exhaustiveUpTo {
				alterations = alterationsOf(rng, leaf, index, size, proof, root)
			} else {
				alterations = []alteration{sampleAlteration(rng, turn, leaf, index, size, proof, root)}
				turn++
			}
			for _, alt := range alterations {
				a.refuse(alt.what, leaf, alt.index, size, alt.proof, alt.root)
			}
		}
	}
	t.Logf("%d queries agreed for trees of 1..%d leaves in %v", a.calls, maxSize, time.Since(start).Round(time.Millisecond))
}

// alteration is one wrong (index, proof, root) for a leaf.
type alteration struct {
	what  string
	index uint64
	proof []anchor.Hash
	root  anchor.Hash
}

// sampleAlteration returns one alteration of a valid query with a non-empty
// proof: its kind taken in turn, its index, element and bit at random.
func sampleAlteration(rng *rand.Rand, turn int, leaf anchor.Hash, index, size uint64, proof []anchor.Hash, root anchor.Hash) alteration {
	switch turn % 6 {
	case 0:
		return alteration{"index past end", size + rng.Uint64N(3), proof, root}
	case 1:
		return alteration{"lengthened proof", index, append(append([]anchor.Hash(nil), proof...), leaf), root}
	case 2:
		return alteration{"altered root", index, proof, flipBit(rng, root)}
	case 3:
		return alteration{"shortened proof", index, proof[:len(proof)-1], root}
	case 4:
		altered := append([]anchor.Hash(nil), proof...)
		e := rng.IntN(len(proof))
		altered[e] = flipBit(rng, altered[e])
		return alteration{"altered proof element", index, altered, root}
	default:
		return alteration{"another index", (index + 1 + rng.Uint64N(size-1)) % size, proof, root}
	}
}

// alterationsOf lists every single alteration of a valid query: each other
// index, an index past the end, each proof element with one bit flipped, the
// proof one hash shorter and one longer, the root with one bit flipped.
func alterationsOf(rng *rand.Rand, leaf anchor.Hash, index, size uint64, proof []anchor.Hash, root anchor.Hash) []alteration {
	alts := []alteration{
		{"index past end", size + rng.Uint64N(3), proof, root},
		{"lengthened proof", index, append(append([]anchor.Hash(nil), proof...), leaf), root},
		{"altered root", index, proof, flipBit(rng, root)},
	}
	if len(proof) > 0 {
		alts = append(alts, alteration{"shortened proof", index, proof[:len(proof)-1], root})
	}
	for e := range proof {
		altered := append([]anchor.Hash(nil), proof...)
		altered[e] = flipBit(rng, altered[e])
		alts = append(alts, alteration{"altered proof element", index, altered, root})
	}
	for other := range size {
		if other != index {
			alts = append(alts, alteration{"another index", other, proof, root})
		}
	}
	return alts
}

// TestInclusionOnSimulatedChain repeats the agreement through eth_call on the
// deployed registry (every leaf of trees of 1..64 leaves, with an altered
// leaf and one altered proof element each) and checks that the code the
// direct-EVM property test runs is the deployed code.
func TestInclusionOnSimulatedChain(t *testing.T) {
	h := newHarness(t)
	deployed, err := h.client.CodeAt(t.Context(), h.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(deployed, newEVMVerifier(t).code) {
		t.Fatal("deployed runtime code differs from the code the property test runs")
	}
	a := &agreement{t: t, v: chainVerifier{h: h}}
	all := testLeaves(64)
	rng := rand.New(rand.NewPCG(3, 4))
	for size := uint64(1); size <= 64; size++ {
		tree, _ := anchor.NewTree(all[:size])
		root := tree.Root()
		for index := range size {
			leaf := tree.Leaf(index)
			proof, _ := tree.InclusionProof(index)
			if !a.check("valid proof", leaf, index, size, proof, root) {
				t.Fatalf("valid proof refused: index %d, size %d", index, size)
			}
			a.refuse("altered leaf", flipBit(rng, leaf), index, size, proof, root)
			if len(proof) > 0 {
				altered := append([]anchor.Hash(nil), proof...)
				e := rng.IntN(len(proof))
				altered[e] = flipBit(rng, altered[e])
				a.refuse("altered proof element", leaf, index, size, altered, root)
			}
		}
	}
}

// TestInclusionBeyondUint64 covers inputs the Go verifier cannot express:
// indexes and sizes beyond 64 bits, and size 0.
func TestInclusionBeyondUint64(t *testing.T) {
	v := newEVMVerifier(t)
	leaf := anchor.LeafHash([]byte("x"))
	huge := new(big.Int).Lsh(big.NewInt(1), 255)
	maxU256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	for _, c := range []struct {
		name        string
		index, size *big.Int
		want        bool
	}{
		{"single leaf", big.NewInt(0), big.NewInt(1), true},
		{"size 0", big.NewInt(0), big.NewInt(0), false},
		{"index == size == 2^255", huge, huge, false},
		{"empty proof, 2^256-1 leaves", big.NewInt(0), maxU256, false},
		{"index 2^255, 2^256-1 leaves", huge, maxU256, false},
	} {
		if got := v.verify(t, leaf, c.index, c.size, nil, leaf); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

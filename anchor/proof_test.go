package anchor

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestInclusionProofKnownAnswers(t *testing.T) {
	v := loadMerkleVectors(t)
	for _, tc := range v.Inclusion {
		leaves := recordLeaves(tc.Size)
		got, err := InclusionProof(tc.Index, leaves)
		if err != nil {
			t.Fatalf("InclusionProof(%d, %d leaves): %v", tc.Index, tc.Size, err)
		}
		want := mustHashes(t, tc.Path)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("InclusionProof(%d, %d leaves) = %x, want %x", tc.Index, tc.Size, got, want)
		}
		root, _ := Root(leaves)
		if err := VerifyInclusion(tc.Index, tc.Size, leaves[tc.Index], want, root); err != nil {
			t.Errorf("VerifyInclusion(%d, %d): %v", tc.Index, tc.Size, err)
		}
	}
}

func TestConsistencyProofKnownAnswers(t *testing.T) {
	v := loadMerkleVectors(t)
	for _, tc := range v.Consistency {
		leaves := recordLeaves(tc.NewSize)
		got, err := ConsistencyProof(tc.OldSize, leaves)
		if err != nil {
			t.Fatalf("ConsistencyProof(%d, %d leaves): %v", tc.OldSize, tc.NewSize, err)
		}
		want := mustHashes(t, tc.Path)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ConsistencyProof(%d, %d leaves) = %x, want %x", tc.OldSize, tc.NewSize, got, want)
		}
		oldRoot, _ := Root(leaves[:tc.OldSize])
		newRoot, _ := Root(leaves)
		if err := VerifyConsistency(tc.OldSize, tc.NewSize, oldRoot, newRoot, want); err != nil {
			t.Errorf("VerifyConsistency(%d, %d): %v", tc.OldSize, tc.NewSize, err)
		}
	}
}

// TestInclusionAllSizes proves every leaf of every tree up to 70 leaves, and
// checks that a changed leaf, index, size, root or proof element is refused
// with the right sentinel.
func TestInclusionAllSizes(t *testing.T) {
	all := recordLeaves(70)
	for size := uint64(1); size <= 70; size++ {
		leaves := all[:size]
		tree, err := NewTree(leaves)
		if err != nil {
			t.Fatal(err)
		}
		root := tree.Root()
		for index := range size {
			path, err := tree.InclusionProof(index)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyInclusion(index, size, leaves[index], path, root); err != nil {
				t.Fatalf("size %d index %d: %v", size, index, err)
			}
			if err := VerifyInclusion(index, size, LeafHash([]byte("tampered")), path, root); !errors.Is(err, ErrProofMismatch) {
				t.Fatalf("size %d index %d: altered leaf: %v", size, index, err)
			}
			if err := VerifyInclusion(index, size, leaves[index], path, NodeHash(root, root)); !errors.Is(err, ErrProofMismatch) {
				t.Fatalf("size %d index %d: altered root: %v", size, index, err)
			}
			for other := range size {
				if other == index {
					continue
				}
				err := VerifyInclusion(other, size, leaves[index], path, root)
				if !errors.Is(err, ErrProofMismatch) && !errors.Is(err, ErrProofSize) {
					t.Fatalf("size %d: proof of %d accepted at index %d: %v", size, index, other, err)
				}
			}
			for i := range path {
				altered := append([]Hash(nil), path...)
				altered[i][i%32] ^= 1
				if err := VerifyInclusion(index, size, leaves[index], altered, root); !errors.Is(err, ErrProofMismatch) {
					t.Fatalf("size %d index %d: altered element %d: %v", size, index, i, err)
				}
			}
			if err := VerifyInclusion(index, size, leaves[index], append(path, root), root); !errors.Is(err, ErrProofSize) {
				t.Fatalf("size %d index %d: long proof: %v", size, index, err)
			}
			if len(path) > 0 {
				if err := VerifyInclusion(index, size, leaves[index], path[:len(path)-1], root); !errors.Is(err, ErrProofSize) {
					t.Fatalf("size %d index %d: short proof: %v", size, index, err)
				}
			}
		}
		if _, err := tree.InclusionProof(size); !errors.Is(err, ErrIndexOutOfRange) {
			t.Fatalf("size %d: proof past the end: %v", size, err)
		}
		if err := VerifyInclusion(size, size, leaves[0], nil, root); !errors.Is(err, ErrIndexOutOfRange) {
			t.Fatalf("size %d: verify past the end: %v", size, err)
		}
	}
}

// TestInclusionProofFunctionMatchesTree checks the package-level function
// against the Tree method it delegates to.
func TestInclusionProofFunctionMatchesTree(t *testing.T) {
	leaves := recordLeaves(37)
	tree, _ := NewTree(leaves)
	for index := range uint64(37) {
		a, err := InclusionProof(index, leaves)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := tree.InclusionProof(index)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("index %d differs", index)
		}
	}
	if _, err := InclusionProof(0, nil); !errors.Is(err, ErrEmptyTree) {
		t.Fatalf("empty: %v", err)
	}
}

// TestConsistencyAllSizes proves every pair 1 <= old <= new <= 70 and checks
// that altered roots and proof elements are refused.
func TestConsistencyAllSizes(t *testing.T) {
	all := recordLeaves(70)
	roots := make([]Hash, 71)
	for n := 1; n <= 70; n++ {
		roots[n], _ = Root(all[:n])
	}
	for newSize := uint64(1); newSize <= 70; newSize++ {
		tree, _ := NewTree(all[:newSize])
		for oldSize := uint64(1); oldSize <= newSize; oldSize++ {
			path, err := tree.ConsistencyProof(oldSize)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyConsistency(oldSize, newSize, roots[oldSize], roots[newSize], path); err != nil {
				t.Fatalf("%d -> %d: %v", oldSize, newSize, err)
			}
			bad := NodeHash(roots[oldSize], roots[newSize])
			if err := VerifyConsistency(oldSize, newSize, bad, roots[newSize], path); !errors.Is(err, ErrProofMismatch) {
				t.Fatalf("%d -> %d: altered old root: %v", oldSize, newSize, err)
			}
			if err := VerifyConsistency(oldSize, newSize, roots[oldSize], bad, path); !errors.Is(err, ErrProofMismatch) {
				t.Fatalf("%d -> %d: altered new root: %v", oldSize, newSize, err)
			}
			for i := range path {
				altered := append([]Hash(nil), path...)
				altered[i][0] ^= 0x80
				if err := VerifyConsistency(oldSize, newSize, roots[oldSize], roots[newSize], altered); !errors.Is(err, ErrProofMismatch) {
					t.Fatalf("%d -> %d: altered element %d: %v", oldSize, newSize, i, err)
				}
			}
			if err := VerifyConsistency(oldSize, newSize, roots[oldSize], roots[newSize], append(path, bad)); !errors.Is(err, ErrProofSize) {
				t.Fatalf("%d -> %d: long proof: %v", oldSize, newSize, err)
			}
		}
		if _, err := tree.ConsistencyProof(0); !errors.Is(err, ErrInvalidSize) {
			t.Fatalf("old size 0: %v", err)
		}
		if _, err := tree.ConsistencyProof(newSize + 1); !errors.Is(err, ErrInvalidSize) {
			t.Fatalf("old size past new: %v", err)
		}
	}
	if err := VerifyConsistency(3, 2, roots[3], roots[2], nil); !errors.Is(err, ErrInvalidSize) {
		t.Fatalf("shrinking tree: %v", err)
	}
	if err := VerifyConsistency(0, 2, Hash{}, roots[2], nil); !errors.Is(err, ErrInvalidSize) {
		t.Fatalf("old size 0: %v", err)
	}
}

func BenchmarkVerifyInclusion(b *testing.B) {
	for _, n := range []uint64{1024, 4096} {
		leaves := recordLeaves(n)
		tree, _ := NewTree(leaves)
		index := n / 3
		path, _ := tree.InclusionProof(index)
		root := tree.Root()
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if err := VerifyInclusion(index, n, leaves[index], path, root); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkInclusionProof(b *testing.B) {
	leaves := recordLeaves(4096)
	tree, _ := NewTree(leaves)
	for b.Loop() {
		if _, err := tree.InclusionProof(1234); err != nil {
			b.Fatal(err)
		}
	}
}

// Addresses are written in one form, EIP-55's checksummed one, and read in
// any case.
func TestHexAddressIsEIP55(t *testing.T) {
	const want = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" // EIP-55's own example
	var a HexAddress
	if err := a.UnmarshalText([]byte(strings.ToLower(want))); err != nil {
		t.Fatal(err)
	}
	got, err := a.MarshalText()
	if err != nil || string(got) != want {
		t.Fatalf("MarshalText = %s %v, want %s", got, err, want)
	}
}

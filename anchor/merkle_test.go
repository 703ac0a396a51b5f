package anchor

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/testonly"
)

// merkleVectors mirrors testdata/merkle_vectors.json, produced by an
// independent recursive implementation of RFC 6962's MTH, PATH and SUBPROOF
// over keccak256 (JavaScript, js-sha3); leaf i hashes the ASCII "record-<i>".
type merkleVectors struct {
	LeafHashEmpty string `json:"leaf_hash_empty"`
	NodeHashZero  string `json:"node_hash_zero"`
	Roots         []struct {
		Size uint64 `json:"size"`
		Root string `json:"root"`
	} `json:"roots"`
	Inclusion []struct {
		Index uint64   `json:"index"`
		Size  uint64   `json:"size"`
		Path  []string `json:"path"`
	} `json:"inclusion"`
	Consistency []struct {
		OldSize uint64   `json:"old_size"`
		NewSize uint64   `json:"new_size"`
		Path    []string `json:"path"`
	} `json:"consistency"`
}

func loadMerkleVectors(t *testing.T) merkleVectors {
	t.Helper()
	raw, err := os.ReadFile("testdata/merkle_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v merkleVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustHash(t *testing.T, s string) Hash {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(b) != 32 {
		t.Fatalf("bad hash %q", s)
	}
	return Hash(b)
}

func mustHashes(t *testing.T, ss []string) []Hash {
	out := make([]Hash, len(ss))
	for i, s := range ss {
		out[i] = mustHash(t, s)
	}
	return out
}

// recordLeaves returns the leaves of the vector file: leaf i = LeafHash("record-<i>").
func recordLeaves(n uint64) []Hash {
	leaves := make([]Hash, n)
	for i := range leaves {
		leaves[i] = LeafHash(fmt.Appendf(nil, "record-%d", i))
	}
	return leaves
}

func TestHashKnownAnswers(t *testing.T) {
	v := loadMerkleVectors(t)
	if got, want := LeafHash(nil), mustHash(t, v.LeafHashEmpty); got != want {
		t.Errorf("LeafHash(empty) = %x, want %x", got, want)
	}
	if got, want := NodeHash(Hash{}, Hash{}), mustHash(t, v.NodeHashZero); got != want {
		t.Errorf("NodeHash(0, 0) = %x, want %x", got, want)
	}
}

func TestRootKnownAnswers(t *testing.T) {
	v := loadMerkleVectors(t)
	for _, tc := range v.Roots {
		got, err := Root(recordLeaves(tc.Size))
		if err != nil {
			t.Fatalf("Root(%d leaves): %v", tc.Size, err)
		}
		if want := mustHash(t, tc.Root); got != want {
			t.Errorf("Root(%d leaves) = %x, want %x", tc.Size, got, want)
		}
	}
}

func TestRootEmpty(t *testing.T) {
	if _, err := Root(nil); !errors.Is(err, ErrEmptyTree) {
		t.Fatalf("Root(nil) error = %v, want ErrEmptyTree", err)
	}
	if _, err := NewTree([]Hash{}); !errors.Is(err, ErrEmptyTree) {
		t.Fatalf("NewTree(empty) error = %v, want ErrEmptyTree", err)
	}
}

// TestRootMatchesReferenceTree compares every size up to 300 with the merkle
// library's reference tree under the same hasher.
func TestRootMatchesReferenceTree(t *testing.T) {
	leaves := recordLeaves(300)
	ref := testonly.New(keccakHasher{})
	for n := 1; n <= len(leaves); n++ {
		ref.Append(leaves[n-1][:])
		got, err := Root(leaves[:n])
		if err != nil {
			t.Fatal(err)
		}
		if Hash(ref.Hash()) != got {
			t.Fatalf("size %d: Root %x, reference %x", n, got, ref.Hash())
		}
	}
}

func TestTreeCopiesLeaves(t *testing.T) {
	leaves := recordLeaves(5)
	tree, err := NewTree(leaves)
	if err != nil {
		t.Fatal(err)
	}
	root := tree.Root()
	leaves[2] = Hash{}
	if tree.Leaf(2) == (Hash{}) || tree.Root() != root {
		t.Fatal("tree shares memory with the caller's leaves")
	}
	if tree.Size() != 5 {
		t.Fatalf("Size = %d", tree.Size())
	}
}

func BenchmarkRoot(b *testing.B) {
	for _, n := range []uint64{1024, 4096} {
		leaves := recordLeaves(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Root(leaves); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLeafHash(b *testing.B) {
	body := []byte(`{"flow":{"dst_port":502,"src_ip":"10.0.0.7"},"id":"0190f6a2-7c1e-7b3a-9f00-000000000001","kind":"alert","score":0.987}`)
	for b.Loop() {
		LeafHash(body)
	}
}

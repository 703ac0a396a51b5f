package anchor

import (
	"errors"

	"github.com/ethereum/go-ethereum/crypto/keccak"
	"github.com/transparency-dev/merkle/compact"
)

// Hash is a keccak256 digest: a leaf hash, an interior node hash or a root.
type Hash = [32]byte

// Domain-separation prefixes of RFC 6962 section 2.1: a leaf hash can never
// be mistaken for an interior node hash, so no proof can present an interior
// node as a record.
const (
	leafPrefix = 0x00
	nodePrefix = 0x01
)

// ErrEmptyTree reports a tree of zero leaves. idsledger never anchors an
// empty batch (the registry refuses a zero leaf count), so an empty tree has
// no root here, unlike RFC 6962 which defines one.
var ErrEmptyTree = errors.New("anchor: tree has no leaves")

// LeafHash returns keccak256(0x00 ‖ canonical), the leaf of a record whose
// canonical body (see Canonicalize) is canonical. The registry contract's
// verifyInclusion expects exactly this value as its leaf.
func LeafHash(canonical []byte) Hash {
	return keccak256([]byte{leafPrefix}, canonical)
}

// NodeHash returns keccak256(0x01 ‖ left ‖ right), the interior node over two
// subtrees, exactly as the registry contract computes it on chain.
func NodeHash(left, right Hash) Hash {
	return keccak256([]byte{nodePrefix}, left[:], right[:])
}

// Root returns the root of the RFC 6962-shaped tree whose leaf hashes are
// leaves, in order: the left subtree of every node is the largest perfect
// tree of fewer leaves than the node covers. A single leaf is its own root.
// Zero leaves yield ErrEmptyTree.
func Root(leaves []Hash) (Hash, error) {
	t, err := NewTree(leaves)
	if err != nil {
		return Hash{}, err
	}
	return t.Root(), nil
}

// Tree holds every perfect-subtree hash of one batch, so that proofs for all
// of its leaves cost O(log n) each instead of O(n). A Tree is immutable and
// safe for concurrent use.
type Tree struct {
	// levels[l][i] is the hash of the perfect subtree of 2^l leaves that
	// starts at leaf i<<l; levels[0] is a copy of the leaves.
	levels [][]Hash
	root   Hash
}

// NewTree builds the tree over leaves (copied). Zero leaves yield
// ErrEmptyTree.
func NewTree(leaves []Hash) (*Tree, error) {
	if len(leaves) == 0 {
		return nil, ErrEmptyTree
	}
	level := append([]Hash(nil), leaves...)
	levels := [][]Hash{level}
	for len(level) > 1 {
		next := make([]Hash, len(level)/2)
		for i := range next {
			next[i] = NodeHash(level[2*i], level[2*i+1])
		}
		levels = append(levels, next)
		level = next
	}
	t := &Tree{levels: levels}
	t.root = t.rangeRoot(uint64(len(leaves)))
	return t, nil
}

// Size returns the number of leaves.
func (t *Tree) Size() uint64 { return uint64(len(t.levels[0])) }

// Root returns the root hash, equal to Root over the same leaves.
func (t *Tree) Root() Hash { return t.root }

// Leaf returns the leaf hash at index; index must be below Size.
func (t *Tree) Leaf(index uint64) Hash { return t.levels[0][index] }

// rangeRoot returns the root of the tree over the first size leaves
// (1 <= size <= Size).
func (t *Tree) rangeRoot(size uint64) Hash {
	// The compact range of [0, size) lists its perfect subtrees from left to
	// right; folding them from the right is RFC 6962's MTH.
	ids := compact.RangeNodes(0, size, nil)
	root := t.node(ids[len(ids)-1])
	for i := len(ids) - 2; i >= 0; i-- {
		root = NodeHash(t.node(ids[i]), root)
	}
	return root
}

// node returns the hash of a perfect subtree inside the tree.
func (t *Tree) node(id compact.NodeID) Hash {
	return t.levels[id.Level][id.Index]
}

func keccak256(parts ...[]byte) Hash {
	h := keccak.NewLegacyKeccak256()
	for _, p := range parts {
		h.Write(p)
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

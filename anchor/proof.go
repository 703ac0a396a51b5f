package anchor

import (
	"errors"
	"fmt"

	merkleproof "github.com/transparency-dev/merkle/proof"
)

// Sentinel errors of proof construction and verification, checked with
// errors.Is. A verifier reports a record as tampered only on
// ErrProofMismatch; the other errors mean the proof material itself is
// malformed or does not belong to the claimed tree size.
var (
	// ErrIndexOutOfRange: a leaf index is not below the tree size.
	ErrIndexOutOfRange = errors.New("anchor: leaf index out of range")
	// ErrInvalidSize: tree sizes of a consistency proof are not
	// 1 <= oldSize <= newSize.
	ErrInvalidSize = errors.New("anchor: invalid tree size")
	// ErrProofSize: a proof does not hold the number of hashes that the index
	// and sizes require.
	ErrProofSize = errors.New("anchor: wrong proof length")
	// ErrProofMismatch: the proof is well-formed but recomputes a root other
	// than the one claimed, so the leaf (or a root) is not what was anchored.
	ErrProofMismatch = errors.New("anchor: proof does not match root")
)

// InclusionProof returns the RFC 6962 audit path of the leaf at index in the
// tree over leaves: sibling hashes ordered from the leaf up. It is empty for a
// single-leaf tree. index >= len(leaves) yields ErrIndexOutOfRange, zero
// leaves ErrEmptyTree. To prove many leaves of one batch, build a Tree once.
func InclusionProof(index uint64, leaves []Hash) ([]Hash, error) {
	t, err := NewTree(leaves)
	if err != nil {
		return nil, err
	}
	return t.InclusionProof(index)
}

// InclusionProof returns the audit path of the leaf at index (see the
// package-level InclusionProof).
func (t *Tree) InclusionProof(index uint64) ([]Hash, error) {
	if index >= t.Size() {
		return nil, fmt.Errorf("%w: index %d, size %d", ErrIndexOutOfRange, index, t.Size())
	}
	nodes, err := merkleproof.Inclusion(index, t.Size())
	if err != nil {
		return nil, fmt.Errorf("anchor: inclusion proof %d/%d: %w", index, t.Size(), err)
	}
	return t.rehash(nodes)
}

// VerifyInclusion checks that leaf is the leaf at index of the tree of size
// leaves whose root is root, given its audit path. It returns nil when the
// proof holds; ErrIndexOutOfRange when index >= size; ErrProofSize when proof
// has the wrong length for (index, size); ErrProofMismatch when the path
// leads to another root. It accepts exactly the inputs the registry
// contract's verifyInclusion accepts.
func VerifyInclusion(index, size uint64, leaf Hash, proof []Hash, root Hash) error {
	if index >= size {
		return fmt.Errorf("%w: index %d, size %d", ErrIndexOutOfRange, index, size)
	}
	nodes, err := merkleproof.Inclusion(index, size)
	if err != nil {
		return fmt.Errorf("anchor: inclusion proof %d/%d: %w", index, size, err)
	}
	if want := proofLen(nodes); len(proof) != want {
		return fmt.Errorf("%w: %d hashes, want %d for index %d of %d", ErrProofSize, len(proof), want, index, size)
	}
	err = merkleproof.VerifyInclusion(keccakHasher{}, index, size, leaf[:], toBytes(proof), root[:])
	return verifyError(err)
}

// ConsistencyProof returns the RFC 6962 consistency proof that the tree over
// the first oldSize leaves is a prefix of the tree over all leaves. It is
// empty when oldSize == len(leaves). oldSize must satisfy
// 1 <= oldSize <= len(leaves), otherwise ErrInvalidSize.
func ConsistencyProof(oldSize uint64, leaves []Hash) ([]Hash, error) {
	t, err := NewTree(leaves)
	if err != nil {
		return nil, err
	}
	return t.ConsistencyProof(oldSize)
}

// ConsistencyProof returns the proof that the tree over its first oldSize
// leaves is a prefix of t (see the package-level ConsistencyProof).
func (t *Tree) ConsistencyProof(oldSize uint64) ([]Hash, error) {
	if oldSize == 0 || oldSize > t.Size() {
		return nil, fmt.Errorf("%w: old size %d, new size %d", ErrInvalidSize, oldSize, t.Size())
	}
	nodes, err := merkleproof.Consistency(oldSize, t.Size())
	if err != nil {
		return nil, fmt.Errorf("anchor: consistency proof %d/%d: %w", oldSize, t.Size(), err)
	}
	return t.rehash(nodes)
}

// VerifyConsistency checks that the tree of oldSize leaves with root oldRoot
// is a prefix of the tree of newSize leaves with root newRoot. It returns nil
// when the proof holds; ErrInvalidSize unless 1 <= oldSize <= newSize;
// ErrProofSize when proof has the wrong length; ErrProofMismatch when either
// root is not the one the proof leads to (for equal sizes: when the roots
// differ).
func VerifyConsistency(oldSize, newSize uint64, oldRoot, newRoot Hash, proof []Hash) error {
	if oldSize == 0 || oldSize > newSize {
		return fmt.Errorf("%w: old size %d, new size %d", ErrInvalidSize, oldSize, newSize)
	}
	nodes, err := merkleproof.Consistency(oldSize, newSize)
	if err != nil {
		return fmt.Errorf("anchor: consistency proof %d/%d: %w", oldSize, newSize, err)
	}
	if want := proofLen(nodes); len(proof) != want {
		return fmt.Errorf("%w: %d hashes, want %d for sizes %d to %d", ErrProofSize, len(proof), want, oldSize, newSize)
	}
	err = merkleproof.VerifyConsistency(keccakHasher{}, oldSize, newSize, toBytes(proof), oldRoot[:], newRoot[:])
	return verifyError(err)
}

// rehash fetches the proof nodes from the tree and folds the ephemeral
// (incomplete right-edge) subtree into one hash, giving the proof hashes.
func (t *Tree) rehash(nodes merkleproof.Nodes) ([]Hash, error) {
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		h := t.node(id)
		hashes[i] = h[:]
	}
	folded, err := nodes.Rehash(hashes, keccakHasher{}.HashChildren)
	if err != nil {
		return nil, fmt.Errorf("anchor: rehash proof: %w", err)
	}
	out := make([]Hash, len(folded))
	for i, h := range folded {
		copy(out[i][:], h)
	}
	return out, nil
}

// proofLen returns the number of hashes in the proof that nodes describes:
// the nodes of the ephemeral subtree count as one.
func proofLen(nodes merkleproof.Nodes) int {
	_, begin, end := nodes.Ephem()
	if end-begin > 1 {
		return len(nodes.IDs) - (end - begin - 1)
	}
	return len(nodes.IDs)
}

// verifyError maps the merkle library's verification error to our
// sentinels. Lengths and ranges are checked before the library runs, so a
// remaining failure is a root mismatch.
func verifyError(err error) error {
	if err == nil {
		return nil
	}
	var mismatch merkleproof.RootMismatchError
	if errors.As(err, &mismatch) {
		return fmt.Errorf("%w: computed %x, claimed %x", ErrProofMismatch, mismatch.CalculatedRoot, mismatch.ExpectedRoot)
	}
	return fmt.Errorf("%w: %v", ErrProofMismatch, err)
}

func toBytes(hashes []Hash) [][]byte {
	out := make([][]byte, len(hashes))
	for i := range hashes {
		out[i] = hashes[i][:]
	}
	return out
}

// keccakHasher is merkle.LogHasher over keccak256 with RFC 6962 prefixes.
type keccakHasher struct{}

// EmptyRoot is keccak256 of the empty string, RFC 6962's MTH({}); idsledger
// never uses it (see ErrEmptyTree), the library's interface requires it.
func (keccakHasher) EmptyRoot() []byte {
	h := keccak256()
	return h[:]
}

func (keccakHasher) HashLeaf(leaf []byte) []byte {
	h := LeafHash(leaf)
	return h[:]
}

func (keccakHasher) HashChildren(l, r []byte) []byte {
	h := keccak256([]byte{nodePrefix}, l, r)
	return h[:]
}

func (keccakHasher) Size() int { return 32 }

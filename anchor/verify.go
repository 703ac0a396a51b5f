package anchor

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/google/uuid"
)

// Status is the outcome of verifying one record.
type Status string

const (
	// StatusVerified: the record hashes to a leaf whose inclusion proof
	// checks against the root the registry holds on chain.
	StatusVerified Status = "verified"
	// StatusTampered: the record, or the proof material it was anchored
	// with, no longer matches what the registry holds.
	StatusTampered Status = "tampered"
	// StatusPending: the record is accepted but not yet anchored.
	StatusPending Status = "pending"
	// StatusNotAnchored: the database says the record was anchored, but the
	// registry holds no such batch or record anchor.
	StatusNotAnchored Status = "not_anchored"
)

// ErrNotFound is returned when a record or batch does not exist.
var ErrNotFound = errors.New("not found")

// ErrBadProof is returned when a record or proof a caller supplied cannot
// be checked at all: the record is not JSON, or the proof names another
// chain or registry or a malformed record id. It is the caller's mistake,
// not a verdict on the record (that is Proof.Status).
var ErrBadProof = errors.New("the record or proof cannot be checked")

// HexHash is a 32-byte hash that reads and writes as 0x-prefixed hex in JSON.
type HexHash Hash

// MarshalText implements encoding.TextMarshaler.
func (h HexHash) MarshalText() ([]byte, error) {
	return []byte("0x" + hex.EncodeToString(h[:])), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *HexHash) UnmarshalText(b []byte) error {
	s := strings.TrimPrefix(strings.TrimPrefix(string(b), "0x"), "0X")
	if len(s) != 64 {
		return fmt.Errorf("hash %q: want 32 bytes of hex", b)
	}
	_, err := hex.Decode(h[:], []byte(s))
	return err
}

// HexAddress is a 20-byte address that reads and writes as 0x-prefixed hex.
type HexAddress Address

// MarshalText implements encoding.TextMarshaler.
// It writes the EIP-55 checksummed form, the one every address idsledger
// prints takes.
func (a HexAddress) MarshalText() ([]byte, error) {
	return []byte(common.Address(a).Hex()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *HexAddress) UnmarshalText(b []byte) error {
	s := strings.TrimPrefix(strings.TrimPrefix(string(b), "0x"), "0X")
	if len(s) != 40 {
		return fmt.Errorf("address %q: want 20 bytes of hex", b)
	}
	_, err := hex.Decode(a[:], []byte(s))
	return err
}

// Proof is the result of verifying a record together with everything a
// third party needs to check it again without the server: it is the JSON
// document the API returns and the --proof file of `idsledger verify`.
//
// A client MUST recompute Leaf from the record itself (RFC 8785 canonical
// form, then LeafHash) and MUST check the audit path against the root it
// reads from the registry at Registry on chain ChainID — Root here is only
// what the server saw.
type Proof struct {
	Status   Status `json:"status"`
	Reason   string `json:"reason,omitempty"`
	RecordID string `json:"record_id"`
	Kind     string `json:"kind,omitempty"`
	Mode     Mode   `json:"mode,omitempty"`

	Leaf      HexHash   `json:"leaf"`
	LeafIndex uint64    `json:"leaf_index"`
	LeafCount uint64    `json:"leaf_count,omitempty"`
	AuditPath []HexHash `json:"audit_path"`
	Root      *HexHash  `json:"root,omitempty"`

	BatchID     uint64     `json:"batch_id,omitempty"`
	TxHash      *HexHash   `json:"tx_hash,omitempty"`
	BlockNumber uint64     `json:"block_number,omitempty"`
	BlockTime   *time.Time `json:"block_time,omitempty"`
	ChainID     uint64     `json:"chain_id"`
	Registry    HexAddress `json:"registry"`
	// Submitter is the account that wrote the anchor, as the registry
	// says. A client SHOULD check it against the account it expects to
	// anchor (RequireSubmitter): any account the registry's owner granted
	// the role could have written it.
	Submitter *HexAddress `json:"submitter,omitempty"`

	// HeadBlock, Depth, FinalizedBlock and Finalized say how settled the
	// anchor was when it was checked: the chain's head, how many blocks
	// (the anchor's included) are on top of it, the chain's finalized head
	// (absent on chains that have none) and whether the anchor's block is
	// final. An anchor that is not final can still vanish in a reorg.
	HeadBlock      uint64  `json:"head_block,omitempty"`
	Depth          uint64  `json:"depth,omitempty"`
	FinalizedBlock *uint64 `json:"finalized_block,omitempty"`
	Finalized      *bool   `json:"finalized,omitempty"`
	// Warnings are what the checker wants a reader to know besides the
	// verdict: that the chain is a development chain, for one.
	Warnings []string `json:"warnings,omitempty"`
}

// setStanding fills in where the anchor stands on the chain st describes.
func (p *Proof) setStanding(st ChainStatus) {
	p.HeadBlock, p.Depth, p.FinalizedBlock, p.Finalized, p.Warnings = st.Head, 0, nil, nil, nil
	if st.HasFinalized {
		f := st.Finalized
		p.FinalizedBlock = &f
	}
	if p.BlockNumber > 0 {
		if st.Head >= p.BlockNumber {
			p.Depth = st.Head - p.BlockNumber + 1
		}
		if st.HasFinalized {
			final := p.BlockNumber <= st.Finalized
			p.Finalized = &final
		}
	}
	if st.Dev != "" {
		p.Warnings = append(p.Warnings, fmt.Sprintf(
			"chain %d is a development chain (%s): whoever runs it can rebuild it with other roots, so this proves nothing against its operator",
			p.ChainID, st.Dev))
	}
}

// chainStatus reads where reg's chain stands, if reg can say.
func chainStatus(ctx context.Context, reg RegistryReader) (ChainStatus, bool, error) {
	r, ok := reg.(ChainStatusReader)
	if !ok {
		return ChainStatus{}, false, nil
	}
	st, err := r.ChainStatus(ctx)
	if err != nil {
		return st, false, fmt.Errorf("chain status: %w", err)
	}
	return st, true, nil
}

// RequireSubmitter turns a verified proof into not_anchored when the
// anchor on chain was written by an account other than want: an anchor by
// an account the client does not trust proves nothing to it.
func (p *Proof) RequireSubmitter(want Address) {
	if p.Status != StatusVerified {
		return
	}
	if p.Submitter == nil || Address(*p.Submitter) != want {
		got := "an unknown account"
		if p.Submitter != nil {
			b, _ := p.Submitter.MarshalText()
			got = string(b)
		}
		w, _ := HexAddress(want).MarshalText()
		p.Status = StatusNotAnchored
		p.Reason = fmt.Sprintf("the anchor was written by %s, not by the expected anchorer %s", got, w)
	}
}

func submitterPtr(a Address) *HexAddress {
	if a == (Address{}) {
		return nil
	}
	h := HexAddress(a)
	return &h
}

// StoredRecord is a record as the database holds it.
type StoredRecord struct {
	ID     RecordID
	Kind   string
	Body   []byte // canonical JSON, as hashed
	Status string // pending or anchored
	// BatchID and LeafIndex are set unless Status is pending.
	BatchID   uint64
	LeafIndex int
	CreatedAt time.Time
}

// RecordSource is what verification needs from storage.
type RecordSource interface {
	// Record returns one record, or ErrNotFound.
	Record(ctx context.Context, id RecordID) (StoredRecord, error)
	// Batch returns one batch row with its leaves, or ErrNotFound.
	Batch(ctx context.Context, id uint64) (Batch, error)
	// Batches lists batch rows without their leaves and record ids,
	// newest first.
	Batches(ctx context.Context, f BatchFilter) ([]Batch, error)
	// BatchRecords returns every record that record_anchors places in the
	// batch, in leaf index order.
	BatchRecords(ctx context.Context, id uint64) ([]StoredRecord, error)
}

// Verifier checks records in the database against the registry on chain.
// It is safe for concurrent use.
//
// It keeps the Merkle trees of recently used confirmed batches in memory,
// built from the leaves stored when each batch was prepared, so that a proof
// costs O(log n) instead of a database read and O(n) hashing. That changes no
// answer that matters: the record's leaf is always recomputed from its
// stored body and the root is always read from the registry, so a cached
// tree can only lead to "verified" for the very bytes that were anchored.
// Changes to other rows are the batch audit's business (Audit reads the
// database afresh).
type Verifier struct {
	src   RecordSource
	reg   RegistryReader
	cache *lru.Cache[uint64, cachedBatch] // confirmed batches, which never change

	// The chain's status, read at most once a second: it costs two calls
	// to the node, and a proof's depth need not be fresher.
	stMu sync.Mutex
	st   ChainStatus
	stAt time.Time
}

// chainStatus returns the chain's status, at most a second old; ok is false
// when the registry cannot tell.
func (v *Verifier) chainStatus(ctx context.Context) (ChainStatus, bool, error) {
	if _, ok := v.reg.(ChainStatusReader); !ok {
		return ChainStatus{}, false, nil
	}
	v.stMu.Lock()
	defer v.stMu.Unlock()
	if !v.stAt.IsZero() && time.Since(v.stAt) < time.Second {
		return v.st, true, nil
	}
	st, ok, err := chainStatus(ctx, v.reg)
	if err != nil || !ok {
		return st, ok, err
	}
	v.st, v.stAt = st, time.Now()
	return st, true, nil
}

// NewVerifier returns a verifier reading records from src and roots from reg.
func NewVerifier(src RecordSource, reg RegistryReader) *Verifier {
	cache, _ := lru.New[uint64, cachedBatch](64) // fails only for a size below 1
	return &Verifier{src: src, reg: reg, cache: cache}
}

// batch returns a confirmed batch with its tree, from the cache or src.
func (v *Verifier) batch(ctx context.Context, id uint64) (Batch, *Tree, error) {
	if e, ok := v.cache.Get(id); ok {
		return e.b, e.t, nil
	}
	b, err := v.src.Batch(ctx, id)
	if err != nil {
		return b, nil, err
	}
	if len(b.Leaves) == 0 {
		return b, nil, nil
	}
	t, err := NewTree(b.Leaves)
	if err != nil {
		return b, nil, err
	}
	if b.Status == BatchConfirmed {
		v.cache.Add(id, cachedBatch{b: b, t: t})
	}
	return b, t, nil
}

type cachedBatch struct {
	b Batch
	t *Tree
}

// Verify checks one record. It returns ErrNotFound when there is no such
// record; any other error means the check could not be made (database or
// chain unreachable), never that the record failed it.
func (v *Verifier) Verify(ctx context.Context, id RecordID) (*Proof, error) {
	rec, err := v.src.Record(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", uuid.UUID(id), err)
	}
	p := &Proof{
		RecordID:  uuid.UUID(id).String(),
		Kind:      rec.Kind,
		Leaf:      HexHash(LeafHash(rec.Body)),
		AuditPath: []HexHash{},
		ChainID:   v.reg.ChainID(),
		Registry:  HexAddress(v.reg.Address()),
	}
	if rec.Status != "anchored" {
		p.Status = StatusPending
		return p, nil
	}
	b, tree, err := v.batch(ctx, rec.BatchID)
	if err != nil {
		return nil, fmt.Errorf("record %s: batch %d: %w", p.RecordID, rec.BatchID, err)
	}
	p.Mode = b.Mode
	p.BatchID = b.ID
	p.LeafIndex = uint64(rec.LeafIndex)
	if b.HasTx {
		tx := HexHash(b.Tx)
		p.TxHash = &tx
	}
	if b.Mode == ModeRecord {
		p, err = v.verifyRecordMode(ctx, p, id)
	} else {
		p, err = v.verifyBatchMode(ctx, p, b, tree, rec)
	}
	if err != nil {
		return nil, err
	}
	st, ok, err := v.chainStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", p.RecordID, err)
	}
	if ok {
		p.setStanding(st)
	}
	return p, nil
}

func (v *Verifier) verifyRecordMode(ctx context.Context, p *Proof, id RecordID) (*Proof, error) {
	oc, ok, err := v.reg.Record(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("record %s: read registry: %w", p.RecordID, err)
	}
	if !ok {
		p.Status = StatusNotAnchored
		p.Reason = "the registry holds no anchor for this record"
		return p, nil
	}
	root := HexHash(oc.Hash)
	p.Root = &root
	p.LeafCount = 1
	p.BlockNumber = oc.BlockNumber
	bt := oc.BlockTime.UTC()
	p.BlockTime = &bt
	p.Submitter = submitterPtr(oc.Submitter)
	if oc.Hash != Hash(p.Leaf) {
		p.Status = StatusTampered
		p.Reason = "the record does not hash to the anchored value"
		return p, nil
	}
	p.Status = StatusVerified
	return p, nil
}

func (v *Verifier) verifyBatchMode(ctx context.Context, p *Proof, b Batch, tree *Tree, rec StoredRecord) (*Proof, error) {
	oc, ok, err := v.reg.Batch(ctx, b.ID)
	if err != nil {
		return nil, fmt.Errorf("record %s: read registry batch %d: %w", p.RecordID, b.ID, err)
	}
	if !ok {
		p.Status = StatusNotAnchored
		p.Reason = fmt.Sprintf("the registry holds no batch %d", b.ID)
		return p, nil
	}
	root := HexHash(oc.Root)
	p.Root = &root
	p.LeafCount = uint64(oc.LeafCount)
	p.BlockNumber = oc.BlockNumber
	bt := oc.BlockTime.UTC()
	p.BlockTime = &bt
	p.Submitter = submitterPtr(oc.Submitter)
	if tree == nil || rec.LeafIndex < 0 || rec.LeafIndex >= len(b.Leaves) || len(b.Leaves) != int(oc.LeafCount) {
		p.Status = StatusTampered
		p.Reason = fmt.Sprintf("leaf index %d or the batch's %d stored leaves do not fit the %d leaves on chain",
			rec.LeafIndex, len(b.Leaves), oc.LeafCount)
		return p, nil
	}
	path, err := tree.InclusionProof(uint64(rec.LeafIndex))
	if err != nil {
		return nil, fmt.Errorf("record %s: inclusion proof: %w", p.RecordID, err)
	}
	p.AuditPath = hexHashes(path)
	if err := VerifyInclusion(p.LeafIndex, p.LeafCount, Hash(p.Leaf), path, oc.Root); err != nil {
		p.Status = StatusTampered
		if Hash(p.Leaf) != b.Leaves[rec.LeafIndex] {
			p.Reason = "the record does not hash to the leaf that was anchored"
		} else {
			p.Reason = "the batch's stored leaves do not lead to the root on chain"
		}
		return p, nil
	}
	p.Status = StatusVerified
	return p, nil
}

// VerifyOffline checks a record body against a proof document and the
// registry, with no database: it recomputes the leaf from body (any JSON;
// it is canonicalized first), checks that the proof names the chain and
// registry reg reads, reads the root from the registry and checks the audit
// path against it. The returned proof is p with Status, Reason and the
// on-chain Root, LeafCount and block filled in from the chain.
func VerifyOffline(ctx context.Context, reg RegistryReader, body []byte, p Proof) (*Proof, error) {
	out := p
	canonical, err := Canonicalize(body)
	if err != nil {
		return nil, fmt.Errorf("%w: record is not valid JSON: %w", ErrBadProof, err)
	}
	leaf := LeafHash(canonical)
	if p.ChainID != reg.ChainID() {
		return nil, fmt.Errorf("%w: proof is for chain %d, the endpoint serves chain %d", ErrBadProof, p.ChainID, reg.ChainID())
	}
	if Address(p.Registry) != reg.Address() {
		return nil, fmt.Errorf("%w: proof is for registry %x, not %x", ErrBadProof, p.Registry, reg.Address())
	}
	out.Root, out.BlockTime, out.Submitter = nil, nil, nil
	out.Reason = ""
	var (
		root  Hash
		count uint64
		ok    bool
	)
	if p.Mode == ModeRecord {
		id, err := uuid.Parse(p.RecordID)
		if err != nil {
			return nil, fmt.Errorf("%w: proof record_id: %w", ErrBadProof, err)
		}
		oc, found, err := reg.Record(ctx, RecordID(id))
		if err != nil {
			return nil, fmt.Errorf("read registry: %w", err)
		}
		root, count, ok = oc.Hash, 1, found
		out.BlockNumber, out.BlockTime, out.Submitter = oc.BlockNumber, timePtr(oc.BlockTime), submitterPtr(oc.Submitter)
	} else {
		oc, found, err := reg.Batch(ctx, p.BatchID)
		if err != nil {
			return nil, fmt.Errorf("read registry: %w", err)
		}
		root, count, ok = oc.Root, uint64(oc.LeafCount), found
		out.BlockNumber, out.BlockTime, out.Submitter = oc.BlockNumber, timePtr(oc.BlockTime), submitterPtr(oc.Submitter)
	}
	st, known, err := chainStatus(ctx, reg)
	if err != nil {
		return nil, err
	}
	if !ok {
		out.Status = StatusNotAnchored
		out.Reason = "the registry holds no such anchor"
		out.BlockNumber, out.BlockTime = 0, nil
	}
	if known {
		out.setStanding(st)
	}
	if !ok {
		return &out, nil
	}
	r := HexHash(root)
	out.Root = &r
	out.LeafCount = count
	switch {
	case leaf != Hash(p.Leaf):
		out.Status = StatusTampered
		out.Reason = "the record does not hash to the proof's leaf"
	case VerifyInclusion(p.LeafIndex, count, leaf, hashes(p.AuditPath), root) != nil:
		out.Status = StatusTampered
		out.Reason = "the audit path does not lead to the root on chain"
	default:
		out.Status = StatusVerified
	}
	out.Leaf = HexHash(leaf)
	return &out, nil
}

// AuditEntry names one record position in a batch audit.
type AuditEntry struct {
	LeafIndex int     `json:"leaf_index"`
	RecordID  string  `json:"record_id,omitempty"`
	Leaf      HexHash `json:"leaf"`
}

// AuditReport is the result of recomputing a batch from the database.
type AuditReport struct {
	BatchID uint64 `json:"batch_id"`
	Mode    Mode   `json:"mode"`
	// OnChain is false when the registry holds no such batch.
	OnChain     bool     `json:"on_chain"`
	LeafCount   uint64   `json:"leaf_count"`
	RootOnChain *HexHash `json:"root_on_chain,omitempty"`
	// RootFromRows is the root recomputed from the record rows' bodies;
	// absent when rows are missing.
	RootFromRows *HexHash `json:"root_from_rows,omitempty"`
	// OK is true when the rows reproduce the root on chain exactly.
	OK bool `json:"ok"`
	// Missing: positions the batch was anchored with that no row fills
	// (deleted records), named by the id recorded when the batch was made.
	Missing []AuditEntry `json:"missing"`
	// Extra: rows that claim the batch but were not anchored in it.
	Extra []AuditEntry `json:"extra"`
	// Altered: rows whose body no longer hashes to the anchored leaf.
	Altered []AuditEntry `json:"altered"`
}

// VerifyOffline checks a record body a caller holds against a proof and
// the registry this verifier reads (package function VerifyOffline): the
// verdict rests on the body, the proof and the chain, not on the database.
func (v *Verifier) VerifyOffline(ctx context.Context, body []byte, p Proof) (*Proof, error) {
	return VerifyOffline(ctx, v.reg, body, p)
}

// Batch returns a batch row as the database holds it, or ErrNotFound.
func (v *Verifier) Batch(ctx context.Context, id uint64) (Batch, error) {
	return v.src.Batch(ctx, id)
}

// BatchFilter selects batches to list: those before batch id Before (0:
// from the newest), of Status ("" any), at most Limit (default 100, at
// most 1000).
type BatchFilter struct {
	Before uint64
	Status BatchStatus
	Limit  int
}

// Batches lists batches newest first, without their leaves and record ids.
func (v *Verifier) Batches(ctx context.Context, f BatchFilter) ([]Batch, error) {
	return v.src.Batches(ctx, f)
}

// Audit recomputes a batch's root from the record rows in the database and
// compares it with the root on chain, naming missing, extra and altered
// records. It returns ErrNotFound when there is no such batch row.
func (v *Verifier) Audit(ctx context.Context, batchID uint64) (*AuditReport, error) {
	b, err := v.src.Batch(ctx, batchID)
	if err != nil {
		return nil, fmt.Errorf("batch %d: %w", batchID, err)
	}
	rows, err := v.src.BatchRecords(ctx, batchID)
	if err != nil {
		return nil, fmt.Errorf("batch %d records: %w", batchID, err)
	}
	rep := &AuditReport{BatchID: b.ID, Mode: b.Mode, Missing: []AuditEntry{}, Extra: []AuditEntry{}, Altered: []AuditEntry{}}

	var chainRoot Hash
	if b.Mode == ModeRecord {
		if len(b.RecordIDs) == 1 {
			oc, ok, err := v.reg.Record(ctx, b.RecordIDs[0])
			if err != nil {
				return nil, fmt.Errorf("batch %d: read registry: %w", batchID, err)
			}
			rep.OnChain, rep.LeafCount, chainRoot = ok, 1, oc.Hash
		}
	} else {
		oc, ok, err := v.reg.Batch(ctx, batchID)
		if err != nil {
			return nil, fmt.Errorf("batch %d: read registry: %w", batchID, err)
		}
		rep.OnChain, rep.LeafCount, chainRoot = ok, uint64(oc.LeafCount), oc.Root
	}
	if rep.OnChain {
		r := HexHash(chainRoot)
		rep.RootOnChain = &r
	}

	// The positions to account for: what the batch was anchored with, as
	// recorded at prepare time. Work and memory follow the stored leaves,
	// never the leaf count a chain node reports (a node could claim four
	// billion); a different count on chain only makes the audit fail.
	n := len(b.Leaves)
	leaves := make([]Hash, n)
	filled := make([]bool, n)
	for _, r := range rows {
		leaf := LeafHash(r.Body)
		e := AuditEntry{LeafIndex: r.LeafIndex, RecordID: uuid.UUID(r.ID).String(), Leaf: HexHash(leaf)}
		switch {
		case r.LeafIndex < 0 || r.LeafIndex >= n || filled[r.LeafIndex]:
			rep.Extra = append(rep.Extra, e)
			continue
		case r.LeafIndex < len(b.RecordIDs) && r.ID != b.RecordIDs[r.LeafIndex]:
			rep.Extra = append(rep.Extra, e)
			continue
		}
		filled[r.LeafIndex] = true
		leaves[r.LeafIndex] = leaf
		if r.LeafIndex < len(b.Leaves) && leaf != b.Leaves[r.LeafIndex] {
			rep.Altered = append(rep.Altered, e)
		}
	}
	for i, ok := range filled {
		if ok {
			continue
		}
		e := AuditEntry{LeafIndex: i}
		if i < len(b.RecordIDs) {
			e.RecordID = uuid.UUID(b.RecordIDs[i]).String()
		}
		if i < len(b.Leaves) {
			e.Leaf = HexHash(b.Leaves[i])
		}
		rep.Missing = append(rep.Missing, e)
	}
	if len(rep.Missing) == 0 && n > 0 {
		root, err := Root(leaves)
		if err != nil {
			return nil, fmt.Errorf("batch %d: root: %w", batchID, err)
		}
		r := HexHash(root)
		rep.RootFromRows = &r
		rep.OK = rep.OnChain && root == chainRoot && len(rep.Extra) == 0 && uint64(n) == rep.LeafCount
	}
	return rep, nil
}

func hexHashes(hs []Hash) []HexHash {
	out := make([]HexHash, len(hs))
	for i, h := range hs {
		out[i] = HexHash(h)
	}
	return out
}

func hashes(hs []HexHash) []Hash {
	out := make([]Hash, len(hs))
	for i, h := range hs {
		out[i] = Hash(h)
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

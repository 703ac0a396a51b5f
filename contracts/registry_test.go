package contracts_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/bindings"
)

// wantRevert checks that err is a revert carrying exactly the custom error want.
func (h *harness) wantRevert(err error, want any) {
	h.t.Helper()
	if err == nil {
		h.t.Fatalf("call succeeded, want revert %T%+v", want, want)
	}
	got := h.revert(err)
	if !reflect.DeepEqual(got, want) {
		h.t.Fatalf("revert = %T%+v (%v), want %T%+v", got, got, err, want, want)
	}
}

// onlyLog returns the single log of r.
func onlyLog(t *testing.T, r *types.Receipt) *types.Log {
	t.Helper()
	if len(r.Logs) != 1 {
		t.Fatalf("%d logs, want 1", len(r.Logs))
	}
	return r.Logs[0]
}

func TestDeployMakesDeployerOwnerAndAnchorer(t *testing.T) {
	h := newHarness(t)
	owner, err := bind.Call(h.contract, nil, h.reg.PackOwner(), h.reg.UnpackOwner)
	if err != nil {
		t.Fatal(err)
	}
	if owner != h.owner.addr || !h.isAnchorer(h.owner.addr) || h.isAnchorer(h.alice.addr) {
		t.Fatalf("owner %s, owner anchorer %v, alice anchorer %v", owner, h.isAnchorer(h.owner.addr), h.isAnchorer(h.alice.addr))
	}
	// The deployment emitted OwnershipTransferred(0, owner) and AnchorerGranted(owner, 1).
	logs, err := h.client.FilterLogs(t.Context(), filterAll(h.addr))
	if err != nil || len(logs) != 2 {
		t.Fatalf("deployment logs: %d, %v", len(logs), err)
	}
	ot, err := h.reg.UnpackOwnershipTransferredEvent(&logs[0])
	if err != nil || ot.PreviousOwner != (common.Address{}) || ot.NewOwner != h.owner.addr {
		t.Fatalf("OwnershipTransferred = %+v, %v", ot, err)
	}
	ag, err := h.reg.UnpackAnchorerGrantedEvent(&logs[1])
	if err != nil || ag.Account != h.owner.addr || ag.Id != 1 {
		t.Fatalf("AnchorerGranted = %+v, %v", ag, err)
	}
}

func TestTransferOwnership(t *testing.T) {
	h := newHarness(t)
	_, err := h.send(h.alice, h.reg.PackTransferOwnership(h.alice.addr))
	h.wantRevert(err, &bindings.AuditRegistryNotOwner{Caller: h.alice.addr})
	_, err = h.send(h.owner, h.reg.PackTransferOwnership(common.Address{}))
	h.wantRevert(err, &bindings.AuditRegistryZeroAddress{})

	r := h.mustSend(h.owner, h.reg.PackTransferOwnership(h.alice.addr))
	ev, err := h.reg.UnpackOwnershipTransferredEvent(onlyLog(t, r))
	if err != nil || ev.PreviousOwner != h.owner.addr || ev.NewOwner != h.alice.addr {
		t.Fatalf("OwnershipTransferred = %+v, %v", ev, err)
	}
	// The old owner lost every owner right; the new one has them.
	_, err = h.send(h.owner, h.reg.PackGrantAnchorer(h.bob.addr))
	h.wantRevert(err, &bindings.AuditRegistryNotOwner{Caller: h.owner.addr})
	h.mustSend(h.alice, h.reg.PackGrantAnchorer(h.bob.addr))
	// Ownership does not carry the anchoring role.
	if h.isAnchorer(h.alice.addr) || !h.isAnchorer(h.owner.addr) {
		t.Fatal("ownership transfer changed anchoring roles")
	}
}

func TestGrantAndRevokeAnchorer(t *testing.T) {
	h := newHarness(t)
	root := anchor.LeafHash([]byte("batch"))

	_, err := h.send(h.alice, h.reg.PackGrantAnchorer(h.alice.addr))
	h.wantRevert(err, &bindings.AuditRegistryNotOwner{Caller: h.alice.addr})
	_, err = h.send(h.owner, h.reg.PackGrantAnchorer(common.Address{}))
	h.wantRevert(err, &bindings.AuditRegistryZeroAddress{})
	_, err = h.send(h.alice, h.reg.PackAnchorBatch(1, root, 1, 1))
	h.wantRevert(err, &bindings.AuditRegistryNotAnchorer{Caller: h.alice.addr})

	r := h.mustSend(h.owner, h.reg.PackGrantAnchorer(h.alice.addr))
	granted, err := h.reg.UnpackAnchorerGrantedEvent(onlyLog(t, r))
	if err != nil || granted.Account != h.alice.addr || granted.Id != 2 {
		t.Fatalf("AnchorerGranted = %+v, %v", granted, err)
	}
	if !h.isAnchorer(h.alice.addr) {
		t.Fatal("alice not anchorer after grant")
	}
	_, err = h.send(h.owner, h.reg.PackGrantAnchorer(h.alice.addr))
	h.wantRevert(err, &bindings.AuditRegistryAnchorerAlreadyGranted{Account: h.alice.addr})
	h.mustSend(h.alice, h.reg.PackAnchorBatch(1, root, 1, 1))

	_, err = h.send(h.alice, h.reg.PackRevokeAnchorer(h.owner.addr))
	h.wantRevert(err, &bindings.AuditRegistryNotOwner{Caller: h.alice.addr})
	r = h.mustSend(h.owner, h.reg.PackRevokeAnchorer(h.alice.addr))
	revoked, err := h.reg.UnpackAnchorerRevokedEvent(onlyLog(t, r))
	if err != nil || revoked.Account != h.alice.addr {
		t.Fatalf("AnchorerRevoked = %+v, %v", revoked, err)
	}
	if h.isAnchorer(h.alice.addr) {
		t.Fatal("alice still anchorer after revoke")
	}
	_, err = h.send(h.owner, h.reg.PackRevokeAnchorer(h.alice.addr))
	h.wantRevert(err, &bindings.AuditRegistryAnchorerNotGranted{Account: h.alice.addr})
	for _, data := range [][]byte{
		h.reg.PackAnchorBatch(2, root, 1, 1),
		h.reg.PackAnchor([16]byte{1}, root, 1),
		h.reg.PackRegisterModel(1, root, 1),
	} {
		_, err = h.send(h.alice, data)
		h.wantRevert(err, &bindings.AuditRegistryNotAnchorer{Caller: h.alice.addr})
	}
	// A revoked anchorer's entries keep naming it.
	if got := h.getBatch(1).Submitter; got != h.alice.addr {
		t.Fatalf("batch 1 submitter after revoke = %s, want alice", got)
	}
	// A second grant restores the role under the same submitter id.
	r = h.mustSend(h.owner, h.reg.PackGrantAnchorer(h.alice.addr))
	granted, err = h.reg.UnpackAnchorerGrantedEvent(onlyLog(t, r))
	if err != nil || granted.Id != 2 {
		t.Fatalf("re-grant = %+v, %v", granted, err)
	}
	h.mustSend(h.owner, h.reg.PackGrantAnchorer(h.bob.addr))
	h.mustSend(h.bob, h.reg.PackAnchorBatch(2, root, 1, 1))
	h.mustSend(h.alice, h.reg.PackAnchorBatch(3, root, 1, 1))
	for id, want := range map[uint64]common.Address{1: h.alice.addr, 2: h.bob.addr, 3: h.alice.addr} {
		if got := h.getBatch(id).Submitter; got != want {
			t.Errorf("batch %d submitter = %s, want %s", id, got, want)
		}
	}
	_, err = h.send(h.owner, h.reg.PackRevokeAnchorer(common.Address{}))
	h.wantRevert(err, &bindings.AuditRegistryAnchorerNotGranted{Account: common.Address{}})
}

func TestAnchorBatch(t *testing.T) {
	h := newHarness(t)
	root := anchor.LeafHash([]byte("root"))

	if got := h.getBatch(7); got != (bindings.AuditRegistryBatch{}) {
		t.Fatalf("unknown batch = %+v, want zero", got)
	}
	// Extreme values check that the packed slot keeps every field apart.
	cases := []struct {
		id    uint64
		count uint32
		kind  uint8
	}{{7, 1024, 1}, {math.MaxUint64, math.MaxUint32, math.MaxUint8}, {1, 1, 2}}
	for _, c := range cases {
		r := h.mustSend(h.owner, h.reg.PackAnchorBatch(c.id, root, c.count, c.kind))
		ev, err := h.reg.UnpackBatchAnchoredEvent(onlyLog(t, r))
		want := &bindings.AuditRegistryBatchAnchored{BatchId: c.id, Root: root, Submitter: h.owner.addr, LeafCount: c.count, Kind: c.kind, Raw: r.Logs[0]}
		if err != nil || !reflect.DeepEqual(ev, want) {
			t.Fatalf("BatchAnchored = %+v, %v; want %+v", ev, err, want)
		}
		hdr := h.block(r)
		got := h.getBatch(c.id)
		wantBatch := bindings.AuditRegistryBatch{Root: root, LeafCount: c.count, Kind: c.kind,
			BlockNumber: hdr.Number.Uint64(), Timestamp: hdr.Time, Submitter: h.owner.addr}
		if got != wantBatch {
			t.Fatalf("getBatch(%d) = %+v, want %+v", c.id, got, wantBatch)
		}
	}

	_, err := h.send(h.owner, h.reg.PackAnchorBatch(7, anchor.LeafHash([]byte("other")), 3, 1))
	h.wantRevert(err, &bindings.AuditRegistryBatchAlreadyAnchored{BatchId: 7})
	for name, tc := range map[string]struct {
		data []byte
		want any
	}{
		"zero id":    {h.reg.PackAnchorBatch(0, root, 1, 1), &bindings.AuditRegistryZeroBatchId{}},
		"zero root":  {h.reg.PackAnchorBatch(9, [32]byte{}, 1, 1), &bindings.AuditRegistryZeroRoot{}},
		"zero count": {h.reg.PackAnchorBatch(9, root, 0, 1), &bindings.AuditRegistryZeroLeafCount{}},
		"zero kind":  {h.reg.PackAnchorBatch(9, root, 1, 0), &bindings.AuditRegistryZeroKind{}},
	} {
		_, err := h.send(h.owner, tc.data)
		t.Run(name, func(t *testing.T) { h.t = t; h.wantRevert(err, tc.want) })
	}
	h.t = t
	if got := h.getBatch(9); got != (bindings.AuditRegistryBatch{}) {
		t.Fatalf("refused batch was stored: %+v", got)
	}
}

func TestAnchorRecord(t *testing.T) {
	h := newHarness(t)
	id := [16]byte{0x01, 0x90, 0xf6, 0xa2, 0x7c, 0x1e, 0x7b, 0x3a, 0x9f}
	hash := anchor.LeafHash([]byte(`{"kind":"alert"}`))

	if got := h.getRecord(id); got != (bindings.AuditRegistryRecordAnchor{}) {
		t.Fatalf("unknown record = %+v, want zero", got)
	}
	r := h.mustSend(h.owner, h.reg.PackAnchor(id, hash, 3))
	ev, err := h.reg.UnpackRecordAnchoredEvent(onlyLog(t, r))
	want := &bindings.AuditRegistryRecordAnchored{RecordId: id, Hash: hash, Submitter: h.owner.addr, Kind: 3, Raw: r.Logs[0]}
	if err != nil || !reflect.DeepEqual(ev, want) {
		t.Fatalf("RecordAnchored = %+v, %v; want %+v", ev, err, want)
	}
	hdr := h.block(r)
	wantRecord := bindings.AuditRegistryRecordAnchor{Hash: hash, Kind: 3, BlockNumber: hdr.Number.Uint64(), Timestamp: hdr.Time, Submitter: h.owner.addr}
	if got := h.getRecord(id); got != wantRecord {
		t.Fatalf("getRecord = %+v, want %+v", got, wantRecord)
	}
	maxID := [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	h.mustSend(h.owner, h.reg.PackAnchor(maxID, hash, math.MaxUint8))
	if got := h.getRecord(maxID); got.Kind != math.MaxUint8 || got.Hash != hash || got.Submitter != h.owner.addr {
		t.Fatalf("getRecord(max) = %+v", got)
	}

	_, err = h.send(h.owner, h.reg.PackAnchor(id, anchor.LeafHash([]byte("x")), 3))
	h.wantRevert(err, &bindings.AuditRegistryRecordAlreadyAnchored{RecordId: id})
	_, err = h.send(h.owner, h.reg.PackAnchor([16]byte{}, hash, 1))
	h.wantRevert(err, &bindings.AuditRegistryZeroRecordId{})
	_, err = h.send(h.owner, h.reg.PackAnchor([16]byte{2}, [32]byte{}, 1))
	h.wantRevert(err, &bindings.AuditRegistryZeroHash{})
	_, err = h.send(h.owner, h.reg.PackAnchor([16]byte{2}, hash, 0))
	h.wantRevert(err, &bindings.AuditRegistryZeroKind{})
	_, err = h.send(h.alice, h.reg.PackAnchor([16]byte{2}, hash, 1))
	h.wantRevert(err, &bindings.AuditRegistryNotAnchorer{Caller: h.alice.addr})
}

func TestRegisterModel(t *testing.T) {
	h := newHarness(t)
	modelHash := anchor.LeafHash([]byte("global model v1"))

	if got := h.getModel(1); got != (bindings.AuditRegistryModel{}) {
		t.Fatalf("unknown model = %+v, want zero", got)
	}
	for _, c := range []struct{ version, round uint64 }{{1, 0}, {2, 17}, {math.MaxUint64, math.MaxUint64}} {
		r := h.mustSend(h.owner, h.reg.PackRegisterModel(c.version, modelHash, c.round))
		ev, err := h.reg.UnpackModelRegisteredEvent(onlyLog(t, r))
		want := &bindings.AuditRegistryModelRegistered{Version: c.version, ModelHash: modelHash, Round: c.round, Submitter: h.owner.addr, Raw: r.Logs[0]}
		if err != nil || !reflect.DeepEqual(ev, want) {
			t.Fatalf("ModelRegistered = %+v, %v; want %+v", ev, err, want)
		}
		hdr := h.block(r)
		wantModel := bindings.AuditRegistryModel{ModelHash: modelHash, Round: c.round, BlockNumber: hdr.Number.Uint64(), Timestamp: hdr.Time, Submitter: h.owner.addr}
		if got := h.getModel(c.version); got != wantModel {
			t.Fatalf("getModel(%d) = %+v, want %+v", c.version, got, wantModel)
		}
	}
	_, err := h.send(h.owner, h.reg.PackRegisterModel(2, anchor.LeafHash([]byte("v2 again")), 18))
	h.wantRevert(err, &bindings.AuditRegistryModelAlreadyRegistered{Version: 2})
	_, err = h.send(h.owner, h.reg.PackRegisterModel(0, modelHash, 1))
	h.wantRevert(err, &bindings.AuditRegistryZeroModelVersion{})
	_, err = h.send(h.owner, h.reg.PackRegisterModel(3, [32]byte{}, 1))
	h.wantRevert(err, &bindings.AuditRegistryZeroHash{})
	_, err = h.send(h.bob, h.reg.PackRegisterModel(3, modelHash, 1))
	h.wantRevert(err, &bindings.AuditRegistryNotAnchorer{Caller: h.bob.addr})
}

func TestVerifyBatchInclusion(t *testing.T) {
	h := newHarness(t)
	leaves := make([]anchor.Hash, 13)
	for i := range leaves {
		leaves[i] = anchor.LeafHash([]byte{byte(i)})
	}
	tree, err := anchor.NewTree(leaves)
	if err != nil {
		t.Fatal(err)
	}
	h.mustSend(h.owner, h.reg.PackAnchorBatch(42, tree.Root(), uint32(len(leaves)), 1))

	verify := func(batch uint64, leaf anchor.Hash, index uint64, proof []anchor.Hash) (bool, error) {
		return bind.Call(h.contract, nil, h.reg.PackVerifyBatchInclusion(batch, leaf, bigU(index), toArrays(proof)), h.reg.UnpackVerifyBatchInclusion)
	}
	for i := range uint64(len(leaves)) {
		proof, _ := tree.InclusionProof(i)
		if ok, err := verify(42, leaves[i], i, proof); err != nil || !ok {
			t.Fatalf("leaf %d: %v, %v", i, ok, err)
		}
		if ok, err := verify(42, anchor.LeafHash([]byte("forged")), i, proof); err != nil || ok {
			t.Fatalf("forged leaf %d accepted: %v, %v", i, ok, err)
		}
	}
	// Index at or past the stored leaf count.
	proof, _ := tree.InclusionProof(12)
	if ok, err := verify(42, leaves[12], 13, proof); err != nil || ok {
		t.Fatalf("index 13 accepted: %v, %v", ok, err)
	}
	_, err = verify(43, leaves[0], 0, nil)
	h.wantRevert(err, &bindings.AuditRegistryBatchNotFound{BatchId: 43})
}

func filterAll(addr common.Address) ethereum.FilterQuery {
	return ethereum.FilterQuery{FromBlock: bigU(0), Addresses: []common.Address{addr}}
}

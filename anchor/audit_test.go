package anchor_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/internal/fakes"
)

// liarRegistry answers every batch with a root and a leaf count of its
// choosing, as a hostile or broken node could.
type liarRegistry struct {
	root  anchor.Hash
	count uint32
}

func (l liarRegistry) ChainID() uint64         { return 1 }
func (l liarRegistry) Address() anchor.Address { return anchor.Address{1} }
func (l liarRegistry) Batch(context.Context, uint64) (anchor.OnChainBatch, bool, error) {
	return anchor.OnChainBatch{Root: l.root, LeafCount: l.count, Kind: 1, BlockNumber: 1}, true, nil
}
func (l liarRegistry) Record(context.Context, anchor.RecordID) (anchor.OnChainRecord, bool, error) {
	return anchor.OnChainRecord{}, false, nil
}

// confirmedBatch puts n records in the outbox and confirms them as one
// batch (no chain involved), returning the batch.
func confirmedBatch(t *testing.T, o *fakes.Outbox, n int) anchor.Batch {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		o.Add(t, fmt.Sprintf(`{"i":%d}`, i))
	}
	pend, err := o.Pending(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	leaves := make([]anchor.Hash, len(pend))
	for i, p := range pend {
		leaves[i] = p.Leaf
	}
	root, err := anchor.Root(leaves)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := o.TryLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	bs, err := o.Prepare(ctx, lease.Fence(), []anchor.BatchPlan{{Mode: anchor.ModeBatch, Kind: 1, Root: root, Records: pend}})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Confirm(ctx, lease.Fence(), []anchor.Confirmation{{BatchID: bs[0].ID, Inclusion: anchor.Inclusion{BlockNumber: 1}, RecordIDs: bs[0].RecordIDs}}); err != nil {
		t.Fatal(err)
	}
	o.ReleaseLock()
	b, err := o.Batch(ctx, bs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Audit sizes its work by the leaves the database stored for the batch, not
// by the leaf count a chain node reports: a node claiming four billion
// leaves must not make the server allocate for them.
func TestAuditAllocatesByStoredLeaves(t *testing.T) {
	o := fakes.NewOutbox()
	b := confirmedBatch(t, o, 4)
	v := anchor.NewVerifier(o, liarRegistry{root: b.Root, count: 1 << 20})

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rep, err := v.Audit(context.Background(), b.ID)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("auditing a 4-leaf batch allocated %d bytes", grew)
	}
	if rep.OK || rep.LeafCount != 1<<20 || len(rep.Missing) != 0 || len(rep.Altered) != 0 {
		t.Fatalf("audit: %+v", rep)
	}

	// The honest count still audits clean.
	v = anchor.NewVerifier(o, liarRegistry{root: b.Root, count: 4})
	if rep, err := v.Audit(context.Background(), b.ID); err != nil || !rep.OK {
		t.Fatalf("honest audit: %+v %v", rep, err)
	}
}

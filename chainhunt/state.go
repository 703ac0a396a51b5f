package chainhunt

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"

	"github.com/ethereum/go-ethereum/common"
)

// stateVersion is the version byte that starts an encoded hunter state
// (Checkpoint.State); the rest is DEFLATE-compressed. The undo log holds
// the same accounts' states block after block (a busy sender's whole
// counterparty set in each), which compresses many times over.
const stateVersion = 1

// encodeState encodes what the hunter carries between blocks besides the
// accounts: the undo log of the kept blocks (aligned with
// Checkpoint.Blocks), the rolling baselines, and the scoring debounce.
// Maps are written in address order, so the same state encodes the same.
func (h *Hunter) encodeState() []byte {
	var e encoder
	e.uint(uint64(len(h.undo)))
	for _, u := range h.undo {
		addrs := slices.SortedFunc(maps.Keys(u.prior), common.Address.Cmp)
		e.uint(uint64(len(addrs)))
		for _, a := range addrs {
			e.b = append(e.b, a[:]...)
			e.bytes(u.prior[a])
		}
	}
	for _, s := range []*series{&h.baseline.gas, &h.baseline.fee, &h.baseline.volume} {
		e.uint(uint64(len(s.values)))
		for i, v := range s.values {
			e.uint(s.blocks[i])
			e.uint(math.Float64bits(v))
		}
	}
	for _, m := range []map[common.Address]uint64{h.lastScored, h.scoreDue} {
		addrs := slices.SortedFunc(maps.Keys(m), common.Address.Cmp)
		e.uint(uint64(len(addrs)))
		for _, a := range addrs {
			e.b = append(e.b, a[:]...)
			e.uint(m[a])
		}
	}
	var out bytes.Buffer
	out.WriteByte(stateVersion)
	zw, _ := flate.NewWriter(&out, flate.BestSpeed) // the level is valid: no error
	zw.Write(e.b)                                   // a bytes.Buffer does not fail
	zw.Close()
	return out.Bytes()
}

// restore takes up the hunter's position and state from a checkpoint.
func (h *Hunter) restore(cp Checkpoint) error {
	if len(cp.Blocks) == 0 {
		return fmt.Errorf("no blocks")
	}
	p := cp.State
	if len(p) == 0 || p[0] != stateVersion {
		return fmt.Errorf("state encoding version %v unknown", p[:min(1, len(p))])
	}
	// A bytes.Reader is an io.ByteReader: flate reads no further than
	// its stream, and what is left is trailing garbage.
	br := bytes.NewReader(p[1:])
	raw, err := io.ReadAll(flate.NewReader(br))
	if err == nil && br.Len() != 0 {
		err = errShort
	}
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	d := decoder{b: raw}
	n := d.uint()
	if n != uint64(len(cp.Blocks)) {
		return fmt.Errorf("undo log of %d blocks for %d blocks", n, len(cp.Blocks))
	}
	undo := make([]blockUndo, n)
	for i := range undo {
		k := d.uint()
		undo[i].prior = map[common.Address][]byte{}
		for j := uint64(0); j < k && d.err == nil; j++ {
			a := d.address()
			undo[i].prior[a] = d.bytes()
		}
	}
	var bl baselines
	for _, s := range []*series{&bl.gas, &bl.fee, &bl.volume} {
		k := d.uint()
		for j := uint64(0); j < k && d.err == nil; j++ {
			s.blocks = append(s.blocks, d.uint())
			s.values = append(s.values, math.Float64frombits(d.uint()))
		}
	}
	scored, due := map[common.Address]uint64{}, map[common.Address]uint64{}
	for _, m := range []map[common.Address]uint64{scored, due} {
		k := d.uint()
		for j := uint64(0); j < k && d.err == nil; j++ {
			a := d.address()
			m[a] = d.uint()
		}
	}
	if err := d.end(); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	h.blocks = append([]BlockRef(nil), cp.Blocks...)
	h.undo, h.baseline, h.lastScored, h.scoreDue = undo, bl, scored, due
	return nil
}

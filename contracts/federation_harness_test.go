package contracts_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/bindings"
)

type thresholds = bindings.FederationRegistryThresholds

// defaultThresholds are docs/federated-rule.md's defaults, written out by hand.
var defaultThresholds = thresholds{
	MaxAnomalyBp: 5000, MadK: 300, DivSlack: 10000, MaxNorm: 0,
	MinReputation: 20, RepInit: 50, RepMax: 100, DeltaPlus: 5, DeltaMinus: 20,
}

// Verdict reasons of docs/federated-rule.md.
const (
	reasonAnomaly    = 0x01
	reasonDivergence = 0x02
	reasonNorm       = 0x04
	reasonReputation = 0x08
)

// fedHarness is a simulated chain with AuditRegistry and FederationRegistry
// deployed by owner. Its send, mustSend and wantRevert talk to the
// FederationRegistry; the embedded harness's to the AuditRegistry.
type fedHarness struct {
	*harness
	fed   *bindings.FederationRegistry
	fc    *bind.BoundContract
	faddr common.Address
	sites int // site addresses handed out by newSite
}

func newFedHarness(t testing.TB, options ...simOption) *fedHarness {
	t.Helper()
	h := newHarness(t, options...)
	f := &fedHarness{harness: h, fed: bindings.NewFederationRegistry()}
	addr, tx, err := bind.DeployContract(h.owner.opts, common.FromHex(bindings.FederationRegistryMetaData.Bin), h.client, nil)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	h.mine(tx)
	f.faddr = addr
	f.fc = f.fed.Instance(h.client, addr)
	return f
}

func (f *fedHarness) send(from *account, data []byte) (*types.Receipt, error) {
	f.t.Helper()
	return f.sendTo(f.fc, from, data)
}

func (f *fedHarness) mustSend(from *account, data []byte) *types.Receipt {
	f.t.Helper()
	r, err := f.send(from, data)
	if err != nil {
		f.t.Fatalf("transaction reverted: %v (%T%+v)", err, f.revert(err), f.revert(err))
	}
	return r
}

// revert decodes the FederationRegistry custom error carried by err.
func (f *fedHarness) revert(err error) any {
	data := revertData(err)
	if data == nil {
		return nil
	}
	decoded, uerr := f.fed.UnpackError(data)
	if uerr != nil {
		return nil
	}
	return decoded
}

func (f *fedHarness) wantRevert(err error, want any) {
	f.t.Helper()
	if err == nil {
		f.t.Fatalf("call succeeded, want revert %T%+v", want, want)
	}
	if got := f.revert(err); !reflect.DeepEqual(got, want) {
		f.t.Fatalf("revert = %T%+v (%v), want %T%+v", got, got, err, want, want)
	}
}

// call runs a view of the FederationRegistry.
func fcall[T any](f *fedHarness, data []byte, unpack func([]byte) (T, error)) T {
	f.t.Helper()
	v, err := bind.Call(f.fc, nil, data, unpack)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func (f *fedHarness) thresholds() thresholds {
	return fcall(f, f.fed.PackThresholds(), f.fed.UnpackThresholds)
}

func (f *fedHarness) reputation(site common.Address) uint16 {
	return fcall(f, f.fed.PackReputation(site), f.fed.UnpackReputation)
}

func (f *fedHarness) isSite(site common.Address) bool {
	return fcall(f, f.fed.PackIsSite(site), f.fed.UnpackIsSite)
}

func (f *fedHarness) isCoordinator(a common.Address) bool {
	return fcall(f, f.fed.PackIsCoordinator(a), f.fed.UnpackIsCoordinator)
}

func (f *fedHarness) lastRound() uint64 {
	return fcall(f, f.fed.PackLastRound(), f.fed.UnpackLastRound)
}

func (f *fedHarness) getRound(round uint64) bindings.FederationRegistryRoundSummary {
	return fcall(f, f.fed.PackGetRound(round), f.fed.UnpackGetRound)
}

// newSite returns a fresh site address; sites never send transactions.
func (f *fedHarness) newSite() common.Address {
	f.sites++
	return common.BytesToAddress(crypto.Keccak256([]byte(fmt.Sprintf("site %d", f.sites)))[12:])
}

// enrollMany enrolls sites from owner, in as few blocks as the pool allows.
// It numbers the transactions itself: the pool's pending nonce can lag
// behind transactions still entering it.
func (f *fedHarness) enrollMany(sites []common.Address) {
	f.t.Helper()
	nonce, err := f.client.NonceAt(context.Background(), f.owner.addr, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	var txs []*types.Transaction
	for i, s := range sites {
		opts := *f.owner.opts
		opts.Nonce = new(big.Int).SetUint64(nonce + uint64(i))
		tx, err := bind.Transact(f.fc, &opts, f.fed.PackEnrollSite(s))
		if err != nil {
			f.t.Fatalf("enroll %s: %v", s, err)
		}
		txs = append(txs, tx)
	}
	for _, tx := range txs {
		if r := f.mine(tx); r.Status != types.ReceiptStatusSuccessful {
			f.t.Fatalf("enroll failed: %s", tx.Hash())
		}
	}
}

// sitesWithReputations enrolls one new site per reputation, setting repInit
// to each value in turn (with repMax at its top, so every uint16 fits), and
// leaves the thresholds as they were.
func (f *fedHarness) sitesWithReputations(reps []uint16) []common.Address {
	f.t.Helper()
	before := f.thresholds()
	sites := make([]common.Address, len(reps))
	for i, rep := range reps {
		th := before
		th.RepInit, th.RepMax = rep, 65535
		f.mustSend(f.owner, f.fed.PackSetThresholds(th))
		sites[i] = f.newSite()
		f.mustSend(f.owner, f.fed.PackEnrollSite(sites[i]))
	}
	f.mustSend(f.owner, f.fed.PackSetThresholds(before))
	return sites
}

// update is one update of a round as the coordinator submits it.
type update struct {
	site       common.Address
	hash       [32]byte
	anomaly    uint16
	divergence uint32
	norm       uint32
}

// word packs u as submitRound's calldata layout says: site in bits 0..159,
// anomaly 160..175, divergence 176..207, norm 208..239.
func (u update) word() *big.Int {
	var b [32]byte
	binary.BigEndian.PutUint32(b[2:6], u.norm)
	binary.BigEndian.PutUint32(b[6:10], u.divergence)
	binary.BigEndian.PutUint16(b[10:12], u.anomaly)
	copy(b[12:], u.site[:])
	return new(big.Int).SetBytes(b[:])
}

// hashOf is a distinct, non-zero update record hash.
func hashOf(round uint64, i int) [32]byte {
	return crypto.Keccak256Hash(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, round), uint64(i)))
}

// packedRound is submitRound's arguments after the round number.
type packedRound struct {
	middles *big.Int
	words   []*big.Int
	hashes  [][32]byte
}

func packRound(ups []update) packedRound {
	p := packedRound{middles: middlesOf(ups), words: make([]*big.Int, len(ups)), hashes: make([][32]byte, len(ups))}
	for i, u := range ups {
		p.words[i], p.hashes[i] = u.word(), u.hash
	}
	return p
}

// middlesOf packs the middle order statistics submitRound wants: of the
// sorted divergences at (n-1)/2 and n/2, then of the sorted deviations
// from their median, 32 bits each, low first.
func middlesOf(ups []update) *big.Int {
	n := len(ups)
	if n == 0 {
		return new(big.Int)
	}
	d := make([]uint64, n)
	for i, u := range ups {
		d[i] = uint64(u.divergence)
	}
	slices.Sort(d)
	dLo, dHi := d[(n-1)/2], d[n/2]
	med := (dLo + dHi) / 2
	e := make([]uint64, n)
	for i, x := range d {
		e[i] = max(x, med) - min(x, med)
	}
	slices.Sort(e)
	return packMiddles(dLo, dHi, e[(n-1)/2], e[n/2])
}

func packMiddles(dLo, dHi, eLo, eHi uint64) *big.Int {
	m := new(big.Int).SetUint64(eHi)
	for _, v := range []uint64{eLo, dHi, dLo} {
		m.Lsh(m, 32).Or(m, new(big.Int).SetUint64(v))
	}
	return m
}

func (f *fedHarness) packRound(round uint64, ups []update) []byte {
	p := packRound(ups)
	return f.fed.PackSubmitRound(round, p.middles, p.words, p.hashes)
}

func (f *fedHarness) submit(from *account, round uint64, ups []update) (*types.Receipt, error) {
	f.t.Helper()
	return f.send(from, f.packRound(round, ups))
}

// roundLogs splits a submitRound receipt into its Verdict events (in log
// order) and its RoundEvaluated event, which must come last.
func (f *fedHarness) roundLogs(r *types.Receipt) ([]*bindings.FederationRegistryVerdict, *bindings.FederationRegistryRoundEvaluated) {
	f.t.Helper()
	if len(r.Logs) == 0 {
		f.t.Fatal("submitRound emitted nothing")
	}
	var verdicts []*bindings.FederationRegistryVerdict
	for _, l := range r.Logs[:len(r.Logs)-1] {
		v, err := f.fed.UnpackVerdictEvent(l)
		if err != nil {
			f.t.Fatalf("log %d: %v", l.Index, err)
		}
		verdicts = append(verdicts, v)
	}
	ev, err := f.fed.UnpackRoundEvaluatedEvent(r.Logs[len(r.Logs)-1])
	if err != nil {
		f.t.Fatalf("last log is not RoundEvaluated: %v", err)
	}
	return verdicts, ev
}

// refRound is what docs/federated-rule.md says a round yields.
type refRound struct {
	reasons  []uint8
	reps     []uint16 // reputations after the round
	median   uint32
	band     uint64
	accepted uint16
}

// refMedian is the spec's median: the middle value of the sorted values,
// or the floor of the mean of the middle two.
func refMedian(v []uint64) uint64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// refEvaluate is the rule of docs/federated-rule.md, step by step, written from the
// spec and not from the contract: the test oracle of the contract's
// verdicts. reps are the sites' reputations at round start, one per update.
func refEvaluate(th thresholds, reps []uint16, ups []update) refRound {
	d := make([]uint64, len(ups))
	for i, u := range ups {
		d[i] = uint64(u.divergence)
	}
	med := refMedian(d)
	dev := make([]uint64, len(d))
	for i, x := range d {
		if x >= med {
			dev[i] = x - med
		} else {
			dev[i] = med - x
		}
	}
	mad := refMedian(dev)
	band := med + uint64(th.MadK)*mad/100 + uint64(th.DivSlack)
	out := refRound{median: uint32(med), band: band}
	for i, u := range ups {
		var reasons uint8
		if u.anomaly > th.MaxAnomalyBp {
			reasons |= reasonAnomaly
		}
		if uint64(u.divergence) > band {
			reasons |= reasonDivergence
		}
		if th.MaxNorm != 0 && u.norm > th.MaxNorm {
			reasons |= reasonNorm
		}
		r := reps[i]
		valid := reasons&0x07 == 0
		if r < th.MinReputation {
			reasons |= reasonReputation
		}
		var next uint16
		switch {
		case valid:
			next = uint16(min(uint32(th.RepMax), uint32(r)+uint32(th.DeltaPlus)))
		case r > th.DeltaMinus:
			next = r - th.DeltaMinus
		}
		if reasons == 0 {
			out.accepted++
		}
		out.reasons = append(out.reasons, reasons)
		out.reps = append(out.reps, next)
	}
	return out
}

// checkRound requires the receipt r of round to carry exactly want: one
// Verdict per update in submission order, then RoundEvaluated, and the
// stored summary and reputations to match.
func (f *fedHarness) checkRound(r *types.Receipt, round uint64, ups []update, want refRound) {
	f.t.Helper()
	verdicts, ev := f.roundLogs(r)
	if len(verdicts) != len(ups) {
		f.t.Fatalf("%d Verdict events for %d updates", len(verdicts), len(ups))
	}
	for i, v := range verdicts {
		w := &bindings.FederationRegistryVerdict{Round: round, Site: ups[i].site, UpdateHash: ups[i].hash,
			Reasons: want.reasons[i], Reputation: want.reps[i], Raw: r.Logs[i]}
		if !reflect.DeepEqual(v, w) {
			f.t.Errorf("update %d: Verdict = %+v, want %+v", i, v, w)
		}
		if got := f.reputation(ups[i].site); got != want.reps[i] {
			f.t.Errorf("update %d: reputation() = %d, want %d", i, got, want.reps[i])
		}
	}
	band32 := uint32(min(want.band, 1<<32-1))
	wantEv := &bindings.FederationRegistryRoundEvaluated{Round: round, Updates: uint16(len(ups)), Accepted: want.accepted,
		DivergenceMedian: want.median, DivergenceBand: band32, Raw: r.Logs[len(r.Logs)-1]}
	if !reflect.DeepEqual(ev, wantEv) {
		f.t.Errorf("RoundEvaluated = %+v, want %+v", ev, wantEv)
	}
	hdr := f.block(r)
	wantSum := bindings.FederationRegistryRoundSummary{Updates: uint16(len(ups)), Accepted: want.accepted,
		DivergenceMedian: want.median, DivergenceBand: want.band, BlockNumber: hdr.Number.Uint64(), Timestamp: hdr.Time}
	if got := f.getRound(round); got != wantSum {
		f.t.Errorf("getRound(%d) = %+v, want %+v", round, got, wantSum)
	}
	if got := f.lastRound(); got != round {
		f.t.Errorf("lastRound() = %d, want %d", got, round)
	}
}

// allLogs returns every log the FederationRegistry emitted so far.
func (f *fedHarness) allLogs() []types.Log {
	f.t.Helper()
	logs, err := f.client.FilterLogs(context.Background(), filterAll(f.faddr))
	if err != nil {
		f.t.Fatal(err)
	}
	return logs
}

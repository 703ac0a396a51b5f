package chain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/bindings"
)

// Federation is the FederationRegistry contract (contracts/FederationRegistry.sol)
// at one address: the on-chain half of federated learning, which judges
// each round's updates with the acceptance rule of docs/federated-rule.md and
// keeps every site's reputation. The coordinator acts on the verdicts it
// returns.
//
// A writable Federation signs with the key of the Registry it was made
// from and shares that registry's nonce sequence, so the anchoring worker
// and the coordinator can send from one key at the same time. Every write
// waits until its transaction is mined with Confirmations confirmations and
// returns where it landed. A write refused by the contract returns a
// *FederationError, which errors.Is matches against the Err* sentinels
// below; a write whose transaction the node dropped is sent again (at most
// twice), and one that was mined but failed returns anchor.ErrReverted.
// A Federation is safe for concurrent use.
type Federation struct {
	client Client
	abi    *bindings.FederationRegistry
	addr   common.Address
	s      *sender // nil for a reader
	// Confirmations is how many confirmations a write waits for; 0 and 1
	// both mean "mined". Set it before the first write.
	Confirmations uint64
}

// Thresholds are the parameters of the acceptance rule and of the
// reputation update, as the contract holds them (docs/federated-rule.md):
// MaxAnomalyBp, MadK (hundredths), DivSlack and MaxNorm (micro-units, 0 = no
// limit), MinReputation, RepInit, RepMax, DeltaPlus, DeltaMinus.
type Thresholds = bindings.FederationRegistryThresholds

// Reasons a Verdict carries, one bit each (docs/federated-rule.md). The contract
// never reports not-enrolled (0x10) or duplicate (0x20) sites: a round with
// one is refused whole (ErrSiteNotEnrolled, ErrDuplicateSite).
const (
	ReasonAnomaly    uint8 = 0x01 // anomaly > MaxAnomalyBp
	ReasonDivergence uint8 = 0x02 // divergence above the round's band
	ReasonNorm       uint8 = 0x04 // MaxNorm != 0 and norm > MaxNorm
	ReasonReputation uint8 = 0x08 // the site's reputation at round start < MinReputation
)

// MaxRoundUpdates is the most updates one round may carry.
const MaxRoundUpdates = 255

// RoundUpdate is one site's update in a round, as the coordinator scored it.
type RoundUpdate struct {
	Site common.Address
	// Hash binds the verdict to the update record: keccak256 of the record
	// (idsledger uses its anchor leaf, anchor.LeafHash of the canonical
	// body, so that it is the leaf the record is anchored under). Not zero.
	Hash anchor.Hash
	// Anomaly is 1 - accuracy on the coordinator's validation set, in basis
	// points: round(a * 10000).
	Anomaly uint16
	// Divergence is ||w_i - ref||_2 in micro-units, saturated at 2^32 - 1;
	// Norm is ||delta_i||_2, likewise.
	Divergence, Norm uint32
}

// Verdict is the contract's judgement of one update.
type Verdict struct {
	Site       common.Address
	UpdateHash anchor.Hash
	// Reasons is a bitmask of Reason*; 0 means accepted.
	Reasons uint8
	// Reputation is the site's reputation after the round.
	Reputation uint16
}

// Accepted reports whether the update enters the global model.
func (v Verdict) Accepted() bool { return v.Reasons == 0 }

// Valid reports whether the update passed the score checks (it may still be
// refused for its site's reputation); a valid update raises the reputation.
func (v Verdict) Valid() bool { return v.Reasons&(ReasonAnomaly|ReasonDivergence|ReasonNorm) == 0 }

// RoundResult is a round as the contract evaluated it.
type RoundResult struct {
	Round uint64
	// Verdicts are in submission order, one per update.
	Verdicts []Verdict
	Accepted uint16
	// DivergenceMedian is the median of the round's divergences;
	// DivergenceBand the acceptance band, saturated at 2^32 - 1 as the
	// RoundEvaluated event carries it (Round has the exact value).
	DivergenceMedian, DivergenceBand uint32
	// Inclusion is where the round's transaction landed, with its gas.
	Inclusion anchor.Inclusion
}

// RoundSummary is what the contract stores about a round.
type RoundSummary struct {
	Updates, Accepted uint16
	DivergenceMedian  uint32
	DivergenceBand    uint64 // exact
	BlockNumber       uint64
	BlockTime         time.Time
}

// SiteState is what the contract holds about a site.
type SiteState struct {
	Reputation uint16
	Enrolled   bool
	// Known: the site was enrolled at least once (a new enrollment keeps
	// its reputation).
	Known bool
	// LastRound is the last round with an update of the site (0: none).
	LastRound uint64
}

// GlobalModel is a registered global model version.
type GlobalModel struct {
	ModelHash anchor.Hash
	// UpdatesRoot is the Merkle root of the accepted update records'
	// leaves; zero only for an initial model (round 0).
	UpdatesRoot anchor.Hash
	Round       uint64
	BlockNumber uint64
	BlockTime   time.Time
	Submitter   common.Address
}

// Errors a Federation write returns when the contract refuses it; check
// them with errors.Is. errors.As with *FederationError gives the contract's
// custom error itself.
var (
	ErrNotAuthorized     = errors.New("caller lacks the role: owner or coordinator")
	ErrRoundSubmitted    = errors.New("round already submitted")
	ErrRoundOutOfOrder   = errors.New("round number not above the last one")
	ErrSiteNotEnrolled   = errors.New("site not enrolled")
	ErrSiteEnrolled      = errors.New("site already enrolled")
	ErrDuplicateSite     = errors.New("site twice in one round")
	ErrModelRegistered   = errors.New("global model version already registered")
	ErrInvalidThresholds = errors.New("invalid thresholds")
	// ErrFederationRefused is every other refusal (an empty round, a zero
	// hash, a model for a round never evaluated, ...).
	ErrFederationRefused = errors.New("refused by the federation registry")
)

// FederationError is a custom error the FederationRegistry reverted with.
type FederationError struct {
	// Name is the Solidity error's name, e.g. "DuplicateSite".
	Name string
	// Detail is the decoded error, e.g. *bindings.FederationRegistryDuplicateSite.
	Detail any
	kind   error
}

func (e *FederationError) Error() string {
	return fmt.Sprintf("%v: %s%+v", e.kind, e.Name, reflect.Indirect(reflect.ValueOf(e.Detail)))
}

// Unwrap returns the Err* sentinel the error belongs to.
func (e *FederationError) Unwrap() error { return e.kind }

var federationErrorKinds = map[string]error{
	"NotOwner": ErrNotAuthorized, "NotCoordinator": ErrNotAuthorized,
	"RoundAlreadySubmitted": ErrRoundSubmitted,
	"RoundOutOfOrder":       ErrRoundOutOfOrder, "ZeroRound": ErrRoundOutOfOrder,
	"SiteNotEnrolled": ErrSiteNotEnrolled, "SiteAlreadyEnrolled": ErrSiteEnrolled,
	"DuplicateSite":          ErrDuplicateSite,
	"ModelAlreadyRegistered": ErrModelRegistered,
	"MaxAnomalyAboveScale":   ErrInvalidThresholds, "RepInitAboveRepMax": ErrInvalidThresholds,
	"MinReputationAboveRepMax": ErrInvalidThresholds,
}

// DeployFederation creates a FederationRegistry from reg's account (which
// becomes its owner and first coordinator) and waits for it to be mined. It
// returns the contract, writable with reg's key, and the block it was
// deployed in. The caller keeps the address (Address) to open it again.
func DeployFederation(ctx context.Context, reg *Registry) (*Federation, uint64, error) {
	if reg.s == nil {
		return nil, 0, errReadOnly
	}
	tx, err := reg.s.send(ctx, nil, common.FromHex(bindings.FederationRegistryMetaData.Bin), nil)
	if err != nil {
		return nil, 0, fmt.Errorf("deploy federation registry: %w", err)
	}
	rc, _, err := reg.s.wait(ctx, tx.Hash(), 1)
	if err != nil {
		return nil, 0, fmt.Errorf("deploy federation registry: %w", err)
	}
	if rc.ContractAddress == (common.Address{}) {
		return nil, 0, errors.New("deploy federation registry: no contract address in receipt")
	}
	f := &Federation{client: reg.client, abi: bindings.NewFederationRegistry(), addr: rc.ContractAddress, s: reg.s}
	return f, rc.BlockNumber.Uint64(), nil
}

// OpenFederation returns the FederationRegistry at addr, writable with reg's
// key. It fails with ErrNoRegistry when addr holds no code.
func OpenFederation(ctx context.Context, reg *Registry, addr common.Address) (*Federation, error) {
	if reg.s == nil {
		return nil, errReadOnly
	}
	f := &Federation{client: reg.client, abi: bindings.NewFederationRegistry(), addr: addr, s: reg.s}
	if err := f.checkCode(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

// NewFederationReader returns a read-only view of the FederationRegistry at
// addr; its writes fail.
func NewFederationReader(ctx context.Context, client Client, addr common.Address) (*Federation, error) {
	f := &Federation{client: client, abi: bindings.NewFederationRegistry(), addr: addr}
	if err := f.checkCode(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Federation) checkCode(ctx context.Context) error {
	var code []byte
	if err := retry(ctx, func() (err error) { code, err = f.client.CodeAt(ctx, f.addr, nil); return err }); err != nil {
		return fmt.Errorf("federation registry code: %w", err)
	}
	if len(code) == 0 {
		return fmt.Errorf("federation registry %s: %w", f.addr.Hex(), ErrNoRegistry)
	}
	return nil
}

// Address is the contract's address.
func (f *Federation) Address() common.Address { return f.addr }

// ---- writes ----

// EnrollSite enrolls site (coordinator only); a site enrolled before keeps
// its reputation. ErrSiteEnrolled if it is enrolled now.
func (f *Federation) EnrollSite(ctx context.Context, site common.Address) (anchor.Inclusion, error) {
	inc, _, err := f.transact(ctx, "enrollSite", f.abi.PackEnrollSite(site))
	return inc, err
}

// RemoveSite removes site (coordinator only), keeping its reputation.
// ErrSiteNotEnrolled if it is not enrolled.
func (f *Federation) RemoveSite(ctx context.Context, site common.Address) (anchor.Inclusion, error) {
	inc, _, err := f.transact(ctx, "removeSite", f.abi.PackRemoveSite(site))
	return inc, err
}

// SetThresholds replaces every threshold (owner only); the contract records
// the change as a ThresholdsChanged event with the old and new values.
// ErrInvalidThresholds if RepInit or MinReputation exceed RepMax or
// MaxAnomalyBp exceeds 10000.
func (f *Federation) SetThresholds(ctx context.Context, t Thresholds) (anchor.Inclusion, error) {
	inc, _, err := f.transact(ctx, "setThresholds", f.abi.PackSetThresholds(t))
	return inc, err
}

// GrantCoordinator lets account coordinate (owner only).
func (f *Federation) GrantCoordinator(ctx context.Context, account common.Address) (anchor.Inclusion, error) {
	inc, _, err := f.transact(ctx, "grantCoordinator", f.abi.PackGrantCoordinator(account))
	return inc, err
}

// RevokeCoordinator stops account from coordinating (owner only).
func (f *Federation) RevokeCoordinator(ctx context.Context, account common.Address) (anchor.Inclusion, error) {
	inc, _, err := f.transact(ctx, "revokeCoordinator", f.abi.PackRevokeCoordinator(account))
	return inc, err
}

// SubmitRound sends round's updates to the contract (coordinator only),
// waits for the transaction, and returns the contract's verdicts in the
// order of updates, with the round's median, band and gas.
//
// Rounds must be submitted in increasing order (ErrRoundOutOfOrder), each
// once, with 1 to MaxRoundUpdates updates of distinct enrolled sites
// (ErrSiteNotEnrolled, ErrDuplicateSite). SubmitRound is idempotent: when
// round is already on chain with the same sites and hashes in the same
// order (a coordinator that crashed after sending, or a dropped
// transaction that was mined after all), it returns the recorded result;
// with other updates it returns ErrRoundSubmitted.
func (f *Federation) SubmitRound(ctx context.Context, round uint64, updates []RoundUpdate) (RoundResult, error) {
	if len(updates) == 0 || len(updates) > MaxRoundUpdates {
		return RoundResult{}, fmt.Errorf("round %d: %d updates, want 1 to %d: %w", round, len(updates), MaxRoundUpdates, ErrFederationRefused)
	}
	words := make([]*big.Int, len(updates))
	hashes := make([][32]byte, len(updates))
	for i, u := range updates {
		words[i], hashes[i] = u.word(), u.Hash
	}
	inc, rc, err := f.transact(ctx, "submitRound", f.abi.PackSubmitRound(round, roundMiddles(updates), words, hashes))
	if errors.Is(err, ErrRoundSubmitted) {
		rec, ok, rerr := f.RoundResult(ctx, round)
		switch {
		case rerr != nil:
			return RoundResult{}, fmt.Errorf("%w (reading the recorded round: %v)", err, rerr)
		case ok && sameUpdates(rec.Verdicts, updates):
			return rec, nil
		}
		return RoundResult{}, err
	}
	if err != nil {
		return RoundResult{}, err
	}
	res, err := f.roundFromReceipt(rc, round)
	if err != nil {
		return RoundResult{}, err
	}
	if !sameUpdates(res.Verdicts, updates) {
		return RoundResult{}, fmt.Errorf("round %d: the verdicts in tx %s do not match the updates sent", round, rc.TxHash.Hex())
	}
	res.Inclusion = inc
	return res, nil
}

// RegisterGlobalModel registers global model version (coordinator only):
// its hash, the round whose accepted updates built it, and updatesRoot, the
// Merkle root (package anchor's) of those updates' record leaves. Round 0
// is an initial model, whose updatesRoot may be zero; any other round must
// have been submitted. ErrModelRegistered if version is taken.
func (f *Federation) RegisterGlobalModel(ctx context.Context, version uint64, modelHash anchor.Hash, round uint64, updatesRoot anchor.Hash) (anchor.Inclusion, error) {
	inc, _, err := f.transact(ctx, "registerGlobalModel", f.abi.PackRegisterGlobalModel(version, modelHash, round, updatesRoot))
	return inc, err
}

// droppedResends is how many times a write whose transaction the node
// dropped is sent again.
const droppedResends = 2

// transact sends data to the contract and waits for it to be mined with
// f.Confirmations confirmations. A refusal at gas estimation becomes a
// *FederationError; a dropped transaction is sent again.
func (f *Federation) transact(ctx context.Context, what string, data []byte) (anchor.Inclusion, *types.Receipt, error) {
	if f.s == nil {
		return anchor.Inclusion{}, nil, errReadOnly
	}
	for attempt := 0; ; attempt++ {
		tx, err := f.s.send(ctx, &f.addr, data, nil)
		var est *estimateError
		if errors.As(err, &est) {
			return anchor.Inclusion{}, nil, fmt.Errorf("%s: %w", what, f.refusal(err))
		}
		if err != nil {
			return anchor.Inclusion{}, nil, fmt.Errorf("%s: %w", what, err)
		}
		rc, h, err := f.s.wait(ctx, tx.Hash(), f.Confirmations)
		if errors.Is(err, anchor.ErrDropped) && attempt < droppedResends {
			continue // the node forgot it; estimating the resend tells whether it still applies
		}
		if err != nil {
			return anchor.Inclusion{}, nil, fmt.Errorf("%s: %w", what, err)
		}
		return inclusion(rc, h), rc, nil
	}
}

// refusal turns a revert at gas estimation into a *FederationError when
// the node returned the contract's custom error, and returns err otherwise.
func (f *Federation) refusal(err error) error {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return err
	}
	s, ok := de.ErrorData().(string)
	if !ok {
		return err
	}
	raw := common.FromHex(s)
	if len(raw) < 4 {
		return err
	}
	detail, uerr := f.abi.UnpackError(raw)
	if uerr != nil {
		return err
	}
	name := "unknown"
	for n, e := range f.abi.GetABI().Errors {
		if bytes.Equal(e.ID[:4], raw[:4]) {
			name = n
			break
		}
	}
	kind, ok := federationErrorKinds[name]
	if !ok {
		kind = ErrFederationRefused
	}
	return &FederationError{Name: name, Detail: detail, kind: kind}
}

// word packs u as submitRound's calldata says: site in bits 0..159,
// anomaly 160..175, divergence 176..207, norm 208..239.
func (u RoundUpdate) word() *big.Int {
	var b [32]byte
	b[2], b[3], b[4], b[5] = byte(u.Norm>>24), byte(u.Norm>>16), byte(u.Norm>>8), byte(u.Norm)
	b[6], b[7], b[8], b[9] = byte(u.Divergence>>24), byte(u.Divergence>>16), byte(u.Divergence>>8), byte(u.Divergence)
	b[10], b[11] = byte(u.Anomaly>>8), byte(u.Anomaly)
	copy(b[12:], u.Site[:])
	return new(big.Int).SetBytes(b[:])
}

// roundMiddles is submitRound's middles word: the middle order statistics
// ((n-1)/2 and n/2, 0-based, ascending) of the divergences, then of their
// deviations from the median (the floor of the mean of the first two),
// 32 bits each, low first. The contract checks them by counting and
// refuses any other value.
func roundMiddles(updates []RoundUpdate) *big.Int {
	n := len(updates)
	d := make([]uint64, n)
	for i, u := range updates {
		d[i] = uint64(u.Divergence)
	}
	slices.Sort(d)
	lo, hi := d[(n-1)/2], d[n/2]
	med := (lo + hi) / 2
	for i, x := range d {
		d[i] = max(x, med) - min(x, med)
	}
	slices.Sort(d)
	m := new(big.Int).SetUint64(d[n/2])
	for _, v := range []uint64{d[(n-1)/2], hi, lo} {
		m.Lsh(m, 32).Or(m, new(big.Int).SetUint64(v))
	}
	return m
}

func sameUpdates(verdicts []Verdict, updates []RoundUpdate) bool {
	if len(verdicts) != len(updates) {
		return false
	}
	for i, v := range verdicts {
		if v.Site != updates[i].Site || v.UpdateHash != updates[i].Hash {
			return false
		}
	}
	return true
}

// roundFromReceipt reads round's Verdict and RoundEvaluated events from the
// receipt of the transaction that submitted it.
func (f *Federation) roundFromReceipt(rc *types.Receipt, round uint64) (RoundResult, error) {
	a := f.abi.GetABI()
	verdictID, evaluatedID := a.Events["Verdict"].ID, a.Events["RoundEvaluated"].ID
	res := RoundResult{Round: round}
	evaluated := false
	for _, l := range rc.Logs {
		if l.Address != f.addr || len(l.Topics) == 0 {
			continue
		}
		switch l.Topics[0] {
		case verdictID:
			v, err := f.abi.UnpackVerdictEvent(l)
			if err != nil {
				return RoundResult{}, fmt.Errorf("round %d: %w", round, err)
			}
			if v.Round != round {
				continue
			}
			res.Verdicts = append(res.Verdicts, Verdict{Site: v.Site, UpdateHash: v.UpdateHash, Reasons: v.Reasons, Reputation: v.Reputation})
		case evaluatedID:
			ev, err := f.abi.UnpackRoundEvaluatedEvent(l)
			if err != nil {
				return RoundResult{}, fmt.Errorf("round %d: %w", round, err)
			}
			if ev.Round != round {
				continue
			}
			res.Accepted, res.DivergenceMedian, res.DivergenceBand = ev.Accepted, ev.DivergenceMedian, ev.DivergenceBand
			evaluated = true
		}
	}
	if !evaluated {
		return RoundResult{}, fmt.Errorf("round %d: no RoundEvaluated event in tx %s", round, rc.TxHash.Hex())
	}
	return res, nil
}

// ---- reads ----

func (f *Federation) call(ctx context.Context, data []byte) ([]byte, error) {
	var out []byte
	msg := ethereum.CallMsg{To: &f.addr, Data: data}
	err := retry(ctx, func() (err error) { out, err = f.client.CallContract(ctx, msg, nil); return err })
	return out, err
}

// read calls a view of the contract and unpacks its answer.
func read[T any](ctx context.Context, f *Federation, what string, data []byte, unpack func([]byte) (T, error)) (T, error) {
	out, err := f.call(ctx, data)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	v, err := unpack(out)
	if err != nil {
		return v, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// Reputation is site's reputation now: kept after a removal, 0 for a site
// never enrolled.
func (f *Federation) Reputation(ctx context.Context, site common.Address) (uint16, error) {
	return read(ctx, f, "reputation", f.abi.PackReputation(site), f.abi.UnpackReputation)
}

// Site is everything the contract holds about site (zero if never enrolled).
func (f *Federation) Site(ctx context.Context, site common.Address) (SiteState, error) {
	s, err := read(ctx, f, "getSite", f.abi.PackGetSite(site), f.abi.UnpackGetSite)
	return SiteState{Reputation: s.Reputation, Enrolled: s.Enrolled, Known: s.Known, LastRound: s.LastRound}, err
}

// Thresholds are the thresholds in force.
func (f *Federation) Thresholds(ctx context.Context) (Thresholds, error) {
	return read(ctx, f, "thresholds", f.abi.PackThresholds(), f.abi.UnpackThresholds)
}

// LastRound is the last round submitted (0: none yet).
func (f *Federation) LastRound(ctx context.Context) (uint64, error) {
	return read(ctx, f, "lastRound", f.abi.PackLastRound(), f.abi.UnpackLastRound)
}

// IsCoordinator reports whether account may coordinate.
func (f *Federation) IsCoordinator(ctx context.Context, account common.Address) (bool, error) {
	return read(ctx, f, "isCoordinator", f.abi.PackIsCoordinator(account), f.abi.UnpackIsCoordinator)
}

// Round reads round's summary; ok is false when it was never submitted.
func (f *Federation) Round(ctx context.Context, round uint64) (RoundSummary, bool, error) {
	r, err := read(ctx, f, "getRound", f.abi.PackGetRound(round), f.abi.UnpackGetRound)
	if err != nil || r.Updates == 0 {
		return RoundSummary{}, false, err
	}
	return RoundSummary{
		Updates: r.Updates, Accepted: r.Accepted, DivergenceMedian: r.DivergenceMedian, DivergenceBand: r.DivergenceBand,
		BlockNumber: r.BlockNumber, BlockTime: time.Unix(int64(r.Timestamp), 0).UTC(),
	}, true, nil
}

// RoundResult reads round's verdicts back from the chain: the events of the
// transaction that submitted it, found in the block the contract recorded.
// ok is false when the round was never submitted. It needs a node that
// still serves that block's logs and receipt.
func (f *Federation) RoundResult(ctx context.Context, round uint64) (RoundResult, bool, error) {
	sum, ok, err := f.Round(ctx, round)
	if err != nil || !ok {
		return RoundResult{}, ok, err
	}
	n := new(big.Int).SetUint64(sum.BlockNumber)
	q := ethereum.FilterQuery{
		FromBlock: n, ToBlock: n, Addresses: []common.Address{f.addr},
		Topics: [][]common.Hash{{f.abi.GetABI().Events["RoundEvaluated"].ID}, {common.BigToHash(new(big.Int).SetUint64(round))}},
	}
	var logs []types.Log
	if err := retry(ctx, func() (err error) { logs, err = f.client.FilterLogs(ctx, q); return err }); err != nil {
		return RoundResult{}, false, fmt.Errorf("RoundEvaluated logs in block %d: %w", sum.BlockNumber, err)
	}
	for _, l := range logs {
		if l.Removed {
			continue
		}
		var rc *types.Receipt
		if err := retry(ctx, func() (err error) { rc, err = f.client.TransactionReceipt(ctx, l.TxHash); return err }); err != nil {
			return RoundResult{}, false, fmt.Errorf("receipt %s: %w", l.TxHash.Hex(), err)
		}
		var h *types.Header
		if err := retry(ctx, func() (err error) { h, err = f.client.HeaderByHash(ctx, rc.BlockHash); return err }); err != nil {
			return RoundResult{}, false, fmt.Errorf("header %s: %w", rc.BlockHash.Hex(), err)
		}
		res, err := f.roundFromReceipt(rc, round)
		if err != nil {
			return RoundResult{}, false, err
		}
		res.Inclusion = inclusion(rc, h)
		return res, true, nil
	}
	return RoundResult{}, false, fmt.Errorf("RoundEvaluated event of round %d not found in block %d", round, sum.BlockNumber)
}

// GlobalModel reads global model version; ok is false when it is not registered.
func (f *Federation) GlobalModel(ctx context.Context, version uint64) (GlobalModel, bool, error) {
	m, err := read(ctx, f, "getGlobalModel", f.abi.PackGetGlobalModel(version), f.abi.UnpackGetGlobalModel)
	if err != nil || m.ModelHash == (anchor.Hash{}) {
		return GlobalModel{}, false, err
	}
	return GlobalModel{
		ModelHash: m.ModelHash, UpdatesRoot: m.UpdatesRoot, Round: m.Round,
		BlockNumber: m.BlockNumber, BlockTime: time.Unix(int64(m.Timestamp), 0).UTC(), Submitter: m.Submitter,
	}, true, nil
}

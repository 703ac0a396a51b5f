package chainhunt

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/idsledger/idsledger/bindings"
)

// The rules, by name. Every rule alert carries its rule name as Rule and
// Class, a severity, and a Summary saying what happened and why it is an
// alert.
const (
	// RuleReorg: blocks the hunter processed were replaced (block alert,
	// high; critical when deeper than the window).
	RuleReorg = "chain.reorg"
	// RuleForeignCaller: a transaction to the registry from an account
	// that is not one of the service's anchorers (high).
	RuleForeignCaller = "registry.foreign_caller"
	// RuleReverted: a transaction to the registry reverted (medium from an
	// anchorer, high from anyone else).
	RuleReverted = "registry.reverted"
	// RuleRoleChange: the registry's owner changed, or an anchorer was
	// granted or revoked (high; critical for ownership).
	RuleRoleChange = "registry.role_change"
	// RuleForeignBatch: the registry recorded a batch (or, with
	// KnownRecords, a record) the database does not know: someone else
	// anchors under our registry (high).
	RuleForeignBatch = "registry.foreign_batch"
	// RuleRootMismatch: the registry recorded a batch the database knows,
	// under another root (critical).
	RuleRootMismatch = "registry.root_mismatch"
	// RuleGasSpike, RuleFeeSpike and RuleVolume: a block's gas used,
	// median effective gas price, or transaction count (gas and count
	// without the service's own anchoring) far above the rolling baseline of
	// the blocks before it (medium).
	RuleGasSpike = "chain.gas_spike"
	RuleFeeSpike = "chain.fee_spike"
	RuleVolume   = "chain.volume"
	// ClassFraud is the class of a model's alert on an account.
	ClassFraud = "fraud"
)

// RulesConfig tunes the rolling-baseline rules (gas, fee, volume). A block
// value v fires when v > median + max(MADs × 1.4826 × MAD, Floor.Abs,
// Floor.Rel × median) over the last Baseline blocks, once at least
// MinHistory blocks are known. The median and MAD (median absolute
// deviation, scaled to a standard deviation for normal data) are robust:
// the spike itself and a few earlier ones barely move them. The floor
// keeps a quiet chain quiet: on an idle dev chain every block holds one
// anchoring transaction, the MAD is 0, and without a floor any second
// transaction would fire.
type RulesConfig struct {
	// Baseline is how many blocks the baseline holds (default 128), and
	// MinHistory how many it needs before a rule fires (default 32).
	Baseline, MinHistory int
	// MADs is how many scaled MADs above the median fire (default 6).
	MADs float64
	// Gas (gas units), Fee (wei per gas) and Volume (transactions) are
	// the floors of each rule. Defaults: gas 2,000,000 and 3× the median,
	// fee 10 gwei and 3× the median, volume 20 transactions and 3× the
	// median.
	Gas, Fee, Volume Floor
}

// Floor is the least excess over the median that fires a baseline rule:
// Abs in the value's unit, Rel as a multiple of the median.
type Floor struct {
	Abs, Rel float64
}

func (c RulesConfig) withDefaults() RulesConfig {
	if c.Baseline <= 0 {
		c.Baseline = 128
	}
	if c.MinHistory <= 0 {
		c.MinHistory = min(32, c.Baseline)
	}
	if c.MADs <= 0 {
		c.MADs = 6
	}
	def := func(f *Floor, abs float64) {
		if f.Abs <= 0 {
			f.Abs = abs
		}
		if f.Rel <= 0 {
			f.Rel = 3
		}
	}
	def(&c.Gas, 2_000_000)
	def(&c.Fee, 10e9)
	def(&c.Volume, 20)
	return c
}

// registryABI decodes the registry's events, and registryMethods names its
// functions.
var (
	registryABI     = bindings.NewAuditRegistry()
	registryMethods = registryABI.GetABI()
)

// Registry event ids.
var (
	evOwnership = registryMethods.Events["OwnershipTransferred"].ID
	evGranted   = registryMethods.Events["AnchorerGranted"].ID
	evRevoked   = registryMethods.Events["AnchorerRevoked"].ID
	evBatch     = registryMethods.Events["BatchAnchored"].ID
	evRecord    = registryMethods.Events["RecordAnchored"].ID
)

// anchorEvent is a BatchAnchored or RecordAnchored event: what was
// anchored ("batch 7", "record 0x…"), under which root, by whom, and its
// other evidence.
type anchorEvent struct {
	what      string
	root      [32]byte
	submitter common.Address
	ev        map[string]string
}

// method names the registry function a transaction calls.
func method(data []byte) string {
	if len(data) < 4 {
		return "(none)"
	}
	m, err := registryMethods.MethodById(data[:4])
	if err != nil {
		return hexutil.Encode(data[:4])
	}
	return m.Name
}

// registryRules applies the registry rules to one transaction.
func (h *Hunter) registryRules(ctx context.Context, b *blockCtx, tx *types.Transaction, from common.Address, rc *types.Receipt) ([]Alert, error) {
	reg := h.cfg.Registry
	if reg == (common.Address{}) {
		return nil, nil
	}
	var out []Alert
	// key is the position of the log being looked at among the
	// transaction's logs ("" for the rules on the transaction itself): one transaction may emit several events of
	// one rule about one account (a contract anchoring two batches), each
	// its own finding.
	key := ""
	txAlert := func(rule, severity string, account common.Address, summary string, ev map[string]string) {
		ev["from"] = from.Hex()
		ev["tx"] = tx.Hash().Hex()
		if key != "" {
			ev["tx_log"] = key
		}
		out = append(out, b.alert(h.cfg.ChainID, Alert{
			Subject: SubjectTransaction, Method: MethodRule, Rule: rule, Class: rule, Severity: severity,
			Score: 1, TxHash: tx.Hash(), Account: account, Summary: summary, Evidence: ev, Key: key,
		}))
	}
	toRegistry := tx.To() != nil && *tx.To() == reg
	if toRegistry && !h.anchorers[from] {
		txAlert(RuleForeignCaller, "high", from,
			fmt.Sprintf("%s, which is not one of the service's anchorers, called %s on the audit registry", from.Hex(), method(tx.Data())),
			map[string]string{"method": method(tx.Data()), "value_wei": tx.Value().String(), "status": strconv.FormatUint(rc.Status, 10)})
	}
	if toRegistry && rc.Status == types.ReceiptStatusFailed {
		sev, who := "high", "an account that is not an anchorer"
		if h.anchorers[from] {
			sev, who = "medium", "the service's anchorer"
		}
		txAlert(RuleReverted, sev, from,
			fmt.Sprintf("a call to %s on the audit registry from %s reverted", method(tx.Data()), who),
			map[string]string{"method": method(tx.Data()), "gas_used": strconv.FormatUint(rc.GasUsed, 10)})
	}
	// anchored applies the foreign-batch and root-mismatch rules to an
	// anchor the registry recorded, given the database's root for it.
	anchored := func(a anchorEvent, ours common.Hash, known bool) {
		root := common.Hash(a.root)
		a.ev["root"] = root.Hex()
		a.ev["submitter"] = a.submitter.Hex()
		switch {
		case !known:
			txAlert(RuleForeignBatch, "high", a.submitter,
				fmt.Sprintf("%s anchored %s on the audit registry, which this service's database does not know", a.submitter.Hex(), a.what), a.ev)
		case root != ours:
			a.ev["database_root"] = ours.Hex()
			txAlert(RuleRootMismatch, "critical", a.submitter,
				fmt.Sprintf("%s was anchored on the audit registry with root %s, but the database holds root %s for it", a.what, root.Hex(), ours.Hex()), a.ev)
		}
	}
	// The registry's constructor makes its deployer owner and anchorer:
	// those events are its birth, not a change.
	deployment := tx.To() == nil && rc.ContractAddress == reg
	for i, l := range rc.Logs {
		if l.Address != reg || len(l.Topics) == 0 || deployment {
			continue
		}
		key = strconv.Itoa(i)
		switch l.Topics[0] {
		case evOwnership:
			e, err := registryABI.UnpackOwnershipTransferredEvent(l)
			if err != nil {
				return nil, fmt.Errorf("decode OwnershipTransferred: %w", err)
			}
			txAlert(RuleRoleChange, "critical", e.NewOwner,
				fmt.Sprintf("the audit registry's ownership moved from %s to %s: the new owner decides who may anchor", e.PreviousOwner.Hex(), e.NewOwner.Hex()),
				map[string]string{"event": "OwnershipTransferred", "previous_owner": e.PreviousOwner.Hex(), "new_owner": e.NewOwner.Hex()})
		case evGranted:
			e, err := registryABI.UnpackAnchorerGrantedEvent(l)
			if err != nil {
				return nil, fmt.Errorf("decode AnchorerGranted: %w", err)
			}
			txAlert(RuleRoleChange, "high", e.Account,
				fmt.Sprintf("%s was granted the anchoring role on the audit registry: it may now write anchors", e.Account.Hex()),
				map[string]string{"event": "AnchorerGranted", "account": e.Account.Hex(), "anchorer_id": strconv.FormatUint(uint64(e.Id), 10)})
		case evRevoked:
			e, err := registryABI.UnpackAnchorerRevokedEvent(l)
			if err != nil {
				return nil, fmt.Errorf("decode AnchorerRevoked: %w", err)
			}
			txAlert(RuleRoleChange, "high", e.Account,
				fmt.Sprintf("%s lost the anchoring role on the audit registry", e.Account.Hex()),
				map[string]string{"event": "AnchorerRevoked", "account": e.Account.Hex()})
		case evBatch:
			if h.known == nil {
				continue
			}
			e, err := registryABI.UnpackBatchAnchoredEvent(l)
			if err != nil {
				return nil, fmt.Errorf("decode BatchAnchored: %w", err)
			}
			ours, known, err := h.known.Batch(ctx, e.BatchId)
			if err != nil {
				return nil, fmt.Errorf("look up batch %d: %w", e.BatchId, err)
			}
			anchored(anchorEvent{what: "batch " + strconv.FormatUint(e.BatchId, 10), root: e.Root, submitter: e.Submitter,
				ev: map[string]string{"batch_id": strconv.FormatUint(e.BatchId, 10), "leaf_count": strconv.FormatUint(uint64(e.LeafCount), 10)}},
				ours, known)
		case evRecord:
			kr, ok := h.known.(KnownRecords)
			if !ok {
				continue
			}
			e, err := registryABI.UnpackRecordAnchoredEvent(l)
			if err != nil {
				return nil, fmt.Errorf("decode RecordAnchored: %w", err)
			}
			ours, known, err := kr.Record(ctx, e.RecordId)
			if err != nil {
				return nil, fmt.Errorf("look up record %x: %w", e.RecordId, err)
			}
			id := hexutil.Encode(e.RecordId[:])
			anchored(anchorEvent{what: "record " + id, root: e.Hash, submitter: e.Submitter,
				ev: map[string]string{"record_id": id}}, ours, known)
		}
	}
	return out, nil
}

// series is a rolling window of one per-block value.
type series struct {
	blocks []uint64
	values []float64
}

func (s *series) add(block uint64, v float64, keep int) {
	s.blocks = append(s.blocks, block)
	s.values = append(s.values, v)
	if over := len(s.values) - keep; over > 0 {
		s.blocks = s.blocks[over:]
		s.values = s.values[over:]
	}
}

// dropFrom forgets the values of blocks from block up (a reorg replaced
// them).
func (s *series) dropFrom(block uint64) {
	i := len(s.blocks)
	for i > 0 && s.blocks[i-1] >= block {
		i--
	}
	s.blocks, s.values = s.blocks[:i], s.values[:i]
}

// baselines are the rolling baselines of the gas, fee and volume rules.
type baselines struct {
	gas, fee, volume series
}

func (bl *baselines) dropFrom(block uint64) {
	bl.gas.dropFrom(block)
	bl.fee.dropFrom(block)
	bl.volume.dropFrom(block)
}

// median of xs (which it sorts).
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// spike is a baseline rule's verdict on one value.
type spike struct {
	fires                        bool
	median, mad, threshold, hist float64
}

// check compares v with the series' baseline.
func (c RulesConfig) check(s *series, f Floor, v float64) spike {
	if len(s.values) < c.MinHistory {
		return spike{}
	}
	xs := slices.Clone(s.values)
	med := median(xs)
	for i := range xs {
		xs[i] = math.Abs(xs[i] - med)
	}
	mad := median(xs)
	thr := med + max(c.MADs*1.4826*mad, f.Abs, f.Rel*med)
	return spike{fires: v > thr, median: med, mad: mad, threshold: thr, hist: float64(len(s.values))}
}

// baselineRules applies the gas, fee and volume rules to a block, then adds
// the block's values to the baselines. The gas and volume leave out the
// service's own anchoring (its anchorers' calls to the registry): it comes
// in bursts (record mode sends up to MaxInFlight transactions at once after
// a quiet spell) that are not anomalies, and the registry rules watch it.
// The fee counts every transaction: the anchorer pays the market's price.
func (h *Hunter) baselineRules(b *blockCtx) []Alert {
	c := h.cfg.Rules
	n := b.block.NumberU64()
	txs := b.block.Transactions()
	var (
		gas, count float64
		prices     []float64
	)
	for i, rc := range b.receipts {
		own := i < len(b.senders) && h.anchorers[b.senders[i]] && txs[i].To() != nil && *txs[i].To() == h.cfg.Registry
		if !own {
			gas += float64(rc.GasUsed)
			count++
		}
		p := rc.EffectiveGasPrice
		if p == nil {
			p = txs[i].GasPrice()
		}
		price, _ := new(big.Float).SetInt(p).Float64()
		prices = append(prices, price)
	}
	var fee float64
	hasFee := len(prices) > 0
	if hasFee {
		fee = median(prices)
	}
	var out []Alert
	fire := func(rule, what, unit string, v float64, sp spike) {
		if !sp.fires {
			return
		}
		ratio := math.Inf(1)
		if sp.median > 0 {
			ratio = v / sp.median
		}
		f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
		out = append(out, b.alert(h.cfg.ChainID, Alert{
			Subject: SubjectBlock, Method: MethodRule, Rule: rule, Class: rule, Severity: "medium", Score: 1,
			Summary: fmt.Sprintf("block %d's %s was %s %s, %.1f times the median %s of the last %d blocks and above the threshold %s",
				n, what, f(v), unit, ratio, f(sp.median), int(sp.hist), f(sp.threshold)),
			Evidence: map[string]string{"value": f(v), "median": f(sp.median), "mad": f(sp.mad),
				"threshold": f(sp.threshold), "history_blocks": f(sp.hist), "transactions": f(count)},
		}))
	}
	fire(RuleGasSpike, "gas used", "gas", gas, c.check(&h.baseline.gas, c.Gas, gas))
	if hasFee {
		fire(RuleFeeSpike, "median effective gas price", "wei", fee, c.check(&h.baseline.fee, c.Fee, fee))
		h.baseline.fee.add(n, fee, c.Baseline)
	}
	fire(RuleVolume, "transaction count", "transactions", count, c.check(&h.baseline.volume, c.Volume, count))
	h.baseline.gas.add(n, gas, c.Baseline)
	h.baseline.volume.add(n, count, c.Baseline)
	return out
}

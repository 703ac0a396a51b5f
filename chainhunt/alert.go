// Package chainhunt hunts anomalies in the chain idsledger anchors on: a
// follower reads its blocks, keeps per-account aggregates defined exactly as
// the ethereum-accounts dataset's columns, scores them with the project's
// detectors, watches the registry contract with exact rules, notices
// reorganisations, and raises Alerts. It holds no HTTP and no SQL: a Store
// persists its progress and its alerts together, so a restart resumes where
// it stopped and raises no alert twice.
package chainhunt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"
)

// Subject is what a chain alert is about.
type Subject string

const (
	SubjectTransaction Subject = "transaction"
	SubjectAccount     Subject = "account"
	// SubjectBlock is a block or a run of blocks (a reorganisation, a
	// volume anomaly).
	SubjectBlock Subject = "block"
)

// Method is how a chain alert was decided.
type Method string

const (
	// MethodRule is an exact rule: the alert says which and why.
	MethodRule Method = "rule"
	// MethodModel is a detector's score over an account's features.
	MethodModel Method = "model"
)

// Alert is one finding of the hunter. Its fields are what is hashed and
// anchored (see Body); ID is derived from the finding itself, so the same
// finding raised again (after a restart, a re-read block) has the same id and
// is stored once.
type Alert struct {
	ChainID uint64
	Subject Subject
	Method  Method
	// Rule names the rule ("registry.foreign_caller", "chain.reorg", ...)
	// or, for MethodModel, the model kind ("gbt", "autoencoder", ...).
	Rule string
	// Class is the alert's class as analysts filter on it, like a flow
	// alert's class: "fraud" for a model's verdict, the rule name otherwise.
	Class string
	// Severity is one of low, medium, high, critical.
	Severity string
	// Score is the model's score in [0, 1], or 1 for a rule.
	Score float64
	// Model names the model that scored (its id and version); empty for a
	// rule.
	ModelID, ModelVersion string
	// Block is the block the finding is about (for a reorg: the first
	// replaced block), and BlockTime its timestamp.
	BlockNumber uint64
	BlockHash   common.Hash
	BlockTime   time.Time
	// TxHash is the transaction (zero unless the subject is one, or the
	// finding comes from one) and Account the account (zero unless one is
	// named).
	TxHash  common.Hash
	Account common.Address
	// Summary is one sentence for a human: what happened and why it is an
	// alert.
	Summary string
	// Evidence holds the values the decision rests on, by name, as exact
	// strings (decimal wei, hex hashes, the features a model saw).
	Evidence map[string]string
	// Key tells apart findings of one rule about the same block,
	// transaction and account, such as two events of one transaction (the
	// rules put the log's position among the transaction's logs here, and
	// in Evidence as tx_log); it is part of ID when not empty.
	Key string
}

// ErrInvalidAlert reports an alert that cannot be stored as given.
var ErrInvalidAlert = errors.New("invalid chain alert")

// Validate says whether a can be stored: a known subject, method and
// severity, a rule name, a finite score in [0, 1], a block hash, a
// transaction hash for a transaction alert, an account for an account alert.
func (a Alert) Validate() error {
	switch {
	case a.Subject != SubjectTransaction && a.Subject != SubjectAccount && a.Subject != SubjectBlock:
		return fmt.Errorf("%w: subject %q", ErrInvalidAlert, a.Subject)
	case a.Method != MethodRule && a.Method != MethodModel:
		return fmt.Errorf("%w: method %q", ErrInvalidAlert, a.Method)
	case a.Rule == "" || a.Class == "":
		return fmt.Errorf("%w: no rule or class", ErrInvalidAlert)
	case !slices.Contains([]string{"low", "medium", "high", "critical"}, a.Severity):
		return fmt.Errorf("%w: severity %q", ErrInvalidAlert, a.Severity)
	case math.IsNaN(a.Score) || a.Score < 0 || a.Score > 1:
		return fmt.Errorf("%w: score %v is not in [0, 1]", ErrInvalidAlert, a.Score)
	case a.BlockHash == (common.Hash{}):
		return fmt.Errorf("%w: no block hash", ErrInvalidAlert)
	case a.Subject == SubjectTransaction && a.TxHash == (common.Hash{}):
		return fmt.Errorf("%w: a transaction alert without a transaction", ErrInvalidAlert)
	case a.Subject == SubjectAccount && a.Account == (common.Address{}):
		return fmt.Errorf("%w: an account alert without an account", ErrInvalidAlert)
	case a.Method == MethodModel && a.ModelID == "":
		return fmt.Errorf("%w: a model alert without its model", ErrInvalidAlert)
	}
	return nil
}

// ID is the alert's identity: a UUID (version 8, RFC 9562) from the
// keccak256 of the chain, rule, block hash, transaction and account (and
// Key when set), so that the same finding has the same id however often it
// is raised. (A model alert for the same account in another block is
// another finding, and so is a second event of one transaction.)
func (a Alert) ID() uuid.UUID {
	var b strings.Builder
	fmt.Fprintf(&b, "idsledger chain alert\x00%d\x00%s\x00%s\x00%s\x00%s",
		a.ChainID, a.Rule, a.BlockHash.Hex(), a.TxHash.Hex(), a.Account.Hex())
	if a.Key != "" {
		b.WriteString("\x00" + a.Key)
	}
	h := crypto.Keccak256([]byte(b.String()))
	var id uuid.UUID
	copy(id[:], h[:16])
	id[6] = (id[6] & 0x0f) | 0x80 // version 8
	id[8] = (id[8] & 0x3f) | 0x80 // RFC 9562 variant
	return id
}

// EvidenceKeys returns the evidence names in sorted order.
func (a Alert) EvidenceKeys() []string {
	keys := make([]string, 0, len(a.Evidence))
	for k := range a.Evidence {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// BlockRef is a block the follower processed.
type BlockRef struct {
	Number uint64
	Hash   common.Hash
}

// Checkpoint is the hunter's progress on one chain: the last blocks it
// processed (oldest first; the last is where it resumes after), enough of
// them to notice a reorganisation as deep as the window it watches, and the
// state its detectors carry between blocks, encoded by the hunter.
//
// A block with a zero hash is a position only: a reorg deeper than the
// window left it, and the next block is taken whatever its parent. State
// holds the undo log, the encoded prior states of the accounts each kept
// block changed, so its size grows with the window and the accounts'
// histories; it is compressed: with the default window of 64, about 3 KB
// for a dev chain that only anchors, 38 KB for blocks of 50 transfers from
// one account to 200 others.
type Checkpoint struct {
	ChainID uint64
	Blocks  []BlockRef
	// Accounts are the encoded aggregates of the accounts that changed
	// since the last checkpoint (the store keeps every account's latest).
	Accounts map[common.Address][]byte
	// State is the rest of the hunter's state (rolling baselines, the undo
	// log of the reorg window), encoded by the hunter.
	State []byte
}

// Store persists the hunter's progress and its alerts.
type Store interface {
	// Checkpoint returns the last committed checkpoint of the chain
	// (without Accounts), and false when there is none.
	Checkpoint(ctx context.Context, chainID uint64) (Checkpoint, bool, error)
	// Accounts returns the stored aggregates of the given accounts; an
	// account never stored is absent from the map.
	Accounts(ctx context.Context, chainID uint64, addrs []common.Address) (map[common.Address][]byte, error)
	// Commit stores cp and alerts in one transaction: the accounts
	// upserted, the blocks and state replaced, and each alert stored (as a
	// record of kind "chain_alert", to be anchored) unless an alert with
	// its ID is already stored. It returns the alerts it stored.
	Commit(ctx context.Context, cp Checkpoint, alerts []Alert) ([]Alert, error)
}

// Rechecker is the anchoring side, asked to re-check against the chain every
// batch it recorded as anchored at or above a block that a reorganisation
// replaced.
type Rechecker interface {
	RecheckFrom(ctx context.Context, block uint64) error
}

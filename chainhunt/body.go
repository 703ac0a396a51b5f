package chainhunt

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
)

// Kind is the record kind of a chain alert: its records row, its outbox
// entry and its anchor carry it.
const Kind = "chain_alert"

// maxExactInt is the largest integer a JSON number keeps exactly through
// RFC 8785, which reads numbers as IEEE 754 doubles (2^53 - 1).
const maxExactInt = 1<<53 - 1

// Body is the record body of a chain alert: what is hashed and anchored.
// Its JSON encoding, canonicalized with anchor.Canonicalize, is the record
// (see Canonical); a stored record parses back into it.
type Body struct {
	// Type is always Kind.
	Type    string    `json:"type"`
	ID      uuid.UUID `json:"id"`
	ChainID uint64    `json:"chain_id"`
	Subject Subject   `json:"subject"`
	Method  Method    `json:"method"`
	Rule    string    `json:"rule"`
	Class   string    `json:"class"`
	// Severity is low, medium, high or critical.
	Severity string  `json:"severity"`
	Score    float64 `json:"score"`
	// Risk is Score on the 0-100 scale flow alerts share.
	Risk float64 `json:"risk"`
	// Model is absent for a rule.
	Model *BodyModel `json:"model,omitempty"`
	Block BodyBlock  `json:"block"`
	// Tx is the transaction hash (0x and 64 lowercase hex digits), absent
	// when the finding names none.
	Tx string `json:"tx,omitempty"`
	// Account is the account in its EIP-55 mixed-case form, absent when
	// the finding names none.
	Account  string            `json:"account,omitempty"`
	Summary  string            `json:"summary"`
	Evidence map[string]string `json:"evidence"`
}

// BodyModel names the model that scored an account.
type BodyModel struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

// BodyBlock is the block a finding is about.
type BodyBlock struct {
	Number uint64 `json:"number"`
	// Hash is 0x and 64 lowercase hex digits.
	Hash string `json:"hash"`
	// Time is the block's timestamp, in UTC.
	Time time.Time `json:"time"`
}

// NewBody returns the record body of a, which must be valid (see
// Validate; Canonical checks). The block time is kept in UTC at
// microsecond precision, as PostgreSQL keeps it, so that the body and the
// stored query columns agree exactly.
func NewBody(a Alert) Body {
	b := Body{
		Type: Kind, ID: a.ID(), ChainID: a.ChainID, Subject: a.Subject, Method: a.Method,
		Rule: a.Rule, Class: a.Class, Severity: a.Severity, Score: a.Score, Risk: a.Score * 100,
		Block: BodyBlock{Number: a.BlockNumber, Hash: a.BlockHash.Hex(),
			Time: a.BlockTime.UTC().Truncate(time.Microsecond)},
		Summary:  a.Summary,
		Evidence: map[string]string{},
	}
	if a.Method == MethodModel {
		b.Model = &BodyModel{ID: a.ModelID, Version: a.ModelVersion}
	}
	if a.TxHash != (common.Hash{}) {
		b.Tx = a.TxHash.Hex()
	}
	if a.Account != (common.Address{}) {
		b.Account = a.Account.Hex()
	}
	for k, v := range a.Evidence {
		b.Evidence[k] = v
	}
	return b
}

// Canonical returns the canonical record body of a: the RFC 8785 form of
// NewBody(a), the bytes that are stored and whose anchor.LeafHash is
// anchored. It refuses (ErrInvalidAlert) an alert that Validate refuses, a
// chain id or block number beyond 2^53 - 1 (a JSON number would not keep it
// exactly), and text that is not valid UTF-8 or holds a NUL (which
// PostgreSQL text cannot store).
func Canonical(a Alert) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if a.ChainID > maxExactInt || a.BlockNumber > maxExactInt {
		return nil, fmt.Errorf("%w: chain id %d or block number %d beyond 2^53 - 1", ErrInvalidAlert, a.ChainID, a.BlockNumber)
	}
	if a.BlockTime.IsZero() {
		return nil, fmt.Errorf("%w: no block time", ErrInvalidAlert)
	}
	texts := []string{a.Rule, a.Class, a.Summary, a.ModelID, a.ModelVersion}
	for k, v := range a.Evidence {
		texts = append(texts, k, v)
	}
	for _, s := range texts {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			return nil, fmt.Errorf("%w: text %q is not valid UTF-8 without NUL", ErrInvalidAlert, s)
		}
	}
	canon, err := anchor.CanonicalJSON(NewBody(a))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidAlert, err)
	}
	return canon, nil
}

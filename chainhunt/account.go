package chainhunt

import (
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/detector"
)

// Account is the running aggregate of one account's history, from which
// Features computes exactly the columns of detector.EthAccountFeatures.
// The hunter adds every ether transaction and ERC20 Transfer naming the
// account, in block order; the zero value is an account never seen. It
// keeps no Account for a contract (see Hunter.personal).
//
// Amounts are kept exact: ether in wei, token amounts in "atto-tokens"
// (the raw value scaled to 18 decimals, so that amounts of tokens with
// different decimals add up in whole tokens as the dataset does), both as
// big.Int, converted to float64 only by Features.
type Account struct {
	// Ether transactions: sent (contract creations excluded), received,
	// contract creations, and sent to a contract (a subset of sent).
	Sent, Received, Created, SentContract Amounts
	// SentTimes, ReceivedTimes and AllTimes are the times of the
	// transactions sent (creations excluded), received, and all of them.
	SentTimes, ReceivedTimes, AllTimes Times
	// SentTo and ReceivedFrom are the distinct counterparties.
	SentTo, ReceivedFrom AddressSet

	// ERC20 transfers sent, received, and sent to a contract.
	TokenSent, TokenReceived, TokenSentContract Amounts
	// TokenTransfers counts the transfers naming the account, once each
	// (a transfer to itself is one transfer).
	TokenTransfers uint64
	// Times of the token transfers sent, received, sent to a contract.
	TokenSentTimes, TokenReceivedTimes, TokenSentContractTimes Times
	// TokenSentTo and TokenReceivedFrom are the distinct counterparties;
	// TokenSentToContracts the distinct contracts tokens were sent to;
	// TokensSent and TokensReceived the distinct token contracts.
	TokenSentTo, TokenReceivedFrom, TokenSentToContracts AddressSet
	TokensSent, TokensReceived                           AddressSet
}

// Amounts aggregates amounts (wei or atto-tokens): how many, their sum,
// the smallest and the largest.
type Amounts struct {
	N             uint64
	Sum, Min, Max big.Int
}

// Add counts v.
func (a *Amounts) Add(v *big.Int) {
	if a.N == 0 || v.Cmp(&a.Min) < 0 {
		a.Min.Set(v)
	}
	if a.N == 0 || v.Cmp(&a.Max) > 0 {
		a.Max.Set(v)
	}
	a.Sum.Add(&a.Sum, v)
	a.N++
}

// Times aggregates the times of a series of events, enough for the mean
// gap between consecutive ones: events come in time order, so the gaps add
// up to Last-First.
type Times struct {
	N           uint64
	First, Last int64 // unix seconds
}

// Add counts an event at t (unix seconds, not before the last).
func (s *Times) Add(t int64) {
	if s.N == 0 {
		s.First = t
	}
	s.Last = t
	s.N++
}

// meanGapMinutes is the mean gap between consecutive events in minutes, 0
// with fewer than two.
func (s Times) meanGapMinutes() float64 {
	if s.N < 2 {
		return 0
	}
	return float64(s.Last-s.First) / 60 / float64(s.N-1)
}

// MaxSetSize bounds an AddressSet: the distinct counterparties (and
// tokens) counted per account saturate there. Without a bound, an account
// with millions of counterparties (an exchange's hot wallet) would be
// re-encoded whole for every block that touches it and kept Window times
// over in the undo log. The bound does not change what a model sees: the
// ethereum-accounts dataset's source stopped at 10,000 transactions per
// account, and none of its distinct counts exceeds 9,999.
const MaxSetSize = 10_000

// AddressSet is a set of addresses, kept sorted (for a stable encoding),
// of at most MaxSetSize.
type AddressSet []common.Address

// Add puts a in the set, unless the set is full.
func (s *AddressSet) Add(a common.Address) {
	i, found := slices.BinarySearchFunc(*s, a, func(x, y common.Address) int { return x.Cmp(y) })
	if !found && len(*s) < MaxSetSize {
		*s = slices.Insert(*s, i, a)
	}
}

// EtherTx is an ether transaction as the aggregates see it.
type EtherTx struct {
	From common.Address
	// To is the recipient; nil for a contract creation.
	To *common.Address
	// Value is in wei.
	Value *big.Int
	// Time is the block's timestamp (unix seconds).
	Time int64
	// ToContract says the recipient is a contract.
	ToContract bool
}

// AddTx counts tx in the history of account self (its sender, its
// recipient, or both).
func (a *Account) AddTx(self common.Address, tx EtherTx) {
	if tx.From == self {
		switch {
		case tx.To == nil:
			a.Created.Add(tx.Value)
		default:
			a.Sent.Add(tx.Value)
			if tx.ToContract {
				a.SentContract.Add(tx.Value)
			}
			a.SentTimes.Add(tx.Time)
			a.SentTo.Add(*tx.To)
		}
	}
	if tx.To != nil && *tx.To == self {
		a.Received.Add(tx.Value)
		a.ReceivedTimes.Add(tx.Time)
		a.ReceivedFrom.Add(tx.From)
	}
	a.AllTimes.Add(tx.Time)
}

// TokenTransfer is an ERC20 Transfer(from, to, value) log.
type TokenTransfer struct {
	// Token is the token contract (the log's address).
	Token, From, To common.Address
	// Amount is the value in atto-tokens (see TokenAmount).
	Amount *big.Int
	// Time is the block's timestamp (unix seconds).
	Time int64
	// ToContract says the recipient is a contract.
	ToContract bool
}

// AddTokenTransfer counts tr in the history of account self (its sender,
// its recipient, or both).
func (a *Account) AddTokenTransfer(self common.Address, tr TokenTransfer) {
	a.TokenTransfers++
	if tr.From == self {
		a.TokenSent.Add(tr.Amount)
		a.TokenSentTimes.Add(tr.Time)
		a.TokenSentTo.Add(tr.To)
		a.TokensSent.Add(tr.Token)
		if tr.ToContract {
			a.TokenSentContract.Add(tr.Amount)
			a.TokenSentContractTimes.Add(tr.Time)
			a.TokenSentToContracts.Add(tr.To)
		}
	}
	if tr.To == self {
		a.TokenReceived.Add(tr.Amount)
		a.TokenReceivedTimes.Add(tr.Time)
		a.TokenReceivedFrom.Add(tr.From)
		a.TokensReceived.Add(tr.Token)
	}
}

// TokenAmount scales a Transfer's raw value to atto-tokens (18 decimals)
// for a token of the given decimals: exact up to 18 decimals, rounded
// towards zero beyond.
func TokenAmount(raw *big.Int, decimals uint8) *big.Int {
	v := new(big.Int).Set(raw)
	switch {
	case decimals < 18:
		v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(18-decimals)), nil))
	case decimals > 18:
		v.Quo(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals-18)), nil))
	}
	return v
}

// wei is 10^18, the wei in an ether (and atto-tokens in a token).
var wei = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)

// ether converts wei (or atto-tokens) to ether (tokens).
func ether(v *big.Int) float64 {
	f, _ := new(big.Rat).SetFrac(v, wei).Float64()
	return f
}

// mean is the mean of the amounts in ether (tokens), 0 over none.
func (a *Amounts) mean() float64 {
	if a.N == 0 {
		return 0
	}
	f, _ := new(big.Rat).SetFrac(&a.Sum, new(big.Int).Mul(wei, new(big.Int).SetUint64(a.N))).Float64()
	return f
}

// min and max are the smallest and largest amounts in ether (tokens), 0
// over none (Min and Max are zero then).
func (a *Amounts) min() float64 { return ether(&a.Min) }
func (a *Amounts) max() float64 { return ether(&a.Max) }

// Features returns the account's feature vector: the values of the columns
// of detector.EthAccountFeatures, in their order and units, as their
// Meaning defines them.
func (a *Account) Features() []float64 {
	byColumn := a.columns()
	out := make([]float64, len(detector.EthAccountFeatures))
	for i, f := range detector.EthAccountFeatures {
		v, ok := byColumn[f.Column]
		if !ok {
			// A column added to the detector without a definition here:
			// init's check makes this unreachable.
			panic("chainhunt: no definition for column " + f.Column)
		}
		out[i] = v
	}
	return out
}

// columns computes the features by column name.
func (a *Account) columns() map[string]float64 {
	balance := new(big.Int).Sub(&a.Received.Sum, &a.Sent.Sum)
	balance.Sub(balance, &a.SentContract.Sum)
	allSpan := 0.0
	if a.AllTimes.N > 0 {
		allSpan = float64(a.AllTimes.Last-a.AllTimes.First) / 60
	}
	return map[string]float64{
		"Avg min between sent tnx":                a.SentTimes.meanGapMinutes(),
		"Avg min between received tnx":            a.ReceivedTimes.meanGapMinutes(),
		"Time Diff between first and last (Mins)": allSpan,
		"Sent tnx":                       float64(a.Sent.N),
		"Received Tnx":                   float64(a.Received.N),
		"Number of Created Contracts":    float64(a.Created.N),
		"Unique Received From Addresses": float64(len(a.ReceivedFrom)),
		"Unique Sent To Addresses":       float64(len(a.SentTo)),
		"min value received":             a.Received.min(),
		"max value received":             a.Received.max(),
		"avg val received":               a.Received.mean(),
		"min val sent":                   a.Sent.min(),
		"max val sent":                   a.Sent.max(),
		"avg val sent":                   a.Sent.mean(),
		"min value sent to contract":     a.SentContract.min(),
		"max val sent to contract":       a.SentContract.max(),
		"avg value sent to contract":     a.SentContract.mean(),
		"total transactions (including tnx to create contract": float64(a.Sent.N + a.Received.N + a.Created.N),
		"total Ether sent":                    ether(&a.Sent.Sum),
		"total ether received":                ether(&a.Received.Sum),
		"total ether sent contracts":          ether(&a.SentContract.Sum),
		"total ether balance":                 ether(balance),
		"Total ERC20 tnxs":                    float64(a.TokenTransfers),
		"ERC20 total Ether received":          ether(&a.TokenReceived.Sum),
		"ERC20 total ether sent":              ether(&a.TokenSent.Sum),
		"ERC20 total Ether sent contract":     ether(&a.TokenSentContract.Sum),
		"ERC20 uniq sent addr":                float64(len(a.TokenSentTo)),
		"ERC20 uniq rec addr":                 float64(len(a.TokenReceivedFrom)),
		"ERC20 uniq sent addr.1":              float64(len(a.TokenSentToContracts)),
		"ERC20 uniq rec contract addr":        float64(len(a.TokensReceived)),
		"ERC20 avg time between sent tnx":     a.TokenSentTimes.meanGapMinutes(),
		"ERC20 avg time between rec tnx":      a.TokenReceivedTimes.meanGapMinutes(),
		"ERC20 avg time between rec 2 tnx":    a.TokenReceivedTimes.meanGapMinutes(),
		"ERC20 avg time between contract tnx": a.TokenSentContractTimes.meanGapMinutes(),
		"ERC20 min val rec":                   a.TokenReceived.min(),
		"ERC20 max val rec":                   a.TokenReceived.max(),
		"ERC20 avg val rec":                   a.TokenReceived.mean(),
		"ERC20 min val sent":                  a.TokenSent.min(),
		"ERC20 max val sent":                  a.TokenSent.max(),
		"ERC20 avg val sent":                  a.TokenSent.mean(),
		"ERC20 min val sent contract":         a.TokenSentContract.min(),
		"ERC20 max val sent contract":         a.TokenSentContract.max(),
		"ERC20 avg val sent contract":         a.TokenSentContract.mean(),
		"ERC20 uniq sent token name":          float64(len(a.TokensSent)),
		"ERC20 uniq rec token name":           float64(len(a.TokensReceived)),
	}
}

func init() {
	// Every column of the kind has a definition here, and nothing more.
	var a Account
	if len(a.columns()) != len(detector.EthAccountFeatures) {
		panic("chainhunt: the account features do not define the columns of detector.EthAccountFeatures one for one")
	}
	a.Features()
}

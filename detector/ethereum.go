package detector

// This file defines the "ethereum-accounts" dataset kind: one row per
// Ethereum account, the aggregates of its ether transactions and ERC20
// token transfers, and a fraud flag. The columns are those of the public
// "Ethereum Fraud Detection" transaction_dataset; EthAccountFeatures says
// what each one means, so that a chain follower can compute the same
// columns from blocks and a model trained on the dataset scores live
// accounts with the same meaning.

// Units of the ethereum-accounts columns (EthAccountFeature.Unit).
const (
	// UnitCount is a number of transactions, transfers, addresses or tokens.
	UnitCount = "count"
	// UnitMinutes is a time span in minutes, from block timestamps
	// (seconds / 60).
	UnitMinutes = "minutes"
	// UnitEther is an amount of ether (wei / 1e18), never wei.
	UnitEther = "ether"
	// UnitTokens is an amount of ERC20 tokens in whole tokens: each
	// Transfer's raw value divided by 10^decimals of its token, summed or
	// compared across all tokens whatever they are worth. The dataset's
	// column names say "Ether" for these; they are not ether.
	UnitTokens = "tokens"
)

// EthAccountFeature defines one feature column of the ethereum-accounts
// kind: a chain follower computes Column, with this Meaning, in Unit, over
// the account's whole history up to the block it scores.
//
// Definitions used throughout: a transaction is a normal (top-level) ether
// transaction, successful or not, whose sender ("sent") or recipient
// ("received") is the account; a contract creation is a transaction from
// the account with no recipient; an ERC20 transfer is a Transfer(from, to,
// value) log of a token contract naming the account as from ("sent") or to
// ("received"). A minimum, maximum or average over no items is 0, and so is
// an average gap between fewer than two items. Times come from block
// timestamps.
type EthAccountFeature struct {
	// Column is the column name, exactly as the dataset writes it (after
	// trimming the spaces the source puts around some names).
	Column string
	// Meaning says how the value is computed.
	Meaning string
	// Unit is UnitCount, UnitMinutes, UnitEther or UnitTokens.
	Unit string
	// ERC20 marks the aggregates of token transfers, which the dataset
	// leaves empty for accounts whose token transfers its source did not
	// record (see EthERC20Absent).
	ERC20 bool
	// SourceConstant says the column is constant in the dataset (its
	// extraction never filled it, or almost never): no model trained on
	// it uses the column (a feature must vary on the training split), but
	// a follower still writes it.
	SourceConstant bool
}

// EthERC20Absent is the value the ethereum-accounts kind writes into
// "Total ERC20 tnxs" when a row's ERC20 aggregates are all empty: the
// dataset's source did not record that account's token transfers. It
// happens to 415 of the 1,066 flagged accounts of the shared sample and to
// none of the 3,877 others, so it flags fraud for a reason that has nothing
// to do with the account: a model may use it to fit the dataset, but a
// chain follower sees every Transfer log and always writes a count (0 or
// more), never -1. The other ERC20 aggregates of such a row read as 0.
const EthERC20Absent = "-1"

// ethTotalERC20 is the column that carries EthERC20Absent.
const ethTotalERC20 = "Total ERC20 tnxs"

// EthAccountFeatures are the feature columns of the ethereum-accounts kind,
// in the dataset's column order. The other columns are Address (an
// identifier, never a feature; also Index and "Unnamed: 0", row numbers of
// other copies of the dataset), FLAG (the label: 1 flagged as fraudulent,
// class "Fraud"; 0 Benign), and the two free-text token names "ERC20 most
// sent token type" and "ERC20_most_rec_token_type" (ignored: names typed
// by token creators, with typos, that a follower cannot read from a
// Transfer log).
var EthAccountFeatures = []EthAccountFeature{
	{Column: "Avg min between sent tnx", Unit: UnitMinutes,
		Meaning: "mean gap between consecutive transactions the account sent"},
	{Column: "Avg min between received tnx", Unit: UnitMinutes,
		Meaning: "mean gap between consecutive transactions the account received"},
	{Column: "Time Diff between first and last (Mins)", Unit: UnitMinutes,
		Meaning: "time from the account's first transaction (sent or received) to its last"},
	{Column: "Sent tnx", Unit: UnitCount, Meaning: "transactions sent (contract creations excluded)"},
	{Column: "Received Tnx", Unit: UnitCount, Meaning: "transactions received"},
	{Column: "Number of Created Contracts", Unit: UnitCount, Meaning: "contract-creation transactions sent"},
	{Column: "Unique Received From Addresses", Unit: UnitCount, Meaning: "distinct senders of the transactions received"},
	{Column: "Unique Sent To Addresses", Unit: UnitCount, Meaning: "distinct recipients of the transactions sent"},
	{Column: "min value received", Unit: UnitEther, Meaning: "smallest value of a transaction received"},
	{Column: "max value received", Unit: UnitEther, Meaning: "largest value of a transaction received"},
	{Column: "avg val received", Unit: UnitEther, Meaning: "mean value of the transactions received"},
	{Column: "min val sent", Unit: UnitEther, Meaning: "smallest value of a transaction sent"},
	{Column: "max val sent", Unit: UnitEther, Meaning: "largest value of a transaction sent"},
	{Column: "avg val sent", Unit: UnitEther, Meaning: "mean value of the transactions sent (total Ether sent / Sent tnx)"},
	{Column: "min value sent to contract", Unit: UnitEther, SourceConstant: true,
		Meaning: "smallest value of a transaction sent to a contract (the source almost never recognised one: at most 0.01)"},
	{Column: "max val sent to contract", Unit: UnitEther, SourceConstant: true,
		Meaning: "largest value of a transaction sent to a contract (as above)"},
	{Column: "avg value sent to contract", Unit: UnitEther, SourceConstant: true,
		Meaning: "mean value of the transactions sent to contracts (as above)"},
	{Column: "total transactions (including tnx to create contract", Unit: UnitCount,
		Meaning: "Sent tnx + Received Tnx + Number of Created Contracts (the name's parenthesis is unclosed in the source)"},
	{Column: "total Ether sent", Unit: UnitEther, Meaning: "sum of the values of the transactions sent"},
	{Column: "total ether received", Unit: UnitEther, Meaning: "sum of the values of the transactions received"},
	{Column: "total ether sent contracts", Unit: UnitEther, SourceConstant: true,
		Meaning: "sum of the values of the transactions sent to contracts (as for the values sent to contracts)"},
	{Column: "total ether balance", Unit: UnitEther,
		Meaning: "total ether received - total Ether sent - total ether sent contracts; may be negative (no starting balance, no gas fees)"},
	{Column: ethTotalERC20, Unit: UnitCount, ERC20: true,
		Meaning: "ERC20 transfers sent or received; -1 (EthERC20Absent) where the dataset has no ERC20 data for the account"},
	{Column: "ERC20 total Ether received", Unit: UnitTokens, ERC20: true, Meaning: "sum of the token amounts received"},
	{Column: "ERC20 total ether sent", Unit: UnitTokens, ERC20: true, Meaning: "sum of the token amounts sent"},
	{Column: "ERC20 total Ether sent contract", Unit: UnitTokens, ERC20: true, Meaning: "sum of the token amounts sent to contracts"},
	{Column: "ERC20 uniq sent addr", Unit: UnitCount, ERC20: true, Meaning: "distinct recipients of the tokens sent"},
	{Column: "ERC20 uniq rec addr", Unit: UnitCount, ERC20: true, Meaning: "distinct senders of the tokens received"},
	{Column: "ERC20 uniq sent addr.1", Unit: UnitCount, ERC20: true,
		Meaning: "distinct contracts the account sent tokens to (the source's second \"uniq sent addr\" column; 0 for almost every account, at most 3)"},
	{Column: "ERC20 uniq rec contract addr", Unit: UnitCount, ERC20: true,
		Meaning: "distinct token contracts whose tokens the account received"},
	{Column: "ERC20 avg time between sent tnx", Unit: UnitMinutes, ERC20: true, SourceConstant: true,
		Meaning: "mean gap between consecutive token transfers sent (always 0 in the source)"},
	{Column: "ERC20 avg time between rec tnx", Unit: UnitMinutes, ERC20: true, SourceConstant: true,
		Meaning: "mean gap between consecutive token transfers received (always 0 in the source)"},
	{Column: "ERC20 avg time between rec 2 tnx", Unit: UnitMinutes, ERC20: true, SourceConstant: true,
		Meaning: "a second mean gap between token transfers received (always 0 in the source)"},
	{Column: "ERC20 avg time between contract tnx", Unit: UnitMinutes, ERC20: true, SourceConstant: true,
		Meaning: "mean gap between consecutive token transfers sent to contracts (always 0 in the source)"},
	{Column: "ERC20 min val rec", Unit: UnitTokens, ERC20: true, Meaning: "smallest token amount received"},
	{Column: "ERC20 max val rec", Unit: UnitTokens, ERC20: true, Meaning: "largest token amount received"},
	{Column: "ERC20 avg val rec", Unit: UnitTokens, ERC20: true, Meaning: "mean token amount received"},
	{Column: "ERC20 min val sent", Unit: UnitTokens, ERC20: true, Meaning: "smallest token amount sent"},
	{Column: "ERC20 max val sent", Unit: UnitTokens, ERC20: true, Meaning: "largest token amount sent"},
	{Column: "ERC20 avg val sent", Unit: UnitTokens, ERC20: true, Meaning: "mean token amount sent"},
	{Column: "ERC20 min val sent contract", Unit: UnitTokens, ERC20: true, SourceConstant: true,
		Meaning: "smallest token amount sent to a contract (always 0 in the source)"},
	{Column: "ERC20 max val sent contract", Unit: UnitTokens, ERC20: true, SourceConstant: true,
		Meaning: "largest token amount sent to a contract (always 0 in the source)"},
	{Column: "ERC20 avg val sent contract", Unit: UnitTokens, ERC20: true, SourceConstant: true,
		Meaning: "mean token amount sent to contracts (always 0 in the source)"},
	{Column: "ERC20 uniq sent token name", Unit: UnitCount, ERC20: true,
		Meaning: "distinct tokens sent (the source counted distinct token names; a follower counts token contracts)"},
	{Column: "ERC20 uniq rec token name", Unit: UnitCount, ERC20: true,
		Meaning: "distinct tokens received (as above)"},
}

// EthAccountFeatureNames lists the Column of every EthAccountFeatures entry,
// in order.
func EthAccountFeatureNames() []string {
	out := make([]string, len(EthAccountFeatures))
	for i, f := range EthAccountFeatures {
		out[i] = f.Column
	}
	return out
}

// logUnit is the step a unit's values are log-compressed in: log1p(x/step)
// counts the value in the chain's own smallest units (one wei, one second,
// one transfer). log1p of ether would crush every amount below one ether,
// where most accounts' values lie, into the first hundredth of the range.
func logUnit(unit string) float64 {
	switch unit {
	case UnitEther, UnitTokens:
		return 1e-18 // one wei; one base unit of an 18-decimal token
	case UnitMinutes:
		return 1.0 / 60 // one second
	}
	return 1
}

func init() {
	s := &Schema{
		Kind:         "ethereum-accounts",
		Identifiers:  []string{"Address", "Index", "Unnamed: 0"},
		BinaryColumn: "FLAG",
		AttackClass:  "Fraud",
		Labels:       []string{"FLAG"},
		Ignore:       []string{"ERC20 most sent token type", "ERC20_most_rec_token_type"},
		Columns:      EthAccountFeatureNames(),
		BenignNames:  []string{"benign"},
		LogScale:     true,
		LogUnits:     map[string]float64{},
	}
	var erc20 []string
	for _, f := range EthAccountFeatures {
		s.LogUnits[f.Column] = logUnit(f.Unit)
		if f.ERC20 {
			erc20 = append(erc20, f.Column)
		}
	}
	s.normalize = func(f *Flow) { ethERC20Absent(f, erc20) }
	schemas[s.Kind] = s
}

// ethERC20Absent rewrites a row whose ERC20 aggregates are all present in
// its header and all empty: "Total ERC20 tnxs" becomes EthERC20Absent and
// the others 0. A row with some of them empty is left alone (the flow
// rules reject it as missing features).
func ethERC20Absent(f *Flow, cols []string) {
	idx := make([]int, len(cols))
	for k, c := range cols {
		i := f.Header.Index(c)
		if i < 0 || i >= len(f.Values) || !isMissing(f.Values[i]) {
			return
		}
		idx[k] = i
	}
	for k, i := range idx {
		f.Values[i] = "0"
		if cols[k] == ethTotalERC20 {
			f.Values[i] = EthERC20Absent
		}
	}
}

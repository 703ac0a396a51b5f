package chainhunt

import (
	"bytes"
	"math"
	"math/big"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/detector"
)

// milli returns n thousandths of an ether (or of a token) in wei.
func milli(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e15)) }

// handHistory is a small fixed history of account A, in time order, and
// the expected feature values derived from it by hand.
func handHistory() (self common.Address, txs []EtherTx, transfers []TokenTransfer) {
	var (
		A  = common.HexToAddress("0xa")
		B  = common.HexToAddress("0xb")
		C  = common.HexToAddress("0xc")
		K  = common.HexToAddress("0xcc") // a contract
		X  = common.HexToAddress("0x1")
		Y  = common.HexToAddress("0x2")
		Z  = common.HexToAddress("0x3")
		T1 = common.HexToAddress("0x7001") // a token of 6 decimals
		T2 = common.HexToAddress("0x7002") // a token of 18 decimals
	)
	const t0 = 1_700_000_000
	txs = []EtherTx{
		{From: B, To: &A, Value: milli(2000), Time: t0},                          // 1: A receives 2
		{From: A, To: &C, Value: milli(500), Time: t0 + 600},                     // 2: A sends 0.5 at +10 min
		{From: A, To: &K, Value: milli(1000), Time: t0 + 1800, ToContract: true}, // 3: A sends 1 to a contract at +30 min
		{From: C, To: &A, Value: milli(250), Time: t0 + 1800},                    // 4: A receives 0.25 at +30 min
		{From: A, To: nil, Value: milli(100), Time: t0 + 3600},                   // 5: A creates a contract with 0.1 at +60 min
		{From: A, To: &C, Value: milli(500), Time: t0 + 4200},                    // 6: A sends 0.5 at +70 min
	}
	transfers = []TokenTransfer{
		{Token: T1, From: X, To: A, Amount: TokenAmount(big.NewInt(1_500_000), 6), Time: t0 + 600}, // a: A receives 1.5 T1
		{Token: T1, From: A, To: Y, Amount: TokenAmount(big.NewInt(500_000), 6), Time: t0 + 1200},  // b: A sends 0.5 T1 at +20 min
		{Token: T2, From: A, To: K, Amount: milli(2000), Time: t0 + 2400, ToContract: true},        // c: A sends 2 T2 to a contract at +40 min
		{Token: T2, From: Z, To: A, Amount: TokenAmount(big.NewInt(3e17), 18), Time: t0 + 3000},    // d: A receives 0.3 T2 at +50 min
	}
	return A, txs, transfers
}

// handFeatures are the features of handHistory's account, derived by hand.
var handFeatures = map[string]float64{
	// Sent (creations excluded): txs 2, 3, 6 at +10, +30, +70 min: gaps
	// 20 and 40 min, mean 30.
	"Avg min between sent tnx": 30,
	// Received: txs 1 and 4 at +0 and +30 min.
	"Avg min between received tnx": 30,
	// First tx at +0 (1), last at +70 (6).
	"Time Diff between first and last (Mins)": 70,
	"Sent tnx":                    3,
	"Received Tnx":                2,
	"Number of Created Contracts": 1,
	// From B and C; to C (twice) and K.
	"Unique Received From Addresses": 2,
	"Unique Sent To Addresses":       2,
	// Received 2 and 0.25: mean 2.25/2.
	"min value received": 0.25,
	"max value received": 2,
	"avg val received":   1.125,
	// Sent 0.5, 1, 0.5: total 2, mean 2/3.
	"min val sent": 0.5,
	"max val sent": 1,
	"avg val sent": 2.0 / 3,
	// Tx 3 only.
	"min value sent to contract": 1,
	"max val sent to contract":   1,
	"avg value sent to contract": 1,
	// 3 sent + 2 received + 1 creation.
	"total transactions (including tnx to create contract": 6,
	"total Ether sent":           2,
	"total ether received":       2.25,
	"total ether sent contracts": 1,
	// The detector's formula: 2.25 - 2 - 1 (tx 3 counts in both, the
	// creation's 0.1 in neither).
	"total ether balance": -0.75,
	// Transfers a, b, c, d.
	"Total ERC20 tnxs": 4,
	// Received 1.5 (a) + 0.3 (d); sent 0.5 (b) + 2 (c); to a contract 2 (c).
	"ERC20 total Ether received":      1.8,
	"ERC20 total ether sent":          2.5,
	"ERC20 total Ether sent contract": 2,
	// Sent to Y and K; received from X and Z; K is a contract; tokens
	// received: T1 and T2.
	"ERC20 uniq sent addr":         2,
	"ERC20 uniq rec addr":          2,
	"ERC20 uniq sent addr.1":       1,
	"ERC20 uniq rec contract addr": 2,
	// Sent at +20 and +40 min; received at +10 and +50; one to a contract.
	"ERC20 avg time between sent tnx":     20,
	"ERC20 avg time between rec tnx":      40,
	"ERC20 avg time between rec 2 tnx":    40,
	"ERC20 avg time between contract tnx": 0,
	"ERC20 min val rec":                   0.3,
	"ERC20 max val rec":                   1.5,
	"ERC20 avg val rec":                   0.9,
	"ERC20 min val sent":                  0.5,
	"ERC20 max val sent":                  2,
	"ERC20 avg val sent":                  1.25,
	"ERC20 min val sent contract":         2,
	"ERC20 max val sent contract":         2,
	"ERC20 avg val sent contract":         2,
	// T1 and T2 both ways.
	"ERC20 uniq sent token name": 2,
	"ERC20 uniq rec token name":  2,
}

// buildHand applies handHistory in time order (ether and tokens merged).
func buildHand() *Account {
	self, txs, transfers := handHistory()
	var a Account
	for i, j := 0, 0; i < len(txs) || j < len(transfers); {
		if j == len(transfers) || (i < len(txs) && txs[i].Time <= transfers[j].Time) {
			a.AddTx(self, txs[i])
			i++
		} else {
			a.AddTokenTransfer(self, transfers[j])
			j++
		}
	}
	return &a
}

func checkFeatures(t *testing.T, got []float64, want map[string]float64) {
	t.Helper()
	names := detector.EthAccountFeatureNames()
	if len(got) != len(names) || len(want) != len(names) {
		t.Fatalf("%d features, %d expected, %d columns", len(got), len(want), len(names))
	}
	for i, name := range names {
		w, ok := want[name]
		if !ok {
			t.Fatalf("no expected value for %q", name)
		}
		if math.Abs(got[i]-w) > 1e-12*math.Max(1, math.Abs(w)) {
			t.Errorf("%s = %v, want %v", name, got[i], w)
		}
	}
}

func TestAccountFeaturesMatchHandComputedValues(t *testing.T) {
	checkFeatures(t, buildHand().Features(), handFeatures)
}

func TestAccountOfNoHistoryIsAllZero(t *testing.T) {
	var a Account
	for i, v := range a.Features() {
		if v != 0 {
			t.Errorf("%s = %v for an account never seen", detector.EthAccountFeatures[i].Column, v)
		}
	}
}

// A transaction (and a token transfer) to oneself is sent and received,
// and one transaction in the account's history.
func TestAccountSelfTransfer(t *testing.T) {
	A := common.HexToAddress("0xa")
	var a Account
	a.AddTx(A, EtherTx{From: A, To: &A, Value: milli(1000), Time: 60})
	a.AddTokenTransfer(A, TokenTransfer{Token: common.HexToAddress("0x7"), From: A, To: A, Amount: milli(1000), Time: 60})
	f := a.columns()
	if f["Sent tnx"] != 1 || f["Received Tnx"] != 1 || f["total ether balance"] != 0 || f["Total ERC20 tnxs"] != 1 ||
		f["ERC20 total ether sent"] != 1 || f["ERC20 total Ether received"] != 1 {
		t.Fatalf("features %v", f)
	}
}

// The encoding round-trips, is deterministic, and rejects damage.
func TestAccountEncoding(t *testing.T) {
	a := buildHand()
	a.Sent.Min.SetInt64(-5) // a negative big integer too
	p, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var b Account
	if err := b.UnmarshalBinary(p); err != nil {
		t.Fatal(err)
	}
	q, _ := b.MarshalBinary()
	if !bytes.Equal(p, q) {
		t.Fatal("encoding is not stable across a round trip")
	}
	if b.Sent.Min.Int64() != -5 {
		t.Fatalf("min %v", &b.Sent.Min)
	}
	b.Sent.Min.Set(milli(500))
	checkFeatures(t, b.Features(), handFeatures)
	for _, bad := range [][]byte{nil, {9}, p[:len(p)-1], append(bytes.Clone(p), 0)} {
		if err := new(Account).UnmarshalBinary(bad); err == nil {
			t.Errorf("decoded %d damaged bytes", len(bad))
		}
	}
}

func TestTokenAmount(t *testing.T) {
	for _, tt := range []struct {
		raw  int64
		dec  uint8
		want string
	}{
		{1_500_000, 6, "1500000000000000000"},
		{7, 18, "7"},
		{1234, 20, "12"}, // rounded towards zero
		{3, 0, "3000000000000000000"},
	} {
		if got := TokenAmount(big.NewInt(tt.raw), tt.dec).String(); got != tt.want {
			t.Errorf("TokenAmount(%d, %d) = %s, want %s", tt.raw, tt.dec, got, tt.want)
		}
	}
}

// A set of counterparties saturates at MaxSetSize: an account's memory and
// encoding stay bounded however many it meets.
func TestAddressSetSaturates(t *testing.T) {
	var a Account
	for i := range MaxSetSize + 500 {
		to := common.BigToAddress(big.NewInt(int64(i + 1)))
		a.AddTx(common.Address{0xaa}, EtherTx{From: common.Address{0xaa}, To: &to, Value: big.NewInt(1), Time: int64(i)})
	}
	if len(a.SentTo) != MaxSetSize || !slices.IsSortedFunc(a.SentTo, common.Address.Cmp) {
		t.Fatalf("%d counterparties kept, want %d, sorted", len(a.SentTo), MaxSetSize)
	}
	if f := a.Features()[7]; f != MaxSetSize || detector.EthAccountFeatures[7].Column != "Unique Sent To Addresses" {
		t.Fatalf("Unique Sent To Addresses %v", f)
	}
	if a.Sent.N != MaxSetSize+500 {
		t.Fatalf("sent %d, the counts do not saturate", a.Sent.N)
	}
}

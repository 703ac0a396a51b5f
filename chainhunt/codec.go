package chainhunt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
)

// The hunter's encodings are hand-written, versioned and deterministic (the
// same state always encodes to the same bytes): unsigned varints, big
// integers as a sign byte and length-prefixed magnitude, address sets as a
// count and the sorted addresses.

// accountVersion is the version byte that starts an encoded Account.
const accountVersion = 1

// errShort reports an encoding that ends early or runs on.
var errShort = errors.New("chainhunt: malformed encoding")

// encoder appends to a byte slice.
type encoder struct{ b []byte }

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }

func (e *encoder) bytes(p []byte) {
	e.uint(uint64(len(p)))
	e.b = append(e.b, p...)
}

func (e *encoder) big(v *big.Int) {
	e.uint(uint64(v.Sign() + 1)) // 0 negative, 1 zero, 2 positive
	if v.Sign() != 0 {
		e.bytes(v.Bytes())
	}
}

func (e *encoder) amounts(a *Amounts) {
	e.uint(a.N)
	e.big(&a.Sum)
	e.big(&a.Min)
	e.big(&a.Max)
}

func (e *encoder) times(t Times) {
	e.uint(t.N)
	e.int(t.First)
	e.int(t.Last)
}

func (e *encoder) set(s AddressSet) {
	e.uint(uint64(len(s)))
	for _, a := range s {
		e.b = append(e.b, a[:]...)
	}
}

// decoder reads what an encoder wrote; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errShort
	}
	d.b = nil
}

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) big(v *big.Int) {
	switch d.uint() {
	case 0:
		v.SetBytes(d.bytes()).Neg(v)
	case 1:
		v.SetInt64(0)
	case 2:
		v.SetBytes(d.bytes())
	default:
		d.fail()
	}
}

func (d *decoder) amounts(a *Amounts) {
	a.N = d.uint()
	d.big(&a.Sum)
	d.big(&a.Min)
	d.big(&a.Max)
}

func (d *decoder) times(t *Times) {
	t.N = d.uint()
	t.First = d.int()
	t.Last = d.int()
}

func (d *decoder) set(s *AddressSet) {
	n := d.uint()
	if n > uint64(len(d.b))/common.AddressLength {
		d.fail()
		return
	}
	*s = make(AddressSet, n)
	for i := range *s {
		copy((*s)[i][:], d.b[:common.AddressLength])
		d.b = d.b[common.AddressLength:]
	}
}

func (d *decoder) address() common.Address {
	var a common.Address
	if len(d.b) < common.AddressLength {
		d.fail()
		return a
	}
	copy(a[:], d.b)
	d.b = d.b[common.AddressLength:]
	return a
}

// end reports the first error, or trailing bytes.
func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = errShort
	}
	return d.err
}

// fields lists an Account's aggregates in encoding order.
func (a *Account) fields() (amounts []*Amounts, times []*Times, sets []*AddressSet) {
	amounts = []*Amounts{&a.Sent, &a.Received, &a.Created, &a.SentContract,
		&a.TokenSent, &a.TokenReceived, &a.TokenSentContract}
	times = []*Times{&a.SentTimes, &a.ReceivedTimes, &a.AllTimes,
		&a.TokenSentTimes, &a.TokenReceivedTimes, &a.TokenSentContractTimes}
	sets = []*AddressSet{&a.SentTo, &a.ReceivedFrom, &a.TokenSentTo, &a.TokenReceivedFrom,
		&a.TokenSentToContracts, &a.TokensSent, &a.TokensReceived}
	return
}

// MarshalBinary encodes the account (the bytes a Checkpoint's Accounts
// carry).
func (a *Account) MarshalBinary() ([]byte, error) {
	e := encoder{b: []byte{accountVersion}}
	amounts, times, sets := a.fields()
	for _, x := range amounts {
		e.amounts(x)
	}
	for _, x := range times {
		e.times(*x)
	}
	for _, x := range sets {
		e.set(*x)
	}
	e.uint(a.TokenTransfers)
	return e.b, nil
}

// UnmarshalBinary decodes what MarshalBinary encoded.
func (a *Account) UnmarshalBinary(p []byte) error {
	if len(p) == 0 || p[0] != accountVersion {
		return fmt.Errorf("chainhunt: account encoding version %v unknown", p[:min(1, len(p))])
	}
	*a = Account{}
	d := decoder{b: p[1:]}
	amounts, times, sets := a.fields()
	for _, x := range amounts {
		d.amounts(x)
	}
	for _, x := range times {
		d.times(x)
	}
	for _, x := range sets {
		d.set(x)
	}
	a.TokenTransfers = d.uint()
	return d.end()
}

package federated

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// Update is what a site submits in a round: its model delta
// Δ_i = w_i − w̄(t−1) (FL-BCID eq. 1), encoded, and signed with the site's
// key. Every field but Signature is covered by UpdateHash, and the
// signature covers UpdateHash (see SigningDigest), so nobody but the site,
// the coordinator included, can make or alter an update of that site.
type Update struct {
	// ChainID is the chain whose registry evaluates the round (0 when the
	// deployment binds updates to no chain).
	ChainID uint64 `json:"chain_id"`
	// Round is the round number the update was trained for.
	Round uint64 `json:"round"`
	// BaseModel is the id of the global model w̄(t−1) the site started from:
	// the lower-case hex keccak256 of the model file, as
	// detector.Detector.ID, without 0x.
	BaseModel string `json:"base_model"`
	// Site is the address of the site's secp256k1 key.
	Site common.Address `json:"site"`
	// Samples is |D_i|, the number of local training rows, the FedAvg weight
	// (eq. 2). For unsupervised models, the benign rows trained on.
	Samples uint64 `json:"samples"`
	// Dim is the number of coordinates of the delta (len of the weights).
	Dim uint32 `json:"dim"`
	// Encoding and Payload hold the delta (see Encoding).
	Encoding Encoding `json:"encoding"`
	Payload  []byte   `json:"payload"`
	// ReportedAccuracy and ReportedLoss are the site's own measure of its
	// local model on its local validation rows: informational, recorded
	// beside the coordinator's measure, never used by the rule.
	ReportedAccuracy float64 `json:"reported_accuracy"`
	ReportedLoss     float64 `json:"reported_loss"`
	// DP is the local differential privacy the site says it applied (zero
	// when none).
	DP DPParams `json:"dp"`
	// Signature is the site's 65-byte [R ‖ S ‖ V] secp256k1 signature of
	// SigningDigest, V in {0,1}, S in the lower half of the curve order.
	Signature hexutil.Bytes `json:"signature"`
}

// DPParams are the clip norm C and noise multiplier σ a site applied: the
// delta was clipped to L2 norm C and N(0, σ²C²I) was added (eq. 7-8).
type DPParams struct {
	Clip  float64 `json:"clip"`
	Sigma float64 `json:"sigma"`
}

// Limits bound what Validate accepts. Zero fields mean no limit.
type Limits struct {
	// MaxPayloadBytes bounds len(Payload).
	MaxPayloadBytes int `json:"max_payload_bytes,omitempty"`
	// MaxSamples bounds Samples: a site's claimed data size is its FedAvg
	// weight, so an unbounded claim would let one site outweigh all others.
	MaxSamples uint64 `json:"max_samples,omitempty"`
}

// updateDomain starts the preimage of UpdateHash.
const updateDomain = "idsledger/fl-update-body/v1"

// UpdateHash is keccak256 of the canonical encoding of every field but
// Signature. The layout (big-endian integers, floats as their IEEE-754 bits,
// as Solidity's abi.encodePacked would lay them out):
//
//	"idsledger/fl-update-body/v1"  27 ASCII bytes, no length, no terminator
//	chain_id            uint64
//	round               uint64
//	base_model          32 bytes (the hex id decoded; zero if it does not decode)
//	site                20 bytes
//	samples             uint64
//	dim                 uint32
//	dp.clip             float64 bits (uint64)
//	dp.sigma            float64 bits
//	reported_accuracy   float64 bits
//	reported_loss       float64 bits
//	len(encoding)       uint8, then the encoding name in ASCII
//	len(payload)        uint64, then the payload bytes
func (u *Update) UpdateHash() common.Hash {
	base, _ := parseModelID(u.BaseModel)
	b := make([]byte, 0, 160+len(u.Encoding)+len(u.Payload))
	b = append(b, updateDomain...)
	b = binary.BigEndian.AppendUint64(b, u.ChainID)
	b = binary.BigEndian.AppendUint64(b, u.Round)
	b = append(b, base[:]...)
	b = append(b, u.Site[:]...)
	b = binary.BigEndian.AppendUint64(b, u.Samples)
	b = binary.BigEndian.AppendUint32(b, u.Dim)
	for _, f := range []float64{u.DP.Clip, u.DP.Sigma, u.ReportedAccuracy, u.ReportedLoss} {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	}
	b = append(b, byte(len(u.Encoding)))
	b = append(b, u.Encoding...)
	b = binary.BigEndian.AppendUint64(b, uint64(len(u.Payload)))
	b = append(b, u.Payload...)
	return crypto.Keccak256Hash(b)
}

// parseModelID decodes a model id: exactly 64 lower-case hex digits.
func parseModelID(id string) (common.Hash, error) {
	var h common.Hash
	if len(id) != 64 {
		return h, fmt.Errorf("%w: base model id %q is not 64 hex digits", ErrMalformed, id)
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return h, fmt.Errorf("%w: base model id %q is not lower-case hex", ErrMalformed, id)
		}
	}
	if _, err := hex.Decode(h[:], []byte(id)); err != nil {
		return h, fmt.Errorf("%w: base model id: %v", ErrMalformed, err)
	}
	return h, nil
}

// Validate checks everything about u that needs no round state, and returns
// the decoded delta. In order: field domains (ErrMalformed, ErrNonFinite),
// sample count and payload size against lim (ErrTooLarge), Dim against
// expectedDim (ErrShape), the payload (ErrEncoding, ErrNonFinite), and the
// signature, which must be the site's (ErrBadSignature). A nil error means
// the update is well formed and really comes from u.Site; whether it belongs
// in a round is Round.Accept's question.
func (u *Update) Validate(expectedDim int, lim Limits) ([]float32, error) {
	if _, err := parseModelID(u.BaseModel); err != nil {
		return nil, err
	}
	if u.Samples == 0 {
		return nil, fmt.Errorf("%w: zero samples", ErrMalformed)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"reported_accuracy", u.ReportedAccuracy}, {"reported_loss", u.ReportedLoss}, {"dp.clip", u.DP.Clip}, {"dp.sigma", u.DP.Sigma}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return nil, fmt.Errorf("%w: %s is %v", ErrNonFinite, f.name, f.v)
		}
		if f.v < 0 {
			return nil, fmt.Errorf("%w: %s is negative (%v)", ErrMalformed, f.name, f.v)
		}
	}
	if u.ReportedAccuracy > 1 {
		return nil, fmt.Errorf("%w: reported_accuracy %v is above 1", ErrMalformed, u.ReportedAccuracy)
	}
	if lim.MaxSamples > 0 && u.Samples > lim.MaxSamples {
		return nil, fmt.Errorf("%w: %d samples, limit %d", ErrTooLarge, u.Samples, lim.MaxSamples)
	}
	if lim.MaxPayloadBytes > 0 && len(u.Payload) > lim.MaxPayloadBytes {
		return nil, fmt.Errorf("%w: payload of %d bytes, limit %d", ErrTooLarge, len(u.Payload), lim.MaxPayloadBytes)
	}
	if int64(u.Dim) != int64(expectedDim) {
		return nil, fmt.Errorf("%w: update has %d coordinates, the model %d", ErrShape, u.Dim, expectedDim)
	}
	delta, err := Decode(u.Encoding, u.Payload, int(u.Dim))
	if err != nil {
		return nil, err
	}
	if err := u.VerifySignature(); err != nil {
		return nil, err
	}
	return delta, nil
}

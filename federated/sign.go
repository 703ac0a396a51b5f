package federated

import (
	"crypto/ecdsa"
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/secretfile"
)

// signDomain starts the preimage of SigningDigest.
const signDomain = "idsledger/fl-update/v1"

// SigningDigest is the 32-byte digest a site signs for its update:
//
//	keccak256(
//	  "idsledger/fl-update/v1"  22 ASCII bytes, no length, no terminator
//	  chain_id       uint64 big-endian
//	  round          uint64 big-endian
//	  base_model     32 bytes (the model id decoded from hex)
//	  update_hash    32 bytes (UpdateHash)
//	  samples        uint64 big-endian
//	)
//
// which is Solidity's keccak256(abi.encodePacked("idsledger/fl-update/v1",
// uint64 chainId, uint64 round, bytes32 baseModel, bytes32 updateHash,
// uint64 samples)). The digest is signed as is: no "\x19Ethereum Signed
// Message" prefix. An offline verifier recomputes UpdateHash from the
// update record, then this digest, then checks that ecrecover(digest,
// v+27, r, s) is the site's address.
func SigningDigest(chainID, round uint64, baseModel string, updateHash common.Hash, samples uint64) common.Hash {
	base, _ := parseModelID(baseModel)
	b := make([]byte, 0, len(signDomain)+88)
	b = append(b, signDomain...)
	b = binary.BigEndian.AppendUint64(b, chainID)
	b = binary.BigEndian.AppendUint64(b, round)
	b = append(b, base[:]...)
	b = append(b, updateHash[:]...)
	b = binary.BigEndian.AppendUint64(b, samples)
	return crypto.Keccak256Hash(b)
}

// digest is the SigningDigest of u.
func (u *Update) digest() common.Hash {
	return SigningDigest(u.ChainID, u.Round, u.BaseModel, u.UpdateHash(), u.Samples)
}

// Sign sets u.Site to key's address and u.Signature to key's signature of
// the update. Any change to u afterwards invalidates the signature.
func (u *Update) Sign(key *ecdsa.PrivateKey) error {
	u.Site = crypto.PubkeyToAddress(key.PublicKey)
	sig, err := crypto.Sign(u.digest().Bytes(), key)
	if err != nil {
		return fmt.Errorf("federated: sign update: %w", err)
	}
	u.Signature = sig
	return nil
}

// RecoverSigner returns the address whose key made u.Signature over u.
// A malformed signature (not 65 bytes, V not 0 or 1, R or S out of range,
// S in the upper half of the curve order) is an error wrapping
// ErrBadSignature. Any change to a signed field recovers another address.
func (u *Update) RecoverSigner() (common.Address, error) {
	sig := u.Signature
	if len(sig) != crypto.SignatureLength {
		return common.Address{}, fmt.Errorf("%w: %d bytes, want %d", ErrBadSignature, len(sig), crypto.SignatureLength)
	}
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])
	if !crypto.ValidateSignatureValues(sig[64], r, s, true) {
		return common.Address{}, fmt.Errorf("%w: r, s or v out of range (or high s)", ErrBadSignature)
	}
	pub, err := crypto.SigToPub(u.digest().Bytes(), sig)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}

// VerifySignature checks that u.Signature was made by u.Site over u;
// otherwise the error wraps ErrBadSignature.
func (u *Update) VerifySignature() error {
	return u.Verify(u.Site)
}

// Verify checks that u.Signature was made by the key of address want over
// u; otherwise the error wraps ErrBadSignature.
func (u *Update) Verify(want common.Address) error {
	got, err := u.RecoverSigner()
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%w: signed by %s, not %s", ErrBadSignature, got.Hex(), want.Hex())
	}
	return nil
}

// LoadOrCreateKey returns the site key stored at path, creating it first
// when the file does not exist: a fresh secp256k1 key from crypto/rand,
// written as 64 hex digits (go-ethereum's crypto.SaveECDSA format) by
// secretfile (mode 0600 in a 0700 folder, atomic, so two processes
// starting at once end up with the same key). An existing file that group
// or others may access is refused with ErrKeyFile, as OpenSSH refuses such
// keys: fix its mode, don't loosen this. created reports whether the key
// is new.
func LoadOrCreateKey(path string) (key *ecdsa.PrivateKey, created bool, err error) {
	b, created, err := secretfile.LoadOrCreate(path, func() ([]byte, error) {
		k, err := crypto.GenerateKey()
		if err != nil {
			return nil, err
		}
		return fmt.Appendf(nil, "%x", crypto.FromECDSA(k)), nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrKeyFile, err)
	}
	key, err = crypto.HexToECDSA(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, false, fmt.Errorf("%w: %s: %v", ErrKeyFile, path, err)
	}
	return key, created, nil
}

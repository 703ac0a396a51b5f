package federated

import (
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

const testBase = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// testKey is a fixed key so that test updates are reproducible.
func testKey(t testing.TB, b byte) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.ToECDSA(common.LeftPadBytes([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signedUpdate is a valid f32 update of delta, signed by key.
func signedUpdate(t testing.TB, key *ecdsa.PrivateKey, round uint64, delta []float32) *Update {
	t.Helper()
	p, err := Compression{Encoding: EncF32}.Encode(delta, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := &Update{
		ChainID: 1337, Round: round, BaseModel: testBase, Samples: 100, Dim: uint32(len(delta)),
		Encoding: EncF32, Payload: p, ReportedAccuracy: 0.9, ReportedLoss: 0.3,
	}
	if err := u.Sign(key); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSignatureCoversEveryField(t *testing.T) {
	key := testKey(t, 1)
	good := signedUpdate(t, key, 3, []float32{1, 2, 3})
	if _, err := good.Validate(3, Limits{}); err != nil {
		t.Fatalf("valid update refused: %v", err)
	}
	tamper := map[string]func(u *Update){
		"chain":    func(u *Update) { u.ChainID++ },
		"round":    func(u *Update) { u.Round++ },
		"base":     func(u *Update) { u.BaseModel = strings.Repeat("f", 64) },
		"site":     func(u *Update) { u.Site = common.Address{9} },
		"samples":  func(u *Update) { u.Samples = 1_000_000 },
		"payload":  func(u *Update) { u.Payload[0] ^= 1 },
		"accuracy": func(u *Update) { u.ReportedAccuracy = 1 },
		"loss":     func(u *Update) { u.ReportedLoss = 0 },
		"dp clip":  func(u *Update) { u.DP.Clip = 1 },
		"dp sigma": func(u *Update) { u.DP.Sigma = 1 },
		"sig byte": func(u *Update) { u.Signature[10] ^= 1 },
		"sig v":    func(u *Update) { u.Signature[64] = 27 },
		"sig len":  func(u *Update) { u.Signature = u.Signature[:64] },
	}
	for name, f := range tamper {
		t.Run(name, func(t *testing.T) {
			u := *good
			u.Payload = append([]byte(nil), good.Payload...)
			u.Signature = append([]byte(nil), good.Signature...)
			f(&u)
			if _, err := u.Validate(3, Limits{}); !errors.Is(err, ErrBadSignature) {
				t.Errorf("err = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestHighSIsRefused(t *testing.T) {
	u := signedUpdate(t, testKey(t, 1), 1, []float32{1})
	// (r, n−s, v^1) is the same signature's malleable twin.
	n := crypto.S256().Params().N
	s := new(big.Int).SetBytes(u.Signature[32:64])
	s.Sub(n, s)
	copy(u.Signature[32:64], common.LeftPadBytes(s.Bytes(), 32))
	u.Signature[64] ^= 1
	if err := u.VerifySignature(); !errors.Is(err, ErrBadSignature) {
		t.Errorf("high-s signature: %v", err)
	}
}

func TestWrongKeyRecoversAnotherAddress(t *testing.T) {
	a, b := testKey(t, 1), testKey(t, 2)
	u := signedUpdate(t, a, 1, []float32{1})
	got, err := u.RecoverSigner()
	if err != nil || got != crypto.PubkeyToAddress(a.PublicKey) {
		t.Fatalf("recovered %s, %v", got.Hex(), err)
	}
	if err := u.Verify(crypto.PubkeyToAddress(b.PublicKey)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("verify against another address: %v", err)
	}
	// A site re-signing someone else's update makes it its own, with its
	// own address: it cannot sign for another site.
	v := *u
	v.Site = crypto.PubkeyToAddress(a.PublicKey)
	v.Signature = nil
	if err := v.Sign(b); err != nil {
		t.Fatal(err)
	}
	if v.Site != crypto.PubkeyToAddress(b.PublicKey) {
		t.Error("Sign must set the signer's address")
	}
}

// TestSigningDigestLayout pins the byte layout an offline verifier in
// another language reimplements (SigningDigest's doc comment).
func TestSigningDigestLayout(t *testing.T) {
	var uh common.Hash
	uh[0], uh[31] = 0xaa, 0xbb
	base, _ := hex.DecodeString(testBase)
	pre := []byte("idsledger/fl-update/v1")
	pre = append(pre, 0, 0, 0, 0, 0, 0, 0x05, 0x39) // chain 1337
	pre = append(pre, 0, 0, 0, 0, 0, 0, 0, 7)       // round 7
	pre = append(pre, base...)
	pre = append(pre, uh[:]...)
	pre = append(pre, 0, 0, 0, 0, 0, 0, 0x01, 0x00) // 256 samples
	if got, want := SigningDigest(1337, 7, testBase, uh, 256), crypto.Keccak256Hash(pre); got != want {
		t.Fatalf("digest %s, want %s", got.Hex(), want.Hex())
	}
}

func TestUpdateHashIsStable(t *testing.T) {
	// Same fields, same hash; the signature is not part of it.
	u := signedUpdate(t, testKey(t, 1), 1, []float32{1, 2})
	h := u.UpdateHash()
	u.Signature = nil
	if u.UpdateHash() != h {
		t.Error("the signature changed UpdateHash")
	}
	v := signedUpdate(t, testKey(t, 1), 1, []float32{1, 2})
	if v.UpdateHash() != h {
		t.Error("identical updates hash differently")
	}
}

func TestValidateRefusesBadUpdates(t *testing.T) {
	key := testKey(t, 1)
	resign := func(f func(u *Update)) *Update {
		u := signedUpdate(t, key, 1, []float32{1, 2})
		f(u)
		if err := u.Sign(key); err != nil {
			t.Fatal(err)
		}
		return u
	}
	tests := []struct {
		name string
		u    *Update
		dim  int
		lim  Limits
		want error
	}{
		{"wrong shape", resign(func(u *Update) {}), 3, Limits{}, ErrShape},
		{"dim lies about payload", resign(func(u *Update) { u.Dim = 3 }), 3, Limits{}, ErrEncoding},
		{"NaN in delta", resign(func(u *Update) {
			u.Payload, _ = hex.DecodeString("0000c07f0000803f") // NaN, 1
		}), 2, Limits{}, ErrNonFinite},
		{"Inf accuracy", resign(func(u *Update) { u.ReportedAccuracy = math.Inf(1) }), 2, Limits{}, ErrNonFinite},
		{"accuracy above 1", resign(func(u *Update) { u.ReportedAccuracy = 1.5 }), 2, Limits{}, ErrMalformed},
		{"negative sigma", resign(func(u *Update) { u.DP.Sigma = -1 }), 2, Limits{}, ErrMalformed},
		{"zero samples", resign(func(u *Update) { u.Samples = 0 }), 2, Limits{}, ErrMalformed},
		{"base not hex", resign(func(u *Update) { u.BaseModel = strings.Repeat("G", 64) }), 2, Limits{}, ErrMalformed},
		{"base upper case", resign(func(u *Update) { u.BaseModel = strings.ToUpper(testBase) }), 2, Limits{}, ErrMalformed},
		{"oversize payload", resign(func(u *Update) {}), 2, Limits{MaxPayloadBytes: 7}, ErrTooLarge},
		{"too many samples", resign(func(u *Update) { u.Samples = 1 << 40 }), 2, Limits{MaxSamples: 1 << 20}, ErrTooLarge},
		{"unknown encoding", resign(func(u *Update) { u.Encoding = "gzip" }), 2, Limits{}, ErrEncoding},
		{"unsigned", func() *Update { u := signedUpdate(t, key, 1, []float32{1, 2}); u.Signature = nil; return u }(), 2, Limits{}, ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.u.Validate(tc.dim, tc.lim); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "site", "key")
	k1, created, err := LoadOrCreateKey(path)
	if err != nil || !created {
		t.Fatalf("create: %v, created=%v", err, created)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", st.Mode().Perm(), err)
	}
	k2, created, err := LoadOrCreateKey(path)
	if err != nil || created || !k1.Equal(k2) {
		t.Fatalf("reload: %v, created=%v, same=%v", err, created, k1.Equal(k2))
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "site", ".site-key-*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		os.Chmod(path, mode)
		if _, _, err := LoadOrCreateKey(path); !errors.Is(err, ErrKeyFile) {
			t.Errorf("mode %04o: %v, want ErrKeyFile", mode, err)
		}
	}
	os.Chmod(path, 0o600)
	os.WriteFile(path, []byte("not a key"), 0o600)
	if _, _, err := LoadOrCreateKey(path); !errors.Is(err, ErrKeyFile) {
		t.Errorf("garbage key: %v", err)
	}
}

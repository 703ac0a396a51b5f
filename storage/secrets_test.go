package storage

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func testKey(t *testing.T) *SecretKey {
	t.Helper()
	k, err := ParseSecretKey(GenerateSecretKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A sealed secret opens with its key for its webhook, and the stored form
// says which key sealed it and nothing of the secret.
func TestSealedSecretRoundTrip(t *testing.T) {
	k := testKey(t)
	hook := uuid.New()
	secret := "9f2c1e0d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e"
	stored := k.seal(hook, secret)
	if !strings.HasPrefix(stored, "v1:"+k.ID()+":") || strings.Contains(stored, secret) || strings.Contains(stored, secret[:12]) {
		t.Fatalf("stored form %q", stored)
	}
	if again := k.seal(hook, secret); again == stored {
		t.Fatal("two seals of one secret are equal: the nonce is not random")
	}
	got, err := openSecret(k, hook, stored)
	if err != nil || got != secret {
		t.Fatalf("opened %q, %v", got, err)
	}
	if got, err := openSecret(nil, hook, "plain:"+secret); err != nil || got != secret {
		t.Fatalf("plaintext row: %q, %v", got, err)
	}
}

// A secret read with the wrong key, altered, or moved to another
// webhook's row fails with ErrSecretKey; one read without a key, with
// ErrNoSecretKey.
func TestSealedSecretFailsLoudly(t *testing.T) {
	k, other := testKey(t), testKey(t)
	hook := uuid.New()
	stored := k.seal(hook, "s3cret")

	_, err := openSecret(other, hook, stored)
	if !errors.Is(err, ErrSecretKey) || !strings.Contains(err.Error(), k.ID()) || !strings.Contains(err.Error(), other.ID()) {
		t.Fatalf("wrong key: %v, want ErrSecretKey naming both key ids", err)
	}
	if _, err := openSecret(k, uuid.New(), stored); !errors.Is(err, ErrSecretKey) {
		t.Fatalf("another webhook's row: %v", err)
	}
	prefix, b64, _ := strings.Cut(strings.TrimPrefix(stored, "v1:"), ":")
	raw, _ := base64.RawURLEncoding.DecodeString(b64)
	raw[len(raw)-1] ^= 1
	if _, err := openSecret(k, hook, "v1:"+prefix+":"+base64.RawURLEncoding.EncodeToString(raw)); !errors.Is(err, ErrSecretKey) {
		t.Fatalf("altered: %v", err)
	}
	for _, bad := range []string{"s3cret", "v1:", "v1:" + k.ID(), "v1:" + k.ID() + ":!!", "v1:" + k.ID() + ":AAAA"} {
		if _, err := openSecret(k, hook, bad); !errors.Is(err, ErrSecretKey) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := openSecret(nil, hook, stored); !errors.Is(err, ErrNoSecretKey) {
		t.Fatalf("no key: %v", err)
	}
}

// IDSLEDGER_WEBHOOK_KEY is 32 bytes in hex or base64; the same bytes in
// any form are the same key, and a bad value is not echoed in the error.
func TestParseSecretKey(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	want, err := NewSecretKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{hex.EncodeToString(raw), strings.ToUpper(hex.EncodeToString(raw)), base64.StdEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw), " " + hex.EncodeToString(raw) + "\n"} {
		k, err := ParseSecretKey(s)
		if err != nil || k.ID() != want.ID() {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "00", hex.EncodeToString(raw[:31]), base64.StdEncoding.EncodeToString(append(raw, 0)), "correct horse battery staple"} {
		_, err := ParseSecretKey(s)
		if err == nil {
			t.Errorf("%q accepted", s)
		} else if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("the error quotes the value: %v", err)
		}
	}
	if a, b := testKey(t), testKey(t); a.ID() == b.ID() {
		t.Fatal("two generated keys have one id")
	}
}

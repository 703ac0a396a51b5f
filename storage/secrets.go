package storage

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Webhook secrets are stored sealed with AES-256-GCM under a key that the
// database does not hold (serve reads it from IDSLEDGER_WEBHOOK_KEY, or a
// file under its data folder). A stored secret is one of
//
//	v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>   sealed
//	plain:<secret>                                       written before sealing (migration 000009)
//
// The key id is a fingerprint of the key, so that a database read with
// another key fails saying so, and so that keys can rotate later (a ring of
// old keys found by id, the newest sealing). The webhook's id is the
// additional data: a sealed secret copied to another webhook's row does not
// open.

// Errors of sealed secrets.
var (
	// ErrSecretKey means a stored secret does not open with the key
	// configured: another key sealed it, or the value was altered. It
	// never means "try again".
	ErrSecretKey = errors.New("a webhook secret does not open with the configured key")
	// ErrNoSecretKey means the DB was opened without a key (Options.
	// WebhookKey), so it can neither seal nor open webhook secrets.
	ErrNoSecretKey = errors.New("no webhook secret key is configured")
)

const (
	sealedPrefix = "v1:"
	plainPrefix  = "plain:"
)

// SecretKey seals and opens webhook secrets. It is safe for concurrent use.
type SecretKey struct {
	id   string
	aead cipher.AEAD
}

// SecretKeySize is the length of a key: AES-256.
const SecretKeySize = 32

// NewSecretKey returns the key made of raw, which must be 32 bytes.
func NewSecretKey(raw []byte) (*SecretKey, error) {
	if len(raw) != SecretKeySize {
		return nil, fmt.Errorf("webhook key: %d bytes, want %d", len(raw), SecretKeySize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	fp := sha256.Sum256(append([]byte("idsledger webhook key id\x00"), raw...))
	return &SecretKey{id: hex.EncodeToString(fp[:8]), aead: aead}, nil
}

// ParseSecretKey reads a key written as 64 hex digits or as base64
// (standard or URL alphabet, padded or not) of 32 bytes. Its errors never
// quote s.
func ParseSecretKey(s string) (*SecretKey, error) {
	s = strings.TrimSpace(s)
	if raw, err := hex.DecodeString(s); err == nil && len(raw) == SecretKeySize {
		return NewSecretKey(raw)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(s); err == nil && len(raw) == SecretKeySize {
			return NewSecretKey(raw)
		}
	}
	return nil, errors.New("webhook key: want 32 bytes written as 64 hex digits or in base64")
}

// GenerateSecretKey returns a new random key, hex encoded (as
// ParseSecretKey reads it).
func GenerateSecretKey() string {
	raw := make([]byte, SecretKeySize)
	_, _ = rand.Read(raw) // never fails (it crashes the program instead)
	return hex.EncodeToString(raw)
}

// ID is the key's fingerprint, stored with every secret it seals; it
// reveals nothing of the key.
func (k *SecretKey) ID() string { return k.id }

// seal returns the stored form of secret, the secret of webhook hook.
func (k *SecretKey) seal(hook uuid.UUID, secret string) string {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(secret)+k.aead.Overhead())
	_, _ = rand.Read(nonce) // never fails (it crashes the program instead)
	sealed := k.aead.Seal(nonce, nonce, []byte(secret), hook[:])
	return sealedPrefix + k.id + ":" + base64.RawURLEncoding.EncodeToString(sealed)
}

// openSecret returns the secret of webhook hook from its stored form:
// sealed under k, or marked plaintext. k may be nil when stored is
// plaintext.
func openSecret(k *SecretKey, hook uuid.UUID, stored string) (string, error) {
	if s, ok := strings.CutPrefix(stored, plainPrefix); ok {
		return s, nil
	}
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return "", fmt.Errorf("webhook %s: its stored secret is in no known form: %w", hook, ErrSecretKey)
	}
	if k == nil {
		return "", fmt.Errorf("webhook %s: %w", hook, ErrNoSecretKey)
	}
	id, b64, ok := strings.Cut(rest, ":")
	if !ok {
		return "", fmt.Errorf("webhook %s: its stored secret is malformed: %w", hook, ErrSecretKey)
	}
	if id != k.id {
		return "", fmt.Errorf("webhook %s: its secret was sealed with key %s, and the key configured is %s: %w", hook, id, k.id, ErrSecretKey)
	}
	sealed, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil || len(sealed) < k.aead.NonceSize()+k.aead.Overhead() {
		return "", fmt.Errorf("webhook %s: its stored secret is malformed: %w", hook, ErrSecretKey)
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], hook[:])
	if err != nil {
		return "", fmt.Errorf("webhook %s: its sealed secret does not open (altered, or copied from another webhook): %w", hook, ErrSecretKey)
	}
	return string(plain), nil
}

package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/ingest"
)

// Role is what an API key may do. Each endpoint names the roles it accepts.
type Role string

const (
	RoleIngest  Role = "ingest"  // sensors posting flows
	RoleAnalyst Role = "analyst" // SOC analysts and their tools: queries, verification, reports
	RoleFLNode  Role = "fl-node" // federated-learning sites posting model updates
	RoleAdmin   Role = "admin"   // key management, model swaps, replays
)

// Roles lists every role, in the order they are documented.
var Roles = []Role{RoleIngest, RoleAnalyst, RoleFLNode, RoleAdmin}

// ParseRole returns the role named s, or an error listing the valid ones.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (want one of ingest, analyst, fl-node, admin)", s)
}

// APIKey is a stored key, without its secret.
type APIKey struct {
	ID     uuid.UUID `json:"id"`
	Name   string    `json:"name"`
	Role   Role      `json:"role"`
	Prefix string    `json:"prefix"`
	// Sensors are the sensor names an ingest key may claim; none: any.
	Sensors   []string   `json:"sensors,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// KeySpec is what a new key is: its name, role and, for an ingest key, the
// sensor names it may claim (none: any).
type KeySpec struct {
	Name    string
	Role    Role
	Sensors []string
}

// MaxKeySensors bounds the sensor names one key may be bound to.
const MaxKeySensors = 1000

// Validate checks the spec's role and sensors.
func (s KeySpec) Validate() error {
	if _, err := ParseRole(string(s.Role)); err != nil {
		return err
	}
	if len(s.Sensors) > 0 && s.Role != RoleIngest {
		return fmt.Errorf("only ingest keys are bound to sensors, not %s keys", s.Role)
	}
	if len(s.Sensors) > MaxKeySensors {
		return fmt.Errorf("%d sensors: at most %d", len(s.Sensors), MaxKeySensors)
	}
	for _, n := range s.Sensors {
		if err := ingest.ValidSensor(n); err != nil {
			return fmt.Errorf("sensor %q: %w", n, err)
		}
	}
	return nil
}

// ErrBadKey means a presented key is malformed, unknown or revoked. The three
// are deliberately not told apart.
var ErrBadKey = errors.New("invalid API key")

const keyPrefix = "idsl_"

// CreateAPIKey makes a new key as spec says on behalf of actor and
// returns it in clear text, recording the creation as an anchored
// "apikey.create" audit event in the same transaction. The clear key exists
// only in this return value: the database keeps its SHA-256. Keys look like
// idsl_<12 hex>_<64 hex>; the first part is the public lookup prefix, the
// rest 256 bits of secret.
func (db *DB) CreateAPIKey(ctx context.Context, spec KeySpec, actor string) (string, APIKey, error) {
	if err := spec.Validate(); err != nil {
		return "", APIKey{}, err
	}
	name, role := spec.Name, spec.Role
	var sensors []string
	if len(spec.Sensors) > 0 {
		sensors = slices.Compact(slices.Sorted(slices.Values(spec.Sensors)))
	}
	var pub [6]byte
	var secret [32]byte
	if _, err := rand.Read(pub[:]); err != nil {
		return "", APIKey{}, err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", APIKey{}, err
	}
	prefix := keyPrefix + hex.EncodeToString(pub[:])
	clear := prefix + "_" + hex.EncodeToString(secret[:])
	sum := sha256.Sum256([]byte(clear))
	id, err := uuid.NewV7()
	if err != nil {
		return "", APIKey{}, err
	}
	k := APIKey{ID: id, Name: name, Role: role, Prefix: prefix, Sensors: sensors}
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx,
			`INSERT INTO api_keys (id, name, role, prefix, secret_hash, sensors) VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at`,
			id, name, string(role), prefix, sum[:], sensors).Scan(&k.CreatedAt); err != nil {
			return err
		}
		_, _, err := appendAuditEvent(ctx, tx, AuditEvent{Action: "apikey.create", Actor: actor, Key: k.ref()})
		return err
	})
	if err != nil {
		return "", APIKey{}, fmt.Errorf("create api key: %w", classify(err))
	}
	return clear, k, nil
}

// KeyRef names an API key in an audit event: never its secret.
type KeyRef struct {
	ID      uuid.UUID `json:"id"`
	Name    string    `json:"name"`
	Role    Role      `json:"role"`
	Prefix  string    `json:"prefix"`
	Sensors []string  `json:"sensors,omitempty"`
}

func (k APIKey) ref() *KeyRef {
	return &KeyRef{ID: k.ID, Name: k.Name, Role: k.Role, Prefix: k.Prefix, Sensors: k.Sensors}
}

// AuthenticateAPIKey returns the live key matching clear. The secret is
// compared in constant time against the stored hash; a malformed, unknown or
// revoked key gives ErrBadKey, an unreachable database ErrUnavailable.
func (db *DB) AuthenticateAPIKey(ctx context.Context, clear string) (APIKey, error) {
	prefix, ok := splitKey(clear)
	if !ok {
		return APIKey{}, ErrBadKey
	}
	var k APIKey
	var role string
	var stored []byte
	err := db.Pool.QueryRow(ctx,
		`SELECT id, name, role, prefix, secret_hash, sensors, created_at FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL`,
		prefix).Scan(&k.ID, &k.Name, &role, &k.Prefix, &stored, &k.Sensors, &k.CreatedAt)
	if err != nil {
		err = classify(err)
		if errors.Is(err, ErrNotFound) {
			return APIKey{}, ErrBadKey
		}
		return APIKey{}, fmt.Errorf("authenticate api key: %w", err)
	}
	sum := sha256.Sum256([]byte(clear))
	if subtle.ConstantTimeCompare(sum[:], stored) != 1 {
		return APIKey{}, ErrBadKey
	}
	k.Role = Role(role)
	return k, nil
}

// splitKey returns the lookup prefix of a well-formed key.
func splitKey(clear string) (string, bool) {
	if len(clear) != len(keyPrefix)+12+1+64 || !strings.HasPrefix(clear, keyPrefix) {
		return "", false
	}
	prefix, secret, ok := strings.Cut(clear[len(keyPrefix):], "_")
	if !ok || len(prefix) != 12 || len(secret) != 64 {
		return "", false
	}
	if _, err := hex.DecodeString(prefix + secret); err != nil {
		return "", false
	}
	return keyPrefix + prefix, true
}

// ListAPIKeys returns every key, revoked ones included, oldest first.
func (db *DB) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := db.Pool.Query(ctx,
		`SELECT id, name, role, prefix, sensors, created_at, revoked_at FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", classify(err))
	}
	defer rows.Close()
	var keys []APIKey
	for rows.Next() {
		var k APIKey
		var role string
		if err := rows.Scan(&k.ID, &k.Name, &role, &k.Prefix, &k.Sensors, &k.CreatedAt, &k.RevokedAt); err != nil {
			return nil, fmt.Errorf("list api keys: %w", classify(err))
		}
		k.Role = Role(role)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api keys: %w", classify(err))
	}
	return keys, nil
}

// RevokeAPIKey revokes the key whose id or prefix is idOrPrefix on behalf
// of actor, recording it as an anchored "apikey.revoke" audit event in the
// same transaction. Revoking is idempotent: an already revoked key keeps
// its first revocation time and gets no second event. A key that does not
// exist gives ErrNotFound.
func (db *DB) RevokeAPIKey(ctx context.Context, idOrPrefix, actor string) (APIKey, error) {
	var k APIKey
	var role string
	id, idErr := uuid.Parse(idOrPrefix)
	if idErr != nil {
		id = uuid.Nil
	}
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx,
			`SELECT id, name, role, prefix, sensors, created_at, revoked_at FROM api_keys WHERE id = $1 OR prefix = $2 FOR UPDATE`,
			id, idOrPrefix).Scan(&k.ID, &k.Name, &role, &k.Prefix, &k.Sensors, &k.CreatedAt, &k.RevokedAt); err != nil {
			return err
		}
		k.Role = Role(role)
		if k.RevokedAt != nil {
			return nil
		}
		if err := tx.QueryRow(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1 RETURNING revoked_at`, k.ID).Scan(&k.RevokedAt); err != nil {
			return err
		}
		_, _, err := appendAuditEvent(ctx, tx, AuditEvent{Action: "apikey.revoke", Actor: actor, Key: k.ref()})
		return err
	})
	if err != nil {
		return APIKey{}, fmt.Errorf("revoke api key %s: %w", idOrPrefix, classify(err))
	}
	return k, nil
}

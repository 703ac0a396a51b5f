package storefakes

import (
	"context"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/storage"
)

// Keys is an api.KeyStore in memory that takes every key for an admin's:
// for tests of request decoding, not of authentication (which the
// integration tests run against the database).
type Keys struct{}

// AuthenticateAPIKey accepts any key as an admin key.
func (Keys) AuthenticateAPIKey(context.Context, string) (storage.APIKey, error) {
	return storage.APIKey{ID: uuid.New(), Role: storage.RoleAdmin, Prefix: "idsl_fake"}, nil
}

// CreateAPIKey returns a fixed key.
func (Keys) CreateAPIKey(_ context.Context, spec storage.KeySpec, _ string) (string, storage.APIKey, error) {
	return "idsl_x", storage.APIKey{Name: spec.Name, Role: spec.Role, Sensors: spec.Sensors}, nil
}

// ListAPIKeys returns none.
func (Keys) ListAPIKeys(context.Context) ([]storage.APIKey, error) { return nil, nil }

// RevokeAPIKey finds nothing.
func (Keys) RevokeAPIKey(context.Context, string, string) (storage.APIKey, error) {
	return storage.APIKey{}, storage.ErrNotFound
}

package fakes_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/federated/coordinator/coordinatortest"
	"github.com/idsledger/idsledger/internal/fakes"
)

// The in-memory store the coordinator's tests run on keeps the Store
// contract, as storage.Federation does (its integration test runs the same
// tests).
func TestFedStore(t *testing.T) {
	coordinatortest.TestStore(t, func(t *testing.T) coordinatortest.Env {
		s := fakes.NewFedStore()
		return coordinatortest.Env{
			Store:   s,
			NewKey:  func(*testing.T) uuid.UUID { return uuid.New() },
			Records: func(*testing.T) []coordinator.Record { return s.Records() },
		}
	})
}

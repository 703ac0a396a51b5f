package fakes

import (
	"context"
	"sync"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/ingest"
)

// AlertStore is an in-memory ingest.Store; Fail, when set, makes every
// insert fail with it and store nothing.
type AlertStore struct {
	mu     sync.Mutex
	alerts []ingest.AlertBody
	Fail   error
}

// InsertAlerts stores alerts all at once (or none, with Fail) and returns
// new UUIDv7 ids in order.
func (s *AlertStore) InsertAlerts(_ context.Context, alerts []ingest.AlertBody) ([]uuid.UUID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return nil, s.Fail
	}
	ids := make([]uuid.UUID, len(alerts))
	for i := range alerts {
		ids[i] = uuid.Must(uuid.NewV7())
	}
	s.alerts = append(s.alerts, alerts...)
	return ids, nil
}

// Alerts returns a copy of every alert stored, in order.
func (s *AlertStore) Alerts() []ingest.AlertBody {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ingest.AlertBody(nil), s.alerts...)
}

package storefakes

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
)

// WebhookStore is a webhook.Store in memory: the webhooks added to it, and
// the dead letters the dispatcher stores.
type WebhookStore struct {
	mu       sync.Mutex
	hooks    []storage.Webhook
	dead     []storage.DeadLetter
	replayed []int64
}

// Add subscribes url to alerts at or above minSeverity, with a new random
// secret.
func (s *WebhookStore) Add(url string, minSeverity ingest.Severity) storage.Webhook {
	var sec [32]byte
	_, _ = rand.Read(sec[:])
	h := storage.Webhook{ID: uuid.Must(uuid.NewV7()), URL: url, Secret: hex.EncodeToString(sec[:]),
		MinSeverity: minSeverity, CreatedAt: time.Now()}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, h)
	return h
}

// Remove disables the webhook id.
func (s *WebhookStore) Remove(id uuid.UUID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = slices.DeleteFunc(s.hooks, func(h storage.Webhook) bool { return h.ID == id })
}

// ListWebhooks returns the webhooks added and not removed, oldest first.
func (s *WebhookStore) ListWebhooks(context.Context) ([]storage.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hooks), nil
}

// AddDeadLetters keeps dls, numbering them from 1.
func (s *WebhookStore) AddDeadLetters(_ context.Context, dls []storage.DeadLetter) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range dls {
		d.ID = int64(len(s.dead) + 1)
		s.dead = append(s.dead, d)
	}
	return nil
}

// MarkReplayed records that dead letter id was replayed.
func (s *WebhookStore) MarkReplayed(_ context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replayed = append(s.replayed, id)
	return nil
}

// DeadLetters returns a copy of the dead letters stored so far, in order.
func (s *WebhookStore) DeadLetters() []storage.DeadLetter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.dead)
}

// DeadLettersOf returns the dead letters of webhook id.
func (s *WebhookStore) DeadLettersOf(id uuid.UUID) []storage.DeadLetter {
	return slices.DeleteFunc(s.DeadLetters(), func(d storage.DeadLetter) bool { return d.WebhookID != id })
}

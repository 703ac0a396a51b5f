//go:build integration

package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// A webhook's secret is not stored as it is: whoever reads the database
// (a backup, a replica, a dump) does not learn it.
func TestWebhookSecretNotStoredInTheClear(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	h, _, err := db.CreateWebhook(ctx, "https://receiver.example/hook", ingest.SeverityHigh, "test")
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := db.Pool.QueryRow(ctx, `SELECT secret FROM webhooks WHERE id = $1`, h.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, h.Secret) || strings.Contains(strings.ToLower(stored), h.Secret[:16]) {
		t.Fatalf("the stored value %q holds the secret", stored)
	}
	hooks, err := db.ListWebhooks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 1 || hooks[0].Secret != h.Secret {
		t.Fatalf("listed %+v, want the secret back", hooks)
	}
}

func openWithKey(t *testing.T, u string, k *storage.SecretKey) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), u, storage.Options{WebhookKey: k})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// A database read with another key than the one that sealed its secrets
// fails, saying so, both when serve starts and when webhooks are listed.
func TestWebhookSecretWrongKeyFails(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	db := openWithKey(t, u, pgtest.WebhookKey)
	if _, _, err := db.CreateWebhook(ctx, "https://receiver.example/hook", ingest.SeverityLow, "test"); err != nil {
		t.Fatal(err)
	}
	other, err := storage.ParseSecretKey(storage.GenerateSecretKey())
	if err != nil {
		t.Fatal(err)
	}
	wrong := openWithKey(t, u, other)
	if _, err := wrong.ListWebhooks(ctx); !errors.Is(err, storage.ErrSecretKey) {
		t.Fatalf("list with the wrong key: %v, want ErrSecretKey", err)
	}
	if _, err := wrong.SealWebhookSecrets(ctx); !errors.Is(err, storage.ErrSecretKey) {
		t.Fatalf("seal with the wrong key: %v, want ErrSecretKey", err)
	}
	none := openWithKey(t, u, nil)
	if _, _, err := none.CreateWebhook(ctx, "https://receiver.example/other", ingest.SeverityLow, "test"); !errors.Is(err, storage.ErrNoSecretKey) {
		t.Fatalf("create without a key: %v, want ErrNoSecretKey", err)
	}
	if _, err := db.ListWebhooks(ctx); err != nil {
		t.Fatalf("the right key after all that: %v", err)
	}
}

// Secrets written before migration 000009 are marked plaintext by it, read
// as such, and sealed by SealWebhookSecrets; going back down, sealed ones
// are disabled (the older version cannot read them) and marked ones
// restored.
func TestWebhookSecretMigration(t *testing.T) {
	ctx := context.Background()
	u := pgtest.EmptyURL(t)
	m, err := storage.NewMigrator(u)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.To(8); err != nil {
		t.Fatal(err)
	}
	old := openWithKey(t, u, nil)
	oldID := uuid.Must(uuid.NewV7())
	if _, err := old.Pool.Exec(ctx, `INSERT INTO webhooks (id, url, secret) VALUES ($1, 'https://old.example/', 'oldsecret')`, oldID); err != nil {
		t.Fatal(err)
	}
	old.Close()
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	db := openWithKey(t, u, pgtest.WebhookKey)
	stored := func(id uuid.UUID) string {
		var s string
		if err := db.Pool.QueryRow(ctx, `SELECT secret FROM webhooks WHERE id = $1`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := stored(oldID); s != "plain:oldsecret" {
		t.Fatalf("after the migration: %q", s)
	}
	hooks, err := db.ListWebhooks(ctx)
	if err != nil || len(hooks) != 1 || hooks[0].Secret != "oldsecret" {
		t.Fatalf("a marked row listed: %+v %v", hooks, err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO webhooks (id, url, secret) VALUES ($1, 'https://x.example/', 'unmarked')`, uuid.New()); err == nil {
		t.Fatal("an unmarked plaintext secret was stored")
	}
	if n, err := db.SealWebhookSecrets(ctx); n != 1 || err != nil {
		t.Fatalf("sealed %d, %v", n, err)
	}
	if s := stored(oldID); !strings.HasPrefix(s, "v1:"+pgtest.WebhookKey.ID()+":") || strings.Contains(s, "oldsecret") {
		t.Fatalf("after sealing: %q", s)
	}
	if hooks, err := db.ListWebhooks(ctx); err != nil || hooks[0].Secret != "oldsecret" {
		t.Fatalf("a sealed row listed: %+v %v", hooks, err)
	}
	if n, err := db.SealWebhookSecrets(ctx); n != 0 || err != nil {
		t.Fatalf("sealing again: %d, %v", n, err)
	}

	// Down: the sealed webhook is disabled, a marked one gets its old form.
	markedID := uuid.Must(uuid.NewV7())
	if _, err := db.Pool.Exec(ctx, `INSERT INTO webhooks (id, url, secret) VALUES ($1, 'https://m.example/', 'plain:marked')`, markedID); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := m.To(8); err != nil {
		t.Fatal(err)
	}
	db = openWithKey(t, u, nil)
	var disabled bool
	if err := db.Pool.QueryRow(ctx, `SELECT disabled_at IS NOT NULL FROM webhooks WHERE id = $1`, oldID).Scan(&disabled); err != nil || !disabled {
		t.Fatalf("the sealed webhook after down: disabled %v, %v", disabled, err)
	}
	if s := stored(markedID); s != "marked" {
		t.Fatalf("the marked secret after down: %q", s)
	}
}

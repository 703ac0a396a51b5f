package main

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/idsledger/idsledger/secretfile"
	"github.com/idsledger/idsledger/storage"
)

// webhookKeyFile is where serve keeps the key that seals webhook secrets
// when IDSLEDGER_WEBHOOK_KEY is not set, under --data-dir.
const webhookKeyFile = "webhook.key"

// webhookKey returns the key that seals webhook secrets at rest: the one in
// IDSLEDGER_WEBHOOK_KEY (cfg.webhookKey) when set; otherwise the one in
// DATA_DIR/webhook.key, created (mode 0600) on first start, as the embedded
// chain's key is. The file is a fallback for development and is warned
// about: the key then sits on the server's disk, and whoever can read both
// that file and the database can read the secrets.
func webhookKey(cfg serveConfig, log *slog.Logger) (*storage.SecretKey, error) {
	if cfg.webhookKey != nil {
		return cfg.webhookKey, nil
	}
	path := filepath.Join(cfg.dataDir, webhookKeyFile)
	k, created, err := loadOrCreateWebhookKey(path)
	if err != nil {
		return nil, err
	}
	log.Warn("IDSLEDGER_WEBHOOK_KEY is not set: webhook secrets are sealed with the key in a file under --data-dir; "+
		"set IDSLEDGER_WEBHOOK_KEY from a secret store in production, and never lose the key (webhooks would have to be created again)",
		"key_file", path, "created", created, "key_id", k.ID())
	return k, nil
}

// loadOrCreateWebhookKey reads the key at path, or writes a new random one
// there (secretfile: mode 0600, its folder 0700, atomic) when there is no
// file. created says which.
func loadOrCreateWebhookKey(path string) (k *storage.SecretKey, created bool, err error) {
	b, created, err := secretfile.LoadOrCreate(path, func() ([]byte, error) {
		return []byte(storage.GenerateSecretKey() + "\n"), nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("webhook key file: %w", err)
	}
	k, err = storage.ParseSecretKey(string(b))
	if err != nil {
		return nil, false, fmt.Errorf("webhook key file %s: %w", path, err)
	}
	return k, created, nil
}

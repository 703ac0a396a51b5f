// Package storage is idsledger's PostgreSQL access layer (pgx/v5): API keys,
// the record outbox, anchoring batches and the queries behind reports.
//
// Every method takes a context and honours its deadline. A method whose change
// spans rows runs in one transaction: it either happens whole or not at all.
// Errors that mean "the database cannot be reached right now" wrap
// ErrUnavailable, so callers can answer 503 and retry instead of failing hard.
package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is a pool of connections to one idsledger database. It is safe for
// concurrent use.
type DB struct {
	Pool *pgxpool.Pool
	// webhookKey seals and opens webhook secrets; nil when none was given.
	webhookKey *SecretKey
}

// Options tune the pool. Zero values take the defaults in DefaultOptions.
type Options struct {
	MaxConns          int32
	ConnectTimeout    time.Duration
	HealthCheckPeriod time.Duration
	// WebhookKey seals webhook secrets at rest (see SecretKey). Without
	// it, creating a webhook and reading a sealed secret fail with
	// ErrNoSecretKey; commands that do not touch webhooks need none.
	WebhookKey *SecretKey
}

// DefaultOptions are used for every zero field of Options.
func DefaultOptions() Options {
	return Options{MaxConns: 16, ConnectTimeout: 5 * time.Second, HealthCheckPeriod: 5 * time.Second}
}

// Open returns a pool for the database at url without connecting: the first
// connection is made on first use, so Open succeeds while PostgreSQL is still
// starting. Use Ping to wait for it.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", redactErr(err))
	}
	def := DefaultOptions()
	if opts.MaxConns == 0 {
		opts.MaxConns = def.MaxConns
	}
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = def.ConnectTimeout
	}
	if opts.HealthCheckPeriod == 0 {
		opts.HealthCheckPeriod = def.HealthCheckPeriod
	}
	cfg.MaxConns = opts.MaxConns
	cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	cfg.HealthCheckPeriod = opts.HealthCheckPeriod
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", classify(err))
	}
	return &DB{Pool: pool, webhookKey: opts.WebhookKey}, nil
}

// Ping checks that the database answers a query now.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.Pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", classify(err))
	}
	return nil
}

// WaitReady pings with exponential backoff (from 100 ms up to max) until the
// database answers or ctx ends. onRetry, if not nil, is told of each failure.
func (db *DB) WaitReady(ctx context.Context, max time.Duration, onRetry func(error, time.Duration)) error {
	bo := &backoff.ExponentialBackOff{InitialInterval: 100 * time.Millisecond, RandomizationFactor: 0.2,
		Multiplier: 2, MaxInterval: max}
	opts := []backoff.RetryOption{backoff.WithBackOff(bo), backoff.WithMaxElapsedTime(0)}
	if onRetry != nil {
		opts = append(opts, backoff.WithNotify(onRetry))
	}
	_, err := backoff.Retry(ctx, func() (struct{}, error) { return struct{}{}, db.Ping(ctx) }, opts...)
	return err
}

// Close waits for checked-out connections to be returned, then closes them.
func (db *DB) Close() { db.Pool.Close() }

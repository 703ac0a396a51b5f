package storage

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // registers the pgx5:// scheme
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/idsledger/idsledger/migrations"
)

// Migrator applies the embedded schema migrations. golang-migrate holds a
// PostgreSQL advisory lock while it works, so several instances starting at
// once apply each migration exactly once.
type Migrator struct{ m *migrate.Migrate }

// NewMigrator connects to the database at databaseURL (a postgres:// URL).
func NewMigrator(databaseURL string) (*Migrator, error) {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	u, err := url.Parse(databaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("database url must start with postgres://")
	}
	u.Scheme = "pgx5"
	m, err := migrate.NewWithSourceInstance("iofs", src, u.String())
	if err != nil {
		return nil, fmt.Errorf("connect for migrations: %w", classify(err))
	}
	return &Migrator{m: m}, nil
}

// Up applies every pending migration. Having none to apply is not an error.
func (g *Migrator) Up() error {
	if err := g.m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate up: %w", classify(err))
	}
	return nil
}

// Down reverts steps migrations (all of them when steps <= 0).
func (g *Migrator) Down(steps int) error {
	var err error
	if steps <= 0 {
		err = g.m.Down()
	} else {
		err = g.m.Steps(-steps)
	}
	if err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate down: %w", classify(err))
	}
	return nil
}

// To migrates up or down to version. Being there already is not an error.
func (g *Migrator) To(version uint) error {
	if err := g.m.Migrate(version); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate to %d: %w", version, classify(err))
	}
	return nil
}

// Force records version as applied and clean without running anything:
// the way out of a dirty schema once a person has finished or undone the
// failed migration by hand.
func (g *Migrator) Force(version int) error {
	if err := g.m.Force(version); err != nil {
		return fmt.Errorf("migrate force %d: %w", version, classify(err))
	}
	return nil
}

// Version reports the applied version (0 when none) and whether a failed
// migration left the schema dirty.
func (g *Migrator) Version() (version uint, dirty bool, err error) {
	version, dirty, err = g.m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	return version, dirty, err
}

// Close releases the migrator's connection.
func (g *Migrator) Close() error {
	srcErr, dbErr := g.m.Close()
	return errors.Join(srcErr, dbErr)
}

// MigrateUp is NewMigrator + Up + Close.
func MigrateUp(databaseURL string) error {
	g, err := NewMigrator(databaseURL)
	if err != nil {
		return err
	}
	return errors.Join(g.Up(), g.Close())
}

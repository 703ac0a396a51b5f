package main

import (
	"context"
	"errors"

	"github.com/idsledger/idsledger/storage"
)

func init() {
	register(command{name: "migrate", summary: "apply or revert database migrations (up, down, force, version)", run: runMigrate})
}

func runMigrate(ctx context.Context, args []string) error {
	fs := newFlagSet("migrate", "migrate up|down|force|version [flags]")
	databaseURL := fs.String("database-url", "", "PostgreSQL URL (DATABASE_URL)")
	steps := fs.Int("steps", 1, "with down: how many migrations to revert")
	all := fs.Bool("all", false, "with down: revert every migration (drops all data)")
	force := fs.Int("version", -1, "with force: the version to record as applied and clean")
	action, err := parseAction(fs, args, "up", "down", "force", "version")
	if err != nil {
		return err
	}
	if err := requireDatabaseURL(*databaseURL); err != nil {
		return err
	}
	if action == "force" && *force < 0 {
		return usagef("force needs --version N: the version the schema is really at after you repaired it")
	}
	if action == "down" && !*all && *steps < 1 {
		return usagef("invalid value %d for --steps: must be at least 1 (or use --all)", *steps)
	}
	m, err := storage.NewMigrator(*databaseURL)
	if err != nil {
		return err
	}
	defer m.Close()
	switch action {
	case "up":
		err = m.Up()
	case "down":
		n := *steps
		if *all {
			n = 0
		}
		err = m.Down(n)
	case "force":
		err = m.Force(*force)
	}
	if err != nil {
		return err
	}
	v, dirty, err := m.Version()
	if err != nil {
		return err
	}
	if dirty {
		printf("version %d (dirty: a migration failed half-way; repair the schema by hand, then run `idsledger migrate force --version N`)\n", v)
		return errors.New("schema is dirty")
	}
	printf("version %d\n", v)
	return nil
}

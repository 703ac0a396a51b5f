package main

import (
	"context"
	"errors"

	"github.com/idsledger/idsledger/storage"
)

func init() {
	register(command{name: "migrate", summary: "apply or revert database migrations (up, down, version)", run: runMigrate})
}

func runMigrate(ctx context.Context, args []string) error {
	fs := newFlagSet("migrate", "migrate up|down|version [flags]")
	databaseURL := fs.String("database-url", "", "PostgreSQL URL (DATABASE_URL)")
	steps := fs.Int("steps", 1, "with down: how many migrations to revert")
	all := fs.Bool("all", false, "with down: revert every migration (drops all data)")
	action, err := parseAction(fs, args, "up", "down", "version")
	if err != nil {
		return err
	}
	if err := requireDatabaseURL(*databaseURL); err != nil {
		return err
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
	}
	if err != nil {
		return err
	}
	v, dirty, err := m.Version()
	if err != nil {
		return err
	}
	if dirty {
		printf("version %d (dirty: a migration failed half-way; fix the schema, then force)\n", v)
		return errors.New("schema is dirty")
	}
	printf("version %d\n", v)
	return nil
}

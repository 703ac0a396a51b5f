package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// newLogger returns the structured JSON logger every long-running command
// uses. level is debug, info, warn or error.
func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, usagef("invalid value %q for --log-level (IDSLEDGER_LOG_LEVEL): want debug, info, warn or error", level)
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// requireDatabaseURL reports a missing database URL the same way everywhere.
func requireDatabaseURL(u string) error {
	if u == "" {
		return usagef("no database: set DATABASE_URL or --database-url (`make run` starts a private PostgreSQL for you)")
	}
	if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		return usagef("invalid value for DATABASE_URL (--database-url): must start with postgres://")
	}
	return nil
}

func printfW(w interface{ Write([]byte) (int, error) }, format string, a ...any) {
	fmt.Fprintf(w, format, a...)
}

func printf(format string, a ...any) { fmt.Fprintf(os.Stdout, format, a...) }

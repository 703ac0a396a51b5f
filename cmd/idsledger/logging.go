package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/idsledger/idsledger/storage"
)

// newLogger returns the structured JSON logger every long-running command
// uses, writing to stderr. level is debug, info, warn or error. Every
// secret in secrets (a database URL, an RPC endpoint whose path or query
// carries a provider's key) is replaced by its redacted form wherever it
// appears in a logged value or error, since a library's error (net/http's
// quotes the whole request URL) may carry it.
func newLogger(level string, secrets ...string) (*slog.Logger, error) {
	return newLoggerTo(os.Stderr, level, secrets...)
}

func newLoggerTo(w io.Writer, level string, secrets ...string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, usagef("invalid value %q for --log-level (IDSLEDGER_LOG_LEVEL): want debug, info, warn or error", level)
	}
	var pairs []string
	for _, s := range secrets {
		if r := redactURL(s); s != "" && r != s {
			pairs = append(pairs, s, r)
		}
	}
	opts := &slog.HandlerOptions{Level: l}
	if len(pairs) > 0 {
		redact := strings.NewReplacer(pairs...)
		opts.ReplaceAttr = func(_ []string, a slog.Attr) slog.Attr {
			switch v := a.Value.Any().(type) {
			case string:
				a.Value = slog.StringValue(redact.Replace(v))
			case error:
				a.Value = slog.StringValue(redact.Replace(v.Error()))
			}
			return a
		}
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

// redactURL returns a URL as it may be logged: a database URL without its
// password (in the user info or a password= parameter), an http(s) or
// ws(s) endpoint as its scheme and host only (providers put keys in the
// path and query). Anything else (an IPC path) is returned as it is.
func redactURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		return u
	}
	switch pu.Scheme {
	case "postgres", "postgresql":
		return storage.Redact(u)
	case "http", "https", "ws", "wss":
		r := pu.Scheme + "://" + pu.Host
		if (pu.Path != "" && pu.Path != "/") || pu.RawQuery != "" || pu.User != nil {
			r += "/…"
		}
		return r
	}
	return u
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

package storage

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/idsledger/idsledger/anchor"
)

var (
	// ErrUnavailable means the database could not be reached or went away
	// mid-request. The operation did not happen (or, for a commit, its outcome
	// is unknown); retrying later is the right answer.
	ErrUnavailable = errors.New("database unavailable")
	// ErrNotFound means the row asked for does not exist. It is the one
	// not-found sentinel of the service, anchor.ErrNotFound under another
	// name, so that errors.Is holds whichever package a caller names.
	ErrNotFound = anchor.ErrNotFound
	// ErrInvalidFilter means a query's filter cannot be run as given.
	ErrInvalidFilter = errors.New("invalid filter")
)

// classify wraps connectivity failures in ErrUnavailable and pgx.ErrNoRows in
// ErrNotFound, keeping the original error in the chain.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return errors.Join(ErrNotFound, err)
	}
	if isUnavailable(err) {
		return errors.Join(ErrUnavailable, redactErr(err))
	}
	return err
}

func isUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01-57P03: shutdown, crash
		// shutdown, cannot connect now (starting up or shutting down).
		return strings.HasPrefix(pgErr.Code, "08") ||
			pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	// By type only, never by message text: a connection that could not be
	// made or broke, a timeout, or a query pgx refused to send on a closed
	// connection (SafeToRetry: nothing reached the server).
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || pgconn.SafeToRetry(err)
}

// passwordInURL matches a password in a URL's user info (group 1 keeps
// what precedes it) or in a password= query parameter (group 2), as libpq
// URLs allow both.
var passwordInURL = regexp.MustCompile(`(://[^:/@\s]+:)[^@\s]+@|([?&]password=)[^&\s]+`)

// redactErr removes a password that a connection error may quote from the
// database URL, so that errors are safe to log.
func redactErr(err error) error {
	msg := err.Error()
	clean := redactPasswords(msg)
	if clean == msg {
		return err
	}
	return errors.New(clean)
}

// Redact returns url with its password replaced, for logging.
func Redact(url string) string { return redactPasswords(url) }

func redactPasswords(s string) string {
	return passwordInURL.ReplaceAllStringFunc(s, func(m string) string {
		sub := passwordInURL.FindStringSubmatch(m)
		if sub[1] != "" {
			return sub[1] + "xxxxx@"
		}
		return sub[2] + "xxxxx"
	})
}

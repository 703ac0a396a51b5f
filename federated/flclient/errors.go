package flclient

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Errors callers check with errors.Is. An *Error (an HTTP answer) matches
// the sentinel of its status; the others are returned as they are or
// wrapped with context.
var (
	// ErrUnauthorized: 401, the API key is missing, unknown or revoked.
	ErrUnauthorized = errors.New("flclient: unauthorized")
	// ErrForbidden: 403, the key is bound to no enrolled site, or the
	// update is not the key's site's.
	ErrForbidden = errors.New("flclient: forbidden")
	// ErrNotEnrolled: a 403 of type not-enrolled, also an ErrForbidden:
	// the key is bound to no enrolled site yet. An admin may enroll it, so
	// a site can wait; any other 403 (a key of another role) is final.
	ErrNotEnrolled = errors.New("flclient: site not enrolled")
	// ErrNotFound: 404, no such model.
	ErrNotFound = errors.New("flclient: not found")
	// ErrConflict: 409, the update does not belong in the round (wrong
	// round, round not open, late, another update of this site, wrong base
	// model). Final: do not send it again.
	ErrConflict = errors.New("flclient: conflict")
	// ErrTooLarge: 413, the update is larger than the coordinator takes.
	ErrTooLarge = errors.New("flclient: payload too large")
	// ErrInvalid: 422 (or 400), the update is malformed, of the wrong
	// shape, non-finite, badly signed or over the limits. Final.
	ErrInvalid = errors.New("flclient: invalid")
	// ErrRateLimited: 429, the key is over its request rate, still so when
	// the tries ran out. Not a refusal: the request may be sent again.
	ErrRateLimited = errors.New("flclient: rate limited")
	// ErrUnavailable: a 5xx answer, still there when the tries ran out.
	ErrUnavailable = errors.New("flclient: coordinator unavailable")

	// ErrNoRound: no round is open, or this site is not invited to the
	// open one (204). A *NoRoundError says when to ask again.
	ErrNoRound = errors.New("flclient: no round for this site")
	// ErrModelHash: the downloaded model's keccak256 is not the id asked
	// for. The bytes are discarded.
	ErrModelHash = errors.New("flclient: model does not hash to its id")
	// ErrNotRegistered: a chain check was asked for, but the registry does
	// not (yet) hold the model's version: the coordinator registers a
	// round's base model shortly after opening it, so ask again later.
	ErrNotRegistered = errors.New("flclient: model not registered on chain")
	// ErrRegistryMismatch: the registry holds another model for that
	// version, or the task names another registry than the one trusted.
	// The model must not be used.
	ErrRegistryMismatch = errors.New("flclient: model does not match the registry")
)

// Error is a final (4xx) answer, or the last 5xx or 429 answer after every
// try, with the RFC 9457 problem document the coordinator sent.
type Error struct {
	// Op is what the client was doing: "task", "download model", "submit update".
	Op     string
	Status int
	// Type, Title and Detail are the problem's (Detail holds the start of
	// the body when it was not a problem document).
	Type, Title, Detail string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Detail != "" {
		msg += ": " + e.Detail
	} else if e.Title != "" {
		msg += ": " + e.Title
	}
	return msg
}

// Is matches the sentinel of e's status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotEnrolled:
		return e.Status == http.StatusForbidden && strings.HasSuffix(e.Type, "/not-enrolled")
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrTooLarge:
		return e.Status == http.StatusRequestEntityTooLarge
	case ErrInvalid:
		return e.Status == http.StatusUnprocessableEntity || e.Status == http.StatusBadRequest
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrUnavailable:
		return e.Status >= 500
	}
	return false
}

// Final reports whether err is an answer about the request itself that
// no retry changes: a 4xx other than 429.
func Final(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests
}

// NoRoundError is the 204 answer of Task: no round for this site now.
// errors.Is(err, ErrNoRound) matches it.
type NoRoundError struct {
	// RetryAfter is the coordinator's Retry-After (0 when it sent none).
	RetryAfter time.Duration
}

func (e *NoRoundError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("no round for this site (ask again in %s)", e.RetryAfter)
	}
	return "no round for this site"
}

// Is matches ErrNoRound.
func (e *NoRoundError) Is(target error) bool { return target == ErrNoRound }

package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/idsledger/idsledger/storage"
)

const (
	ctxRequestID = "idsledger.request_id"
	ctxAPIKey    = "idsledger.api_key"
)

var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID gives every request an id: the caller's X-Request-ID when it
// is a short safe token, otherwise a new random one. It is echoed in the
// response header, every log line and every problem body.
func withRequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if !safeRequestID.MatchString(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(ctxRequestID, id)
		c.Header("X-Request-ID", id)
		c.Next()
	}
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// accessLog writes one structured line per request. It never logs headers or
// bodies, so keys and payloads stay out of the logs; the key is named by its
// public prefix only.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		attrs := []any{
			"request_id", requestID(c),
			"method", c.Request.Method,
			"route", c.FullPath(),
			"path", c.Request.URL.Path,
			"status", c.Writer.Status(),
			"bytes", c.Writer.Size(),
			"duration_ms", ms(time.Since(start)),
			"remote", c.ClientIP(),
		}
		if k, ok := c.Get(ctxAPIKey); ok {
			attrs = append(attrs, "key", k.(storage.APIKey).Prefix, "role", string(k.(storage.APIKey).Role))
		}
		if t, ok := c.Get(ctxTiming); ok {
			attrs = append(attrs, t.(*timing).logAttrs()...)
		}
		if len(c.Errors) > 0 {
			attrs = append(attrs, "error", c.Errors.String())
		}
		// ERROR means a bug of ours (500); a 503 means a dependency is down
		// or not ready yet (readyz while starting), which the operator
		// should see but which is not a failure of the service.
		level := slog.LevelInfo
		switch status := c.Writer.Status(); {
		case status == http.StatusServiceUnavailable:
			level = slog.LevelWarn
		case status >= 500:
			level = slog.LevelError
		}
		log.Log(c.Request.Context(), level, "request", attrs...)
	}
}

// recoverProblem turns a panic in a handler into a 500 problem and an error
// log line, so one bad request cannot take the service down. The one panic
// it lets through is http.ErrAbortHandler, a handler giving up on a
// response it has begun: net/http then ends the response without its final
// chunk (or resets the HTTP/2 stream), so the client can tell that the body
// is incomplete.
func recoverProblem(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				log.Warn("response aborted", "request_id", requestID(c), "path", c.Request.URL.Path, "errors", c.Errors.String())
				panic(rec)
			}
			log.Error("panic in handler", "request_id", requestID(c), "path", c.Request.URL.Path, "panic", fmt.Sprint(rec))
			abort(c, probInternal, "")
		}()
		c.Next()
	}
}

// limitBody caps the bytes a handler may read from the body. A declared
// Content-Length over the limit is refused before reading; a body that grows
// past it while read fails with *http.MaxBytesError, which decoders turn into
// 413.
func limitBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			abort(c, probTooLarge, fmt.Sprintf("the body is larger than %d bytes", max))
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}

// Authenticator checks an API key presented by a client.
type Authenticator interface {
	// AuthenticateAPIKey returns the live key, storage.ErrBadKey for a key
	// that is malformed, unknown or revoked, or storage.ErrUnavailable.
	AuthenticateAPIKey(ctx context.Context, key string) (storage.APIKey, error)
}

// requireRole admits a request whose bearer key has one of roles: 401 without
// a valid key, 403 with a valid key of another role, 503 when keys cannot be
// checked because the database is down, 429 when the key is over its rate
// or its client address has failed too many key checks lately.
func (s *Server) requireRole(roles ...storage.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		key, ok := bearer(c.GetHeader("Authorization"))
		if !ok {
			abort(c, probUnauthorized, "send the key as: Authorization: Bearer <key>")
			return
		}
		// An address that sent too many invalid keys lately is refused before
		// its key is looked up: guessing keys is slow, and costs the
		// database nothing.
		if over, wait := s.badKey.exhausted(c.ClientIP()); over {
			tooMany(c, wait, "too many requests with invalid API keys from this address; wait, and use a valid key")
			return
		}
		k, err := s.deps.Keys.AuthenticateAPIKey(c.Request.Context(), key)
		switch {
		case errors.Is(err, storage.ErrBadKey):
			s.badKey.allow(c.ClientIP()) // spends one of the address's failures
			abort(c, probUnauthorized, "the API key is not valid")
			return
		case err != nil:
			abortErr(c, err)
			return
		}
		if ok, wait := s.perKey.allow(k.ID.String()); !ok {
			tooMany(c, wait, "this API key is over its request rate; slow down")
			return
		}
		c.Set(ctxAPIKey, k)
		if !slices.Contains(roles, k.Role) {
			abort(c, probForbidden, fmt.Sprintf("role %s may not do this; it needs %s", k.Role, joinRoles(roles)))
			return
		}
		c.Next()
	}
}

func bearer(h string) (string, bool) {
	scheme, key, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	key = strings.TrimSpace(key)
	return key, key != ""
}

func joinRoles(roles []storage.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, " or ")
}

// callerKey is the authenticated key of the request (set by requireRole).
func callerKey(c *gin.Context) storage.APIKey {
	k, _ := c.Get(ctxAPIKey)
	key, _ := k.(storage.APIKey)
	return key
}

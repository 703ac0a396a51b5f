package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/idsledger/idsledger/storage"
)

// Problem is an RFC 9457 problem details object, the body of every error
// response (Content-Type: application/problem+json).
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// RequestID ties the response to the service's log lines.
	RequestID string `json:"request_id,omitempty"`
	// Errors lists per-item problems (a field, a record of a batch).
	Errors []ItemError `json:"errors,omitempty"`
}

// ItemError is one invalid part of a request.
type ItemError struct {
	Pointer string `json:"pointer,omitempty"` // JSON pointer (RFC 6901) or CSV line
	Detail  string `json:"detail"`
}

// problemKind is one row of the error table: a stable type URI, its title and
// HTTP status. Handlers name a kind; they never build types or titles.
type problemKind struct {
	slug   string
	title  string
	status int
}

const problemBase = "https://idsledger.dev/problems/"

var (
	probBadRequest       = problemKind{"bad-request", "The request is malformed", http.StatusBadRequest}
	probValidation       = problemKind{"validation", "The request has invalid fields", http.StatusUnprocessableEntity}
	probUnauthorized     = problemKind{"unauthorized", "An API key is required", http.StatusUnauthorized}
	probForbidden        = problemKind{"forbidden", "The API key's role may not do this", http.StatusForbidden}
	probNotEnrolled      = problemKind{"not-enrolled", "The API key speaks for no enrolled federation site", http.StatusForbidden}
	probNotFound         = problemKind{"not-found", "No such resource", http.StatusNotFound}
	probMethodNotAllowed = problemKind{"method-not-allowed", "Method not allowed on this resource", http.StatusMethodNotAllowed}
	probConflict         = problemKind{"conflict", "The request conflicts with the resource's state", http.StatusConflict}
	probTooLarge         = problemKind{"payload-too-large", "The request body is too large", http.StatusRequestEntityTooLarge}
	probTooManyRequests  = problemKind{"rate-limited", "Too many requests", http.StatusTooManyRequests}
	probUnsupportedMedia = problemKind{"unsupported-media-type", "Unsupported content type", http.StatusUnsupportedMediaType}
	probUnavailable      = problemKind{"unavailable", "A service this request needs is unavailable", http.StatusServiceUnavailable}
	probInternal         = problemKind{"internal", "Internal error", http.StatusInternalServerError}
)

// problemKinds is the whole table; TestProblemTypesDocumented holds the
// OpenAPI document and docs/architecture.md to it.
var problemKinds = []problemKind{
	probBadRequest, probValidation, probUnauthorized, probForbidden, probNotEnrolled, probNotFound,
	probMethodNotAllowed, probConflict, probTooLarge, probTooManyRequests, probUnsupportedMedia, probUnavailable, probInternal,
}

const problemContentType = "application/problem+json"

// abort ends the request with a problem of the given kind.
func abort(c *gin.Context, k problemKind, detail string, items ...ItemError) {
	if k.status >= 500 && c.Request.Context().Err() != nil {
		// The client went away while we worked (it closed the connection
		// or gave up waiting), which is what made the work fail: nobody
		// reads an answer, and it is not a fault of ours. The access log
		// shows 499, as nginx names it.
		c.AbortWithStatus(statusClientClosed)
		return
	}
	p := Problem{
		Type:      problemBase + k.slug,
		Title:     k.title,
		Status:    k.status,
		Detail:    detail,
		Instance:  c.Request.URL.Path,
		RequestID: requestID(c),
		Errors:    items,
	}
	switch k.status {
	case http.StatusUnauthorized:
		c.Header("WWW-Authenticate", `Bearer realm="idsledger"`)
	case http.StatusServiceUnavailable:
		c.Header("Retry-After", "5")
	}
	c.Abort()
	c.Render(k.status, problemJSON{p})
}

// abortErr maps an error from a lower layer to a problem: an unreachable
// database is 503, a missing row 404, anything else 500 (logged, not shown).
func abortErr(c *gin.Context, err error) {
	switch {
	case errors.Is(err, storage.ErrUnavailable):
		abort(c, probUnavailable, "the database is unavailable; retry later")
	case errors.Is(err, storage.ErrNotFound):
		abort(c, probNotFound, "")
	default:
		_ = c.Error(err)
		abort(c, probInternal, "")
	}
}

// statusClientClosed is logged for requests the client abandoned.
const statusClientClosed = 499

// problemJSON renders a Problem with its own content type.
type problemJSON struct{ p Problem }

func (r problemJSON) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	return jsonEncode(w, r.p)
}

func (r problemJSON) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", problemContentType)
}

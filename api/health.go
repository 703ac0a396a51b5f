package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// Checker reports whether a dependency answers now. A nil error means ok.
type Checker func(ctx context.Context) error

// Health tracks what /readyz reports: the database (reachable and migrated)
// and the chain (reachable, starting while serve opens it, or not
// configured).
type Health struct {
	db          Checker
	chain       atomic.Pointer[Checker]
	dbReady     atomic.Bool // set once migrations are applied
	chainWanted atomic.Bool // a chain is configured and being opened
	conflict    atomic.Bool // anchoring stopped on a chain conflict
	log         *slog.Logger

	mu     sync.Mutex
	last   *readiness // the last result, and when it was taken
	lastAt time.Time
}

// ExpectChain records that a chain is configured: until SetChain its check
// reads "starting" rather than "not_configured". The service is ready
// meanwhile (flows are scored and stored; anchoring catches up).
func (h *Health) ExpectChain() { h.chainWanted.Store(true); h.forget() }

// NewHealth makes a Health that pings the database with db; failures are
// logged to log (nil: slog.Default()).
func NewHealth(db Checker, log *slog.Logger) *Health {
	if log == nil {
		log = slog.Default()
	}
	return &Health{db: db, log: log}
}

// SetDatabaseReady records that the schema is migrated and the service may
// use the database.
func (h *Health) SetDatabaseReady() { h.dbReady.Store(true); h.forget() }

// SetChain installs the chain check (until then the chain reads "starting"
// after ExpectChain, "not_configured" without it).
func (h *Health) SetChain(c Checker) { h.chain.Store(&c); h.forget() }

// SetChainConflict records that anchoring stopped because the registry
// holds other anchors than this database (anchor.ErrChainConflict). The
// chain check reads "conflict" from then on; the service stays ready, since
// it still accepts and stores records (they stay pending) and verifies
// those anchored before.
func (h *Health) SetChainConflict() { h.conflict.Store(true); h.forget() }

// forget drops the cached result: the state changed.
func (h *Health) forget() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = nil
}

// checkResult is one dependency's state. Detail is a fixed public sentence:
// the error behind an unavailable dependency (a database host and user, an
// RPC URL with a provider's key in it) goes to the log, never to this
// unauthenticated answer.
type checkResult struct {
	Status string `json:"status"` // ok, unavailable, starting, not_configured, conflict
	Detail string `json:"detail,omitempty"`
}

type readiness struct {
	Status string                 `json:"status"` // ok or unavailable
	Checks map[string]checkResult `json:"checks"`
}

// Check runs every check with a short deadline, at most once a second:
// within a second of a check, callers get its result again, so that a
// flood of probes costs no more than one a second.
func (h *Health) Check(ctx context.Context) readiness {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if h.last != nil && now.Sub(h.lastAt) < time.Second {
		return *h.last
	}
	r := h.check(ctx)
	h.last, h.lastAt = &r, now
	return r
}

func (h *Health) check(ctx context.Context) readiness {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	r := readiness{Status: "ok", Checks: map[string]checkResult{}}
	switch {
	case !h.dbReady.Load():
		r.Checks["database"] = checkResult{Status: "starting", Detail: "waiting for the database and its migrations"}
		r.Status = "unavailable"
	default:
		if err := h.db(ctx); err != nil {
			h.log.Warn("readiness: the database does not answer", "error", err.Error())
			r.Checks["database"] = checkResult{Status: "unavailable", Detail: "the database does not answer"}
			r.Status = "unavailable"
		} else {
			r.Checks["database"] = checkResult{Status: "ok"}
		}
	}
	if h.conflict.Load() {
		r.Checks["chain"] = checkResult{Status: "conflict",
			Detail: "the registry holds other anchors under this database's ids: anchoring stopped, records stay pending; see the log"}
	} else if c := h.chain.Load(); c == nil && h.chainWanted.Load() {
		r.Checks["chain"] = checkResult{Status: "starting", Detail: "opening the chain; anchoring and verification wait for it"}
	} else if c == nil {
		r.Checks["chain"] = checkResult{Status: "not_configured"}
	} else if err := (*c)(ctx); err != nil {
		h.log.Warn("readiness: the chain does not answer", "error", err.Error())
		r.Checks["chain"] = checkResult{Status: "unavailable", Detail: "the chain node does not answer"}
		r.Status = "unavailable"
	} else {
		r.Checks["chain"] = checkResult{Status: "ok"}
	}
	return r
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok", "version": s.cfg.Version})
}

func (s *Server) readyz(c *gin.Context) {
	r := s.deps.Health.Check(c.Request.Context())
	status := http.StatusOK
	if r.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	c.JSON(status, r)
}

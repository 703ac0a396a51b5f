// Package api is idsledger's REST interface: gin routes under /v1, API-key
// authentication with roles, RFC 9457 problem+json errors, and the OpenAPI
// document that describes every route (api/openapi.yaml, served at
// /v1/openapi.json; a test keeps the two in step).
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/webhook"
)

// Config tunes the HTTP layer. Zero values take the defaults.
type Config struct {
	// RatePerKey is each API key's token-bucket rate in requests per second
	// (burst: twice that; default DefaultRatePerKey; negative: no limit);
	// BadKeyRate the rate of failed key checks allowed per client address
	// (default DefaultBadKeyRate), which makes guessing keys slow and
	// keeps unauthenticated clients from loading the database; MaxIngest
	// the ingest requests at work at once (default DefaultMaxIngest).
	// Over them: 429 or 503, with Retry-After.
	RatePerKey float64
	BadKeyRate float64
	MaxIngest  int
	// TrustedProxies are the addresses and CIDRs of proxies whose
	// X-Forwarded-For names the client (logs, rate limits); none by
	// default: the client is the peer of the connection.
	TrustedProxies []string
	// MaxBodyBytes caps every request body (default 1 MiB) but those of
	// upload routes (flow batches, model files), which MaxUploadBytes caps
	// (default 64 MiB).
	MaxBodyBytes   int64
	MaxUploadBytes int64
	// Logger receives one line per request (default slog.Default()).
	Logger *slog.Logger
	// Version is reported by /healthz.
	Version string
	// MaxFlowsPerRequest caps the flow records of one POST /v1/flows
	// (default 10000).
	MaxFlowsPerRequest int
	// StreamPoll is how often GET /v1/alerts/stream looks for new alerts
	// (default 1 s); StreamKeyCheck how often it checks that the caller's
	// key is still live (default 5 s; a revoked key's streams end);
	// StreamWriteTimeout how long one write to a stream may block before
	// the client counts as gone (default 10 s). MaxStreams bounds the
	// streams open at once (default DefaultMaxStreams), MaxStreamsPerKey
	// those of one key (default DefaultStreamsPerKey).
	StreamPoll         time.Duration
	StreamKeyCheck     time.Duration
	StreamWriteTimeout time.Duration
	MaxStreams         int
	MaxStreamsPerKey   int
}

// KeyStore is what the key-management endpoints and authentication need.
// *storage.DB implements it.
type KeyStore interface {
	Authenticator
	CreateAPIKey(ctx context.Context, spec storage.KeySpec, actor string) (string, storage.APIKey, error)
	ListAPIKeys(ctx context.Context) ([]storage.APIKey, error)
	RevokeAPIKey(ctx context.Context, idOrPrefix, actor string) (storage.APIKey, error)
}

// Deps are the parts the handlers use.
type Deps struct {
	Keys   KeyStore
	Health *Health
	// Alerts queries alerts and records workflow changes (*storage.DB).
	Alerts AlertStore
	// Ingester scores flows and raises alerts (POST /v1/flows); its Models
	// hold the active detector. Without one, ingest answers 503.
	Ingester *ingest.Ingester
	// Verifier checks records against the chain (anchor.Verifier); nil
	// makes the verification endpoints answer 503.
	Verifier RecordVerifier
	// Metrics backs /metrics (nil: not enabled).
	Metrics *Metrics
	// Federation runs federated learning (nil: the federated routes answer
	// 503), and Records reads stored records for provenance bundles.
	Federation *Federation
	Records    coordinator.RecordReader
	// Webhooks delivers alerts to subscribers, and WebhookStore keeps
	// them (nil: not enabled).
	Webhooks     *webhook.Dispatcher
	WebhookStore WebhookStore
}

// Server holds the router and what its handlers need.
type Server struct {
	cfg    Config
	deps   Deps
	engine *gin.Engine
	routes []Route

	perKey *keyedLimiter // requests by API key id
	badKey *keyedLimiter // failed key checks by client address
	// streams bounds the live alert streams open at once.
	streams *streamSlots
}

// Route is one endpoint: its method, gin path, and the roles that may call it
// (none: public).
type Route struct {
	Method  string
	Path    string
	Roles   []storage.Role
	handler gin.HandlerFunc
	upload  bool // takes bulk bodies: capped by MaxUploadBytes instead of MaxBodyBytes
	ingest  bool // scores flows: admitted within Config.MaxIngest
}

// Public reports whether the route needs no API key.
func (r Route) Public() bool { return len(r.Roles) == 0 }

func init() { gin.SetMode(gin.ReleaseMode) }

// New builds the server.
func New(cfg Config, deps Deps) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 64 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RatePerKey == 0 {
		cfg.RatePerKey = DefaultRatePerKey
	}
	if cfg.BadKeyRate == 0 {
		cfg.BadKeyRate = DefaultBadKeyRate
	}
	if cfg.MaxIngest <= 0 {
		cfg.MaxIngest = DefaultMaxIngest
	}
	if cfg.StreamPoll <= 0 {
		cfg.StreamPoll = time.Second
	}
	if cfg.StreamKeyCheck <= 0 {
		cfg.StreamKeyCheck = 5 * time.Second
	}
	if cfg.StreamWriteTimeout <= 0 {
		cfg.StreamWriteTimeout = 10 * time.Second
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = DefaultMaxStreams
	}
	if cfg.MaxStreamsPerKey <= 0 {
		cfg.MaxStreamsPerKey = DefaultStreamsPerKey
	}
	s := &Server{cfg: cfg, deps: deps,
		perKey: newKeyedLimiter(cfg.RatePerKey, rateLimitedClientKeys), badKey: newKeyedLimiter(cfg.BadKeyRate, rateLimitedClientKeys),
		streams: newStreamSlots(cfg.MaxStreams, cfg.MaxStreamsPerKey)}
	e := gin.New()
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		// serve validated them; a library caller gets the safe default.
		cfg.Logger.Error("ignoring invalid trusted proxies", "error", err.Error())
		_ = e.SetTrustedProxies(nil)
	}
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(withRequestID(), accessLog(cfg.Logger), recoverProblem(cfg.Logger), deps.Metrics.Middleware())
	e.NoRoute(func(c *gin.Context) { abort(c, probNotFound, "no route "+c.Request.URL.Path) })
	e.NoMethod(func(c *gin.Context) {
		abort(c, probMethodNotAllowed, c.Request.Method+" is not allowed on "+c.Request.URL.Path)
	})

	s.routes = s.routeTable()
	for _, r := range s.routes {
		handlers := []gin.HandlerFunc{}
		if !r.Public() {
			handlers = append(handlers, s.requireRole(r.Roles...))
		}
		if r.ingest {
			handlers = append(handlers, admitIngest(cfg.MaxIngest))
		}
		limit := cfg.MaxBodyBytes
		if r.upload {
			limit = cfg.MaxUploadBytes
		}
		handlers = append(handlers, limitBody(limit), r.handler)
		e.Handle(r.Method, r.Path, handlers...)
	}
	s.engine = e
	return s
}

var (
	anyRole   = storage.Roles
	adminOnly = []storage.Role{storage.RoleAdmin}
	// ingestRoles post flows; analystRoles query, verify, report, export;
	// flNodeRoles are the federated sites.
	ingestRoles  = []storage.Role{storage.RoleIngest}
	analystRoles = []storage.Role{storage.RoleAnalyst, storage.RoleAdmin}
	flNodeRoles  = []storage.Role{storage.RoleFLNode}
)

// routeTable is every endpoint of the service, in one place. The OpenAPI
// document must list exactly these (TestOpenAPIMatchesRoutes), and the auth
// matrix test calls each with no key, every wrong role and a right one.
//
// /healthz and /readyz are public on purpose: orchestrators probe them
// without credentials, and they reveal nothing but up/down.
func (s *Server) routeTable() []Route {
	return []Route{
		{Method: http.MethodGet, Path: "/healthz", handler: s.healthz},
		{Method: http.MethodGet, Path: "/readyz", handler: s.readyz},
		{Method: http.MethodGet, Path: "/v1/openapi.json", Roles: anyRole, handler: serveOpenAPI},
		{Method: http.MethodGet, Path: "/v1/whoami", Roles: anyRole, handler: s.whoami},
		{Method: http.MethodGet, Path: "/v1/apikeys", Roles: adminOnly, handler: s.listAPIKeys},
		{Method: http.MethodPost, Path: "/v1/apikeys", Roles: adminOnly, handler: s.createAPIKey},
		{Method: http.MethodDelete, Path: "/v1/apikeys/:id", Roles: adminOnly, handler: s.revokeAPIKey},

		{Method: http.MethodPost, Path: "/v1/flows", Roles: ingestRoles, handler: s.ingestFlows, upload: true, ingest: true},
		{Method: http.MethodGet, Path: "/v1/models/active", Roles: anyRole, handler: s.getActiveModel},
		{Method: http.MethodPut, Path: "/v1/models/active", Roles: adminOnly, handler: s.putActiveModel, upload: true},
		{Method: http.MethodGet, Path: "/v1/alerts", Roles: analystRoles, handler: s.listAlerts},
		{Method: http.MethodGet, Path: "/v1/alerts/export", Roles: analystRoles, handler: s.exportAlerts},
		{Method: http.MethodGet, Path: "/v1/alerts/stream", Roles: analystRoles, handler: s.streamAlerts},
		{Method: http.MethodGet, Path: "/v1/alerts/:id", Roles: analystRoles, handler: s.getAlert},
		{Method: http.MethodPatch, Path: "/v1/alerts/:id", Roles: analystRoles, handler: s.patchAlert},
		{Method: http.MethodGet, Path: "/v1/alerts/:id/proof", Roles: analystRoles, handler: s.alertProof},
		{Method: http.MethodGet, Path: "/v1/alerts/:id/verify", Roles: analystRoles, handler: s.verifyAlert},
		{Method: http.MethodPost, Path: "/v1/verify", Roles: analystRoles, handler: s.verifyRecord},
		{Method: http.MethodGet, Path: "/v1/batches", Roles: analystRoles, handler: s.listBatches},
		{Method: http.MethodGet, Path: "/v1/batches/:id", Roles: analystRoles, handler: s.getBatch},
		{Method: http.MethodGet, Path: "/v1/batches/:id/audit", Roles: analystRoles, handler: s.auditBatch},
		{Method: http.MethodGet, Path: "/v1/reports/summary", Roles: analystRoles, handler: s.summaryReport},
		{Method: http.MethodGet, Path: "/v1/webhooks", Roles: adminOnly, handler: s.listWebhooks},
		{Method: http.MethodPost, Path: "/v1/webhooks", Roles: adminOnly, handler: s.createWebhook},
		{Method: http.MethodDelete, Path: "/v1/webhooks/:id", Roles: adminOnly, handler: s.deleteWebhook},
		{Method: http.MethodGet, Path: "/v1/webhooks/dead-letters", Roles: adminOnly, handler: s.listDeadLetters},
		{Method: http.MethodPost, Path: "/v1/webhooks/dead-letters/:id/replay", Roles: adminOnly, handler: s.replayDeadLetter},
		{Method: http.MethodGet, Path: "/metrics", Roles: analystRoles, handler: s.serveMetrics},

		{Method: http.MethodGet, Path: "/v1/alerts/:id/provenance", Roles: analystRoles, handler: s.provenance},
		{Method: http.MethodGet, Path: "/v1/models", Roles: analystRoles, handler: s.listModels},
		{Method: http.MethodPost, Path: "/v1/models/:id/promote", Roles: adminOnly, handler: s.promoteModel},
		{Method: http.MethodGet, Path: "/v1/fl/task", Roles: flNodeRoles, handler: s.flTask},
		{Method: http.MethodGet, Path: "/v1/fl/site", Roles: flNodeRoles, handler: s.flSiteStatus},
		{Method: http.MethodGet, Path: "/v1/fl/models/:id", Roles: flNodeRoles, handler: s.flModel},
		{Method: http.MethodPost, Path: "/v1/fl/rounds/:n/updates", Roles: flNodeRoles, handler: s.flSubmit, upload: true},
		{Method: http.MethodGet, Path: "/v1/fl/sites", Roles: analystRoles, handler: s.flSites},
		{Method: http.MethodPost, Path: "/v1/fl/sites", Roles: adminOnly, handler: s.flEnroll},
		{Method: http.MethodDelete, Path: "/v1/fl/sites/:address", Roles: adminOnly, handler: s.flRemove},
		{Method: http.MethodGet, Path: "/v1/fl/rounds", Roles: analystRoles, handler: s.flRounds},
		{Method: http.MethodPost, Path: "/v1/fl/rounds", Roles: adminOnly, handler: s.flOpen},
		{Method: http.MethodGet, Path: "/v1/fl/rounds/:n", Roles: analystRoles, handler: s.flRound},
		{Method: http.MethodGet, Path: "/v1/fl/thresholds", Roles: analystRoles, handler: s.flThresholds},
		{Method: http.MethodPut, Path: "/v1/fl/thresholds", Roles: adminOnly, handler: s.flSetThresholds},
	}
}

// Routes lists every endpoint.
func (s *Server) Routes() []Route { return s.routes }

// Handler is the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.engine }

// OpenAPIPath turns a gin path (/v1/x/:id) into an OpenAPI one (/v1/x/{id}).
func OpenAPIPath(ginPath string) string {
	parts := strings.Split(ginPath, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

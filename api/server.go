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

	"github.com/gin-gonic/gin"

	"github.com/idsledger/idsledger/storage"
)

// Config tunes the HTTP layer. Zero values take the defaults.
type Config struct {
	// MaxBodyBytes caps every request body (default 8 MiB).
	MaxBodyBytes int64
	// Logger receives one line per request (default slog.Default()).
	Logger *slog.Logger
	// Version is reported by /healthz.
	Version string
}

// KeyStore is what the key-management endpoints and authentication need.
// *storage.DB implements it.
type KeyStore interface {
	Authenticator
	CreateAPIKey(ctx context.Context, name string, role storage.Role) (string, storage.APIKey, error)
	ListAPIKeys(ctx context.Context) ([]storage.APIKey, error)
	RevokeAPIKey(ctx context.Context, idOrPrefix string) (storage.APIKey, error)
}

// Deps are the parts the handlers use.
type Deps struct {
	Keys   KeyStore
	Health *Health
}

// Server holds the router and what its handlers need.
type Server struct {
	cfg    Config
	deps   Deps
	engine *gin.Engine
	routes []Route
}

// Route is one endpoint: its method, gin path, and the roles that may call it
// (none: public).
type Route struct {
	Method  string
	Path    string
	Roles   []storage.Role
	handler gin.HandlerFunc
}

// Public reports whether the route needs no API key.
func (r Route) Public() bool { return len(r.Roles) == 0 }

func init() { gin.SetMode(gin.ReleaseMode) }

// New builds the server.
func New(cfg Config, deps Deps) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 8 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, deps: deps}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(withRequestID(), accessLog(cfg.Logger), recoverProblem(cfg.Logger), limitBody(cfg.MaxBodyBytes))
	e.NoRoute(func(c *gin.Context) { abort(c, probNotFound, "no route "+c.Request.URL.Path) })
	e.NoMethod(func(c *gin.Context) {
		abort(c, probMethodNotAllowed, c.Request.Method+" is not allowed on "+c.Request.URL.Path)
	})

	s.routes = s.routeTable()
	for _, r := range s.routes {
		handlers := []gin.HandlerFunc{}
		if !r.Public() {
			handlers = append(handlers, requireRole(deps.Keys, r.Roles...))
		}
		e.Handle(r.Method, r.Path, append(handlers, r.handler)...)
	}
	s.engine = e
	return s
}

var (
	anyRole   = storage.Roles
	adminOnly = []storage.Role{storage.RoleAdmin}
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

package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/idsledger/idsledger/storage"
)

type createKeyRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// Sensors binds an ingest key to the sensor names it may claim.
	Sensors []string `json:"sensors"`
}

type createKeyResponse struct {
	// Key is the secret, shown this once; the service keeps only its hash.
	Key    string         `json:"key"`
	APIKey storage.APIKey `json:"api_key"`
}

func (s *Server) createAPIKey(c *gin.Context) {
	var req createKeyRequest
	if !decodeJSON(c, &req) {
		return
	}
	var bad []ItemError
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 200 {
		bad = append(bad, ItemError{Pointer: "/name", Detail: "required, at most 200 characters"})
	}
	role, err := storage.ParseRole(req.Role)
	if err != nil {
		bad = append(bad, ItemError{Pointer: "/role", Detail: err.Error()})
	}
	spec := storage.KeySpec{Name: req.Name, Role: role, Sensors: req.Sensors}
	if err == nil {
		if err := spec.Validate(); err != nil {
			bad = append(bad, ItemError{Pointer: "/sensors", Detail: err.Error()})
		}
	}
	if len(bad) > 0 {
		abort(c, probValidation, "the key request has invalid fields", bad...)
		return
	}
	clear, k, err := s.deps.Keys.CreateAPIKey(c.Request.Context(), spec, actorOf(c))
	if err != nil {
		abortErr(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, createKeyResponse{Key: clear, APIKey: k})
}

func (s *Server) listAPIKeys(c *gin.Context) {
	keys, err := s.deps.Keys.ListAPIKeys(c.Request.Context())
	if err != nil {
		abortErr(c, err)
		return
	}
	if keys == nil {
		keys = []storage.APIKey{}
	}
	c.JSON(http.StatusOK, gin.H{"items": keys})
}

func (s *Server) revokeAPIKey(c *gin.Context) {
	k, err := s.deps.Keys.RevokeAPIKey(c.Request.Context(), c.Param("id"), actorOf(c))
	if errors.Is(err, storage.ErrNotFound) {
		abort(c, probNotFound, "no API key with id or prefix "+c.Param("id"))
		return
	}
	if err != nil {
		abortErr(c, err)
		return
	}
	c.JSON(http.StatusOK, k)
}

func (s *Server) whoami(c *gin.Context) {
	c.JSON(http.StatusOK, callerKey(c))
}

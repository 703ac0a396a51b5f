package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/ingest"
)

// modelInfo is what GET/PUT /v1/models/active report.
type modelInfo struct {
	ID         string   `json:"id"`
	Version    string   `json:"version"`
	Kind       string   `json:"kind"`
	Supervised bool     `json:"supervised"`
	Dataset    string   `json:"dataset"`
	Input      string   `json:"input"`
	Classes    []string `json:"classes"`
	Features   []string `json:"features"`
	// Imputable are the features the model declares it can impute
	// (POST /v1/flows?impute=declared).
	Imputable   []string  `json:"imputable,omitempty"`
	Threshold   float64   `json:"threshold"`
	ActivatedAt time.Time `json:"activated_at"`
}

func infoOf(m *ingest.ActiveModel) modelInfo {
	d := m.Detector
	return modelInfo{
		ID: d.ID(), Version: m.Version, Kind: d.Meta.ModelKind, Supervised: d.Meta.Supervised,
		Dataset: d.Dataset(), Input: string(d.Pipeline.Input), Classes: d.Classes(),
		Features: d.Pipeline.FeatureNames(), Imputable: d.Pipeline.Imputable, Threshold: d.Meta.Threshold, ActivatedAt: m.ActivatedAt,
	}
}

const noModelDetail = "no detector model is active: start the service with --model FILE, or PUT a model file to /v1/models/active"

func (s *Server) getActiveModel(c *gin.Context) {
	m := s.models().Active()
	if m == nil {
		abort(c, probUnavailable, noModelDetail)
		return
	}
	c.JSON(http.StatusOK, infoOf(m))
}

// putActiveModel swaps the active model for the model file in the body
// (application/octet-stream). Requests already scoring finish with the old
// model.
func (s *Server) putActiveModel(c *gin.Context) {
	if ct := c.ContentType(); ct != "application/octet-stream" {
		abort(c, probUnsupportedMedia, "send the model file as application/octet-stream")
		return
	}
	version := strings.TrimSpace(c.Query("version"))
	if len(version) > 100 || strings.ContainsFunc(version, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		abort(c, probValidation, "version: at most 100 printable characters", ItemError{Pointer: "?version", Detail: "invalid"})
		return
	}
	file, ok := readBody(c)
	if !ok {
		return
	}
	if s.models() == nil {
		abort(c, probUnavailable, "this server has no model holder")
		return
	}
	// The activation is recorded (kept for restarts, and anchored) before
	// the model decides anything; if it cannot be recorded, the old model
	// stays.
	m, ev, err := s.models().Swap(c.Request.Context(), file, version, actorOf(c), "")
	switch {
	case errors.Is(err, detector.ErrModelFile), errors.Is(err, detector.ErrUnknownKind), errors.Is(err, detector.ErrShape):
		abort(c, probValidation, fmt.Sprintf("not a usable model file: %v", err))
		return
	case errors.Is(err, ingest.ErrNoRecord):
		abort(c, probUnavailable, "model swaps cannot be recorded on this server")
		return
	case err != nil:
		abortErr(c, err)
		return
	}
	s.cfg.Logger.Info("model activated", "request_id", requestID(c), "model_id", m.Detector.ID(), "version", m.Version,
		"key", callerKey(c).Prefix, "audit_event", ev.String())
	c.Header("X-Audit-Event", ev.String())
	c.JSON(http.StatusOK, infoOf(m))
}

// models is the active-model holder of the ingester (nil without one).
func (s *Server) models() *ingest.Models {
	if s.deps.Ingester == nil {
		return nil
	}
	return s.deps.Ingester.Models
}

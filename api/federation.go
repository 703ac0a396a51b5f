package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/storage"
)

// The federated-learning routes: the HTTP edge of coordinator.Coordinator.
// fl-node keys fetch the round's task and model and submit updates; admins
// enroll sites, open rounds and set the rule's thresholds; analysts read
// everything.

// Federation holds what the federated routes need once serve has it: the
// coordinator, which needs the chain, and the FederationRegistry's address
// sites check models against. Until Start, the routes answer 503.
type Federation struct {
	cur atomic.Pointer[federationParts]
}

type federationParts struct {
	*coordinator.Coordinator
	Registry common.Address
}

// Start makes the federated routes use c, with the registry at addr.
func (f *Federation) Start(c *coordinator.Coordinator, addr common.Address) {
	f.cur.Store(&federationParts{Coordinator: c, Registry: addr})
}

func (s *Server) federation(c *gin.Context) (*federationParts, bool) {
	var p *federationParts
	if s.deps.Federation != nil {
		p = s.deps.Federation.cur.Load()
	}
	if p == nil {
		abort(c, probUnavailable, "federated learning is not running on this server yet (the chain is not connected)")
		return nil, false
	}
	return p, true
}

// abortFederation maps a coordinator error to a problem.
func abortFederation(c *gin.Context, err error) {
	switch {
	case errors.Is(err, coordinator.ErrNotASite):
		abort(c, probNotEnrolled, err.Error()+": an admin enrolls the site's address with this key's id (POST /v1/fl/sites with address and key_id; "+
			"idsledger fl-node prints the address on its first run, idsledger apikey list the key's id)")
	case errors.Is(err, coordinator.ErrSiteMismatch):
		abort(c, probForbidden, err.Error())
	case errors.Is(err, coordinator.ErrNoValidation), errors.Is(err, coordinator.ErrInvalid),
		errors.Is(err, federated.ErrNotFederable), errors.Is(err, federated.ErrPolicy), errors.Is(err, federated.ErrThresholds):
		abort(c, probValidation, err.Error())
	case errors.Is(err, coordinator.ErrRoundOpen), errors.Is(err, coordinator.ErrNoRound), errors.Is(err, coordinator.ErrConflict),
		errors.Is(err, federated.ErrWrongRound), errors.Is(err, federated.ErrWrongBase), errors.Is(err, federated.ErrWrongChain),
		errors.Is(err, federated.ErrRoundClosed), errors.Is(err, federated.ErrLate), errors.Is(err, federated.ErrDuplicate),
		errors.Is(err, federated.ErrNotEnrolled), errors.Is(err, federated.ErrRoundFull):
		abort(c, probConflict, err.Error())
	case errors.Is(err, federated.ErrTooLarge):
		abort(c, probTooLarge, err.Error())
	case errors.Is(err, federated.ErrMalformed), errors.Is(err, federated.ErrShape), errors.Is(err, federated.ErrNonFinite),
		errors.Is(err, federated.ErrEncoding), errors.Is(err, federated.ErrBadSignature):
		abort(c, probValidation, err.Error())
	default:
		abortErr(c, err)
	}
}

// taskView is GET /v1/fl/task's answer.
type taskView struct {
	federated.Task
	BaseModelVersion   uint64         `json:"base_model_version"`
	FederationRegistry string         `json:"federation_registry"`
	Deadline           time.Time      `json:"deadline"`
	Submitted          bool           `json:"submitted"`
	Site               common.Address `json:"site"`
}

// flTask is GET /v1/fl/task: the open round, as the key's site sees it.
func (s *Server) flTask(c *gin.Context) {
	f, ok := s.federation(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	key := callerKey(c).ID
	task, err := f.Task(ctx, key)
	submitted := errors.Is(err, federated.ErrDuplicate)
	switch {
	case errors.Is(err, coordinator.ErrNoRound), errors.Is(err, coordinator.ErrNotInvited):
		c.Header("Retry-After", "5")
		c.Status(http.StatusNoContent)
		return
	case err != nil && !submitted:
		abortFederation(c, err)
		return
	}
	r, err := f.Coordinator.Round(ctx, task.Round)
	if err != nil {
		abortErr(c, err)
		return
	}
	base, err := f.Model(ctx, task.BaseModel)
	if err != nil {
		abortErr(c, err)
		return
	}
	site, err := f.SiteOf(ctx, key)
	if err != nil {
		abortFederation(c, err)
		return
	}
	view := taskView{Task: task, BaseModelVersion: base.Version, Deadline: r.Deadline, Submitted: submitted, Site: site.Address}
	if f.Registry != (common.Address{}) {
		view.FederationRegistry = f.Registry.Hex()
	}
	c.JSON(http.StatusOK, view)
}

// flSiteStatus is GET /v1/fl/site: the key's site, its standing and how
// its updates of the last rounds were judged.
func (s *Server) flSiteStatus(c *gin.Context) {
	limit := 10
	if v := c.Query("rounds"); v != "" {
		n, err := parseSmallInt(v, 1, 100)
		if err != nil {
			abort(c, probBadRequest, "rounds: "+err.Error(), ItemError{Pointer: "?rounds", Detail: "malformed"})
			return
		}
		limit = n
	}
	f, ok := s.federation(c)
	if !ok {
		return
	}
	st, err := f.SiteStatus(c.Request.Context(), callerKey(c).ID, limit)
	if err != nil {
		abortFederation(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

// flModel is GET /v1/fl/models/{id}: a model file for a site to train from.
func (s *Server) flModel(c *gin.Context) {
	id := c.Param("id")
	if !isModelID(id) {
		abort(c, probBadRequest, "model ids are 64 lower-case hex characters", ItemError{Pointer: "{id}", Detail: "malformed"})
		return
	}
	f, ok := s.federation(c)
	if !ok {
		return
	}
	m, err := f.Download(c.Request.Context(), callerKey(c).ID, id)
	if err != nil {
		abortFederation(c, err)
		return
	}
	c.Header("X-Model-Id", m.ID)
	c.Header("X-Registry-Version", strconv.FormatUint(m.Version, 10))
	c.Data(http.StatusOK, "application/octet-stream", m.File)
}

func isModelID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// submitView is the acknowledgement of an update.
type submitView struct {
	RecordID   uuid.UUID      `json:"record_id"`
	Round      uint64         `json:"round"`
	UpdateHash string         `json:"update_hash"`
	Leaf       anchor.HexHash `json:"leaf"`
	Again      bool           `json:"again"`
}

// flSubmit is POST /v1/fl/rounds/{n}/updates: a site's signed update.
func (s *Server) flSubmit(c *gin.Context) {
	n, ok := roundNumber(c)
	if !ok {
		return
	}
	f, ok := s.federation(c)
	if !ok {
		return
	}
	if !hasJSONContentType(c.Request) {
		abort(c, probUnsupportedMedia, "send the update as application/json")
		return
	}
	body, ok := readBody(c)
	if !ok {
		return
	}
	// The path names the round the site means; the signed update names
	// its own. When they differ the site is confused (a stale task, a
	// replayed file): refuse it before anything is stored.
	var head struct {
		Round uint64 `json:"round"`
	}
	if json.Unmarshal(body, &head) == nil && head.Round != 0 && head.Round != n {
		abort(c, probConflict, fmt.Sprintf("the update is signed for round %d, but was posted to round %d", head.Round, n),
			ItemError{Pointer: "/round", Detail: "not the round of the path"})
		return
	}
	u, again, err := f.Submit(c.Request.Context(), callerKey(c).ID, body)
	if err != nil {
		abortFederation(c, err)
		return
	}
	status := http.StatusAccepted
	if again {
		status = http.StatusOK
	}
	c.JSON(status, submitView{RecordID: u.RecordID, Round: u.Round, UpdateHash: u.Hash.Hex(), Leaf: anchor.HexHash(u.Leaf), Again: again})
}

func roundNumber(c *gin.Context) (uint64, bool) {
	n, err := strconv.ParseUint(c.Param("n"), 10, 63)
	if err != nil || n == 0 {
		abort(c, probBadRequest, "round numbers are positive integers", ItemError{Pointer: "{n}", Detail: "malformed"})
		return 0, false
	}
	return n, true
}

// enrollRequest is POST /v1/fl/sites's body.
type enrollRequest struct {
	Address string    `json:"address"`
	Name    string    `json:"name"`
	KeyID   uuid.UUID `json:"key_id"`
}

// flEnroll is POST /v1/fl/sites.
func (s *Server) flEnroll(c *gin.Context) {
	f, ok := s.federation(c)
	if !ok {
		return
	}
	var req enrollRequest
	if !decodeJSON(c, &req) {
		return
	}
	if !common.IsHexAddress(req.Address) {
		abort(c, probValidation, "address: want a 0x-prefixed Ethereum address (the site's key, printed by idsledger fl-node)",
			ItemError{Pointer: "/address", Detail: "malformed"})
		return
	}
	if !s.flNodeKey(c, req.KeyID) {
		return
	}
	site, err := f.Enroll(c.Request.Context(), common.HexToAddress(req.Address), req.Name, req.KeyID, actorOf(c))
	if err != nil {
		abortFederation(c, err)
		return
	}
	c.JSON(http.StatusCreated, site)
}

// flNodeKey checks that id names a live fl-node key.
func (s *Server) flNodeKey(c *gin.Context, id uuid.UUID) bool {
	keys, err := s.deps.Keys.ListAPIKeys(c.Request.Context())
	if err != nil {
		abortErr(c, err)
		return false
	}
	for _, k := range keys {
		if k.ID == id && k.Role == storage.RoleFLNode && k.RevokedAt == nil {
			return true
		}
	}
	abort(c, probValidation, "key_id: not the id of a live fl-node API key (create one with role fl-node first)",
		ItemError{Pointer: "/key_id", Detail: "no such fl-node key"})
	return false
}

// flRemove is DELETE /v1/fl/sites/{address}.
func (s *Server) flRemove(c *gin.Context) {
	if !common.IsHexAddress(c.Param("address")) {
		abort(c, probBadRequest, "sites are named by their 0x address", ItemError{Pointer: "{address}", Detail: "malformed"})
		return
	}
	f, ok := s.federation(c)
	if !ok {
		return
	}
	if err := f.Remove(c.Request.Context(), common.HexToAddress(c.Param("address")), actorOf(c)); err != nil {
		abortFederation(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// flSites is GET /v1/fl/sites.
func (s *Server) flSites(c *gin.Context) {
	f, ok := s.federation(c)
	if !ok {
		return
	}
	sites, err := f.Sites(c.Request.Context())
	if err != nil {
		abortErr(c, err)
		return
	}
	if sites == nil {
		sites = []coordinator.SiteView{}
	}
	c.JSON(http.StatusOK, gin.H{"items": sites})
}

// openRequest is POST /v1/fl/rounds's body: coordinator.OpenRequest with
// the duration as text ("10m").
type openRequest struct {
	BaseModel  string           `json:"base_model"`
	Policy     federated.Policy `json:"policy"`
	MinUpdates int              `json:"min_updates"`
	MaxUpdates int              `json:"max_updates"`
	Duration   string           `json:"duration"`
	Sites      []string         `json:"sites"`
}

// flOpen is POST /v1/fl/rounds.
func (s *Server) flOpen(c *gin.Context) {
	f, ok := s.federation(c)
	if !ok {
		return
	}
	var req openRequest
	if !decodeJSON(c, &req) {
		return
	}
	open := coordinator.OpenRequest{BaseModel: req.BaseModel, Policy: req.Policy, MinUpdates: req.MinUpdates, MaxUpdates: req.MaxUpdates}
	var bad []ItemError
	if req.Duration != "" {
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 || d > 7*24*time.Hour {
			bad = append(bad, ItemError{Pointer: "/duration", Detail: "a duration such as 10m, at most 168h"})
		}
		open.Duration = d
	}
	if req.BaseModel != "" && !isModelID(req.BaseModel) {
		bad = append(bad, ItemError{Pointer: "/base_model", Detail: "a model id: 64 lower-case hex characters"})
	}
	for i, a := range req.Sites {
		if !common.IsHexAddress(a) {
			bad = append(bad, ItemError{Pointer: fmt.Sprintf("/sites/%d", i), Detail: "not an address"})
			continue
		}
		open.Sites = append(open.Sites, common.HexToAddress(a))
	}
	if len(bad) > 0 {
		abort(c, probValidation, "the round request is invalid", bad...)
		return
	}
	r, err := f.Open(c.Request.Context(), open, actorOf(c))
	if err != nil {
		abortFederation(c, err)
		return
	}
	c.JSON(http.StatusCreated, r)
}

// flRounds is GET /v1/fl/rounds: newest first, cursor = the last round
// number of the previous page.
func (s *Server) flRounds(c *gin.Context) {
	f, ok := s.federation(c)
	if !ok {
		return
	}
	limit := 50
	if v := c.Query("limit"); v != "" {
		n, err := parseSmallInt(v, 1, 500)
		if err != nil {
			abort(c, probBadRequest, "limit: "+err.Error(), ItemError{Pointer: "?limit", Detail: "invalid"})
			return
		}
		limit = n
	}
	var before uint64
	if v := c.Query("cursor"); v != "" {
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil || n == 0 {
			abort(c, probBadRequest, "cursor: not a cursor this server issued", ItemError{Pointer: "?cursor", Detail: "invalid"})
			return
		}
		before = n
	}
	rounds, err := f.Rounds(c.Request.Context(), before, limit+1)
	if err != nil {
		abortErr(c, err)
		return
	}
	var next *string
	if len(rounds) > limit {
		rounds = rounds[:limit]
		n := strconv.FormatUint(rounds[limit-1].Number, 10)
		next = &n
	}
	if rounds == nil {
		rounds = []federated.Round{}
	}
	c.JSON(http.StatusOK, page[federated.Round]{Items: rounds, NextCursor: next})
}

// flRound is GET /v1/fl/rounds/{n}.
func (s *Server) flRound(c *gin.Context) {
	n, ok := roundNumber(c)
	if !ok {
		return
	}
	f, ok := s.federation(c)
	if !ok {
		return
	}
	d, err := f.RoundDetail(c.Request.Context(), n)
	if err != nil {
		abortErr(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// flThresholds is GET /v1/fl/thresholds.
func (s *Server) flThresholds(c *gin.Context) {
	f, ok := s.federation(c)
	if !ok {
		return
	}
	th, err := f.Thresholds(c.Request.Context())
	if err != nil {
		abortErr(c, err)
		return
	}
	c.JSON(http.StatusOK, th)
}

// flSetThresholds is PUT /v1/fl/thresholds.
func (s *Server) flSetThresholds(c *gin.Context) {
	f, ok := s.federation(c)
	if !ok {
		return
	}
	var th federated.Thresholds
	if !decodeJSON(c, &th) {
		return
	}
	if err := f.SetThresholds(c.Request.Context(), th, actorOf(c)); err != nil {
		abortFederation(c, err)
		return
	}
	c.JSON(http.StatusOK, th)
}

// listModels is GET /v1/models: the stored model files and their lineage.
func (s *Server) listModels(c *gin.Context) {
	f, ok := s.federation(c)
	if !ok {
		return
	}
	ms, err := f.Models(c.Request.Context())
	if err != nil {
		abortErr(c, err)
		return
	}
	type view struct {
		coordinator.ModelFile
		Active bool `json:"active"`
	}
	active := ""
	if m := s.models().Active(); m != nil {
		active = m.Detector.ID()
	}
	out := make([]view, len(ms))
	for i, m := range ms {
		out[i] = view{ModelFile: m, Active: m.ID == active}
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

// promoteModel is POST /v1/models/{id}/promote.
func (s *Server) promoteModel(c *gin.Context) {
	id := c.Param("id")
	if !isModelID(id) {
		abort(c, probBadRequest, "model ids are 64 lower-case hex characters", ItemError{Pointer: "{id}", Detail: "malformed"})
		return
	}
	f, ok := s.federation(c)
	if !ok {
		return
	}
	if _, err := f.Promote(c.Request.Context(), id, actorOf(c)); err != nil {
		abortFederation(c, err)
		return
	}
	m := s.models().Active()
	if m == nil || m.Detector.ID() != id {
		abort(c, probInternal, "the model was not activated")
		return
	}
	c.JSON(http.StatusOK, infoOf(m))
}

// provenance is GET /v1/alerts/{id}/provenance: the alert, the model that
// decided it and the evidence behind that model, every record with its
// proof.
func (s *Server) provenance(c *gin.Context) {
	id, ok := alertID(c)
	if !ok {
		return
	}
	store, ok := s.alertStore(c)
	if !ok {
		return
	}
	f, ok := s.federation(c)
	if !ok {
		return
	}
	v, ok := s.verifier(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	d, err := store.GetAlert(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		abort(c, probNotFound, "no alert "+id.String())
		return
	}
	if err != nil {
		abortErr(c, err)
		return
	}
	if d.Model.ID == "" {
		abort(c, probNotFound, "alert "+id.String()+" was raised by a rule, not a model: it has no model provenance")
		return
	}
	proof, err := v.Verify(ctx, anchor.RecordID(id))
	if err != nil {
		s.abortVerify(c, err)
		return
	}
	mp, err := f.Provenance(ctx, d.Model.ID, s.deps.Records, v)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			abort(c, probNotFound, "the alert's model "+d.Model.ID+" is not stored here")
			return
		}
		abortErr(c, err)
		return
	}
	reg := ""
	if f.Registry != (common.Address{}) {
		reg = f.Registry.Hex()
	}
	c.JSON(http.StatusOK, coordinator.AlertProvenance{
		Alert:              coordinator.ProvenRecord{Record: d.Record, Proof: proof},
		Model:              mp,
		FederationRegistry: reg,
	})
}

package flfakes

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
)

// FLAPI serves the fl-node routes of api/openapi.yaml (GET /v1/fl/task, GET
// /v1/fl/models/{id}, POST /v1/fl/rounds/{n}/updates) over a real
// coordinator, for testing sites without the service: the statuses and
// bodies are the document's, errors are problem+json. Registry is the
// federation_registry it announces. Fault, when set, is asked first for
// every request and may answer it instead (a 503, a 409...); Tamper flips
// a byte of every model it serves. Every request and every update body
// posted is kept.
type FLAPI struct {
	C        *coordinator.Coordinator
	Store    coordinator.Store
	Registry string
	// Keys maps bearer tokens to the fl-node API key ids they are.
	Keys map[string]uuid.UUID

	mu          sync.Mutex
	Fault       func(r *http.Request) (status int, header http.Header, detail string, ok bool)
	Tamper      bool
	requests    []string
	submissions [][]byte
}

// Requests lists "METHOD path" of every request, in order.
func (f *FLAPI) Requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// Submissions lists the body of every update POST (answered or not).
func (f *FLAPI) Submissions() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.submissions...)
}

// SetFault replaces Fault under the lock.
func (f *FLAPI) SetFault(fault func(r *http.Request) (int, http.Header, string, bool)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Fault = fault
}

// SetTamper sets Tamper under the lock.
func (f *FLAPI) SetTamper(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Tamper = on
}

func (f *FLAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	if r.Method == http.MethodPost {
		f.submissions = append(f.submissions, body)
	}
	fault, tamper := f.Fault, f.Tamper
	tok, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	keyID, known := f.Keys[tok]
	f.mu.Unlock()
	if fault != nil {
		if status, h, detail, ok := fault(r); ok {
			for k, v := range h {
				w.Header()[k] = v
			}
			problem(w, status, detail)
			return
		}
	}
	if !bearer || !known {
		problem(w, http.StatusUnauthorized, "an API key is required")
		return
	}
	ctx := r.Context()
	path := r.URL.Path
	switch {
	case r.Method == http.MethodGet && path == "/v1/fl/task":
		f.task(ctx, w, keyID)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/v1/fl/models/"):
		f.model(ctx, w, keyID, strings.TrimPrefix(path, "/v1/fl/models/"), tamper)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/v1/fl/rounds/") && strings.HasSuffix(path, "/updates"):
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(path, "/v1/fl/rounds/"), "/updates"), 10, 64)
		if err != nil {
			problem(w, http.StatusNotFound, "no such round")
			return
		}
		f.submit(ctx, w, keyID, n, body)
	default:
		problem(w, http.StatusNotFound, "no such route")
	}
}

func (f *FLAPI) task(ctx context.Context, w http.ResponseWriter, keyID uuid.UUID) {
	t, err := f.C.Task(ctx, keyID)
	submitted := errors.Is(err, federated.ErrDuplicate)
	switch {
	case submitted:
	case errors.Is(err, coordinator.ErrNotASite):
		problemOf(w, http.StatusForbidden, "not-enrolled", "this key speaks for no enrolled site: enroll the site's address with this key's id (POST /v1/fl/sites)")
		return
	case errors.Is(err, coordinator.ErrNoRound), errors.Is(err, coordinator.ErrNotInvited):
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusNoContent)
		return
	case err != nil:
		problem(w, http.StatusInternalServerError, err.Error())
		return
	}
	r, err := f.Store.CurrentRound(ctx)
	if err != nil {
		problem(w, http.StatusInternalServerError, err.Error())
		return
	}
	m, err := f.Store.Model(ctx, t.BaseModel)
	if err != nil {
		problem(w, http.StatusInternalServerError, err.Error())
		return
	}
	var version uint64
	if m.Registered {
		version = m.Version
	}
	var site string
	if sites, err := f.Store.Sites(ctx); err == nil {
		for _, s := range sites {
			if s.KeyID == keyID {
				site = s.Address.Hex()
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"round": t.Round, "chain_id": t.ChainID, "base_model": t.BaseModel, "base_model_version": version,
		"federation_registry": f.Registry, "deadline": r.Deadline.Format(time.RFC3339Nano), "policy": t.Policy,
		"submitted": submitted, "site": site,
	})
}

func (f *FLAPI) model(ctx context.Context, w http.ResponseWriter, keyID uuid.UUID, id string, tamper bool) {
	m, err := f.C.Download(ctx, keyID, id)
	switch {
	case errors.Is(err, coordinator.ErrNotASite):
		problemOf(w, http.StatusForbidden, "not-enrolled", "this key speaks for no enrolled site")
		return
	case errors.Is(err, coordinator.ErrNotFound):
		problem(w, http.StatusNotFound, "no such model")
		return
	case err != nil:
		problem(w, http.StatusInternalServerError, err.Error())
		return
	}
	file := append([]byte(nil), m.File...)
	if tamper {
		file[len(file)-1] ^= 1
	}
	version := uint64(0)
	if m.Registered {
		version = m.Version
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Model-Id", m.ID)
	w.Header().Set("X-Registry-Version", strconv.FormatUint(version, 10))
	w.WriteHeader(http.StatusOK)
	w.Write(file)
}

func (f *FLAPI) submit(ctx context.Context, w http.ResponseWriter, keyID uuid.UUID, n uint64, body []byte) {
	// As the service does: an update signed for another round than the
	// path's is a conflict, refused before anything is stored.
	var head struct {
		Round uint64 `json:"round"`
	}
	if json.Unmarshal(body, &head) == nil && head.Round != 0 && head.Round != n {
		problem(w, http.StatusConflict, fmt.Sprintf("the update is signed for round %d, but was posted to round %d", head.Round, n))
		return
	}
	u, again, err := f.C.Submit(ctx, keyID, body)
	switch {
	case errors.Is(err, coordinator.ErrNotASite):
		problemOf(w, http.StatusForbidden, "not-enrolled", err.Error())
		return
	case err != nil:
		problem(w, SubmitStatus(err), err.Error())
		return
	}
	status := http.StatusAccepted
	if again {
		status = http.StatusOK
	}
	writeJSON(w, status, map[string]any{"record_id": u.RecordID.String(), "round": u.Round, "update_hash": u.Hash.Hex(),
		"leaf": "0x" + hex.EncodeToString(u.Leaf[:]), "again": again})
}

// SubmitStatus is the spec's status for an error of Coordinator.Submit.
func SubmitStatus(err error) int {
	switch {
	case errors.Is(err, coordinator.ErrNotASite), errors.Is(err, coordinator.ErrSiteMismatch):
		return http.StatusForbidden
	case errors.Is(err, federated.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, coordinator.ErrNoRound), errors.Is(err, federated.ErrWrongRound), errors.Is(err, federated.ErrRoundClosed),
		errors.Is(err, federated.ErrLate), errors.Is(err, federated.ErrDuplicate), errors.Is(err, federated.ErrWrongBase),
		errors.Is(err, federated.ErrWrongChain), errors.Is(err, federated.ErrRoundFull), errors.Is(err, federated.ErrNotEnrolled):
		return http.StatusConflict
	case errors.Is(err, federated.ErrMalformed), errors.Is(err, federated.ErrShape), errors.Is(err, federated.ErrNonFinite),
		errors.Is(err, federated.ErrEncoding), errors.Is(err, federated.ErrBadSignature), errors.Is(err, federated.ErrPolicy):
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

func problem(w http.ResponseWriter, status int, detail string) {
	slug := map[int]string{400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 409: "conflict",
		413: "payload-too-large", 422: "validation", 500: "internal", 503: "unavailable"}[status]
	problemOf(w, status, slug, detail)
}

// problemOf answers the problem of type slug (api/problem.go's table).
func problemOf(w http.ResponseWriter, status int, slug, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"type": "https://idsledger.dev/problems/" + slug, "title": http.StatusText(status),
		"status": status, "detail": detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

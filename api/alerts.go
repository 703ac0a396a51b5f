package api

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/chainhunt"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
)

// AlertStore is what the alert endpoints need from storage. *storage.DB
// implements it.
type AlertStore interface {
	ListAlerts(ctx context.Context, f storage.AlertFilter) ([]storage.Alert, *storage.AlertCursor, error)
	// StreamFrom and StreamAlerts follow alerts in commit order (the live
	// stream).
	StreamFrom(ctx context.Context, after *storage.AlertCursor) (storage.StreamPos, error)
	StreamAlerts(ctx context.Context, f storage.AlertFilter, pos storage.StreamPos, limit int) ([]storage.Alert, storage.StreamPos, error)
	GetAlert(ctx context.Context, id uuid.UUID) (storage.AlertDetail, error)
	UpdateWorkflow(ctx context.Context, id uuid.UUID, change storage.WorkflowChange, actor string) (uuid.UUID, error)
	Summary(ctx context.Context, q storage.ReportQuery) (storage.Report, error)
}

// RecordVerifier checks records against the registry on chain;
// *anchor.Verifier is the real one. anchor.ErrNotFound means no such record
// or batch, anchor.ErrBadProof a record or proof the caller sent that
// cannot be checked; any other error means the check could not be made
// (database or chain unreachable), never that a record failed it.
type RecordVerifier interface {
	// Verify checks a stored record (anchor.Verifier.Verify).
	Verify(ctx context.Context, id anchor.RecordID) (*anchor.Proof, error)
	// VerifyOffline checks a record body the caller holds against a proof
	// and the chain only (anchor.VerifyOffline).
	VerifyOffline(ctx context.Context, body []byte, p anchor.Proof) (*anchor.Proof, error)
	// Audit recomputes a batch from the database (anchor.Verifier.Audit).
	Audit(ctx context.Context, batchID uint64) (*anchor.AuditReport, error)
	// Batch returns a batch row, or anchor.ErrNotFound.
	Batch(ctx context.Context, id uint64) (anchor.Batch, error)
	// Batches lists batch rows newest first, without their record ids.
	Batches(ctx context.Context, f anchor.BatchFilter) ([]anchor.Batch, error)
}

// alertStore returns the alert store, or answers 503 when the server was
// built without one.
func (s *Server) alertStore(c *gin.Context) (AlertStore, bool) {
	if s.deps.Alerts == nil {
		abort(c, probUnavailable, "alert storage is not configured on this server")
		return nil, false
	}
	return s.deps.Alerts, true
}

// page is a listing response.
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// Cursors are opaque to clients: base64url of a version byte, the
// position's time in Unix microseconds and its id.
const cursorVersion = 1

func encodeCursor(c *storage.AlertCursor) *string {
	if c == nil {
		return nil
	}
	b := make([]byte, 0, 25)
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(c.ObservedAt.UnixMicro()))
	b = append(b, c.ID[:]...)
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

func decodeCursor(s string) (*storage.AlertCursor, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 25 || b[0] != cursorVersion {
		return nil, errors.New("not a cursor this server issued")
	}
	us := int64(binary.BigEndian.Uint64(b[1:9]))
	id, _ := uuid.FromBytes(b[9:])
	return &storage.AlertCursor{ObservedAt: time.UnixMicro(us).UTC(), ID: id}, nil
}

// listParams are the query parameters of the alert listing and export.
var listParams = map[string]bool{
	"from": true, "to": true, "class": true, "severity": true, "sensor": true, "model": true,
	"src": true, "dst": true, "anchor_status": true, "limit": true, "cursor": true,
	"source": true, "account": true, "tx": true, "rule": true,
}

// parseAlertFilter reads the listing filters from q; extra names other
// query parameters the caller accepts. Unknown parameters are refused so a
// typo does not silently list everything.
func parseAlertFilter(q url.Values, extra ...string) (storage.AlertFilter, []ItemError) {
	var f storage.AlertFilter
	var bad []ItemError
	fail := func(p, d string) { bad = append(bad, ItemError{Pointer: "?" + p, Detail: d}) }
	for name := range q {
		if !listParams[name] && !contains(extra, name) {
			fail(ingest.Clip(name, 40), "unknown query parameter")
		}
	}
	var err error
	if f.From, err = parseTime(q.Get("from")); err != nil {
		fail("from", err.Error())
	}
	if f.To, err = parseTime(q.Get("to")); err != nil {
		fail("to", err.Error())
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		fail("to", "must be after from")
	}
	f.Classes = listValues(q["class"])
	f.Sensors = listValues(q["sensor"])
	f.ModelIDs = listValues(q["model"])
	for _, v := range f.Classes {
		if len(v) > 200 || !utf8.ValidString(v) {
			fail("class", "at most 200 characters of UTF-8")
		}
	}
	for _, v := range listValues(q["severity"]) {
		s, err := ingest.ParseSeverity(v)
		if err != nil {
			fail("severity", err.Error())
			continue
		}
		f.Severities = append(f.Severities, s)
	}
	if f.Src, err = parsePrefix(q.Get("src")); err != nil {
		fail("src", err.Error())
	}
	if f.Dst, err = parsePrefix(q.Get("dst")); err != nil {
		fail("dst", err.Error())
	}
	switch v := q.Get("source"); v {
	case "", "flow", "chain":
		f.Source = v
	default:
		fail("source", "want flow or chain")
	}
	for _, v := range listValues(q["account"]) {
		a, err := parseAccount(v)
		if err != nil {
			fail("account", err.Error())
			continue
		}
		f.Accounts = append(f.Accounts, a)
	}
	for _, v := range listValues(q["tx"]) {
		if !isHex(v, common.HashLength) {
			fail("tx", "want a transaction hash: 0x and 64 hex digits")
			continue
		}
		f.TxHashes = append(f.TxHashes, common.HexToHash(v))
	}
	f.Rules = listValues(q["rule"])
	for _, v := range f.Rules {
		if len(v) > 200 || !printable(v) {
			fail("rule", "at most 200 printable characters")
		}
	}
	switch v := q.Get("anchor_status"); v {
	case "", "pending", "anchored":
		f.AnchorStatus = v
	default:
		fail("anchor_status", "want pending or anchored")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			fail("limit", "want an integer from 1 to 1000")
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		c, err := decodeCursor(v)
		if err != nil {
			fail("cursor", err.Error())
		}
		f.After = c
	}
	return f, bad
}

// isHex says whether s is 0x followed by n bytes in hex digits.
func isHex(s string, n int) bool {
	if len(s) != 2+2*n || (s[:2] != "0x" && s[:2] != "0X") {
		return false
	}
	_, err := hex.DecodeString(s[2:])
	return err == nil
}

// parseAccount reads an Ethereum account address: 0x and 40 hex digits,
// in one case or, when mixed, with a valid EIP-55 checksum (a mixed-case
// address that fails its checksum is a typo, not another account).
func parseAccount(s string) (common.Address, error) {
	if !isHex(s, common.AddressLength) {
		return common.Address{}, errors.New("want an account address: 0x and 40 hex digits")
	}
	a := common.HexToAddress(s)
	digits := s[2:]
	if digits != strings.ToLower(digits) && digits != strings.ToUpper(digits) && a.Hex() != "0x"+digits {
		return common.Address{}, errors.New("the address's mixed case is not its EIP-55 checksum")
	}
	return a, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// listValues splits repeated and comma-separated values, dropping empties.
func listValues(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, errors.New("want an RFC 3339 time, e.g. 2026-01-02T15:04:05Z")
	}
	if t.Year() < 1970 || t.Year() > 9999 {
		return t, errors.New("out of range")
	}
	return t.UTC(), nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, errors.New("want an IP address or CIDR prefix")
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, errors.New("want an IP address or CIDR prefix")
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// listAlerts is GET /v1/alerts.
func (s *Server) listAlerts(c *gin.Context) {
	store, ok := s.alertStore(c)
	if !ok {
		return
	}
	f, bad := parseAlertFilter(c.Request.URL.Query())
	if len(bad) > 0 {
		abort(c, probBadRequest, "the alert filters are invalid", bad...)
		return
	}
	items, next, err := store.ListAlerts(c.Request.Context(), f)
	if err != nil {
		abortErr(c, err)
		return
	}
	if items == nil {
		items = []storage.Alert{}
	}
	c.JSON(http.StatusOK, page[storage.Alert]{Items: items, NextCursor: encodeCursor(next)})
}

// alertID reads the :id path parameter; on failure the 404 is written.
func alertID(c *gin.Context) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		abort(c, probBadRequest, "alert ids are UUIDs", ItemError{Pointer: "{id}", Detail: "malformed"})
		return id, false
	}
	return id, true
}

// getAlert is GET /v1/alerts/{id}.
func (s *Server) getAlert(c *gin.Context) {
	store, ok := s.alertStore(c)
	if !ok {
		return
	}
	id, ok := alertID(c)
	if !ok {
		return
	}
	d, err := store.GetAlert(c.Request.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		abort(c, probNotFound, "no alert "+id.String())
		return
	}
	if err != nil {
		abortErr(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// patchAlert is PATCH /v1/alerts/{id}: the analyst workflow.
func (s *Server) patchAlert(c *gin.Context) {
	store, ok := s.alertStore(c)
	if !ok {
		return
	}
	id, ok := alertID(c)
	if !ok {
		return
	}
	var ch storage.WorkflowChange
	if !decodeJSON(c, &ch) {
		return
	}
	var bad []ItemError
	if ch.Acknowledged == nil && ch.Assignee == nil && ch.Note == nil {
		bad = append(bad, ItemError{Pointer: "/", Detail: "give acknowledged, assignee or note"})
	}
	if ch.Assignee != nil && (len(*ch.Assignee) > 200 || !printable(*ch.Assignee)) {
		bad = append(bad, ItemError{Pointer: "/assignee", Detail: "at most 200 printable characters"})
	}
	if ch.Note != nil && (strings.TrimSpace(*ch.Note) == "" || len(*ch.Note) > 10000 || !utf8.ValidString(*ch.Note)) {
		bad = append(bad, ItemError{Pointer: "/note", Detail: "1 to 10000 bytes of UTF-8"})
	}
	if len(bad) > 0 {
		abort(c, probValidation, "the workflow change is invalid", bad...)
		return
	}
	ev, err := store.UpdateWorkflow(c.Request.Context(), id, ch, actorOf(c))
	if errors.Is(err, storage.ErrNotFound) {
		abort(c, probNotFound, "no alert "+id.String())
		return
	}
	if err != nil {
		abortErr(c, err)
		return
	}
	d, err := store.GetAlert(c.Request.Context(), id)
	if err != nil {
		abortErr(c, err)
		return
	}
	c.Header("X-Audit-Event", ev.String())
	c.JSON(http.StatusOK, d)
}

// actorOf names the caller in audit events: its key's public prefix and name.
func actorOf(c *gin.Context) string {
	k := callerKey(c)
	return k.Prefix + " (" + k.Name + ")"
}

func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// abortVerify maps a verification error: no such record 404, anything
// else means the chain or database could not be asked (503).
func (s *Server) abortVerify(c *gin.Context, err error) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		abort(c, probNotFound, "")
	default:
		_ = c.Error(err)
		abort(c, probUnavailable, "the record could not be checked now (database or chain unreachable); retry later")
	}
}

func (s *Server) verifier(c *gin.Context) (RecordVerifier, bool) {
	if s.deps.Verifier == nil {
		abort(c, probUnavailable, "verification is not configured on this server (no chain)")
		return nil, false
	}
	return s.deps.Verifier, true
}

// verifyAlert is GET /v1/alerts/{id}/verify. An alert whose record row is
// gone reports tampered: the alert claims a record that no longer exists.
func (s *Server) verifyAlert(c *gin.Context) {
	store, ok := s.alertStore(c)
	if !ok {
		return
	}
	id, ok := alertID(c)
	if !ok {
		return
	}
	v, ok := s.verifier(c)
	if !ok {
		return
	}
	p, err := v.Verify(c.Request.Context(), anchor.RecordID(id))
	if errors.Is(err, anchor.ErrNotFound) {
		if d, gerr := store.GetAlert(c.Request.Context(), id); gerr == nil {
			s.deps.Metrics.verified(string(anchor.StatusTampered))
			c.JSON(http.StatusOK, anchor.Proof{Status: anchor.StatusTampered, RecordID: id.String(), Kind: d.Type,
				Reason: "the alert's record is missing from the database", AuditPath: []anchor.HexHash{}})
			return
		}
		abort(c, probNotFound, "no alert "+id.String())
		return
	}
	if err != nil {
		s.abortVerify(c, err)
		return
	}
	if p.Kind != "" && p.Kind != "alert" && p.Kind != chainhunt.Kind {
		abort(c, probNotFound, "record "+id.String()+" is not an alert")
		return
	}
	// The record is what was anchored; the alert row is the copy that
	// listings, reports and exports read. A verified record whose row was
	// changed is still a tampered alert.
	if p.Status == anchor.StatusVerified {
		d, err := store.GetAlert(c.Request.Context(), id)
		if err != nil {
			abortErr(c, err)
			return
		}
		if diff := d.RowMismatch(); len(diff) > 0 {
			p.Status = anchor.StatusTampered
			p.Reason = "the alert row differs from its anchored record in: " + strings.Join(diff, ", ")
		}
	}
	s.deps.Metrics.verified(string(p.Status))
	c.JSON(http.StatusOK, p)
}

// proofBundle is what an auditor needs to verify an alert offline: the
// record body as stored (the bytes that were hashed) and its proof.
type proofBundle struct {
	Record json.RawMessage `json:"record"`
	Proof  *anchor.Proof   `json:"proof"`
}

// alertProof is GET /v1/alerts/{id}/proof.
func (s *Server) alertProof(c *gin.Context) {
	store, ok := s.alertStore(c)
	if !ok {
		return
	}
	id, ok := alertID(c)
	if !ok {
		return
	}
	v, ok := s.verifier(c)
	if !ok {
		return
	}
	d, err := store.GetAlert(c.Request.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		abort(c, probNotFound, "no alert "+id.String())
		return
	}
	if err != nil {
		abortErr(c, err)
		return
	}
	if len(d.Record) == 0 {
		abort(c, probNotFound, "the alert's record is missing from the database")
		return
	}
	p, err := v.Verify(c.Request.Context(), anchor.RecordID(id))
	if err != nil {
		s.abortVerify(c, err)
		return
	}
	c.JSON(http.StatusOK, proofBundle{Record: d.Record, Proof: p})
}

// verifyRequest is the body of POST /v1/verify.
type verifyRequest struct {
	// Record is the record body the caller holds (any JSON; it is
	// canonicalized before hashing).
	Record json.RawMessage `json:"record"`
	// Proof is the proof the caller holds; without it, RecordID names the
	// record whose audit path this server supplies (the verdict still
	// rests on the caller's body and the chain, not on this database).
	Proof    *anchor.Proof `json:"proof,omitempty"`
	RecordID string        `json:"record_id,omitempty"`
}

// verifyRecord is POST /v1/verify.
func (s *Server) verifyRecord(c *gin.Context) {
	var req verifyRequest
	if !decodeJSON(c, &req) {
		return
	}
	v, ok := s.verifier(c)
	if !ok {
		return
	}
	var bad []ItemError
	if len(req.Record) == 0 || string(req.Record) == "null" {
		bad = append(bad, ItemError{Pointer: "/record", Detail: "required: the record body"})
	} else if _, err := anchor.Canonicalize(req.Record); err != nil {
		bad = append(bad, ItemError{Pointer: "/record", Detail: "has no canonical JSON form"})
	}
	var id uuid.UUID
	if req.Proof == nil {
		var err error
		if id, err = uuid.Parse(req.RecordID); err != nil {
			bad = append(bad, ItemError{Pointer: "/record_id", Detail: "required (a UUID) when no proof is given"})
		}
	}
	if len(bad) > 0 {
		abort(c, probValidation, "the verification request is invalid", bad...)
		return
	}
	proof := req.Proof
	if proof == nil {
		p, err := v.Verify(c.Request.Context(), anchor.RecordID(id))
		if err != nil {
			s.abortVerify(c, err)
			return
		}
		if p.Status == anchor.StatusPending {
			s.deps.Metrics.verified(string(p.Status))
			c.JSON(http.StatusOK, p)
			return
		}
		proof = p
	}
	out, err := v.VerifyOffline(c.Request.Context(), req.Record, *proof)
	if err != nil {
		if errors.Is(err, anchor.ErrBadProof) {
			abort(c, probValidation, err.Error())
			return
		}
		s.abortVerify(c, err)
		return
	}
	s.deps.Metrics.verified(string(out.Status))
	c.JSON(http.StatusOK, out)
}

// batchView is a batch as GET /v1/batches/{id} shows it.
type batchView struct {
	ID          uint64          `json:"id"`
	Mode        anchor.Mode     `json:"mode"`
	Kind        uint8           `json:"kind"`
	Root        anchor.HexHash  `json:"root"`
	LeafCount   int             `json:"leaf_count"`
	Status      string          `json:"status"`
	RecordIDs   []string        `json:"record_ids,omitempty"`
	TxHash      *anchor.HexHash `json:"tx_hash,omitempty"`
	BlockNumber uint64          `json:"block_number,omitempty"`
	BlockHash   *anchor.HexHash `json:"block_hash,omitempty"`
	BlockTime   *time.Time      `json:"block_time,omitempty"`
	GasUsed     uint64          `json:"gas_used,omitempty"`
}

func batchID(c *gin.Context) (uint64, bool) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 63)
	if err != nil || id == 0 {
		abort(c, probBadRequest, "batch ids are positive integers", ItemError{Pointer: "{id}", Detail: "malformed"})
		return 0, false
	}
	return id, true
}

// getBatch is GET /v1/batches/{id}.
func (s *Server) getBatch(c *gin.Context) {
	id, ok := batchID(c)
	if !ok {
		return
	}
	v, ok := s.verifier(c)
	if !ok {
		return
	}
	b, err := v.Batch(c.Request.Context(), id)
	if err != nil {
		if errors.Is(err, anchor.ErrNotFound) {
			abort(c, probNotFound, fmt.Sprintf("no batch %d", id))
			return
		}
		s.abortVerify(c, err)
		return
	}
	out := viewBatch(b)
	out.RecordIDs = make([]string, len(b.RecordIDs))
	for i, r := range b.RecordIDs {
		out.RecordIDs[i] = uuid.UUID(r).String()
	}
	c.JSON(http.StatusOK, out)
}

// viewBatch is a batch as the API shows it, record ids aside.
func viewBatch(b anchor.Batch) batchView {
	out := batchView{ID: b.ID, Mode: b.Mode, Kind: b.Kind, Root: anchor.HexHash(b.Root), LeafCount: b.LeafCount,
		Status: string(b.Status)}
	if b.HasTx {
		tx := anchor.HexHash(b.Tx)
		out.TxHash = &tx
	}
	if b.Status == anchor.BatchConfirmed {
		bh := anchor.HexHash(b.Inclusion.BlockHash)
		bt := b.Inclusion.BlockTime
		out.BlockNumber, out.BlockHash, out.BlockTime, out.GasUsed = b.Inclusion.BlockNumber, &bh, &bt, b.Inclusion.GasUsed
	}
	return out
}

// listBatches is GET /v1/batches: batches newest first, filtered by
// status, paged with the cursor of the previous page (the last id it
// listed); record ids are in GET /v1/batches/{id}.
func (s *Server) listBatches(c *gin.Context) {
	q := c.Request.URL.Query()
	var bad []ItemError
	for name := range q {
		if name != "status" && name != "limit" && name != "cursor" {
			bad = append(bad, ItemError{Pointer: "?" + name, Detail: "unknown parameter (status, limit, cursor)"})
		}
	}
	f := anchor.BatchFilter{Limit: 50, Status: anchor.BatchStatus(q.Get("status"))}
	switch f.Status {
	case "", anchor.BatchPrepared, anchor.BatchSent, anchor.BatchConfirmed, anchor.BatchOrphaned:
	default:
		bad = append(bad, ItemError{Pointer: "?status", Detail: "prepared, sent, confirmed or orphaned"})
	}
	if v := q.Get("limit"); v != "" {
		n, err := parseSmallInt(v, 1, 500)
		if err != nil {
			bad = append(bad, ItemError{Pointer: "?limit", Detail: err.Error()})
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil || n == 0 {
			bad = append(bad, ItemError{Pointer: "?cursor", Detail: "the next_cursor of a previous page"})
		}
		f.Before = n
	}
	if len(bad) > 0 {
		abort(c, probBadRequest, "the batch listing's parameters are invalid", bad...)
		return
	}
	v, ok := s.verifier(c)
	if !ok {
		return
	}
	batches, err := v.Batches(c.Request.Context(), f)
	if err != nil {
		s.abortVerify(c, err)
		return
	}
	p := page[batchView]{Items: make([]batchView, len(batches))}
	for i, b := range batches {
		p.Items[i] = viewBatch(b)
	}
	if len(batches) == f.Limit {
		next := strconv.FormatUint(batches[len(batches)-1].ID, 10)
		p.NextCursor = &next
	}
	c.JSON(http.StatusOK, p)
}

// auditBatch is GET /v1/batches/{id}/audit.
func (s *Server) auditBatch(c *gin.Context) {
	id, ok := batchID(c)
	if !ok {
		return
	}
	v, ok := s.verifier(c)
	if !ok {
		return
	}
	rep, err := v.Audit(c.Request.Context(), id)
	if err != nil {
		if errors.Is(err, anchor.ErrNotFound) {
			abort(c, probNotFound, fmt.Sprintf("no batch %d", id))
			return
		}
		s.abortVerify(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}

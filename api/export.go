package api

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/idsledger/idsledger/chainhunt"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
)

// exportPage is how many alerts an export reads per query.
const exportPage = 500

// exportFormats are the formats of GET /v1/alerts/export and their content
// types. The JSON formats are one object per line.
var exportFormats = map[string]string{
	"ndjson": "application/x-ndjson",
	"csv":    "text/csv; charset=utf-8",
	"ocsf":   "application/x-ndjson",
	"ecs":    "application/x-ndjson",
	"eve":    "application/x-ndjson",
}

// AnchorRef points from an exported alert to its proof: the record id,
// where it is anchored, and the path that returns the proof bundle.
type AnchorRef struct {
	RecordID   string     `json:"record_id"`
	Status     string     `json:"status"`
	BatchID    *int64     `json:"batch_id,omitempty"`
	LeafIndex  *int32     `json:"leaf_index,omitempty"`
	AnchoredAt *time.Time `json:"anchored_at,omitempty"`
	ProofURL   string     `json:"proof_url"`
}

func anchorRef(a storage.Alert) AnchorRef {
	return AnchorRef{RecordID: a.ID.String(), Status: a.Anchor.Status, BatchID: a.Anchor.BatchID,
		LeafIndex: a.Anchor.LeafIndex, AnchoredAt: a.Anchor.AnchoredAt, ProofURL: "/v1/alerts/" + a.ID.String() + "/proof"}
}

// exportAlerts is GET /v1/alerts/export: every alert matching the listing
// filters, oldest first, streamed page by page with bounded memory. `max`
// caps the number of alerts. An error after the first byte aborts the
// response (http.ErrAbortHandler): the client's read fails instead of
// ending cleanly, so a truncated export cannot pass for a whole one.
func (s *Server) exportAlerts(c *gin.Context) {
	store, ok := s.alertStore(c)
	if !ok {
		return
	}
	q := c.Request.URL.Query()
	format := q.Get("format")
	ctype, ok := exportFormats[format]
	if !ok {
		abort(c, probBadRequest, "format: want ocsf, ecs, eve, csv or ndjson", ItemError{Pointer: "?format", Detail: "unknown format"})
		return
	}
	f, bad := parseAlertFilter(q, "format", "max")
	max := -1
	if v := q.Get("max"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10_000_000 {
			bad = append(bad, ItemError{Pointer: "?max", Detail: "want an integer from 1 to 10000000"})
		}
		max = n
	}
	if q.Get("limit") != "" {
		bad = append(bad, ItemError{Pointer: "?limit", Detail: "exports are not paged; use max"})
	}
	if len(bad) > 0 {
		abort(c, probBadRequest, "the export filters are invalid", bad...)
		return
	}
	f.Ascending = true
	f.Limit = exportPage
	f.WithFeatures = format == "ndjson" || format == "ocsf"

	ctx := c.Request.Context()
	items, next, err := store.ListAlerts(ctx, f)
	if err != nil {
		abortErr(c, err)
		return
	}
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetWriteDeadline(time.Time{}) // a long export outlives the server's write timeout
	c.Header("Content-Type", ctype)
	ext := "ndjson"
	if format == "csv" {
		ext = "csv"
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="alerts-%s.%s"`, format, ext))
	c.Status(http.StatusOK)
	w := bufio.NewWriterSize(c.Writer, 64<<10)
	var cw *csv.Writer
	if format == "csv" {
		cw = csv.NewWriter(w)
		_ = cw.Write(csvHeader)
	}
	written := 0
	for {
		for _, a := range items {
			if max >= 0 && written >= max {
				break
			}
			var err error
			if cw != nil {
				err = cw.Write(csvRow(a))
			} else {
				err = jsonEncode(w, exportDoc(format, a))
			}
			if err != nil {
				_ = c.Error(fmt.Errorf("export: %w", err))
				panic(http.ErrAbortHandler)
			}
			written++
		}
		if cw != nil {
			cw.Flush()
		}
		if err := w.Flush(); err != nil {
			return // the client went away
		}
		_ = rc.Flush()
		if next == nil || (max >= 0 && written >= max) {
			return
		}
		f.After = next
		items, next, err = store.ListAlerts(ctx, f)
		if err != nil {
			_ = c.Error(fmt.Errorf("export stopped after %d alerts: %w", written, err))
			panic(http.ErrAbortHandler)
		}
	}
}

func exportDoc(format string, a storage.Alert) any {
	switch format {
	case "ocsf":
		return ocsfFinding(a)
	case "ecs":
		return ecsDoc(a)
	case "eve":
		return eveDoc(a)
	}
	return struct {
		storage.Alert
		AnchorRef AnchorRef `json:"anchor_ref"`
	}{a, anchorRef(a)}
}

var csvHeader = []string{"id", "observed_at", "sensor", "src_addr", "src_port", "dst_addr", "dst_port", "proto",
	"community_id", "class", "score", "risk", "severity", "model_id", "model_version", "anchor_status", "batch_id", "leaf_index", "proof_url",
	// Appended when chain alerts came, so that earlier columns keep their
	// places; empty for a flow alert.
	"source", "chain_id", "block_number", "block_hash", "tx", "account", "rule"}

func csvRow(a storage.Alert) []string {
	addr := func(x fmt.Stringer, ok bool) string {
		if !ok {
			return ""
		}
		return x.String()
	}
	opt := func(p any) string {
		switch v := p.(type) {
		case *int64:
			if v != nil {
				return strconv.FormatInt(*v, 10)
			}
		case *int32:
			if v != nil {
				return strconv.FormatInt(int64(*v), 10)
			}
		}
		return ""
	}
	row := []string{a.ID.String(), a.ObservedAt.Format(time.RFC3339Nano), a.Sensor,
		addr(a.Flow.SrcAddr, a.Flow.SrcAddr.IsValid()), strconv.Itoa(int(a.Flow.SrcPort)),
		addr(a.Flow.DstAddr, a.Flow.DstAddr.IsValid()), strconv.Itoa(int(a.Flow.DstPort)), strconv.Itoa(int(a.Flow.Proto)),
		a.CommunityID, a.Class, strconv.FormatFloat(a.Score, 'g', -1, 64), strconv.FormatFloat(a.Risk, 'f', -1, 64),
		string(a.Severity), a.Model.ID, a.Model.Version,
		a.Anchor.Status, opt(a.Anchor.BatchID), opt(a.Anchor.LeafIndex), "/v1/alerts/" + a.ID.String() + "/proof",
		a.Source}
	if c := a.Chain; c != nil {
		row = append(row, strconv.FormatUint(c.ChainID, 10), strconv.FormatUint(c.Block.Number, 10), c.Block.Hash, c.Tx, c.Account, c.Rule)
	} else {
		row = append(row, "", "", "", "", "", "")
	}
	for i, v := range row {
		row[i] = csvSafe(v)
	}
	return row
}

// csvSafe defuses spreadsheet formulas: a cell that starts with = + - @ or
// a control character gets a leading apostrophe (OWASP's advice for CSV
// injection). Numbers are left alone.
func csvSafe(v string) string {
	if v == "" {
		return v
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + v
	}
	return v
}

// severityID maps severities to OCSF severity_id (2 low … 5 critical); ECS
// uses the same numbers.
func severityID(s ingest.Severity) int { return max(s.Rank(), 0) + 2 }

// eveSeverity maps severities to Suricata's 1 (highest) … 3 (lowest).
func eveSeverity(s ingest.Severity) int {
	switch s {
	case ingest.SeverityCritical, ingest.SeverityHigh:
		return 1
	case ingest.SeverityMedium:
		return 2
	}
	return 3
}

var protoNames = map[uint8]string{1: "ICMP", 6: "TCP", 17: "UDP", 58: "IPv6-ICMP", 132: "SCTP"}

func protoName(p uint8) string {
	if n, ok := protoNames[p]; ok {
		return n
	}
	return strconv.Itoa(int(p))
}

type endpoint struct {
	IP   string `json:"ip,omitempty"`
	Port uint16 `json:"port,omitempty"`
}

func endpoints(a storage.Alert) (src, dst *endpoint) {
	if a.Flow.SrcAddr.IsValid() {
		src = &endpoint{IP: a.Flow.SrcAddr.String(), Port: a.Flow.SrcPort}
	}
	if a.Flow.DstAddr.IsValid() {
		dst = &endpoint{IP: a.Flow.DstAddr.String(), Port: a.Flow.DstPort}
	}
	return src, dst
}

// ocsfFinding renders an alert as an OCSF (1.1) Detection Finding
// (class_uid 2004, activity Create).
func ocsfFinding(a storage.Alert) map[string]any {
	if a.Chain != nil {
		return ocsfChainFinding(a)
	}
	src, dst := endpoints(a)
	doc := ocsfBase(a, fmt.Sprintf("%s flow detected by model %s", a.Class, a.Model.Version),
		map[string]any{"name": a.Model.Version, "uid": a.Model.ID, "type_id": 4, "type": "Learning (ML/DL)"})
	doc["connection_info"] = map[string]any{"protocol_num": a.Flow.Proto, "protocol_name": strings.ToLower(protoName(a.Flow.Proto)),
		"community_uid": a.CommunityID}
	doc["unmapped"] = map[string]any{"idsledger": map[string]any{"anchor": anchorRef(a), "score": a.Score, "features": a.Features}}
	if src != nil {
		doc["src_endpoint"] = src
	}
	if dst != nil {
		doc["dst_endpoint"] = dst
	}
	return doc
}

// ocsfBase is what every Detection Finding of ours holds: the class, the
// time, severity, status and risk, the product, the device (the sensor),
// and the finding with its message and the analytic that decided.
func ocsfBase(a storage.Alert, message string, analytic map[string]any) map[string]any {
	ms := a.ObservedAt.UnixMilli()
	status, statusID := "New", 1
	if a.Workflow.Acknowledged {
		status, statusID = "In Progress", 2
	}
	return map[string]any{
		"class_uid": 2004, "class_name": "Detection Finding", "category_uid": 2, "category_name": "Findings",
		"activity_id": 1, "activity_name": "Create", "type_uid": 200401, "type_name": "Detection Finding: Create",
		"time": ms, "severity_id": severityID(a.Severity), "severity": titleCase(string(a.Severity)),
		"status_id": statusID, "status": status,
		"confidence_score": int(math.Round(a.Risk)), "risk_score": int(math.Round(a.Risk)),
		"risk_level_id": severityID(a.Severity) - 1, "risk_level": titleCase(string(a.Severity)),
		"message": message,
		"metadata": map[string]any{
			"version": "1.1.0", "uid": a.ID.String(),
			"product": map[string]any{"name": "idsledger", "vendor_name": "idsledger"},
		},
		"finding_info": map[string]any{
			"uid": a.ID.String(), "title": a.Class + " detected", "types": []string{a.Class},
			"created_time": ms, "analytic": analytic,
		},
		"device": map[string]any{"name": a.Sensor, "type_id": 0},
	}
}

// ocsfResourceUID is OCSF 1.1's observable type of a resource's uid (the
// dictionary's resource_uid_t). OCSF 1.4 added "Account: uid" (35), which
// a 1.1 document cannot use.
const ocsfResourceUID = 10

// ocsfChainFinding renders a chain alert as an OCSF (1.1) Detection
// Finding: the block, the account and the transaction it names are its
// affected resources (Ethereum Block, Ethereum Account, Ethereum
// Transaction, each by its hash or address as uid), the account and the
// transaction are its observables (Resource UID), and the hunter's rule or
// model is the analytic. The summary is the message; the evidence and the
// chain details are under unmapped.idsledger.
func ocsfChainFinding(a storage.Alert) map[string]any {
	c := a.Chain
	analytic := map[string]any{"name": c.Rule, "uid": c.Rule, "type_id": 1, "type": "Rule"}
	if c.Method == string(chainhunt.MethodModel) {
		analytic = map[string]any{"name": a.Model.Version, "uid": a.Model.ID, "type_id": 4, "type": "Learning (ML/DL)"}
	}
	chainName := strconv.FormatUint(c.ChainID, 10)
	resources := []map[string]any{{
		"type": "Ethereum Block", "uid": c.Block.Hash, "name": strconv.FormatUint(c.Block.Number, 10),
		"namespace": chainName, "data": map[string]any{"number": c.Block.Number, "time": c.Block.Time.UnixMilli()},
	}}
	observables := []map[string]any{}
	if c.Account != "" {
		resources = append(resources, map[string]any{"type": "Ethereum Account", "uid": c.Account, "namespace": chainName})
		observables = append(observables, map[string]any{"name": "resources.uid", "type_id": ocsfResourceUID, "type": "Resource UID", "value": c.Account})
	}
	if c.Tx != "" {
		resources = append(resources, map[string]any{"type": "Ethereum Transaction", "uid": c.Tx, "namespace": chainName})
		observables = append(observables, map[string]any{"name": "resources.uid", "type_id": ocsfResourceUID, "type": "Resource UID", "value": c.Tx})
	}
	message := c.Summary
	if message == "" {
		message = a.Class + " detected on chain " + chainName
	}
	doc := ocsfBase(a, message, analytic)
	doc["resources"], doc["observables"] = resources, observables
	doc["unmapped"] = map[string]any{"idsledger": map[string]any{"anchor": anchorRef(a), "score": a.Score, "chain": c}}
	return doc
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ecsDoc renders an alert in the Elastic Common Schema (8.x).
func ecsDoc(a storage.Alert) map[string]any {
	src, dst := endpoints(a)
	doc := map[string]any{
		"@timestamp": a.ObservedAt.Format(time.RFC3339Nano),
		"ecs":        map[string]any{"version": "8.11.0"},
		"event": map[string]any{
			"kind": "alert", "category": []string{"network", "intrusion_detection"}, "type": []string{"info"},
			"id": a.ID.String(), "severity": severityID(a.Severity), "risk_score": a.Risk, "risk_score_norm": a.Risk,
			"module": "idsledger", "dataset": "idsledger.alert",
		},
		"rule":     map[string]any{"name": a.Class, "category": a.Class, "id": a.Model.ID, "version": a.Model.Version},
		"observer": map[string]any{"name": a.Sensor, "type": "ids", "vendor": "idsledger"},
		"network":  map[string]any{"iana_number": strconv.Itoa(int(a.Flow.Proto)), "transport": strings.ToLower(protoName(a.Flow.Proto)), "community_id": a.CommunityID},
		"idsledger": withChain(map[string]any{"anchor": anchorRef(a), "severity": a.Severity, "model": a.Model,
			"acknowledged": a.Workflow.Acknowledged}, a),
	}
	if c := a.Chain; c != nil { // no flow, and a rule of the hunter's
		delete(doc, "network")
		doc["event"].(map[string]any)["category"] = []string{"intrusion_detection"}
		doc["rule"] = map[string]any{"name": c.Rule, "category": a.Class, "id": c.Rule}
	}
	if src != nil {
		doc["source"] = src
	}
	if dst != nil {
		doc["destination"] = dst
	}
	return doc
}

// withChain returns an export's idsledger section (ECS, EVE) with, for a
// chain alert, its source and chain object, for which those formats have
// no fields of their own.
func withChain(section map[string]any, a storage.Alert) map[string]any {
	if a.Chain != nil {
		section["source"], section["chain"] = a.Source, a.Chain
	}
	return section
}

// eveDoc renders an alert as a Suricata EVE "alert" event.
func eveDoc(a storage.Alert) map[string]any {
	doc := map[string]any{
		"timestamp":    a.ObservedAt.Format("2006-01-02T15:04:05.000000-0700"),
		"event_type":   "alert",
		"proto":        protoName(a.Flow.Proto),
		"community_id": a.CommunityID,
		"host":         a.Sensor,
		"alert": map[string]any{
			"action": "allowed", "gid": 1, "signature_id": 0, "rev": 1,
			"signature": "idsledger " + a.Class, "category": a.Class, "severity": eveSeverity(a.Severity),
			"metadata": map[string]any{"model_id": []string{a.Model.ID}, "model_version": []string{a.Model.Version},
				"score": []string{strconv.FormatFloat(a.Score, 'g', -1, 64)}, "risk": []string{strconv.FormatFloat(a.Risk, 'f', -1, 64)}},
		},
		"idsledger": withChain(map[string]any{"alert_id": a.ID.String(), "anchor": anchorRef(a)}, a),
	}
	if a.Chain != nil { // no flow
		delete(doc, "proto")
		delete(doc, "community_id")
	}
	if a.Flow.SrcAddr.IsValid() {
		doc["src_ip"], doc["src_port"] = a.Flow.SrcAddr.String(), a.Flow.SrcPort
	}
	if a.Flow.DstAddr.IsValid() {
		doc["dest_ip"], doc["dest_port"] = a.Flow.DstAddr.String(), a.Flow.DstPort
	}
	return doc
}

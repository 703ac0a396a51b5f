package api

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/storage"
)

// Limits on one flow record, whatever its format.
const (
	maxFlowFields     = 512
	maxFieldNameBytes = 128
	maxFieldBytes     = 4096
)

// flowRecord is one record of an ingest request before parsing as a flow.
type flowRecord struct {
	index  int // position among the request's records, from 0
	line   int // line in a CSV or NDJSON body (0 for a JSON array)
	header *detector.Header
	values []string // aligned with header's columns
	err    string   // why the record is rejected ("" when it is not)
}

// FlowError says why one record of an ingest request was rejected.
type FlowError struct {
	Index  int    `json:"index"`
	Line   int    `json:"line,omitempty"`
	Detail string `json:"detail"`
}

// Verdict is the model's decision on one accepted flow.
type Verdict struct {
	Index   int        `json:"index"`
	Class   string     `json:"class"`
	Score   float64    `json:"score"`
	Alert   bool       `json:"alert"`
	AlertID *uuid.UUID `json:"alert_id,omitempty"`
}

// IngestResponse is the answer to POST /v1/flows. Every accepted flow was
// scored; every alert raised was stored (all of them, in one transaction,
// or the request fails with nothing stored).
type IngestResponse struct {
	Model    storage.ModelRef `json:"model"`
	Schema   string           `json:"schema"`
	Received int              `json:"received"`
	Accepted int              `json:"accepted"`
	Rejected int              `json:"rejected"`
	Alerts   int              `json:"alerts"`
	// ByClass counts accepted flows by predicted class.
	ByClass map[string]int `json:"by_class"`
	// Verdicts has one entry per accepted flow, in request order; it is
	// omitted (Summarized true) when there are more than the server's
	// verdict limit, and AlertIDs then lists the alerts raised.
	Verdicts   []Verdict   `json:"verdicts,omitempty"`
	Summarized bool        `json:"summarized,omitempty"`
	AlertIDs   []uuid.UUID `json:"alert_ids,omitempty"`
	Errors     []FlowError `json:"errors"`
}

// ingestFlows is POST /v1/flows.
func (s *Server) ingestFlows(c *gin.Context) {
	store, ok := s.alertStore(c)
	if !ok {
		return
	}
	m := s.deps.Models.Active()
	if m == nil {
		abort(c, probUnavailable, noModelDetail)
		return
	}
	d := m.Detector
	schema := c.Query("schema")
	if schema == "" {
		schema = d.Dataset()
	}
	if _, err := detector.LookupSchema(schema, d.Pipeline.LoadOptions()); err != nil {
		abort(c, probBadRequest, fmt.Sprintf("unknown schema %q; the schemas are %s", clip(schema, 64), strings.Join(detector.DatasetKinds(), ", ")),
			ItemError{Pointer: "?schema", Detail: "unknown schema"})
		return
	}
	if schema != d.Dataset() {
		abort(c, probValidation, fmt.Sprintf("the active model reads %s flows, not %s", d.Dataset(), schema),
			ItemError{Pointer: "?schema", Detail: "not the active model's schema"})
		return
	}
	sensor, ok := sensorOf(c)
	if !ok {
		return
	}
	tm := startTiming(c)
	records, ok := s.readFlowRecords(c)
	if !ok {
		return
	}
	tm.mark("read")
	started := time.Now()

	resp := IngestResponse{Model: m.Ref(), Schema: schema, Received: len(records), ByClass: map[string]int{}, Errors: []FlowError{}}
	flows := make([]*detector.Flow, 0, len(records))
	accepted := make([]int, 0, len(records)) // record index of each flow
	features := d.Pipeline.FeatureNames()
	for _, r := range records {
		if r.err == "" {
			f, err := d.NewFlowRow(r.header, r.values)
			switch {
			case err != nil:
				r.err = err.Error()
			case !d.Pipeline.HasFeatures(f):
				r.err = fmt.Sprintf("none of the model's %d feature columns is present (e.g. %s)", len(features), features[0])
			default:
				flows = append(flows, f)
				accepted = append(accepted, r.index)
				continue
			}
		}
		resp.Errors = append(resp.Errors, FlowError{Index: r.index, Line: r.line, Detail: r.err})
	}
	resp.Accepted, resp.Rejected = len(flows), len(resp.Errors)
	if len(flows) == 0 {
		items := make([]ItemError, 0, min(len(resp.Errors), 100))
		for _, e := range resp.Errors[:min(len(resp.Errors), 100)] {
			items = append(items, ItemError{Pointer: recordPointer(e), Detail: e.Detail})
		}
		detail := "the request holds no flow records"
		if len(records) > 0 {
			detail = fmt.Sprintf("all %d flow records were rejected; nothing was stored", len(records))
		}
		abort(c, probValidation, detail, items...)
		return
	}

	tm.mark("parse")
	preds, err := m.Detect(flows)
	if err != nil {
		_ = c.Error(fmt.Errorf("score flows: %w", err))
		abort(c, probInternal, "scoring failed; nothing was stored")
		return
	}
	s.deps.Metrics.flowsScored(len(flows), time.Since(started))
	tm.mark("score")

	now := time.Now().UTC()
	ref := m.Ref()
	var bodies []storage.AlertBody
	var alertAt []int // verdict index of each alert
	verdicts := make([]Verdict, len(flows))
	for i, p := range preds {
		class := d.ClassName(p.Class)
		score := p.Score
		if math.IsNaN(score) || math.IsInf(score, 0) {
			score = 0
		}
		verdicts[i] = Verdict{Index: accepted[i], Class: class, Score: score, Alert: p.Alert}
		resp.ByClass[class]++
		if !p.Alert {
			continue
		}
		bodies = append(bodies, alertBody(flows[i], class, score, d, now, sensor, ref))
		alertAt = append(alertAt, i)
	}
	if len(bodies) > 0 {
		tm.mark("alerts")
		ids, err := store.InsertAlerts(c.Request.Context(), bodies)
		tm.mark("store")
		if err != nil {
			if errors.Is(err, storage.ErrUnavailable) {
				abort(c, probUnavailable, "the database is unavailable; no flow of this request was stored, send it again")
				return
			}
			_ = c.Error(err)
			abort(c, probInternal, "storing alerts failed; no flow of this request was stored")
			return
		}
		for k := range ids {
			verdicts[alertAt[k]].AlertID = &ids[k]
		}
		resp.Alerts = len(ids)
		s.deps.Metrics.alertsRaised(bodies)
		if s.deps.OnRecords != nil {
			s.deps.OnRecords()
		}
		if s.deps.Webhooks != nil {
			s.deps.Webhooks.Notify(ids, bodies)
		}
		if len(verdicts) > s.verdictLimit() {
			resp.AlertIDs = ids
		}
	}
	if len(verdicts) > s.verdictLimit() {
		resp.Summarized = true
	} else {
		resp.Verdicts = verdicts
	}
	tm.header(c)
	c.JSON(http.StatusOK, resp)
}

func recordPointer(e FlowError) string {
	if e.Line > 0 {
		return "line " + strconv.Itoa(e.Line)
	}
	return "/" + strconv.Itoa(e.Index)
}

// alertBody builds the hashed alert record of a flow.
func alertBody(f *detector.Flow, class string, score float64, d *detector.Detector,
	now time.Time, sensor string, ref storage.ModelRef) storage.AlertBody {
	t := f.Tuple
	return storage.AlertBody{
		ObservedAt: now,
		Sensor:     sensor,
		Flow: storage.FlowTuple{SrcAddr: t.SrcAddr, SrcPort: t.SrcPort, DstAddr: t.DstAddr, DstPort: t.DstPort,
			Proto: t.Proto},
		CommunityID: CommunityID(t.SrcAddr, t.DstAddr, t.SrcPort, t.DstPort, t.Proto),
		Features:    d.Pipeline.FeatureFields(f),
		Class:       class,
		Score:       score,
		Severity:    severityOf(d.Meta.Supervised, score, d.Meta.Threshold),
		Model:       ref,
	}
}

// severityOf ranks an alert by how far its score is past the alert line.
// Supervised scores are 1 − P(benign): critical from 0.99, high from 0.9,
// medium from 0.7. Unsupervised scores are raw anomaly scores, ranked by
// their ratio to the model's threshold: critical from 4×, high from 2×,
// medium from 1.25×.
func severityOf(supervised bool, score, threshold float64) storage.Severity {
	x, cuts := score, [3]float64{0.99, 0.9, 0.7}
	if !supervised {
		if threshold <= 0 {
			return storage.SeverityMedium
		}
		x, cuts = score/threshold, [3]float64{4, 2, 1.25}
	}
	switch {
	case x >= cuts[0]:
		return storage.SeverityCritical
	case x >= cuts[1]:
		return storage.SeverityHigh
	case x >= cuts[2]:
		return storage.SeverityMedium
	}
	return storage.SeverityLow
}

// sensorOf is the sensor named by ?sensor=, or the caller key's name.
func sensorOf(c *gin.Context) (string, bool) {
	s := strings.TrimSpace(c.Query("sensor"))
	if s == "" {
		s = callerKey(c).Name
	}
	if s == "" {
		s = "unknown"
	}
	if len(s) > 200 || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		abort(c, probValidation, "sensor: at most 200 printable characters", ItemError{Pointer: "?sensor", Detail: "invalid"})
		return "", false
	}
	return s, true
}

// readBody reads the whole body within the configured limit.
func readBody(c *gin.Context) ([]byte, bool) {
	b, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			abort(c, probTooLarge, fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit))
			return nil, false
		}
		abort(c, probBadRequest, "the body could not be read")
		return nil, false
	}
	return b, true
}

// readFlowRecords decodes the body by its content type: a JSON array of
// objects, NDJSON (one object per line) or CSV with a header row. A record
// that is not a flat object of scalars is kept with its error, so that the
// others still go through; a body that cannot be split into records at all
// fails the request.
func (s *Server) readFlowRecords(c *gin.Context) ([]*flowRecord, bool) {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil {
		mt = ""
	}
	body, ok := readBody(c)
	if !ok {
		return nil, false
	}
	var (
		recs []*flowRecord
		msg  string
	)
	switch mt {
	case "application/json":
		recs, msg = parseJSONArray(body, s.maxFlows())
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines":
		recs, msg = parseNDJSON(body, s.maxFlows())
	case "text/csv":
		recs, msg = parseCSV(body, s.maxFlows())
	default:
		abort(c, probUnsupportedMedia, "send flows as application/json (an array of objects), application/x-ndjson or text/csv (with a header row)")
		return nil, false
	}
	switch {
	case msg == errTooManyFlows:
		abort(c, probTooLarge, fmt.Sprintf("more than %d flow records in one request; split the batch", s.maxFlows()))
		return nil, false
	case msg != "":
		abort(c, probBadRequest, msg)
		return nil, false
	}
	return recs, true
}

const errTooManyFlows = "too many flows"

// parseJSONArray splits a JSON array into records. Malformed JSON fails the
// whole body (there is no telling where the next record starts); an element
// that is not a flat object is a record error.
func parseJSONArray(body []byte, max int) ([]*flowRecord, string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonProblem(err, "the body is not JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, "the body must be a JSON array of flow objects"
	}
	var recs []*flowRecord
	for dec.More() {
		if len(recs) >= max {
			return nil, errTooManyFlows
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, jsonProblem(err, fmt.Sprintf("record %d is not valid JSON", len(recs)))
		}
		r := &flowRecord{index: len(recs)}
		r.header, r.values, r.err = flatObject(raw)
		recs = append(recs, r)
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonProblem(err, "the JSON array is not closed")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "unexpected data after the JSON array"
	}
	return recs, ""
}

func jsonProblem(err error, what string) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Sprintf("%s: malformed JSON at byte %d", what, syntax.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return what + ": the JSON ends early"
	}
	return what
}

// parseNDJSON reads one JSON object per line; blank lines are skipped and
// every bad line is a record error.
func parseNDJSON(body []byte, max int) ([]*flowRecord, string) {
	var recs []*flowRecord
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), len(body)+1)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		if len(recs) >= max {
			return nil, errTooManyFlows
		}
		r := &flowRecord{index: len(recs), line: line}
		if !json.Valid(text) {
			r.err = "not valid JSON"
		} else {
			r.header, r.values, r.err = flatObject(text)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, "the NDJSON body could not be read: " + err.Error()
	}
	return recs, ""
}

// flatObject turns one JSON object of scalar values into a record's columns
// (by name) and values: strings as they are, numbers as written, booleans
// as true/false, null as missing.
func flatObject(raw []byte) (*detector.Header, []string, string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, nil, "a flow record must be a JSON object"
	}
	if len(obj) > maxFlowFields {
		return nil, nil, fmt.Sprintf("more than %d fields", maxFlowFields)
	}
	names := make([]string, 0, len(obj))
	for k, v := range obj {
		if k == "" || len(k) > maxFieldNameBytes {
			return nil, nil, fmt.Sprintf("field name %q: empty or longer than %d bytes", clip(k, 40), maxFieldNameBytes)
		}
		switch x := v.(type) {
		case string:
			if len(x) > maxFieldBytes {
				return nil, nil, fmt.Sprintf("field %s: longer than %d bytes", k, maxFieldBytes)
			}
		case json.Number, bool:
		case nil:
			continue
		default:
			return nil, nil, fmt.Sprintf("field %s: a flow field must be a string, number, boolean or null", clip(k, 40))
		}
		names = append(names, k)
	}
	slices.Sort(names)
	values := make([]string, len(names))
	for i, k := range names {
		switch x := obj[k].(type) {
		case string:
			values[i] = x
		case json.Number:
			values[i] = x.String()
		case bool:
			values[i] = strconv.FormatBool(x)
		}
	}
	return detector.InternHeader(names), values, ""
}

// parseCSV reads a header row and then one record per row; a row with the
// wrong number of fields or bad quoting is a record error.
func parseCSV(body []byte, max int) ([]*flowRecord, string) {
	body = bytes.TrimPrefix(body, []byte{0xEF, 0xBB, 0xBF})
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, "the CSV body is empty: it needs a header row"
		}
		return nil, "the CSV header row is malformed: " + err.Error()
	}
	if len(header) > maxFlowFields {
		return nil, fmt.Sprintf("the CSV header has more than %d columns", maxFlowFields)
	}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" || len(h) > maxFieldNameBytes || seen[h] {
			return nil, fmt.Sprintf("CSV header column %d (%q) is empty, too long or repeated", i+1, clip(h, 40))
		}
		seen[h] = true
		header[i] = h
	}
	h := detector.InternHeader(header)
	var recs []*flowRecord
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		line := 0
		if err == nil && len(row) > 0 {
			line, _ = cr.FieldPos(0)
		}
		if len(recs) >= max {
			return nil, errTooManyFlows
		}
		r := &flowRecord{index: len(recs), line: line}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			r.line = pe.Line
			r.err = "malformed CSV: " + pe.Err.Error()
		case err != nil:
			return nil, "the CSV body could not be read: " + err.Error()
		case len(row) == 1 && strings.TrimSpace(row[0]) == "":
			continue // a blank line
		case len(row) != len(header):
			r.err = fmt.Sprintf("%d fields, the header has %d", len(row), len(header))
		default:
			r.header, r.values = h, row
			for i, v := range row {
				if len(v) > maxFieldBytes {
					r.header, r.values, r.err = nil, nil, fmt.Sprintf("field %s: longer than %d bytes", header[i], maxFieldBytes)
					break
				}
			}
		}
		recs = append(recs, r)
	}
	return recs, ""
}

// clip shortens s for quoting in an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (s *Server) maxFlows() int {
	if s.cfg.MaxFlowsPerRequest > 0 {
		return s.cfg.MaxFlowsPerRequest
	}
	return 10000
}

func (s *Server) verdictLimit() int {
	if s.cfg.VerdictLimit > 0 {
		return s.cfg.VerdictLimit
	}
	return 1000
}

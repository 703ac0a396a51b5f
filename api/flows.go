package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
)

// FlowError says why one record of an ingest request was rejected.
type FlowError struct {
	Index  int    `json:"index"`
	Line   int    `json:"line,omitempty"`
	Detail string `json:"detail"`
	// Fields are the fields at fault, when the record breaks the flow
	// rules (detector.Rules): an unknown field, a value that is not a
	// number, a missing feature or 5-tuple field.
	Fields []string `json:"fields,omitempty"`
}

// IngestResponse is the answer to POST /v1/flows. Every accepted flow was
// scored; every alert raised was stored (all of them, in one transaction,
// or the request fails with nothing stored).
type IngestResponse struct {
	Model    ingest.ModelRef `json:"model"`
	Schema   string          `json:"schema"`
	Received int             `json:"received"`
	Accepted int             `json:"accepted"`
	Rejected int             `json:"rejected"`
	Alerts   int             `json:"alerts"`
	// ByClass counts accepted flows by predicted class.
	ByClass map[string]int `json:"by_class"`
	// Verdicts are the accepted flows' verdicts in request order, as many
	// as ?verdicts= asks: every one (all, the default), those that raised
	// an alert (alerts), or none. Each names its record's index, so the
	// flow-to-alert mapping is kept at every level.
	Verdicts []ingest.Verdict `json:"verdicts"`
	// AlertIDs lists every alert raised, in request order.
	AlertIDs []uuid.UUID `json:"alert_ids"`
	Errors   []FlowError `json:"errors"`
}

// ingestFlows is POST /v1/flows: the HTTP edge of ingest.Ingester.
func (s *Server) ingestFlows(c *gin.Context) {
	in := s.deps.Ingester
	if in == nil || in.Store == nil {
		abort(c, probUnavailable, "alert storage is not configured on this server")
		return
	}
	// Refuse a request the active model cannot read before reading its body.
	if _, _, err := in.Resolve(c.Query("schema")); err != nil {
		abortIngest(c, err, nil)
		return
	}
	key := callerKey(c)
	submitter := ingest.Submitter{KeyID: key.ID, Sensors: key.Sensors}
	sensor := strings.TrimSpace(c.Query("sensor"))
	if sensor == "" {
		sensor = submitter.DefaultSensor(key.Name)
	}
	if sensor == "" {
		sensor = "unknown"
	}
	if err := submitter.Claim(sensor); err != nil {
		abortIngest(c, err, nil)
		return
	}
	detail := c.DefaultQuery("verdicts", "all")
	if detail != "all" && detail != "alerts" && detail != "none" {
		abort(c, probBadRequest, "verdicts: want all, alerts or none", ItemError{Pointer: "?verdicts", Detail: "unknown value"})
		return
	}
	tm := startTiming(c)
	format, ok := ingest.FormatOf(c.GetHeader("Content-Type"))
	if !ok {
		abort(c, probUnsupportedMedia, "send flows as application/json (an array of objects), application/x-ndjson or text/csv (with a header row)")
		return
	}
	parsed, err := ingest.ParseBody(format, c.Request.Body, s.maxFlows())
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		abort(c, probTooLarge, fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit))
		return
	case err != nil:
		abortIngest(c, err, nil)
		return
	}
	tm.mark("read")

	res, err := in.Ingest(c.Request.Context(), ingest.Request{
		Sensor: sensor, Submitter: submitter, Schema: c.Query("schema"), Header: parsed.Header, Records: parsed.Records,
		Impute: imputeList(c), Mark: tm.mark,
	})
	if err != nil {
		abortIngest(c, err, res)
		return
	}
	resp := IngestResponse{
		Model: res.Model, Schema: res.Schema, Received: res.Received, Accepted: len(res.Verdicts),
		Rejected: len(res.Errors), Alerts: len(res.AlertIDs), ByClass: res.ByClass, Errors: flowErrors(res.Errors),
		Verdicts: verdicts(res.Verdicts, detail), AlertIDs: res.AlertIDs,
	}
	if resp.AlertIDs == nil {
		resp.AlertIDs = []uuid.UUID{}
	}
	tm.header(c)
	c.JSON(http.StatusOK, resp)
}

// imputeList reads ?impute=FIELD,FIELD (repeatable; "declared" for the
// features the model declares imputable): the features a flow of this
// request may lack.
func imputeList(c *gin.Context) []string {
	var out []string
	for _, v := range c.QueryArray("impute") {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}

// abortIngest answers an ingest error; res, when the error comes with one,
// lists the rejected records.
func abortIngest(c *gin.Context, err error, res *ingest.Result) {
	switch {
	case errors.Is(err, ingest.ErrNoModel):
		abort(c, probUnavailable, noModelDetail)
	case errors.Is(err, ingest.ErrUnknownSchema):
		abort(c, probBadRequest, err.Error(), ItemError{Pointer: "?schema", Detail: "unknown schema"})
	case errors.Is(err, ingest.ErrSchemaMismatch):
		abort(c, probValidation, err.Error(), ItemError{Pointer: "?schema", Detail: "not the active model's schema"})
	case errors.Is(err, ingest.ErrInvalidSensor):
		abort(c, probValidation, err.Error(), ItemError{Pointer: "?sensor", Detail: "invalid"})
	case errors.Is(err, ingest.ErrSensorNotAllowed):
		abort(c, probForbidden, err.Error(), ItemError{Pointer: "?sensor", Detail: "not one of the key's sensors"})
	case errors.Is(err, ingest.ErrInvalidImpute):
		abort(c, probValidation, err.Error(), ItemError{Pointer: "?impute", Detail: "not imputable"})
	case errors.Is(err, ingest.ErrInvalidHeader):
		// Every row would break the same rule: one answer, up front. 422,
		// not 400: the CSV is well formed, its columns are not what the
		// active model reads.
		var items []ItemError
		var fe *detector.FlowError
		if errors.As(err, &fe) {
			for _, p := range fe.Problems {
				one := *fe
				one.Problems = []detector.FieldProblem{p}
				items = append(items, ItemError{Pointer: "line 1", Detail: one.Error()})
			}
		}
		abort(c, probValidation, "the CSV header does not fit the active model's flow rules, so no row was scored: "+err.Error(), items...)
	case errors.Is(err, ingest.ErrTooManyRecords):
		abort(c, probTooLarge, err.Error())
	case errors.Is(err, ingest.ErrMalformedBody):
		abort(c, probBadRequest, err.Error())
	case errors.Is(err, ingest.ErrNoFlows):
		detail := "the request holds no flow records"
		var items []ItemError
		if res != nil && res.Received > 0 {
			detail = fmt.Sprintf("all %d flow records were rejected; nothing was stored", res.Received)
			for _, e := range flowErrors(res.Errors)[:min(len(res.Errors), 100)] {
				items = append(items, ItemError{Pointer: recordPointer(e), Detail: e.Detail})
			}
		}
		abort(c, probValidation, detail, items...)
	case errors.Is(err, ingest.ErrScoring):
		_ = c.Error(err)
		abort(c, probInternal, "scoring failed; nothing was stored")
	case errors.Is(err, storage.ErrUnavailable):
		abort(c, probUnavailable, "the database is unavailable; no flow of this request was stored, send it again")
	default:
		_ = c.Error(err)
		abort(c, probInternal, "storing alerts failed; no flow of this request was stored")
	}
}

func flowErrors(errs []ingest.RecordError) []FlowError {
	out := make([]FlowError, len(errs))
	for i, e := range errs {
		out[i] = FlowError{Index: e.Index, Line: e.Line, Detail: e.Err.Error()}
		var fe *detector.FlowError
		if errors.As(e.Err, &fe) {
			out[i].Fields = fe.Fields()
		}
	}
	return out
}

func recordPointer(e FlowError) string {
	if e.Line > 0 {
		return "line " + strconv.Itoa(e.Line)
	}
	return "/" + strconv.Itoa(e.Index)
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

func (s *Server) maxFlows() int {
	if s.cfg.MaxFlowsPerRequest > 0 {
		return s.cfg.MaxFlowsPerRequest
	}
	return 10000
}

// verdicts keeps the verdicts ?verdicts=detail asks for.
func verdicts(all []ingest.Verdict, detail string) []ingest.Verdict {
	switch detail {
	case "none":
		return []ingest.Verdict{}
	case "alerts":
		out := []ingest.Verdict{}
		for _, v := range all {
			if v.AlertID != nil {
				out = append(out, v)
			}
		}
		return out
	}
	if all == nil {
		return []ingest.Verdict{}
	}
	return all
}

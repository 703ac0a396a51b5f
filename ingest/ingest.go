package ingest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/detector"
)

// Store is where alerts go. *storage.DB satisfies it.
type Store interface {
	// InsertAlerts stores alerts in one transaction, each as a pending
	// "alert" record in the anchoring outbox with its query row: all of them
	// or none. It returns their ids (also their record ids) in input order.
	InsertAlerts(ctx context.Context, alerts []AlertBody) ([]uuid.UUID, error)
}

// Hooks are told what an Ingester did. Each may be nil; none may block.
type Hooks struct {
	// Scored is called after n flows were scored, which took took.
	Scored func(n int, took time.Duration)
	// Raised is called after alerts were stored (committed), with their ids
	// in the same order.
	Raised func(ids []uuid.UUID, alerts []AlertBody)
}

// Ingester makes flows into alerts: it reads records as flows of the
// active model's schema, scores them, stores an alert for every flow the
// model flags, and tells its hooks. Every entry point raises alerts through
// it (the HTTP API, bench seed, future readers), so an alert means the same
// whichever way its flow came in.
type Ingester struct {
	Models *Models
	Store  Store
	Hooks  Hooks
	// Now is the clock that dates alerts (default time.Now).
	Now func() time.Time
}

// Errors of Ingest, checked with errors.Is. Store errors are returned
// wrapped as they come (storage.ErrUnavailable for an outage); in every
// error case nothing was stored.
var (
	// ErrNoModel: no detector model is active.
	ErrNoModel = errors.New("no detector model is active")
	// ErrUnknownSchema: the request names a schema no loader reads.
	ErrUnknownSchema = errors.New("unknown schema")
	// ErrSchemaMismatch: the schema is not the one the active model reads.
	ErrSchemaMismatch = errors.New("not the active model's schema")
	// ErrInvalidSensor: the sensor name is unusable.
	ErrInvalidSensor = errors.New("invalid sensor name")
	// ErrSensorNotAllowed: the submitter may not claim the sensor name
	// (its API key is bound to others).
	ErrSensorNotAllowed = errors.New("the API key may not claim this sensor")
	// ErrNoFlows: no record of the request could be read as a flow
	// (Result.Errors says why for each).
	ErrNoFlows = errors.New("no flow records")
	// ErrInvalidHeader: a CSV body's header breaks the flow rules of the
	// active model (an unknown column, a required column absent), so every
	// row would; the error is also a *detector.FlowError naming the
	// columns.
	ErrInvalidHeader = errors.New("the CSV header breaks the flow rules")
	// ErrInvalidImpute: the impute list names a field the active model
	// cannot impute.
	ErrInvalidImpute = errors.New("invalid impute list")
	// ErrScoring: the model failed on the flows (a bug or a broken model).
	ErrScoring = errors.New("scoring failed")
)

// Request is one batch of flow records from one sensor.
type Request struct {
	// Sensor names who observed the flows (see ValidSensor); the
	// submitter must be allowed to claim it.
	Sensor string
	// Submitter is who sent the request.
	Submitter Submitter
	// Schema is the dataset kind the records are written in; "" means the
	// active model's.
	Schema string
	// Header is the header row of a CSV body (Body.Header), judged once
	// before any row; nil for JSON and NDJSON.
	Header  *detector.Header
	Records []Record
	// Impute names the features that may be missing from a flow (or
	// detector.ImputeDeclared for those the model declares imputable):
	// they are imputed and the alert counts them. Every other rule of
	// detector.Rules holds whatever it says.
	Impute []string
	// Mark, when set, is called as each phase ends: "parse", "score",
	// "alerts" (bodies built), "store".
	Mark func(phase string)
}

// Verdict is the model's decision on one accepted flow.
type Verdict struct {
	Index   int        `json:"index"` // the record's index in the request
	Class   string     `json:"class"`
	Score   float64    `json:"score"`
	Alert   bool       `json:"alert"`
	AlertID *uuid.UUID `json:"alert_id,omitempty"`
	// Imputed is how many of the flow's feature values were imputed
	// (only features the request let be missing).
	Imputed int `json:"imputed,omitempty"`
}

// RecordError says why one record was rejected.
type RecordError struct {
	Index int
	Line  int // 0 when the format has no lines
	Err   error
}

// Result is what became of a request. Every accepted flow was scored and
// every alert raised was stored.
type Result struct {
	Model    ModelRef
	Schema   string
	Received int
	// Verdicts has one entry per accepted flow, in record order.
	Verdicts []Verdict
	// Errors has one entry per rejected record, in record order.
	Errors []RecordError
	// AlertIDs are the alerts raised, in verdict order.
	AlertIDs []uuid.UUID
	// ByClass counts accepted flows by predicted class.
	ByClass map[string]int
}

// Submitter is who sends flows: the API key, whose id every alert it
// raises records (submitted_by), and the sensor names that key may claim.
type Submitter struct {
	KeyID uuid.UUID
	// Sensors are the names the key may claim; none: any name.
	Sensors []string
}

// Claim checks that sensor is a valid name the submitter may claim:
// ErrInvalidSensor or ErrSensorNotAllowed otherwise.
func (s Submitter) Claim(sensor string) error {
	if err := ValidSensor(sensor); err != nil {
		return err
	}
	if len(s.Sensors) > 0 && !slices.Contains(s.Sensors, sensor) {
		return detailError{ErrSensorNotAllowed, fmt.Sprintf("this API key may send flows of sensors %s only, not %q", strings.Join(s.Sensors, ", "), sensor)}
	}
	return nil
}

// DefaultSensor is the sensor name a request that names none claims: the
// key's one sensor when it is bound to exactly one, else fallback (the
// key's name).
func (s Submitter) DefaultSensor(fallback string) string {
	if len(s.Sensors) == 1 {
		return s.Sensors[0]
	}
	return fallback
}

// ReservedSensorPrefix starts the sensor names of the chain hunter's
// alerts ("chain:<chain id>"), which no flow may claim: a flow alert must
// not pass for a chain alert in listings, filters and reports by sensor.
const ReservedSensorPrefix = "chain:"

// ValidSensor checks a sensor name: 1 to 200 printable characters, not
// starting with ReservedSensorPrefix.
func ValidSensor(s string) error {
	if s == "" || len(s) > 200 || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return detailError{ErrInvalidSensor, "sensor: 1 to 200 printable characters"}
	}
	if strings.HasPrefix(s, ReservedSensorPrefix) {
		return detailError{ErrInvalidSensor, "sensor: names starting with " + ReservedSensorPrefix + " are the chain hunter's"}
	}
	return nil
}

// Resolve returns the active model and the schema a request naming schema
// ("" for the model's own) is read in, or ErrNoModel, ErrUnknownSchema or
// ErrSchemaMismatch. Callers may use it to refuse a request before reading
// its body; Ingest checks again with the model active then.
func (in *Ingester) Resolve(schema string) (*ActiveModel, string, error) {
	m := in.Models.Active()
	if m == nil {
		return nil, "", ErrNoModel
	}
	d := m.Detector
	if schema == "" {
		schema = d.Dataset()
	}
	// A kind is known by its name: "csv" (the generic kind) takes its
	// options (label column, identifiers, ...) from the model that reads
	// it, so it is a mismatch for any other model, not an unknown kind.
	if !slices.Contains(detector.DatasetKinds(), schema) {
		return nil, "", detailError{ErrUnknownSchema, fmt.Sprintf("unknown schema %q; the schemas are %s",
			Clip(schema, 64), strings.Join(detector.DatasetKinds(), ", "))}
	}
	if schema != d.Dataset() {
		return nil, "", detailError{ErrSchemaMismatch, fmt.Sprintf("the active model reads %s flows, not %s", d.Dataset(), schema)}
	}
	return m, schema, nil
}

// Ingest reads req's records as flows, scores them with the active model
// and stores an alert for each flagged flow, all in one transaction.
// Records that are not flows, or break the model's flow rules
// (detector.Rules: unknown fields, values that are not numbers, missing
// features req.Impute does not allow, a missing or invalid 5-tuple), are
// rejected one by one (Result.Errors, each a *detector.FlowError where a
// rule is broken) and the others go through; when none is left it returns
// ErrNoFlows with the Result. A CSV header (req.Header) that breaks the
// rules fails the whole request with ErrInvalidHeader, and an impute list
// the model cannot honour with ErrInvalidImpute. On any error nothing was
// stored.
func (in *Ingester) Ingest(ctx context.Context, req Request) (*Result, error) {
	mark := req.Mark
	if mark == nil {
		mark = func(string) {}
	}
	if err := req.Submitter.Claim(req.Sensor); err != nil {
		return nil, err
	}
	m, schema, err := in.Resolve(req.Schema)
	if err != nil {
		return nil, err
	}
	d := m.Detector
	rules, err := d.Pipeline.Rules(req.Impute)
	if err != nil {
		return nil, detailError{ErrInvalidImpute, err.Error()}
	}
	if req.Header != nil {
		if err := rules.CheckHeader(req.Header); err != nil {
			return nil, headerError{err}
		}
	}
	res := &Result{Model: m.Ref(), Schema: schema, Received: len(req.Records), ByClass: map[string]int{}, Errors: []RecordError{}}
	flows := make([]*detector.Flow, 0, len(req.Records))
	index := make([]int, 0, len(req.Records))   // record index of each flow
	imputed := make([]int, 0, len(req.Records)) // imputed values of each flow
	for _, r := range req.Records {
		err := r.Err
		if err == nil {
			var f *detector.Flow
			f, err = d.NewFlowRow(r.Header, r.Values)
			n := 0
			if err == nil {
				n, err = rules.Check(f)
			}
			if err == nil {
				flows = append(flows, f)
				index = append(index, r.Index)
				imputed = append(imputed, n)
				continue
			}
		}
		res.Errors = append(res.Errors, RecordError{Index: r.Index, Line: r.Line, Err: err})
	}
	if len(flows) == 0 {
		return res, ErrNoFlows
	}
	mark("parse")
	var by *uuid.UUID
	if req.Submitter.KeyID != uuid.Nil {
		by = &req.Submitter.KeyID
	}
	verdicts, ids, err := in.score(ctx, m, req.Sensor, by, flows, imputed, mark)
	if err != nil {
		return nil, err
	}
	for i := range verdicts {
		verdicts[i].Index = index[i]
		res.ByClass[verdicts[i].Class]++
	}
	res.Verdicts, res.AlertIDs = verdicts, ids
	return res, nil
}

// ScoreFlows scores flows with the active model and stores an alert for
// each flagged one, as Ingest does for parsed records: the entry point for
// sources that produce flows themselves. Verdict.Index is the flow's
// position in flows. The flows must follow the model's flow rules with
// nothing imputed: if one does not, nothing is scored and the error (a
// *detector.FlowError, detector.ErrInvalidFlow) names it.
func (in *Ingester) ScoreFlows(ctx context.Context, sensor string, flows []*detector.Flow) ([]Verdict, error) {
	if err := ValidSensor(sensor); err != nil {
		return nil, err
	}
	m := in.Models.Active()
	if m == nil {
		return nil, ErrNoModel
	}
	rules, err := m.Detector.Pipeline.Rules(nil)
	if err != nil {
		return nil, err
	}
	for i, f := range flows {
		if _, err := rules.Check(f); err != nil {
			return nil, fmt.Errorf("flow %d: %w", i, err)
		}
	}
	verdicts, _, err := in.score(ctx, m, sensor, nil, flows, nil, func(string) {})
	return verdicts, err
}

// score is the common path of Ingest and ScoreFlows; submittedBy is the
// submitting key (nil: none), imputed (nil for none) counts the imputed
// values of each flow.
func (in *Ingester) score(ctx context.Context, m *ActiveModel, sensor string, submittedBy *uuid.UUID, flows []*detector.Flow,
	imputed []int, mark func(string)) ([]Verdict, []uuid.UUID, error) {
	started := time.Now()
	preds, err := m.Detect(sensor, flows)
	if err != nil {
		// Named by model: the API logs it, and a model that fails is
		// the first suspect (a panic comes back as detector.ErrPanic).
		return nil, nil, fmt.Errorf("%w: model %s (%s): %w", ErrScoring, m.Detector.ID(), m.Version, err)
	}
	if in.Hooks.Scored != nil {
		in.Hooks.Scored(len(flows), time.Since(started))
	}
	mark("score")

	d := m.Detector
	now := in.now().UTC()
	ref := m.Ref()
	var bodies []AlertBody
	var alertAt []int // verdict index of each alert
	verdicts := make([]Verdict, len(flows))
	for i, p := range preds {
		class := d.ClassName(p.Class)
		score := p.Score
		if math.IsNaN(score) || math.IsInf(score, 0) {
			score = 0
		}
		verdicts[i] = Verdict{Index: i, Class: class, Score: score, Alert: p.Alert}
		if imputed != nil {
			verdicts[i].Imputed = imputed[i]
		}
		if !p.Alert {
			continue
		}
		body := NewAlert(flows[i], class, score, d, now, sensor, ref)
		body.Imputed = verdicts[i].Imputed
		body.SubmittedBy = submittedBy
		bodies = append(bodies, body)
		alertAt = append(alertAt, i)
	}
	if len(bodies) == 0 {
		return verdicts, nil, nil
	}
	mark("alerts")
	ids, err := in.Raise(ctx, bodies)
	mark("store")
	if err != nil {
		return nil, nil, err
	}
	for k := range ids {
		verdicts[alertAt[k]].AlertID = &ids[k]
	}
	return verdicts, ids, nil
}

// Raise stores alerts (all or none) and tells the hooks: the last step of
// every ingest, and the way in for alerts made elsewhere (bench seed). It
// normalizes the alerts in place and fills in the ids storage gave them,
// so that the hooks (webhooks among them) get each alert exactly as it was
// stored, hashed and anchored.
func (in *Ingester) Raise(ctx context.Context, alerts []AlertBody) ([]uuid.UUID, error) {
	for i := range alerts {
		alerts[i] = alerts[i].Normalized()
	}
	ids, err := in.Store.InsertAlerts(ctx, alerts)
	if err != nil {
		return nil, fmt.Errorf("store %d alerts: %w", len(alerts), err)
	}
	for i := range alerts {
		alerts[i].ID = ids[i]
	}
	if in.Hooks.Raised != nil {
		in.Hooks.Raised(ids, alerts)
	}
	return ids, nil
}

func (in *Ingester) now() time.Time {
	if in.Now != nil {
		return in.Now()
	}
	return time.Now()
}

// headerError is a CSV header's *detector.FlowError as an ErrInvalidHeader:
// errors.Is(err, ErrInvalidHeader) and errors.As(err, **FlowError) both
// hold, and the message is the FlowError's.
type headerError struct{ err error }

func (e headerError) Error() string        { return e.err.Error() }
func (e headerError) Is(target error) bool { return target == ErrInvalidHeader }
func (e headerError) Unwrap() error        { return e.err }

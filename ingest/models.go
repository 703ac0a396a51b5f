package ingest

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/idsledger/idsledger/detector"
)

// ActiveModel is the detector that scores flows now, with the version label
// it was activated under. It is immutable once activated.
type ActiveModel struct {
	Detector    *detector.Detector
	Version     string
	ActivatedAt time.Time
	// stream keeps each source's recent flows for window-mode models; it
	// belongs to this model, so that a swap starts every window afresh.
	stream *detector.Stream
}

// Ref names the model in alert records.
func (m *ActiveModel) Ref() ModelRef {
	return ModelRef{ID: m.Detector.ID(), Version: m.Version}
}

// Detect scores flows a sensor saw with the model. For a window-mode model
// each flow's window also reaches back into the flows of the same source
// this sensor sent in earlier calls (see detector.Stream.DetectIn).
func (m *ActiveModel) Detect(sensor string, flows []*detector.Flow) ([]detector.Prediction, error) {
	return m.stream.DetectIn(sensor, flows)
}

// Models holds the active model behind an atomic pointer: a swap is one
// store, requests in flight finish with the model they started with, and no
// request ever waits for a swap. The zero value holds no model.
type Models struct {
	cur atomic.Pointer[ActiveModel]
	// Windows bounds the per-source window history of window-mode models.
	Windows detector.StreamOptions
}

// NewModels returns a holder with no active model.
func NewModels() *Models { return &Models{} }

// ErrNoModelID: a detector without an id (one that was not loaded from a
// model file) cannot be activated, since alerts name their model by id.
var ErrNoModelID = errors.New("the detector has no id (load it from a model file)")

// Activate makes d the active model under version ("" gives
// "<kind>@<first 12 hex of the id>") and returns it. d must have an id
// (loaded with detector.LoadDetector or DecodeDetector).
func (m *Models) Activate(d *detector.Detector, version string) (*ActiveModel, error) {
	if d == nil || d.ID() == "" {
		return nil, ErrNoModelID
	}
	if version == "" {
		version = DefaultVersion(d)
	}
	am := &ActiveModel{Detector: d, Version: version, ActivatedAt: time.Now().UTC(), stream: d.NewStream(m.Windows)}
	m.cur.Store(am)
	return am, nil
}

// DefaultVersion is the version label of a model activated without one:
// "<kind>@<first 12 hex of the id>".
func DefaultVersion(d *detector.Detector) string {
	return d.Meta.ModelKind + "@" + d.ID()[:min(12, len(d.ID()))]
}

// Active returns the active model, or nil when none is configured.
func (m *Models) Active() *ActiveModel {
	if m == nil {
		return nil
	}
	return m.cur.Load()
}

package ingest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

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
	// Record makes an activation durable before the model takes over
	// (storage keeps the model file, the active model and a model.activate
	// audit event) and returns the event's record id. Swap needs it.
	Record func(ctx context.Context, a Activation) (uuid.UUID, error)

	swap sync.Mutex // one swap at a time: the recorded order is the order they take over
}

// Activation is one model taking over, as Record keeps it.
type Activation struct {
	Detector *detector.Detector
	File     []byte // the model file (its keccak256 is Detector.ID())
	Version  string // version label ("" is replaced by DefaultVersion)
	Actor    string // who: an API key's name, "serve", a round
	Reason   string // why, when there is more to say (a round's policy)
}

// ErrNoRecord: Swap needs Models.Record.
var ErrNoRecord = errors.New("model activations cannot be recorded here")

// Swap makes the model in file the one that scores flows: decoded and
// self-tested (detector.DecodeDetector and SelfTest: a file that fails is
// refused with their error, wrapping detector.ErrModelFile, and nothing
// changes), recorded durably through Record, then activated. Every model
// that takes over at run time comes through here: uploads, the federation's
// promotions, the model restored at start. Swaps are serialized, so the
// model serving is always the last one recorded; a swap that cannot be
// recorded leaves the old model serving. It returns the model now active
// and its audit event's id.
func (m *Models) Swap(ctx context.Context, file []byte, version, actor, reason string) (*ActiveModel, uuid.UUID, error) {
	d, err := detector.DecodeDetector(file)
	if err != nil {
		return nil, uuid.Nil, err
	}
	if err := d.SelfTest(); err != nil {
		return nil, uuid.Nil, err
	}
	if m.Record == nil {
		return nil, uuid.Nil, ErrNoRecord
	}
	if version == "" {
		version = DefaultVersion(d)
	}
	m.swap.Lock()
	defer m.swap.Unlock()
	ev, err := m.Record(ctx, Activation{Detector: d, File: file, Version: version, Actor: actor, Reason: reason})
	if err != nil {
		return nil, uuid.Nil, err
	}
	am, err := m.Activate(d, version)
	return am, ev, err
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

package api

import (
	"container/list"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/storage"
)

// ActiveModel is the detector that scores flows now, with the version label
// it was activated under. It is immutable once activated.
type ActiveModel struct {
	Detector    *detector.Detector
	Version     string
	ActivatedAt time.Time
	// windows keeps each source's recent flows for window-mode models; it
	// belongs to this model so that a swap starts every window afresh.
	windows *windowStore
}

// Ref names the model in alert records.
func (m *ActiveModel) Ref() storage.ModelRef {
	return storage.ModelRef{ID: m.Detector.ID(), Version: m.Version}
}

// Models holds the active model behind an atomic pointer: a swap is one
// store, requests in flight finish with the model they started with, and no
// request ever waits for a swap. The zero value holds no model.
type Models struct {
	cur atomic.Pointer[ActiveModel]
	// WindowKeys caps the sources whose windows are kept (default 100000);
	// WindowTTL drops a source's window after this long without flows
	// (default 10 minutes).
	WindowKeys int
	WindowTTL  time.Duration
}

// NewModels returns a holder with no active model.
func NewModels() *Models { return &Models{} }

// Activate makes d the active model under version ("" gives
// "<kind>@<first 12 hex of the id>") and returns it. d must have an id
// (loaded with detector.LoadDetector or DecodeDetector).
func (m *Models) Activate(d *detector.Detector, version string) (*ActiveModel, error) {
	if d == nil || d.ID() == "" {
		return nil, errors.New("activate model: the detector has no id (load it from a model file)")
	}
	if version == "" {
		version = defaultVersion(d)
	}
	am := &ActiveModel{Detector: d, Version: version, ActivatedAt: time.Now().UTC()}
	if d.Pipeline.Input == detector.InputWindow && d.Pipeline.Window > 1 {
		keys, ttl := m.WindowKeys, m.WindowTTL
		if keys <= 0 {
			keys = 100000
		}
		if ttl <= 0 {
			ttl = 10 * time.Minute
		}
		am.windows = newWindowStore(d.Pipeline.Window-1, keys, ttl)
	}
	m.cur.Store(am)
	return am, nil
}

func defaultVersion(d *detector.Detector) string {
	return d.Meta.ModelKind + "@" + d.ID()[:min(12, len(d.ID()))]
}

// Active returns the active model, or nil when none is configured.
func (m *Models) Active() *ActiveModel {
	if m == nil {
		return nil
	}
	return m.cur.Load()
}

// Detect scores flows with the model. For a window-mode model each flow's
// window also reaches back into the flows of the same source seen in earlier
// requests (up to the window size, within the store's bounds), and the new
// flows are remembered for later requests.
func (m *ActiveModel) Detect(flows []*detector.Flow) ([]detector.Prediction, error) {
	if m.windows == nil || len(flows) == 0 {
		return m.Detector.Detect(flows)
	}
	hist := m.windows.history(flows)
	preds, err := m.Detector.Detect(append(hist, flows...))
	if err != nil {
		return nil, err
	}
	m.windows.remember(flows)
	return preds[len(hist):], nil
}

// windowStore keeps the last n flows of each source key, for at most
// maxKeys keys (least recently seen evicted first) and ttl each.
type windowStore struct {
	mu      sync.Mutex
	n       int
	maxKeys int
	ttl     time.Duration
	order   *list.List // front: most recently seen; values are *windowEntry
	byKey   map[string]*list.Element
}

type windowEntry struct {
	key   string
	flows []*detector.Flow
	seen  time.Time
}

func newWindowStore(n, maxKeys int, ttl time.Duration) *windowStore {
	return &windowStore{n: n, maxKeys: maxKeys, ttl: ttl, order: list.New(), byKey: map[string]*list.Element{}}
}

// history returns the remembered flows of every key in flows, oldest first
// per key.
func (w *windowStore) history(flows []*detector.Flow) []*detector.Flow {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	var out []*detector.Flow
	done := map[string]bool{}
	for _, f := range flows {
		if done[f.Key] {
			continue
		}
		done[f.Key] = true
		if e, ok := w.byKey[f.Key]; ok {
			we := e.Value.(*windowEntry)
			if now.Sub(we.seen) <= w.ttl {
				out = append(out, we.flows...)
			}
		}
	}
	return out
}

// remember appends flows to their keys' windows and evicts what is over
// the bounds.
func (w *windowStore) remember(flows []*detector.Flow) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	for _, f := range flows {
		e, ok := w.byKey[f.Key]
		if !ok {
			e = w.order.PushFront(&windowEntry{key: f.Key})
			w.byKey[f.Key] = e
		} else {
			w.order.MoveToFront(e)
		}
		we := e.Value.(*windowEntry)
		if now.Sub(we.seen) > w.ttl {
			we.flows = we.flows[:0]
		}
		we.seen = now
		we.flows = append(we.flows, f)
		if len(we.flows) > w.n {
			we.flows = append(we.flows[:0], we.flows[len(we.flows)-w.n:]...)
		}
	}
	for w.order.Len() > w.maxKeys {
		w.evict(w.order.Back())
	}
	for e := w.order.Back(); e != nil && now.Sub(e.Value.(*windowEntry).seen) > w.ttl; e = w.order.Back() {
		w.evict(e)
	}
}

func (w *windowStore) evict(e *list.Element) {
	w.order.Remove(e)
	delete(w.byKey, e.Value.(*windowEntry).key)
}

// modelInfo is what GET/PUT /v1/models/active report.
type modelInfo struct {
	ID          string    `json:"id"`
	Version     string    `json:"version"`
	Kind        string    `json:"kind"`
	Supervised  bool      `json:"supervised"`
	Dataset     string    `json:"dataset"`
	Input       string    `json:"input"`
	Classes     []string  `json:"classes"`
	Features    []string  `json:"features"`
	Threshold   float64   `json:"threshold"`
	ActivatedAt time.Time `json:"activated_at"`
}

func infoOf(m *ActiveModel) modelInfo {
	d := m.Detector
	return modelInfo{
		ID: d.ID(), Version: m.Version, Kind: d.Meta.ModelKind, Supervised: d.Meta.Supervised,
		Dataset: d.Dataset(), Input: string(d.Pipeline.Input), Classes: d.Classes(),
		Features: d.Pipeline.FeatureNames(), Threshold: d.Meta.Threshold, ActivatedAt: m.ActivatedAt,
	}
}

const noModelDetail = "no detector model is active: start the service with --model FILE, or PUT a model file to /v1/models/active"

func (s *Server) getActiveModel(c *gin.Context) {
	m := s.deps.Models.Active()
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
	d, err := detector.DecodeDetector(file)
	if err != nil {
		abort(c, probValidation, fmt.Sprintf("not a usable model file: %v", err))
		return
	}
	if s.deps.Models == nil {
		abort(c, probUnavailable, "this server has no model holder")
		return
	}
	store, ok := s.alertStore(c)
	if !ok {
		return
	}
	if version == "" {
		version = defaultVersion(d)
	}
	// The activation is recorded (and will be anchored) before the model
	// decides anything; if it cannot be recorded, the old model stays.
	ev, err := store.RecordModelActivation(c.Request.Context(), storage.ModelRef{ID: d.ID(), Version: version}, actorOf(c))
	if err != nil {
		abortErr(c, err)
		return
	}
	m, err := s.deps.Models.Activate(d, version)
	if err != nil {
		abort(c, probValidation, err.Error())
		return
	}
	s.cfg.Logger.Info("model activated", "request_id", requestID(c), "model_id", m.Detector.ID(), "version", m.Version,
		"key", callerKey(c).Prefix, "audit_event", ev.String())
	c.Header("X-Audit-Event", ev.String())
	c.JSON(http.StatusOK, infoOf(m))
}

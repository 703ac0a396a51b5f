package detector

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// StreamOptions bound what a Stream remembers. Zero values take the
// defaults.
type StreamOptions struct {
	// MaxKeys caps the sources whose recent flows are kept (default
	// 100000), and MaxBytes the memory their rows take (default 64 MiB);
	// the least recently seen source is forgotten first.
	MaxKeys  int
	MaxBytes int64
	// TTL forgets a source's flows after this long without a new one
	// (default 10 minutes): its next flow starts a fresh window.
	TTL time.Duration
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// Stream scores flows as a live service sees them: in window mode each
// flow's window is made of the latest flows of the same Key across calls,
// not just within one batch, so a flow scores the same whether it arrives
// in one batch with its predecessors or in a later request. In row and
// per-flow modes it is the same as Detector.Detect.
//
// Stream is safe for concurrent use. Building windows and recording the new
// flows happen in one critical section, so concurrent calls for the same
// source each see the other's flows as if the calls had come one after the
// other; the windows are then scored in parallel, outside the lock.
type Stream struct {
	d   *Detector
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	hist *simplelru.LRU[string, *streamHist]
}

type streamHist struct {
	rows [][]float32 // up to Window most recent rows, oldest first
	seen time.Time
}

// NewStream returns a Stream over d.
func (d *Detector) NewStream(opt StreamOptions) *Stream {
	if opt.MaxKeys <= 0 {
		opt.MaxKeys = 100000
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 64 << 20
	}
	// A source keeps up to Window rows of len(Features) float32s, plus its
	// key and bookkeeping (about 128 bytes).
	perKey := int64(max(1, d.Pipeline.Window)*len(d.Pipeline.Features)*4 + 128)
	opt.MaxKeys = int(min(int64(opt.MaxKeys), max(1, opt.MaxBytes/perKey)))
	if opt.TTL <= 0 {
		opt.TTL = 10 * time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	hist, _ := simplelru.NewLRU[string, *streamHist](opt.MaxKeys, nil) // fails only for a size below 1
	return &Stream{d: d, ttl: opt.TTL, now: opt.Now, hist: hist}
}

// Detector is the detector the stream scores with.
func (s *Stream) Detector() *Detector { return s.d }

// Detect scores flows in order, each with the window ending at it.
func (s *Stream) Detect(flows []*Flow) ([]Prediction, error) { return s.DetectIn("", flows) }

// DetectIn is Detect with the flows' sources named within scope (a
// sensor): two sensors that see the same source address keep separate
// windows, so one sensor's flows cannot shape another's verdicts. A panic
// while scoring is returned as an error wrapping ErrPanic.
func (s *Stream) DetectIn(scope string, flows []*Flow) (_ []Prediction, err error) {
	defer catchPanic(&err)
	p := s.d.Pipeline
	if p.Input != InputWindow || len(flows) == 0 {
		return s.d.Detect(flows)
	}
	return s.d.Model.Predict(s.windows(scope, flows))
}

// windows builds each flow's window from its source's history and records
// the flow in it, all under one lock.
func (s *Stream) windows(scope string, flows []*Flow) Seqs {
	p := s.d.Pipeline
	nf := len(p.Features)
	t := p.Window
	x := NewSeqs(len(flows), t, nf)
	row := make([]float32, nf)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for i, f := range flows {
		p.Row(f, row)
		h := s.lookup(scope+"\x00"+f.Key, now)
		h.rows = append(h.rows, append([]float32(nil), row...))
		if len(h.rows) > t {
			h.rows = append(h.rows[:0], h.rows[len(h.rows)-t:]...)
		}
		seq := x.At(i)
		pad := t - len(h.rows)
		for k := 0; k < t; k++ {
			src := h.rows[0]
			if k >= pad {
				src = h.rows[k-pad]
			}
			copy(seq[k*nf:(k+1)*nf], src)
		}
	}
	return x
}

// lookup returns the history of key as of now, empty when the key is new
// or its last flow is older than the TTL. Callers hold s.mu.
func (s *Stream) lookup(key string, now time.Time) *streamHist {
	h, ok := s.hist.Get(key)
	if !ok {
		h = &streamHist{}
		s.hist.Add(key, h)
	} else if now.Sub(h.seen) > s.ttl {
		h.rows = h.rows[:0]
	}
	h.seen = now
	return h
}

// Keys is how many sources the stream remembers now.
func (s *Stream) Keys() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hist.Len()
}

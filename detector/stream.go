package detector

import (
	"container/list"
	"sync"
)

// Stream scores flows as a live service sees them: in window mode each
// flow's window is made of the latest flows of the same Key across calls,
// not just within one batch. In row and per-flow modes it is the same as
// Detector.Detect. It keeps at most MaxKeys sources (least recently seen
// evicted). Safe for concurrent use; concurrent calls are serialised while
// windows are built, then scored in parallel.
type Stream struct {
	d       *Detector
	maxKeys int
	mu      sync.Mutex
	hist    map[string]*list.Element // key → element holding *streamHist
	lru     *list.List
}

type streamHist struct {
	key  string
	rows [][]float32 // up to Window-1 most recent rows, oldest first
}

// NewStream returns a Stream over d keeping at most maxKeys sources
// (default 100000).
func (d *Detector) NewStream(maxKeys int) *Stream {
	if maxKeys <= 0 {
		maxKeys = 100000
	}
	return &Stream{d: d, maxKeys: maxKeys, hist: map[string]*list.Element{}, lru: list.New()}
}

// Detect scores flows in order, each with the window ending at it.
func (s *Stream) Detect(flows []*Flow) ([]Prediction, error) {
	p := s.d.Pipeline
	if p.Input != InputWindow || len(flows) == 0 {
		return s.d.Detect(flows)
	}
	nf := len(p.Features)
	t := p.Window
	x := NewSeqs(len(flows), t, nf)
	row := make([]float32, nf)
	s.mu.Lock()
	for i, f := range flows {
		p.Row(f, row)
		h := s.lookup(f.Key)
		h.rows = append(h.rows, append([]float32(nil), row...))
		if len(h.rows) > t {
			h.rows = h.rows[len(h.rows)-t:]
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
	s.mu.Unlock()
	return s.d.Model.Predict(x)
}

// lookup returns the history of key, creating it and evicting the least
// recently used one when full. Callers hold s.mu.
func (s *Stream) lookup(key string) *streamHist {
	if e, ok := s.hist[key]; ok {
		s.lru.MoveToFront(e)
		return e.Value.(*streamHist)
	}
	if s.lru.Len() >= s.maxKeys {
		old := s.lru.Back()
		s.lru.Remove(old)
		delete(s.hist, old.Value.(*streamHist).key)
	}
	h := &streamHist{key: key}
	s.hist[key] = s.lru.PushFront(h)
	return h
}

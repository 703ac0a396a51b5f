package api

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// Defaults of the request limits (Config).
const (
	DefaultRatePerKey     = 1000 // requests per second per API key
	DefaultBadKeyRate     = 5    // failed key checks per second per client address
	DefaultMaxIngest      = 32   // ingest requests at work at once
	DefaultMaxStreams     = 256  // live alert streams open at once
	DefaultStreamsPerKey  = 4    // live alert streams open at once per API key
	rateLimitedClientKeys = 100_000
)

// keyedLimiter is a token bucket per key (an API key's id, a client
// address), for at most maxKeys keys: the least recently seen is forgotten
// first (it starts again with a full bucket), so memory stays bounded
// whatever the clients do.
type keyedLimiter struct {
	r     rate.Limit
	burst int

	mu   sync.Mutex
	lru  *simplelru.LRU[string, *rate.Limiter]
	now  func() time.Time
	zero bool // r == 0: no limit
}

func newKeyedLimiter(perSecond float64, maxKeys int) *keyedLimiter {
	lru, _ := simplelru.NewLRU[string, *rate.Limiter](maxKeys, nil) // fails only for a size below 1
	burst := int(math.Max(1, 2*perSecond))
	return &keyedLimiter{r: rate.Limit(perSecond), burst: burst, lru: lru, now: time.Now, zero: perSecond <= 0}
}

// allow takes a token for key; when there is none it returns false and how
// long until there will be one.
func (l *keyedLimiter) allow(key string) (bool, time.Duration) {
	if l.zero {
		return true, 0
	}
	l.mu.Lock()
	lim, ok := l.lru.Get(key)
	if !ok {
		lim = rate.NewLimiter(l.r, l.burst)
		l.lru.Add(key, lim)
	}
	l.mu.Unlock()
	now := l.now()
	if lim.AllowN(now, 1) {
		return true, 0
	}
	r := lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return false, wait
}

// exhausted reports whether key has no token left now, without taking one,
// and how long until it has.
func (l *keyedLimiter) exhausted(key string) (bool, time.Duration) {
	if l.zero {
		return false, 0
	}
	l.mu.Lock()
	lim, ok := l.lru.Get(key)
	l.mu.Unlock()
	if !ok {
		return false, 0
	}
	now := l.now()
	if t := lim.TokensAt(now); t < 1 {
		return true, time.Duration((1 - t) / float64(l.r) * float64(time.Second))
	}
	return false, 0
}

// tooMany answers 429 with Retry-After (whole seconds, at least 1).
func tooMany(c *gin.Context, wait time.Duration, detail string) {
	c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	abort(c, probTooManyRequests, detail)
}

// admitIngest bounds the ingest requests at work at once: one over the
// bound is refused at once with 503 and Retry-After (the sensor sends it
// again), rather than queueing behind the others and holding its body in
// memory meanwhile.
func admitIngest(max int) gin.HandlerFunc {
	slots := make(chan struct{}, max)
	return func(c *gin.Context) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			c.Next()
		default:
			abort(c, probUnavailable, "the service is at its ingest capacity; send the request again shortly")
		}
	}
}

// streamSlots bounds the live streams open at once, overall and per API
// key: each holds a connection and polls the database, so neither one
// client nor many may open them without limit.
type streamSlots struct {
	mu          sync.Mutex
	max, perKey int
	total       int
	byKey       map[uuid.UUID]int
}

func newStreamSlots(max, perKey int) *streamSlots {
	return &streamSlots{max: max, perKey: perKey, byKey: map[uuid.UUID]int{}}
}

// admit takes a slot for key, or answers the request itself (429 when the
// key has its share open, 503 when the service has) and returns false.
// The caller releases an admitted slot with release(key).
func (s *streamSlots) admit(c *gin.Context, key uuid.UUID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.byKey[key] >= s.perKey:
		tooMany(c, 5*time.Second, fmt.Sprintf("this API key has %d alert streams open, its limit; close one", s.perKey))
		return false
	case s.total >= s.max:
		c.Header("Retry-After", "5")
		abort(c, probUnavailable, "the service has as many alert streams open as it serves; reconnect shortly")
		return false
	}
	s.total++
	s.byKey[key]++
	return true
}

func (s *streamSlots) release(key uuid.UUID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.byKey[key]--; s.byKey[key] <= 0 {
		delete(s.byKey, key)
	}
}

// open is the number of streams open now.
func (s *streamSlots) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

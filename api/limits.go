package api

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// Defaults of the request limits (Config).
const (
	DefaultRatePerKey     = 1000 // requests per second per API key
	DefaultBadKeyRate     = 5    // failed key checks per second per client address
	DefaultMaxIngest      = 32   // ingest requests at work at once
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

package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

const ctxTiming = "idsledger.timing"

// timing measures the phases of a request, one after the other, for the
// Server-Timing response header (W3C Server Timing) and the access log, so
// that an operator can see where a slow request spent its time.
type timing struct {
	last   time.Time
	names  []string
	phases []time.Duration
}

// startTiming starts measuring at now; the first phase ends at the first
// mark.
func startTiming(c *gin.Context) *timing {
	t := &timing{last: time.Now()}
	c.Set(ctxTiming, t)
	return t
}

// mark ends the current phase, naming it.
func (t *timing) mark(name string) {
	now := time.Now()
	t.names = append(t.names, name)
	t.phases = append(t.phases, now.Sub(t.last))
	t.last = now
}

// header writes the phases so far as a Server-Timing header:
// "read;dur=1.25, score;dur=3.5".
func (t *timing) header(c *gin.Context) {
	var b strings.Builder
	for i, n := range t.names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n)
		b.WriteString(";dur=")
		b.WriteString(strconv.FormatFloat(ms(t.phases[i]), 'f', -1, 64))
	}
	c.Header("Server-Timing", b.String())
}

// logAttrs are the phases as access-log attributes (read_ms, ...).
func (t *timing) logAttrs() []any {
	out := make([]any, 0, 2*len(t.names))
	for i, n := range t.names {
		out = append(out, n+"_ms", ms(t.phases[i]))
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
)

// Report periods: at most this many buckets per request.
const (
	maxHourBuckets = 24 * 93 // about three months of hours
	maxDayBuckets  = 3660    // ten years of days
)

// summaryReport is GET /v1/reports/summary?from=&to=&bucket=hour|day. The
// period defaults to the last 24 hours and the bucket to hour.
func (s *Server) summaryReport(c *gin.Context) {
	store, ok := s.alertStore(c)
	if !ok {
		return
	}
	q := c.Request.URL.Query()
	var bad []ItemError
	fail := func(p, d string) { bad = append(bad, ItemError{Pointer: "?" + p, Detail: d}) }
	for name := range q {
		if name != "from" && name != "to" && name != "bucket" && name != "top" {
			fail(ingest.Clip(name, 40), "unknown query parameter")
		}
	}
	from, err := parseTime(q.Get("from"))
	if err != nil {
		fail("from", err.Error())
	}
	to, err := parseTime(q.Get("to"))
	if err != nil {
		fail("to", err.Error())
	}
	if to.IsZero() {
		to = time.Now().UTC()
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	bucket := q.Get("bucket")
	if bucket == "" {
		bucket = "hour"
	}
	switch {
	case bucket != "hour" && bucket != "day":
		fail("bucket", "want hour or day")
	case !from.Before(to):
		fail("to", "must be after from")
	case bucket == "hour" && to.Sub(from) > maxHourBuckets*time.Hour:
		fail("from", "hourly reports cover at most 93 days; use bucket=day")
	case bucket == "day" && to.Sub(from) > maxDayBuckets*24*time.Hour:
		fail("from", "daily reports cover at most 3660 days")
	}
	top := 10
	if v := q.Get("top"); v != "" {
		n, err := parseSmallInt(v, 1, 100)
		if err != nil {
			fail("top", "want an integer from 1 to 100")
		}
		top = n
	}
	if len(bad) > 0 {
		abort(c, probBadRequest, "the report parameters are invalid", bad...)
		return
	}
	rep, err := store.Summary(c.Request.Context(), storage.ReportQuery{From: from, To: to, Bucket: bucket, TopN: top})
	if err != nil {
		abortErr(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}

func parseSmallInt(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want an integer from %d to %d", lo, hi)
	}
	return n, nil
}

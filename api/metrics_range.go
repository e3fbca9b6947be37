package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/drainpipe/drainpipe/metrics"
)

// MetricsRangeQuery is what MetricsRange asks for.
type MetricsRangeQuery struct {
	Since, Until time.Time
	// Step is each point's width; zero lets the server choose (120 steps).
	Step time.Duration
	// Prefix keeps the series whose names start with it.
	Prefix string
	// MergeSources merges every source of a name into one series.
	MergeSources bool
}

// MetricsRange returns app's series step by step over a window, for graphs.
func (c *Client) MetricsRange(ctx context.Context, app string, q MetricsRangeQuery) ([]metrics.RangeSeries, error) {
	v := url.Values{"name": {q.Prefix}}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339Nano))
	}
	if q.Step > 0 {
		v.Set("step", q.Step.String())
	}
	if q.MergeSources {
		v.Set("merge", "sources")
	}
	var out []metrics.RangeSeries
	err := c.do(ctx, http.MethodGet, "/api/apps/"+url.PathEscape(app)+"/metrics/range?"+v.Encode(), nil, &out)
	return out, err
}

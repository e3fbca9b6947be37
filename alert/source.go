package alert

import (
	"context"
	"time"

	"github.com/drainpipe/drainpipe/metrics"
)

// Search selects lines for a Searcher: those of App (every app when "") whose line
// time is in [Start, End) and that match Query, in the archive's query language,
// exactly as `drainpipe search APP QUERY --since START --until END` selects them.
type Search struct {
	App        string
	Query      string
	Start, End time.Time
	// Fields, when set, keeps only lines whose field has exactly this value (the
	// fields of a group: {"code": "H12"}); a line without the field has "".
	Fields map[string]string
}

// GroupCount is how many lines of a search fall in one group.
type GroupCount struct {
	// Values are the group's values, one per groupBy field, in order; "" for a line
	// that lacks the field.
	Values []string
	Count  int64
}

// Line is a matching line, shown in a notification.
type Line struct {
	Time     time.Time `json:"time"`
	Received time.Time `json:"received"`
	App      string    `json:"app"`
	Source   string    `json:"source"`
	Dyno     string    `json:"dyno"`
	Message  string    `json:"message"`
}

// Searcher is the archive as alert rules read it. Rules fire on exactly what
// `drainpipe search` shows, so it must select lines exactly as search does.
type Searcher interface {
	// Count counts the lines s selects, grouped by the groupBy fields (none: one
	// group with no values, also when it counts 0). Fields are the line's own (app,
	// source, dyno) or the logfmt fields of its message (code, status). It returns
	// at most limit groups, those with the highest counts (ties by values, in
	// order), and how many groups it left out.
	Count(ctx context.Context, s Search, groupBy []string, limit int) (groups []GroupCount, excess int, err error)
	// Sample returns up to n lines that s selects, newest first (as search shows them).
	Sample(ctx context.Context, s Search, n int) ([]Line, error)
	// Watermark is a time before which every received line is applied and searchable:
	// every line whose received time is before it is counted by Count. It never goes
	// back.
	Watermark(ctx context.Context) (time.Time, error)
}

// QueryChecker is a Searcher that can say whether a query is valid without running
// it over lines; rules are checked with it when they are added.
type QueryChecker interface {
	CheckQuery(ctx context.Context, query string) error
}

// MetricSource is the metrics history as metric rules read it.
type MetricSource interface {
	// Series returns, per app, source and unit, the series named name of app (every
	// app when "") merged over its intervals that start in [start, end), with App,
	// Name and Source set.
	Series(ctx context.Context, app, name string, start, end time.Time) ([]metrics.Interval, error)
	// Watermark is a time such that every interval that ended before it, holding
	// every line received before it, is stored. It never goes back.
	Watermark(ctx context.Context) (time.Time, error)
}

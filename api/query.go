package api

import (
	"net/url"
	"strconv"
	"time"
)

// Search is what the line endpoints (tail, search, export) and the histogram and
// facets take: what the user typed, narrowed by source, dyno and time.
type Search struct {
	// App is the app whose lines are read; required.
	App string
	// Query is what the user typed: LogsQL, with Heroku's words (web.1,
	// status=503, /slow); see package logsql. Empty is every line.
	Query string
	// Source keeps one source's lines: "app" or "heroku".
	Source string
	// Dyno keeps one dyno's lines (web.1), or every dyno of a process type (web).
	Dyno string
	// Since and Until keep the lines with Since ≤ time < Until; zero is open.
	Since, Until time.Time
}

// values are s's query parameters (without the app, which is in the path).
func (s Search) values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", s.Query)
	set("source", s.Source)
	set("dyno", s.Dyno)
	if !s.Since.IsZero() {
		v.Set("since", s.Since.Format(time.RFC3339Nano))
	}
	if !s.Until.IsZero() {
		v.Set("until", s.Until.Format(time.RFC3339Nano))
	}
	return v
}

// Page is the answer of the search endpoint: a page of lines and the cursor of
// the next page.
type Page struct {
	Lines []Line `json:"lines"`
	// Next is the cursor of the next page, empty on the last one.
	Next string `json:"next,omitempty"`
}

// Context is the answer of the context endpoint: a line and the lines around it
// in its app, each list oldest first.
type Context struct {
	Before []Line `json:"before"`
	Line   Line   `json:"line"`
	After  []Line `json:"after"`
}

// Hits is the answer of the hits endpoint: how many lines fall in each interval
// of [Start, End), in one series, or one per value of a field.
type Hits struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Step is the length of an interval, in seconds.
	Step float64 `json:"step"`
	// Times are the intervals' starts; every series has a count for each.
	Times []time.Time `json:"times"`
	// Field is the field the series are split by, empty for one series.
	Field  string       `json:"field,omitempty"`
	Series []HitsSeries `json:"series"`
	// Total is the number of lines in [Start, End).
	Total int64 `json:"total"`
}

// HitsSeries is one value's counts, interval by interval.
type HitsSeries struct {
	// Value is the field's value ("" for the lines without the field).
	Value string `json:"value"`
	// Other marks the series summing the values past the top ones.
	Other  bool    `json:"other,omitempty"`
	Counts []int64 `json:"counts"`
	Total  int64   `json:"total"`
}

// Facets is the answer of the facets endpoint: the most frequent values of
// fields among the lines of a search.
type Facets struct {
	// Total is the number of lines searched.
	Total  int64   `json:"total"`
	Facets []Facet `json:"facets"`
}

// Facet is one field's most frequent values, most frequent first.
type Facet struct {
	Field  string       `json:"field"`
	Values []FacetValue `json:"values"`
	// Other counts the lines with a value past the ones listed.
	Other int64 `json:"other"`
}

// FacetValue is a value and the number of lines that have it ("" counts the
// lines without the field).
type FacetValue struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// HitsRequest is what Hits asks for.
type HitsRequest struct {
	Search
	// Step is the length of an interval; zero lets the server choose one for
	// about a hundred intervals.
	Step time.Duration
	// By splits the counts by this field's values (status, dyno ...).
	By string
	// Top is the number of values of By with a series of their own; the others
	// are summed in one series. Zero is the server's default, 10.
	Top int
}

func (h HitsRequest) values() url.Values {
	v := h.Search.values()
	if h.Step > 0 {
		v.Set("step", h.Step.String())
	}
	if h.By != "" {
		v.Set("by", h.By)
	}
	if h.Top > 0 {
		v.Set("top", strconv.Itoa(h.Top))
	}
	return v
}

// FacetsRequest is what Facets asks for.
type FacetsRequest struct {
	Search
	// Fields are the fields whose values are counted.
	Fields []string
	// Limit is the number of values listed per field; zero is the server's
	// default, 10.
	Limit int
}

func (f FacetsRequest) values() url.Values {
	v := f.Search.values()
	for _, name := range f.Fields {
		v.Add("field", name)
	}
	if f.Limit > 0 {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	return v
}

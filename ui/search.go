package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// timeRange is a page's window: from and to as the URL gives them, and the times
// they stand for.
type timeRange struct {
	// From and To are the URL's values: a duration ago ("15m", "7d") or an RFC
	// 3339 time; To empty means now.
	From, To     string
	Since, Until time.Time
	// Preset is From when it is one of the picker's durations and To is empty.
	Preset string
}

// presets are the time range picker's choices.
var presets = []string{"15m", "1h", "6h", "24h", "7d", "30d"}

// parseRange reads from and to (default from def).
func parseRange(r *http.Request, def string, now time.Time) (timeRange, error) {
	q := r.URL.Query()
	tr := timeRange{From: q.Get("from"), To: q.Get("to")}
	if tr.From == "" {
		tr.From = def
	}
	var err error
	if tr.Since, err = parseWhen(tr.From, now); err != nil {
		return tr, fmt.Errorf("from: %w", err)
	}
	tr.Until = now
	if tr.To != "" {
		if tr.Until, err = parseWhen(tr.To, now); err != nil {
			return tr, fmt.Errorf("to: %w", err)
		}
	}
	if !tr.Since.Before(tr.Until) {
		return tr, fmt.Errorf("from must be before to")
	}
	if tr.To == "" {
		for _, p := range presets {
			if p == tr.From {
				tr.Preset = p
			}
		}
	}
	return tr, nil
}

// parseWhen reads a duration ago (90s, 15m, 24h, 7d) or an RFC 3339 time (the
// seconds and zone may be left out: 2024-05-01T10:00 is UTC).
func parseWhen(v string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.ParseFloat(days, 64); err == nil && n >= 0 {
			return now.Add(-time.Duration(n * 24 * float64(time.Hour))), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want a duration ago (15m, 24h, 7d) or a time (2024-05-01T10:00:00Z), not %q", v)
}

type searchView struct {
	Query, Source, Dyno, Order string
	Range                      timeRange
	Presets                    []string
	Around                     int64
	Error                      string
}

// searchPage is the search: GET /ui/search?app=&q=&from=&to=&order=&source=&dyno=,
// or a line's context: GET /ui/search?app=&around=ID. The results are fetched by
// the page's script, page by page.
func (h *Handler) searchPage(w http.ResponseWriter, r *http.Request, s *session) {
	v := h.newView(r, s, "search", "Search")
	q := r.URL.Query()
	sv := searchView{Query: q.Get("q"), Source: q.Get("source"), Dyno: q.Get("dyno"), Order: q.Get("order"), Presets: presets}
	if sv.Order != "oldest" {
		sv.Order = "newest"
	}
	var err error
	if sv.Range, err = parseRange(r, "1h", h.cfg.Now()); err != nil {
		sv.Error = err.Error()
	}
	if a := q.Get("around"); a != "" {
		if sv.Around, err = strconv.ParseInt(a, 10, 64); err != nil || sv.Around <= 0 {
			sv.Error, sv.Around = "around: want a line id", 0
		}
	}
	if sv.Query != "" {
		v.Title = sv.Query + " · search"
	}
	v.Data = sv
	v.Scripts = []string{"search.js"}
	v.Wide = true
	code := http.StatusOK
	if sv.Error != "" {
		code = http.StatusBadRequest
	}
	h.pages.render(w, code, "search", v)
}

package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

// timeRange is a page's window: from and to as the URL gives them, and the times
// they stand for.
type timeRange struct {
	// From and To are the URL's values, as the CLI's --since and --until take
	// them (api.ParseTime): a duration ago (15m, 7d), a date, an RFC 3339 time,
	// today, yesterday; To empty means now.
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
	tr := timeRange{From: q.Get("from"), To: q.Get("to"), Until: now.UTC()}
	if tr.From == "" {
		tr.From = def
	}
	var err error
	if tr.Since, err = api.Since(tr.From, now); err != nil {
		return tr, fmt.Errorf("from: %w", err)
	}
	if tr.To != "" {
		if tr.Until, err = api.Until(tr.To, now); err != nil {
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

type searchView struct {
	Query, Source, Dyno, Order string
	Range                      timeRange
	Presets                    []link
	// Flip is the same search in the other order.
	Flip  link
	Error string
}

// link is a labelled URL of the page, current when it is the page itself.
type link struct {
	Label, URL string
	Current    bool
}

// withParams is the request's URL with the pairs (key, value ...) set; an empty
// value removes its key.
func withParams(r *http.Request, kv ...string) string {
	q := r.URL.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	return r.URL.Path + "?" + q.Encode()
}

// searchPage is the search: GET /ui/search?app=&q=&from=&to=&order=&source=&dyno=.
// Every search is its URL, so it can be shared and bookmarked; the page's script
// fetches the histogram, the facets and the lines, page by page, from the admin
// API.
func (h *Handler) searchPage(w http.ResponseWriter, r *http.Request, s *session) {
	v := h.newView(r, s, "search", "Search")
	q := r.URL.Query()
	sv := searchView{Query: q.Get("q"), Source: q.Get("source"), Dyno: q.Get("dyno"), Order: q.Get("order")}
	sv.Flip = link{Label: "oldest first", URL: withParams(r, "app", v.App, "order", "oldest")}
	if sv.Order != "oldest" {
		sv.Order = "newest"
	} else {
		sv.Flip = link{Label: "newest first", URL: withParams(r, "app", v.App, "order", "")}
	}
	code := http.StatusOK
	var err error
	if sv.Range, err = parseRange(r, "1h", h.cfg.Now()); err != nil {
		sv.Error, code = err.Error(), http.StatusBadRequest
	}
	for _, p := range presets {
		sv.Presets = append(sv.Presets, link{Label: p, URL: withParams(r, "app", v.App, "from", p, "to", ""), Current: p == sv.Range.Preset})
	}
	if sv.Query != "" {
		v.Title = sv.Query + " · " + v.App + " · search"
	} else if v.App != "" {
		v.Title = v.App + " · search"
	}
	v.Data = sv
	v.Scripts = []string{"search.js"}
	v.Wide = true
	h.pages.render(w, code, "search", v)
}

// linePage is a line's permalink: GET /ui/lines/{id} shows the line and the 50
// lines before and after it in its app.
func (h *Handler) linePage(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, r, s)
		return
	}
	v := h.newView(r, s, "search", "Line "+strconv.FormatInt(id, 10))
	v.Data = id
	v.Scripts = []string{"search.js"}
	v.Wide = true
	h.pages.render(w, http.StatusOK, "line", v)
}

package ui

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

// view is what every page template gets: the layout's needs, and the page's own
// Data.
type view struct {
	Title string
	// Nav names the page in the navigation ("tail", "search", ...).
	Nav  string
	User string
	// CSRF is the session's token, for forms and the pages' scripts.
	CSRF string
	// App is the app the page is about; Apps are the apps to switch to.
	App  string
	Apps []string
	// Scripts are the page's own scripts (asset names), after common.js.
	Scripts []string
	// Wide lets the page use the whole window width.
	Wide bool
	Data any
}

// pages are the parsed templates: the layout with each page.
type pages struct {
	byName map[string]*template.Template
}

func loadPages(as *assets) (*pages, error) {
	funcs := template.FuncMap{
		"asset":     as.url,
		"ago":       ago,
		"utc":       utc,
		"bytes":     humanBytes,
		"count":     humanCount,
		"pct":       pct,
		"seconds":   seconds,
		"pathApp":   pathApp,
		"hasPrefix": strings.HasPrefix,
		"list":      func(v ...string) []string { return v },
		"dur":       shortGoDuration,
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("ui templates: %w", err)
	}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui templates: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		if path.Base(n) == "layout.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(files, n)
		if err != nil {
			return nil, fmt.Errorf("ui templates: %w", err)
		}
		p.byName[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return p, nil
}

// render writes page name with v. It renders into a buffer first, so a template
// error becomes a clean 500 rather than half a page.
func (p *pages) render(w http.ResponseWriter, code int, name string, v *view) {
	t := p.byName[name]
	if t == nil {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		http.Error(w, "render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// newView starts the view of a page of session s about the request's app.
func (h *Handler) newView(r *http.Request, s *session, nav, title string) *view {
	v := &view{Title: title, Nav: nav, User: s.user, CSRF: s.csrf, Apps: h.apps.names(r)}
	v.App = r.URL.Query().Get("app")
	if v.App == "" {
		v.App = h.defaultApp(r)
	}
	return v
}

// defaultApp is the app with the newest line, else the first one.
func (h *Handler) defaultApp(r *http.Request) string {
	ds, err := h.apps.list(r)
	if err != nil || len(ds) == 0 {
		return ""
	}
	best := ds[0]
	for _, d := range ds[1:] {
		if d.LastLine != nil && (best.LastLine == nil || d.LastLine.After(*best.LastLine)) {
			best = d
		}
	}
	return best.App
}

func (h *Handler) forbidden(w http.ResponseWriter, _ *http.Request, msg string) {
	h.pages.render(w, http.StatusForbidden, "message", &view{Title: "Refused", Data: messageView{Heading: "Refused", Text: msg}})
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, s *session) {
	v := h.newView(r, s, "", "Not found")
	v.Data = messageView{Heading: "Not found", Text: "There is no page at " + r.URL.Path + "."}
	h.pages.render(w, http.StatusNotFound, "message", v)
}

// failed renders a page saying what went wrong with an API call. When the API
// refused the request as asked (a rule or drain that does not exist: 404; an
// input it refuses: 400), the page has the API's status and nothing is logged:
// the mistake is the user's, and theirs to see. Any other failure, the API
// unreachable or failing, is a 502 and an error in the log.
func (h *Handler) failed(w http.ResponseWriter, r *http.Request, s *session, what string, err error) {
	title, code := "Error", http.StatusBadGateway
	if c, ok := refusedStatus(err); ok {
		code = c
		if c == http.StatusNotFound {
			title = "Not found"
		}
	} else {
		h.log.Error("ui: "+what, "err", err)
	}
	v := h.newView(r, s, "", title)
	v.Data = messageView{Heading: "Could not " + what, Text: err.Error()}
	h.pages.render(w, code, "message", v)
}

// refusedStatus is the status of an API answer refusing the request as the
// user made it: a 4xx other than 401 and 403, which would mean the UI's own
// requests are not trusted (its wiring is wrong, not the user's request).
func refusedStatus(err error) (int, bool) {
	var se *api.StatusError
	if !errors.As(err, &se) || se.Code < 400 || se.Code >= 500 ||
		se.Code == http.StatusUnauthorized || se.Code == http.StatusForbidden {
		return 0, false
	}
	return se.Code, true
}

type messageView struct{ Heading, Text string }

// ago says how long ago t was, shortly: "12s ago", "3h ago".
func ago(t any) string {
	var tm time.Time
	switch v := t.(type) {
	case time.Time:
		tm = v
	case *time.Time:
		if v == nil {
			return "never"
		}
		tm = *v
	}
	if tm.IsZero() {
		return "never"
	}
	d := time.Since(tm)
	switch {
	case d < 0:
		return "in " + shortDuration(-d)
	case d < time.Second:
		return "just now"
	}
	return shortDuration(d) + " ago"
}

// shortGoDuration writes a Go duration without its zero parts: "1m0s" is "1m".
func shortGoDuration(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil || d == 0 {
		return s
	}
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}

func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h"
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d"
}

// utc formats a time as the pages show times: UTC, to the millisecond.
func utc(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return ""
		}
		return v.UTC().Format("2006-01-02 15:04:05.000")
	case *time.Time:
		if v == nil {
			return ""
		}
		return utc(*v)
	}
	return ""
}

func humanBytes(n any) string {
	f := toFloat(n)
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(f, 'f', 0, 64) + " B"
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + units[i]
}

// humanCount writes a count with thin separators: 1 234 567.
func humanCount(n any) string {
	s := strconv.FormatFloat(toFloat(n), 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u202f')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func pct(part, whole any) string {
	w := toFloat(whole)
	if w <= 0 {
		return "0"
	}
	p := 100 * toFloat(part) / w
	if p > 100 {
		p = 100
	}
	return strconv.FormatFloat(p, 'f', 1, 64)
}

func seconds(s any) string {
	f := toFloat(s)
	if f < 1 {
		return strconv.FormatFloat(f*1000, 'f', 0, 64) + " ms"
	}
	return shortDuration(time.Duration(f * float64(time.Second)))
}

func toFloat(n any) float64 {
	switch v := n.(type) {
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case uint64:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

// pathApp escapes an app name for a URL path segment.
func pathApp(app string) string { return url.PathEscape(app) }

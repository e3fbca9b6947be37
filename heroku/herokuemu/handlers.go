package herokuemu

import (
	"crypto/subtle"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// routes wires the endpoints behind the checks every Platform API request passes.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /apps/{app}/log-drains", s.list)
	mux.HandleFunc("POST /apps/{app}/log-drains", s.create)
	mux.HandleFunc("GET /apps/{app}/log-drains/{drain}", s.get)
	mux.HandleFunc("DELETE /apps/{app}/log-drains/{drain}", s.remove)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found",
			"The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), and did you specify your intended version with the `Accept` header?")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.admit(w, r) {
			mux.ServeHTTP(w, r)
		}
	})
}

// admit counts the request and applies, in order, an injected fault, the key check,
// the Accept check and the rate limit; it reports whether the request may proceed.
// Every answer carries RateLimit-Remaining.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	s.requests++
	f := s.fault
	if f.n > 0 {
		s.fault.n--
	}
	remaining := s.bucket.remaining(s.cfg, time.Now())
	s.mu.Unlock()
	w.Header().Set("RateLimit-Remaining", strconv.Itoa(remaining))
	switch {
	case f.n > 0:
		writeError(w, f.status, f.id, f.message)
		return false
	case !s.authorized(r):
		writeError(w, http.StatusUnauthorized, "unauthorized", "Invalid credentials provided.")
		return false
	case !acceptsV3(r.Header.Values("Accept")):
		writeError(w, http.StatusNotAcceptable, "not_acceptable",
			"Please specify a version along with Heroku's API MIME type. For example, `Accept: application/vnd.heroku+json; version=3`.")
		return false
	}
	s.mu.Lock()
	remaining, ok := s.bucket.take(s.cfg, time.Now())
	s.mu.Unlock()
	w.Header().Set("RateLimit-Remaining", strconv.Itoa(remaining))
	if !ok {
		writeError(w, http.StatusTooManyRequests, "rate_limit",
			"Your account reached the API rate limit\nPlease wait a few minutes before making new requests")
	}
	return ok
}

// authorized checks "Authorization: Bearer <key>" in constant time.
func (s *Server) authorized(r *http.Request) bool {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || s.cfg.APIKey == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(key)), []byte(s.cfg.APIKey)) == 1
}

// acceptsV3 reports whether an Accept header asks for application/vnd.heroku+json
// with version=3.
func acceptsV3(values []string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			mt, params, err := mime.ParseMediaType(part)
			if err == nil && mt == "application/vnd.heroku+json" && params["version"] == "3" {
				return true
			}
		}
	}
	return false
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a, ok := s.apps[r.PathValue("app")]
	var ds []Drain
	if ok {
		ds = append([]Drain{}, a.drains...)
	}
	s.mu.Unlock()
	if !ok {
		writeAppNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, ds)
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var body createBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "Invalid JSON.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[r.PathValue("app")]
	switch {
	case !ok:
		writeAppNotFound(w)
	case body.URL == nil || *body.URL == "":
		writeError(w, http.StatusUnprocessableEntity, "invalid_params", "Url can't be blank")
	case !validDrainURL(*body.URL):
		writeError(w, http.StatusUnprocessableEntity, "invalid_params", "Url is invalid")
	case find(a, *body.URL) >= 0:
		writeError(w, http.StatusUnprocessableEntity, "invalid_params", "Url has already been taken")
	default:
		d := s.newDrain(a, *body.URL)
		a.drains = append(a.drains, d)
		writeJSON(w, http.StatusCreated, d)
	}
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a, ok := s.apps[r.PathValue("app")]
	i := -1
	var d Drain
	if ok {
		if i = find(a, r.PathValue("drain")); i >= 0 {
			d = a.drains[i]
		}
	}
	s.mu.Unlock()
	switch {
	case !ok:
		writeAppNotFound(w)
	case i < 0:
		writeDrainNotFound(w)
	default:
		writeJSON(w, http.StatusOK, d)
	}
}

func (s *Server) remove(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[r.PathValue("app")]
	if !ok {
		writeAppNotFound(w)
		return
	}
	i := find(a, r.PathValue("drain"))
	switch {
	case i < 0:
		writeDrainNotFound(w)
	case a.drains[i].Addon != nil:
		writeError(w, http.StatusUnprocessableEntity, "invalid_params",
			"Cannot remove a log drain that belongs to an add-on. Remove the add-on "+a.drains[i].Addon.Name+" instead.")
	default:
		d := a.drains[i]
		a.drains = append(a.drains[:i], a.drains[i+1:]...)
		writeJSON(w, http.StatusOK, d)
	}
}

// find returns the index of a's drain whose id, token or URL is ref, or -1.
func find(a *app, ref string) int {
	for i, d := range a.drains {
		if d.ID == ref || d.Token == ref || d.URL == ref {
			return i
		}
	}
	return -1
}

// validDrainURL accepts the schemes Heroku drains speak, with a host.
func validDrainURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	switch u.Scheme {
	case "http", "https", "syslog", "syslog+tls":
		return true
	}
	return false
}

func writeAppNotFound(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "not_found", "Couldn't find that app.")
}

func writeDrainNotFound(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "not_found", "Couldn't find that log drain.")
}

func writeError(w http.ResponseWriter, status int, id, message string) {
	writeJSON(w, status, apiError{ID: id, Message: message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

package ui

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

// csp allows nothing but the UI's own files: no inline script or style, no
// frames, no plugins, forms and requests to this origin only.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// cookieName is the session cookie's name: with the __Host- prefix when Secure,
// which makes browsers refuse it from plain HTTP or for another path or domain.
func (h *Handler) cookieName() string {
	if h.secure {
		return "__Host-drainpipe_session"
	}
	return "drainpipe_session"
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: h.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(maxAge.Seconds())}
	if maxAge < 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// sessionOf returns the request's live session and its cookie value.
func (h *Handler) sessionOf(r *http.Request) (*session, string) {
	c, err := r.Cookie(h.cookieName())
	if err != nil {
		return nil, ""
	}
	return h.sessions.get(c.Value), c.Value
}

// authed runs fn for a request with a live session. Without one, a page request
// is sent to the login page and any other gets a 401 with no data.
func (h *Handler) authed(fn func(http.ResponseWriter, *http.Request, *session), page bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := h.sessionOf(r)
		if s == nil {
			if page {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			writeJSONError(w, http.StatusUnauthorized, "not logged in: open /ui/login")
			return
		}
		fn(w, r, s)
	})
}

// page is a GET page that needs a session.
func (h *Handler) page(fn func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return h.authed(fn, true)
}

// data is a GET data endpoint (JSON, a stream) that needs a session.
func (h *Handler) data(fn func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return h.authed(fn, false)
}

// change is a form POST that changes something: it needs a session, a request
// from this origin and the session's CSRF token.
func (h *Handler) change(fn func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return h.crossOrigin(h.authed(func(w http.ResponseWriter, r *http.Request, s *session) {
		if !h.csrfOK(w, r, s, true) {
			h.forbidden(w, r, "The form was missing its security token, or it came from another page. Go back, reload and try again.")
			return
		}
		fn(w, r, s)
	}, true))
}

// crossOrigin refuses state-changing requests that a browser says come from
// another origin (Sec-Fetch-Site, else Origin against Host).
func (h *Handler) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.metrics.refused.WithLabelValues("cross_origin").Inc()
		h.forbidden(w, r, "This request came from another site, so it was refused.")
	}))
	return cop.Handler(next)
}

// csrfOK reports whether the request carries the session's CSRF token: in the
// X-CSRF-Token header (scripts), or with form set in the csrf form field.
func (h *Handler) csrfOK(w http.ResponseWriter, r *http.Request, s *session, form bool) bool {
	token := r.Header.Get("X-CSRF-Token")
	if token == "" && form {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
		token = r.PostFormValue("csrf")
	}
	ok := token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
	if !ok {
		h.metrics.refused.WithLabelValues("csrf").Inc()
	}
	return ok
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// loginCookie carries the login form's own CSRF token (double submit): there is
// no session yet to hold one.
const loginCookie = "drainpipe_login"

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if s, _ := h.sessionOf(r); s != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, "")
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, code int, msg string) {
	token := randomToken()
	h.setCookie(w, loginCookie, token, 30*time.Minute)
	h.pages.render(w, code, "login", &view{Title: "Log in", CSRF: token, Data: loginView{
		Next: safeNext(r.FormValue("next")), Error: msg, Users: h.cfg.Users != nil, User: r.PostFormValue("user"),
	}})
}

type loginView struct {
	Next, Error, User string
	// Users says whether names and passwords are accepted (--ui-users).
	Users bool
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		h.renderLogin(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		h.metrics.refused.WithLabelValues("csrf").Inc()
		h.renderLogin(w, r, http.StatusForbidden, "The login form had expired. Try again.")
		return
	}
	if ok, wait := h.limiter.allow(clientAddr(r)); !ok {
		h.metrics.logins.WithLabelValues("limited").Inc()
		secs := int(wait.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		h.renderLogin(w, r, http.StatusTooManyRequests, "Too many login attempts from your address. Try again in "+strconv.Itoa(secs)+" s.")
		return
	}
	user, hash, ok := h.checkLogin(r.PostFormValue("user"), r.PostFormValue("password"))
	if !ok {
		h.metrics.logins.WithLabelValues("refused").Inc()
		h.log.Warn("ui login refused", "user", r.PostFormValue("user"), "addr", clientAddr(r))
		msg := "Wrong admin token." // the form asks for it alone
		if h.cfg.Users != nil {
			msg = "Wrong name, password or token."
		}
		h.renderLogin(w, r, http.StatusUnauthorized, msg)
		return
	}
	h.metrics.logins.WithLabelValues("ok").Inc()
	h.log.Info("ui login", "user", user, "addr", clientAddr(r))
	id, _ := h.sessions.create(user, hash)
	h.setCookie(w, h.cookieName(), id, h.cfg.SessionTTL)
	h.setCookie(w, loginCookie, "", -1)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// checkLogin checks a name and password against the users file, or an empty
// name and the admin token. Both paths take time independent of how much of the
// secret was right. hash is the users file's hash the password matched, nil for
// the admin token: its hash is the handler's for life (Config.AdminTokenHash), so
// its sessions end by time or logout only, while a users file session ends when
// the file no longer holds its hash.
func (h *Handler) checkLogin(user, password string) (name string, hash []byte, ok bool) {
	if password == "" {
		return "", nil, false
	}
	if user == "" || h.cfg.Users == nil {
		sum := sha256.Sum256([]byte(password))
		if len(h.cfg.AdminTokenHash) == sha256.Size && subtle.ConstantTimeCompare(sum[:], h.cfg.AdminTokenHash) == 1 {
			return "admin", nil, true
		}
		return "", nil, false
	}
	hash, ok, err := h.cfg.Users.check(user, password)
	if err != nil {
		h.log.Error("ui users file", "err", err)
	}
	return user, hash, ok
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, _ *session) {
	if _, id := h.sessionOf(r); id != "" {
		h.sessions.end(id)
	}
	h.setCookie(w, h.cookieName(), "", -1)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// safeNext keeps a post-login destination only when it is a path of the UI, so
// the login page cannot be used to send someone elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "/ui/login") ||
		strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, "//") {
		return "/ui/"
	}
	return next
}

// clientAddr is the address the request came from, for rate limiting. Behind a
// proxy every user shares the proxy's address (and so its login budget):
// forwarded headers are not trusted, since anyone can send them.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// writeAPIError passes on an error answer of the admin API with its status, and
// any other failure as a 502.
func writeAPIError(w http.ResponseWriter, err error) {
	var se *api.StatusError
	if errors.As(err, &se) {
		writeJSONError(w, se.Code, se.Message)
		return
	}
	writeJSONError(w, http.StatusBadGateway, err.Error())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

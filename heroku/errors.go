package heroku

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/drainpipe/drainpipe"
)

// Sentinel errors that an *Error matches with errors.Is, so callers can branch on
// the cause without reading status codes.
var (
	// ErrUnauthorized means Heroku did not accept the API key (401).
	ErrUnauthorized = errors.New("heroku: unauthorized")
	// ErrForbidden means the key's account may not act on the app (403).
	ErrForbidden = errors.New("heroku: forbidden")
	// ErrNotFound means the app or the drain does not exist (404). An *Error that
	// matches it also matches drainpipe.ErrNotFound.
	ErrNotFound = errors.New("heroku: not found")
	// ErrRateLimited means Heroku's API rate limit was reached and retries did not
	// outlast it (429).
	ErrRateLimited = errors.New("heroku: rate limited")
	// ErrInvalidParams means Heroku refused the request's parameters, such as a drain
	// URL that is malformed or already taken (422 invalid_params).
	ErrInvalidParams = errors.New("heroku: invalid params")
	// ErrConflict means the request conflicts with the app's current state (409).
	ErrConflict = errors.New("heroku: conflict")
)

// Error is an error answer of the Platform API: its HTTP status, Heroku's error id
// ("not_found", "invalid_params" ...) and message, and what the request was about.
type Error struct {
	// Status is the HTTP status code of the answer.
	Status int
	// ID is Heroku's error id, empty when the body was not Heroku's JSON.
	ID string
	// Message is Heroku's explanation, whitespace collapsed.
	Message string
	// App is the app the request named, empty when none.
	App string
	// Drain is the drain the request named (id, token or URL with any password
	// redacted), empty when none.
	Drain string
}

// Error says in one sentence what went wrong and, where it can, what to do.
func (e *Error) Error() string {
	code := e.code()
	switch {
	case e.Status == http.StatusUnauthorized:
		return fmt.Sprintf("Heroku rejected the API key (%s): run `heroku login` or set HEROKU_API_KEY", code)
	case e.Status == http.StatusForbidden:
		return fmt.Sprintf("Heroku denied access%s (%s)%s: check the key's account has access with `heroku access%s`",
			e.onApp(), code, e.detail(), e.appFlag())
	case e.Status == http.StatusNotFound && e.Drain != "" && !e.appMissing():
		return fmt.Sprintf("Heroku log drain %q not found%s (%s): list them with `heroku drains%s`",
			e.Drain, e.onApp(), code, e.appFlag())
	case e.Status == http.StatusNotFound && e.App != "":
		return fmt.Sprintf("Heroku app %q not found (%s): check the name with `heroku apps`", e.App, code)
	case e.Status == http.StatusTooManyRequests:
		return fmt.Sprintf("Heroku rate limit reached (%s): try again in a minute", code)
	case e.Status == http.StatusUnprocessableEntity:
		return fmt.Sprintf("Heroku refused the request%s (%s)%s", e.forApp(), code, e.detail())
	case e.Status == http.StatusConflict:
		return fmt.Sprintf("Heroku reported a conflict%s (%s)%s", e.onApp(), code, e.detail())
	case e.Status >= 500:
		return fmt.Sprintf("Heroku API failed (%s)%s: try again later", code, e.detail())
	default:
		return fmt.Sprintf("Heroku API answered %s%s%s", code, e.forApp(), e.detail())
	}
}

// Is matches the package's sentinels, and drainpipe.ErrNotFound, by status and id.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound, drainpipe.ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrInvalidParams:
		return e.Status == http.StatusUnprocessableEntity && (e.ID == "invalid_params" || e.ID == "")
	case ErrConflict:
		return e.Status == http.StatusConflict
	}
	return false
}

// code is "404 not_found", or "404" and the status text when Heroku gave no id.
func (e *Error) code() string {
	if e.ID != "" {
		return fmt.Sprintf("%d %s", e.Status, escapeControls(e.ID))
	}
	return fmt.Sprintf("%d %s", e.Status, strings.ToLower(http.StatusText(e.Status)))
}

// appMissing tells an unknown app from an unknown drain on a 404 for a drain path:
// Heroku says which in its message ("Couldn't find that app.").
func (e *Error) appMissing() bool {
	return strings.Contains(strings.ToLower(e.Message), "app")
}

// detail is ": " and Heroku's message, its control characters escaped: it is
// printed to a terminal, where an ESC from a proxy's answer could retitle or clear it.
func (e *Error) detail() string {
	if e.Message == "" {
		return ""
	}
	return ": " + escapeControls(e.Message)
}

// escapeControls is s with every character that is not printable (C0 and C1
// controls, DEL, bidi controls) written as Go quotes it (\x1b, \u202e); the rest,
// quotes and backslashes included, stays as it is.
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, unprintable) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unprintable(r) {
			q := strconv.QuoteRune(r) // '\x1b'
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unprintable(r rune) bool { return r != ' ' && !strconv.IsPrint(r) }

func (e *Error) onApp() string {
	if e.App == "" {
		return ""
	}
	return fmt.Sprintf(" on app %q", e.App)
}

func (e *Error) forApp() string {
	if e.App == "" {
		return ""
	}
	return fmt.Sprintf(" for app %q", e.App)
}

func (e *Error) appFlag() string {
	if e.App == "" {
		return ""
	}
	return " -a " + e.App
}

// maxMessage bounds the Heroku message kept in an error, so a proxy's HTML page
// does not become a screenful of error text.
const maxMessage = 300

// cleanMessage collapses whitespace (Heroku's rate-limit message has a newline) and
// bounds the length.
func cleanMessage(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxMessage {
		s = strings.ToValidUTF8(s[:maxMessage], "") + "…"
	}
	return s
}

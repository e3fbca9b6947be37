package cwlemu

import (
	"fmt"
	"net/http"
	"strings"
)

// apiError is an answer the service gives instead of a result: an HTTP status, the
// error code the SDK turns into a typed error, and the message text.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func clientError(code, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, msg: msg}
}

func invalidParameter(msg string) *apiError {
	return clientError("InvalidParameterException", msg)
}

func groupNotFound() *apiError {
	return clientError("ResourceNotFoundException", "The specified log group does not exist.")
}

func streamNotFound() *apiError {
	return clientError("ResourceNotFoundException", "The specified log stream does not exist.")
}

// limitExceeded is the answer of an operation that would take the account past a
// quota of resources (its log groups). The text is the one the service gives for
// its other resource quotas (subscription filters); for CreateLogGroup it is
// unconfirmed.
func limitExceeded() *apiError {
	return clientError("LimitExceededException", "Resource limit exceeded.")
}

func serialization(err error) *apiError {
	return clientError("SerializationException", fmt.Sprintf("Unable to parse request body: %v", err))
}

// violations collects the failed model constraints of one request, to be answered
// together in the service's "N validation errors detected" form.
type violations []string

// add records that value (quoted in the message) failed constraint at member.
func (v *violations) add(value, member, constraint string) {
	*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint))
}

// addNull records a required member that was absent.
func (v *violations) addNull(member string) {
	*v = append(*v, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", member))
}

// err is nil when nothing failed, else the InvalidParameterException that lists it all.
func (v violations) err() *apiError {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return invalidParameter("1 validation error detected: " + v[0])
	default:
		return invalidParameter(fmt.Sprintf("%d validation errors detected: %s", len(v), strings.Join(v, "; ")))
	}
}

package httpd

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWriteJSONCannotEncode: an answer JSON cannot hold (+Inf in a metric's
// sum) is a 500 saying why, not a 200 with an empty body the client cannot read.
func TestWriteJSONCannotEncode(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		code int
		body string
	}{
		{"encodes", map[string]float64{"sum": 1.5}, http.StatusOK, `{"sum":1.5}`},
		{"infinite", map[string]float64{"sum": math.Inf(1)}, http.StatusInternalServerError, `"error":"encode the answer: json: unsupported value: +Inf"`},
	} {
		rec := httptest.NewRecorder()
		writeJSON(rec, http.StatusOK, tc.v)
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("%s: %d %q, want %d with %s", tc.name, rec.Code, rec.Body.String(), tc.code, tc.body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", tc.name, ct)
		}
	}
}

package ssmemu_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/ssm/ssmemu"
)

// FuzzRequest: whatever a request holds, the double answers with a result or
// one of the service's errors as JSON, and never fails itself.
func FuzzRequest(f *testing.F) {
	f.Add("PutParameter", `{"Name":"/a/b","Value":"v","Type":"SecureString","Overwrite":true}`)
	f.Add("GetParameter", `{"Name":"arn:aws:ssm:us-east-1:123456789012:parameter/a/b","WithDecryption":true}`)
	f.Add("PutParameter", `{"Name":"/a/b","Value":"v","Type":"String","Tags":[{"Key":"k","Value":"v"}],"Tier":"Advanced"}`)
	f.Add("GetParameter", `{"Name":null}`)
	f.Fuzz(func(t *testing.T, op, body string) {
		emu := ssmemu.New(ssmemu.Options{})
		for range 2 { // the second sees what the first stored
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Header.Set("X-Amz-Target", "AmazonSSM."+op)
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ssm/aws4_request")
			rec := httptest.NewRecorder()
			emu.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d for %s %q", rec.Code, op, body)
			}
			var out map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("answer is not JSON: %q", rec.Body.String())
			}
			if rec.Code != http.StatusOK && out["__type"] == "" {
				t.Fatalf("error without __type: %q", rec.Body.String())
			}
		}
	})
}

package cwlemu_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// do sends one request straight to the handler.
func do(srv *cwlemu.Server, op string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Logs_20140328."+op)
	req.Header.Set("Authorization", sigv4)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

func mustDo(t *testing.T, srv *cwlemu.Server, op, body string) {
	t.Helper()
	if rec := do(srv, op, []byte(body)); rec.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", op, rec.Code, rec.Body)
	}
}

// fuzzSeeds are request bodies built from the Heroku fixtures' messages.
func fuzzSeeds(t testing.TB) map[string][]string {
	var msgs []string
	lines, err := os.ReadFile(filepath.Join("testdata", "heroku-drain-realistic.lines.txt"))
	if err != nil {
		t.Fatal(err)
	}
	msgs = append(msgs, strings.Split(strings.TrimSpace(string(lines)), "\n")...)
	for _, name := range []string{"non-utf8-bytes.logplex", "nul-and-control-bytes.logplex"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, string(b))
	}
	var evs []map[string]any
	for i, m := range msgs {
		evs = append(evs, map[string]any{"timestamp": ms(now) - int64(len(msgs)-i), "message": m})
	}
	batch, _ := json.Marshal(map[string]any{"logGroupName": "app", "logStreamName": "web", "logEvents": evs})
	seeds := map[string][]string{
		"PutLogEvents": {string(batch),
			`{"logGroupName":"app","logStreamName":"web","logEvents":[{"timestamp":1,"message":"old"},{"timestamp":1772366400000,"message":"now"},{"timestamp":9999999999999,"message":"new"}]}`,
			`{"logGroupName":"app","logStreamName":"web","logEvents":[]}`,
			`{"logGroupName":"app","logStreamName":"web","logEvents":[{"timestamp":1772366400000,"message":""}]}`},
		"CreateLogGroup":     {`{"logGroupName":"/heroku/app","tags":{"a":"b"},"logGroupClass":"INFREQUENT_ACCESS"}`, `{"logGroupName":"aws/x"}`},
		"CreateLogStream":    {`{"logGroupName":"app","logStreamName":"web:1"}`},
		"PutRetentionPolicy": {`{"logGroupName":"app","retentionInDays":7}`},
		"DescribeLogStreams": {`{"logGroupName":"app","limit":1,"nextToken":"b2Zmc2V0OjE"}`, `{"logGroupIdentifier":"arn:aws:logs:r:1:log-group:app:*","orderBy":"LastEventTime","descending":true}`},
		"GetLogEvents":       {`{"logGroupName":"app","logStreamName":"web","nextToken":"f/00000000000000000000000000000000000000000000000000000001","limit":2}`, `{"logGroupName":"app","logStreamName":"web","nextToken":"b/-1"}`},
		"FilterLogEvents":    {`{"logGroupName":"app","filterPattern":"\"web\"","startTime":0,"endTime":9999999999999,"limit":1}`},
		"TagResource":        {`{"resourceArn":"arn:aws:logs:r:1:log-group:app","tags":{"k":"v"}}`},
	}
	return seeds
}

// FuzzServeHTTP sends arbitrary bodies to every operation and holds the service to
// its contract: a well-formed answer, never a 5xx, and a PutLogEvents that stores
// exactly the events it does not report rejected, nothing on failure.
func FuzzServeHTTP(f *testing.F) {
	for op, bodies := range fuzzSeeds(f) {
		for _, b := range bodies {
			f.Add(op, []byte(b))
		}
	}
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		srv := cwlemu.New(cwlemu.Options{Now: func() time.Time { return now }})
		mustDo(t, srv, "CreateLogGroup", `{"logGroupName":"app"}`)
		mustDo(t, srv, "CreateLogStream", `{"logGroupName":"app","logStreamName":"web"}`)
		before := len(srv.Events("app", "web"))
		rec := do(srv, op, body)
		checkAnswer(t, rec)
		if op != "PutLogEvents" {
			return
		}
		stored := len(srv.Events("app", "web")) - before
		if rec.Code != http.StatusOK {
			if stored != 0 {
				t.Fatalf("failed put stored %d events", stored)
			}
			return
		}
		if want := acceptedCount(t, body, rec.Body.Bytes()); stored != want {
			t.Fatalf("stored %d events, the answer implies %d", stored, want)
		}
	})
}

// checkAnswer holds an answer to the wire protocol.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	switch rec.Code {
	case http.StatusOK:
		if rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("invalid JSON answer %q", rec.Body)
		}
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		var e struct {
			Type    string `json:"__type"`
			Message *string
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Message == nil {
			t.Fatalf("error body %q: %v", rec.Body, err)
		}
		if e.Type == "" || e.Type != rec.Header().Get("X-Amzn-ErrorType") {
			t.Fatalf("__type %q, X-Amzn-ErrorType %q", e.Type, rec.Header().Get("X-Amzn-ErrorType"))
		}
	default:
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

// acceptedCount is how many events of the request the answer says were stored.
func acceptedCount(t *testing.T, req, resp []byte) int {
	t.Helper()
	var in struct {
		LogEvents []json.RawMessage `json:"logEvents"`
	}
	var out struct {
		NextSequenceToken     string `json:"nextSequenceToken"`
		RejectedLogEventsInfo *struct {
			TooNew  *int `json:"tooNewLogEventStartIndex"`
			TooOld  *int `json:"tooOldLogEventEndIndex"`
			Expired *int `json:"expiredLogEventEndIndex"`
		} `json:"rejectedLogEventsInfo"`
	}
	if err := json.Unmarshal(req, &in); err != nil {
		t.Fatalf("accepted a body that does not parse: %v", err)
	}
	if err := json.Unmarshal(resp, &out); err != nil || out.NextSequenceToken == "" {
		t.Fatalf("answer %q: %v", resp, err)
	}
	lo, hi := 0, len(in.LogEvents)
	if r := out.RejectedLogEventsInfo; r != nil {
		for _, end := range []*int{r.TooOld, r.Expired} {
			if end != nil {
				lo = max(lo, *end)
			}
		}
		if r.TooNew != nil {
			hi = *r.TooNew
		}
	}
	if lo > hi || hi > len(in.LogEvents) {
		t.Fatalf("rejected ranges [0,%d) and [%d,%d) do not fit %d events", lo, hi, len(in.LogEvents), len(in.LogEvents))
	}
	return hi - lo
}

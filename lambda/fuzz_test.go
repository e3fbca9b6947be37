package lambda_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/lambda"
)

// keepAll is a CloudWatch that takes everything, for the fuzzer's speed.
type keepAll struct {
	mu    sync.Mutex
	lines int
}

func (k *keepAll) Write(_ context.Context, es []drainpipe.Entry) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, e := range es {
		for _, b := range e.Batches {
			k.lines += len(b.Records)
		}
	}
	return nil
}

func (k *keepAll) PutEMF(context.Context, string, [][]byte) error { return nil }

// FuzzInvoke: whatever event arrives, the function answers it with one of the
// receiver's statuses, never with an error of the invocation.
func FuzzInvoke(f *testing.F) {
	d, _ := lambda.ParseDrains("")
	dr, secret, _ := d.Add("myapp", time.Now())
	body := []byte("68 <190>1 2024-05-01T10:00:00.000000+00:00 host app web.1 - Started GET \"/\"\n")
	f.Add([]byte(urlEvent(map[string]string{"authorization": "Basic " + b64(dr.ID+":"+secret)}, body, true)))
	f.Add([]byte(gatewayEvent(map[string]string{"authorization": "Bearer " + secret, "content-encoding": "gzip"}, body)))
	f.Add([]byte(`{"version":"2.0","requestContext":{"http":{"method":"POST"}},"body":"@@","isBase64Encoded":true}`))
	f.Add([]byte(`{"version":"1.0","httpMethod":"POST"}`))
	src, err := lambda.LoadDrains(context.Background(), d.String(), nil, lambda.SourceOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		cw := &keepAll{}
		fn, err := lambda.New(lambda.Config{Drains: src, CloudWatch: cw, MaxBody: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := fn.Invoke(ctx, json.RawMessage(raw))
		if err != nil {
			t.Fatalf("Invoke error %v: the function answers every event", err)
		}
		switch resp.StatusCode {
		case http.StatusNoContent, http.StatusBadRequest, http.StatusUnauthorized, http.StatusMethodNotAllowed,
			http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		default:
			t.Fatalf("status %d for %q", resp.StatusCode, raw)
		}
	})
}

package httpd

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/otlp"
)

// TestOTLPErrorCodes: what the sender cannot mend is a 4xx without Retry-After;
// what passes later is a 429 or 503 with one. (The full journal is also tested end
// to end; a journal that is down or slow is not, as making one on purpose needs the
// journal's internals.)
func TestOTLPErrorCodes(t *testing.T) {
	for _, tt := range []struct {
		err   error
		code  int
		retry string
	}{
		{fmt.Errorf("%w: x", otlp.ErrBadPayload), http.StatusBadRequest, ""},
		{fmt.Errorf("%w: x", otlp.ErrTooLarge), http.StatusRequestEntityTooLarge, ""},
		{fmt.Errorf("journal OTLP logs: append: %w: x", drainpipe.ErrJournalFull), http.StatusTooManyRequests, "5"},
		{fmt.Errorf("journal OTLP logs: append: %w: x", drainpipe.ErrUnavailable), http.StatusServiceUnavailable, "1"},
		{fmt.Errorf("journal OTLP logs: %w", context.DeadlineExceeded), http.StatusServiceUnavailable, "1"},
		{fmt.Errorf("%w: %w", otlp.ErrBusy, context.DeadlineExceeded), http.StatusServiceUnavailable, "1"},
	} {
		if code, retry := otlpErrorCode(tt.err); code != tt.code || retry != tt.retry {
			t.Errorf("%v: %d Retry-After %q, want %d %q", tt.err, code, retry, tt.code, tt.retry)
		}
	}
}

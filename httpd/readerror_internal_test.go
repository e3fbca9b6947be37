package httpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/logsql"
)

// TestReadErrorStatus: what a failed read answers. A query the engine's memory
// budget refuses (a sort or a group over too many rows) is the asker's to
// narrow, a 400 like a bad query, not a server fault.
func TestReadErrorStatus(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	for _, tt := range []struct {
		err  error
		code int
	}{
		{fmt.Errorf("line 9: %w", drainpipe.ErrNotFound), 404},
		{fmt.Errorf("%w: unexpected token", logsql.ErrBadQuery), 400},
		{errors.New("run query: cannot calculate [stats by (id) count() hits], since it requires more than 25MB of memory"), 400},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), 503},
		{errors.New("disk on fire"), 500},
	} {
		rec := httptest.NewRecorder()
		s.readError(rec, tt.err)
		if rec.Code != tt.code {
			t.Errorf("%v: %d, want %d", tt.err, rec.Code, tt.code)
		}
	}
}

package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

// DefaultPageSize is the number of lines an ArchiveReader asks for at a time.
const DefaultPageSize = 10_000

// ArchiveReader reads a run back from drainpipe's archive through the admin API's
// search: a full-text match on the run id, paged newest first.
type ArchiveReader struct {
	// PageSize is the number of lines asked for at a time, at most the admin
	// API's 100,000. Default DefaultPageSize.
	PageSize int

	c   *api.Client
	app string
}

var _ Reader = (*ArchiveReader)(nil)

// NewArchiveReader reads the lines of app through the admin API client c.
func NewArchiveReader(c *api.Client, app string) *ArchiveReader {
	return &ArchiveReader{c: c, app: app}
}

// Read implements Reader.
func (r *ArchiveReader) Read(ctx context.Context, runID string, since time.Time) ([]Seen, error) {
	// The run id is one FTS5 token; quoted, it is a phrase whatever it holds.
	q := api.SearchQuery{App: r.app, Match: strconv.Quote(runID), Since: since, Limit: r.PageSize}
	if q.Limit <= 0 {
		q.Limit = DefaultPageSize
	}
	var out []Seen
	for {
		lines, err := r.c.Search(ctx, q)
		if err != nil {
			return nil, archiveError(err)
		}
		for _, l := range lines {
			out = append(out, Seen{Message: l.Message})
		}
		if len(lines) < q.Limit {
			return out, nil
		}
		q.Before = lines[len(lines)-1].ID
	}
}

// archiveError marks the answers that asking again cannot mend: a 4xx other
// than a timeout or a rate limit (a wrong token, a bad query).
func archiveError(err error) error {
	err = fmt.Errorf("search archive: %w", err)
	var se *api.StatusError
	if errors.As(err, &se) && se.Code/100 == 4 && se.Code != http.StatusRequestTimeout && se.Code != http.StatusTooManyRequests {
		return permanent(err)
	}
	return err
}

package verify_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/archive/query"
	"github.com/drainpipe/drainpipe/drains"
	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/drainpipe/drainpipe/verify"
)

const adminToken = "admin-token-for-tests"

// startDrainpipe runs drainpipe's real parts, wired as `drainpipe serve` wires
// them: an embedded journal, the archive fed from it, and the HTTP server
// on 127.0.0.1. It returns the server's base URL.
func startDrainpipe(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	j, err := journal.Open(ctx, journal.Config{Dir: filepath.Join(dir, "journal"), Sinks: []string{"archive"}})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := drains.Open(ctx, drains.Config{JetStream: j.JetStream()})
	if err != nil {
		t.Fatal(err)
	}
	arc, err := archive.Open(ctx, archive.Config{Dir: filepath.Join(dir, "archive")})
	if err != nil {
		t.Fatal(err)
	}
	cctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := j.Consume(cctx, arc, journal.ConsumeOptions{}); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("consume: %v", err)
		}
	})
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	srv.Config.Handler = httpd.New(httpd.Config{
		Journal: j, Drains: ds, Archive: arc, Reader: query.New(query.Config{Storage: arc}), AdminTokenHash: drainpipe.HashSecret(adminToken), PublicURL: srv.URL,
	}, func() bool { return true })
	t.Cleanup(func() {
		srv.Close()
		stop()
		wg.Wait()
		_ = arc.Close()
		_ = ds.Close()
		_ = j.Close()
	})
	return srv.URL
}

// Through drainpipe itself: drains added through the admin API, pairs sent to
// their URLs, read back from the archive through the admin API's search.
func TestArchive(t *testing.T) {
	t.Parallel()
	base := startDrainpipe(t)
	c := api.NewClient(base, adminToken)
	drainURL := func(t *testing.T, app string) string {
		d, err := c.AddDrain(t.Context(), api.AddDrainRequest{App: app})
		if err != nil {
			t.Fatal(err)
		}
		return d.URL
	}
	t.Run("all found", func(t *testing.T) {
		t.Parallel()
		var progress int
		rep, err := verify.Run(t.Context(), verify.Config{URL: drainURL(t, "verify-app"), Count: 150, Concurrency: 8, Wait: 30 * time.Second,
			Reader: verify.NewArchiveReader(c, "verify-app"), Progress: func(verify.Report) { progress++ }})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		checkSums(t, rep, 150)
		if !rep.OK() || rep.Duplicates != 0 || rep.Retried != 0 {
			t.Errorf("report %+v: want all 150 found once", rep)
		}
		if progress == 0 {
			t.Error("Progress was never called")
		}
	})
	t.Run("pages", func(t *testing.T) {
		t.Parallel()
		r := verify.NewArchiveReader(c, "verify-pages")
		r.PageSize = 7 // 100 lines: 15 pages, the last one short
		rep, err := verify.Run(t.Context(), verify.Config{URL: drainURL(t, "verify-pages"), Count: 50, Concurrency: 8, Wait: 30 * time.Second, Reader: r})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		checkSums(t, rep, 50)
		if !rep.OK() || rep.Duplicates != 0 {
			t.Errorf("found %d, duplicates %d: want 50 found once", rep.Found, rep.Duplicates)
		}
	})
	t.Run("another app", func(t *testing.T) {
		t.Parallel()
		// Lines sent to another app's drain are not the app's lines.
		url := drainURL(t, "verify-other")
		drainURL(t, "verify-empty")
		rep, err := verify.Run(t.Context(), verify.Config{URL: url, Count: 5, Wait: 300 * time.Millisecond,
			Reader: verify.NewArchiveReader(c, "verify-empty")})
		if err != nil || rep.Missing != 5 {
			t.Errorf("run read back from the wrong app: %+v, %v; want 5 missing", rep, err)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		t.Parallel()
		// A refused token is not waited out: the run stops with the server's answer.
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		_, err := verify.Run(ctx, verify.Config{URL: drainURL(t, "verify-token"), Count: 3, Wait: time.Hour,
			Reader: verify.NewArchiveReader(api.NewClient(base, "wrong"), "verify-token")})
		var se *api.StatusError
		if !errors.As(err, &se) || se.Code != 401 || !strings.Contains(err.Error(), "read back") {
			t.Errorf("Run: %v, want the server's 401", err)
		}
	})
}

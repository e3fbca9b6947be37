package ui_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/jskv"
	"github.com/drainpipe/drainpipe/alert/notify"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/archive/alertsearch"
	"github.com/drainpipe/drainpipe/drains"
	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/journal"
)

// testAPI is the admin API as `drainpipe serve` assembles it: package httpd on
// a journal, the drain store, an archive and the alert service reading it, all
// in t.TempDir(). The pages that show what the API answers are tested against
// it, so a status or a sentence they pass on is the server's own.
type testAPI struct {
	// handler serves the UI's requests, trusted as the admin's (httpd.AsAdmin).
	handler http.Handler
	archive *archive.Archive
	seq     uint64
}

// realAPI is the admin API's handler, for the tests that need nothing else.
func realAPI(t *testing.T) http.Handler { return newTestAPI(t).handler }

// writeLine stores one line of app's in the archive, received now.
func (a *testAPI) writeLine(t *testing.T, app, message string) {
	t.Helper()
	a.seq++
	now := time.Now().UTC()
	rec := drainpipe.Record{App: app, Time: now, Received: now, Priority: 190, Source: "app", Dyno: "web.1", Message: message}
	b := drainpipe.Batch{App: app, Received: now, Records: []drainpipe.Record{rec}}
	if err := a.archive.Write(t.Context(), []drainpipe.Entry{{Seq: a.seq, Journal: "test", Batches: []drainpipe.Batch{b}}}); err != nil {
		t.Fatal(err)
	}
}

func newTestAPI(t *testing.T) *testAPI {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	j, err := journal.Open(ctx, journal.Config{Dir: filepath.Join(dir, "journal")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	ds, err := drains.Open(ctx, drains.Config{JetStream: j.JetStream()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ds.Close() })
	arc, err := archive.Open(ctx, archive.Config{Dir: filepath.Join(dir, "archive"), PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = arc.Close() })
	store, err := jskv.Open(ctx, j.JetStream(), 1)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := alert.NewSealer(make([]byte, alert.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	opener, err := notify.NewOpener(notify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Every line is in the archive as soon as it is written: no journal lag.
	noLag := func(context.Context) (time.Duration, error) { return 0, nil }
	file := alert.Rule{Name: "from-file", App: "shop", Query: "H12", Threshold: 1, Window: time.Minute, Line: 3,
		Notify: []string{"pagerduty://abcdef0123456789abcdef0123456789"}}
	svc, err := alert.New(ctx, alert.Config{Searcher: alertsearch.New(alertsearch.Config{Archive: arc, Apps: func() []string { return nil }, Lag: noLag}),
		Store: store, Opener: opener, Sealer: sealer, FileRules: []alert.Rule{file}})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(adminToken))
	srv := httpd.New(httpd.Config{Drains: ds, Archive: arc, Alerts: svc, AdminTokenHash: sum[:], PublicURL: "https://logs.example.com"}, nil)
	return &testAPI{archive: arc, handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { srv.ServeHTTP(w, httpd.AsAdmin(r)) })}
}

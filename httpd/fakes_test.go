package httpd_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/metrics"
)

// The fakes stand in for the journal, the drain store, the archive and the sinks:
// the receiver and the admin API are tested on their own, over real HTTP.

// fakeJournal keeps the batches appended; a batch whose key it saw is a duplicate.
type fakeJournal struct {
	mu      sync.Mutex
	batches []*drainpipe.Batch
	keys    map[string]bool
	err     error         // returned by every Append when set
	delay   time.Duration // Append waits this long (or until ctx ends)
	// busy counts the Appends under way; mostBusy is the most there were at once.
	busy, mostBusy int
}

// mostAtOnce is the most Appends that were under way at once.
func (j *fakeJournal) mostAtOnce() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.mostBusy
}

// setDelay changes the delay of the Appends that start afterwards.
func (j *fakeJournal) setDelay(d time.Duration) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.delay = d
}

func (j *fakeJournal) Append(ctx context.Context, b *drainpipe.Batch) (bool, error) {
	j.mu.Lock()
	delay := j.delay
	j.busy++
	j.mostBusy = max(j.mostBusy, j.busy)
	j.mu.Unlock()
	defer func() {
		j.mu.Lock()
		j.busy--
		j.mu.Unlock()
	}()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return false, j.err
	}
	if b.Key != "" {
		if j.keys == nil {
			j.keys = map[string]bool{}
		}
		if j.keys[b.Drain+"/"+b.Key] {
			return true, nil
		}
		j.keys[b.Drain+"/"+b.Key] = true
	}
	j.batches = append(j.batches, cloneBatch(b))
	return false, nil
}

// cloneBatch copies b's strings: with Config.ParseInPlace they point into a body
// buffer that the next request reuses, and a Journal keeps nothing of them.
func cloneBatch(b *drainpipe.Batch) *drainpipe.Batch {
	c := *b
	c.Records = make([]drainpipe.Record, len(b.Records))
	for i, r := range b.Records {
		r.Host, r.Source, r.Dyno = strings.Clone(r.Host), strings.Clone(r.Source), strings.Clone(r.Dyno)
		r.MsgID, r.StructuredData, r.Message = strings.Clone(r.MsgID), strings.Clone(r.StructuredData), strings.Clone(r.Message)
		c.Records[i] = r
	}
	return &c
}

func (j *fakeJournal) appended() []*drainpipe.Batch {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]*drainpipe.Batch{}, j.batches...)
}

// fakeDrains is a drain store in a map.
type fakeDrains struct {
	mu     sync.Mutex
	byID   map[string]drainpipe.Drain
	health error
}

func newFakeDrains() *fakeDrains { return &fakeDrains{byID: map[string]drainpipe.Drain{}} }

// add stores a new drain for app and returns its secret.
func (d *fakeDrains) add(t *testing.T, app string) (drainpipe.Drain, string) {
	t.Helper()
	dr, secret, err := drainpipe.NewDrain(app, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	d.byID[dr.ID] = dr
	d.mu.Unlock()
	return dr, secret
}

func (d *fakeDrains) Authenticate(secret string) (drainpipe.Drain, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, dr := range d.byID {
		if string(dr.SecretHash) == string(drainpipe.HashSecret(secret)) {
			return dr, true
		}
	}
	return drainpipe.Drain{}, false
}

func (d *fakeDrains) Health() error { return d.health }

func (d *fakeDrains) ByApp(app string) (drainpipe.Drain, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, dr := range d.byID {
		if dr.App == app {
			return dr, true
		}
	}
	return drainpipe.Drain{}, false
}

func (d *fakeDrains) List() []drainpipe.Drain {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []drainpipe.Drain
	for _, dr := range d.byID {
		out = append(out, dr)
	}
	return out
}

func (d *fakeDrains) Add(_ context.Context, dr drainpipe.Drain) (drainpipe.Drain, bool, error) {
	if old, ok := d.ByApp(dr.App); ok {
		return old, false, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.byID[dr.ID] = dr
	return dr, true, nil
}

func (d *fakeDrains) Update(_ context.Context, dr drainpipe.Drain) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.byID[dr.ID]; !ok {
		return drainpipe.ErrNotFound
	}
	for _, other := range d.byID {
		if other.ID != dr.ID && other.Heroku != nil && dr.Heroku != nil && other.Heroku.Token == dr.Heroku.Token {
			return drainpipe.ErrConflict
		}
	}
	d.byID[dr.ID] = dr
	return nil
}

func (d *fakeDrains) Remove(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.byID[id]; !ok {
		return drainpipe.ErrNotFound
	}
	delete(d.byID, id)
	return nil
}

// fakeArchive answers following and the drain listing's counts from a fixed
// list of lines.
type fakeArchive struct {
	lines []archive.Line
	stats map[string]archive.AppStats
	// waiting, when set, is told each time a follower begins to wait.
	waiting chan struct{}
}

func (a *fakeArchive) LastID() int64 {
	if len(a.lines) == 0 {
		return 0
	}
	return a.lines[len(a.lines)-1].ID
}

func (a *fakeArchive) After(_ context.Context, app string, after int64, limit int) ([]archive.Line, error) {
	var out []archive.Line
	for _, l := range a.lines {
		if l.App == app && l.ID > after && len(out) < limit {
			out = append(out, l)
		}
	}
	return out, nil
}

func (a *fakeArchive) Wait(ctx context.Context, _ int64) error {
	if a.waiting != nil {
		a.waiting <- struct{}{}
	}
	<-ctx.Done()
	return ctx.Err()
}

func (a *fakeArchive) Stats(_ context.Context, app string) (archive.AppStats, error) {
	return a.stats[app], nil
}

// fakeSink reports a fixed status.
type fakeSink struct {
	name string
	st   httpd.SinkStatus
}

func (s fakeSink) Name() string                            { return s.name }
func (s fakeSink) Status(context.Context) httpd.SinkStatus { return s.st }

// fakeHistory is a metrics history with one series.
type fakeHistory struct{}

func (fakeHistory) Query(context.Context, string, time.Time, time.Time, string) ([]metrics.Series, error) {
	return []metrics.Series{{Name: "router.requests", Sum: 3}}, nil
}

func (fakeHistory) Range(context.Context, metrics.RangeQuery) ([]metrics.RangeSeries, error) {
	return []metrics.RangeSeries{{Name: "router.requests", Kind: "counter"}}, nil
}

const adminToken = "an-admin-token-for-the-tests"

// testServer is an httpd.Server on 127.0.0.1 over the fakes.
type testServer struct {
	url     string
	journal *fakeJournal
	drains  *fakeDrains
	archive *fakeArchive
	reg     *prometheus.Registry
}

func newTestServer(t *testing.T, mod func(*httpd.Config)) *testServer {
	t.Helper()
	ts, h := newTestHandler(t, mod)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ts.url = srv.URL
	return ts
}

// newTestHandler is newTestServer's handler, for a test that serves it itself.
func newTestHandler(t *testing.T, mod func(*httpd.Config)) (*testServer, http.Handler) {
	t.Helper()
	ts := &testServer{journal: &fakeJournal{}, drains: newFakeDrains(), archive: &fakeArchive{stats: map[string]archive.AppStats{}},
		reg: prometheus.NewRegistry()}
	cfg := httpd.Config{
		Journal: ts.journal, Drains: ts.drains, Archive: ts.archive, AdminTokenHash: drainpipe.HashSecret(adminToken),
		PublicURL: "https://logs.example.com", MaxBody: 1 << 16, AppendTimeout: 200 * time.Millisecond,
		Registerer: ts.reg, Gatherer: ts.reg,
	}
	if mod != nil {
		mod(&cfg)
	}
	return ts, httpd.New(cfg, func() bool { return true })
}

// adminGet GETs url with the admin token and returns the answer and its
// body. It takes no t, so a test's other goroutines may call it.
func adminGet(ctx context.Context, url string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header = admin()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// do sends a request and returns the answer, its body read.
func do(t *testing.T, method, url string, body string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

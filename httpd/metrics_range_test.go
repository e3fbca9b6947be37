package httpd_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/drains"
	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/drainpipe/drainpipe/metrics"
)

// rangeServer serves the admin API over a real drain store (one drain, "shop")
// and a real metrics store holding ten minutes of router.service on two dynos.
func rangeServer(t *testing.T, t0 time.Time) *httpd.Server {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(ctx, journal.Config{Dir: filepath.Join(t.TempDir(), "journal")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	ds, err := drains.Open(ctx, drains.Config{JetStream: j.JetStream()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	d, _, err := drainpipe.NewDrain("shop", t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ds.Add(ctx, d); err != nil {
		t.Fatal(err)
	}
	store, err := metrics.OpenStore(ctx, metrics.StoreConfig{Path: filepath.Join(t.TempDir(), "metrics.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	agg, err := metrics.NewAggregator(metrics.Config{Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for minute := range 10 {
		for i := range 10 {
			at := t0.Add(time.Duration(minute)*time.Minute + time.Duration(i)*time.Second)
			agg.Add("shop", metrics.Sample{Name: "router.service", Source: "web.1", Unit: "ms", Kind: metrics.Distribution, Value: 10, Time: at})
			agg.Add("shop", metrics.Sample{Name: "router.service", Source: "web.2", Unit: "ms", Kind: metrics.Distribution, Value: 1000, Time: at})
		}
		if err := store.Save(ctx, agg.Flush(t0.Add(time.Duration(minute+1)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256([]byte(token))
	return httpd.New(httpd.Config{Drains: ds, Metrics: store, AdminTokenHash: sum[:], Now: func() time.Time { return t0.Add(10 * time.Minute) }}, nil)
}

func TestMetricsRange(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(rangeServer(t, t0))
	defer srv.Close()
	get := func(query string) (int, []metrics.RangeSeries) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/apps/shop/metrics/range?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out []metrics.RangeSeries
		if resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, out
	}
	window := url.Values{"since": {t0.Format(time.RFC3339)}, "until": {t0.Add(10 * time.Minute).Format(time.RFC3339)}}
	q := func(extra ...string) string {
		v := url.Values{}
		for k, vs := range window {
			v[k] = vs
		}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v.Encode()
	}
	code, each := get(q("step", "5m"))
	if code != http.StatusOK || len(each) != 2 || len(each[0].Points) != 2 || each[0].Points[0].Count != 50 {
		t.Fatalf("per source: %d %+v", code, each)
	}
	code, merged := get(q("step", "5m", "merge", "sources"))
	if code != http.StatusOK || len(merged) != 1 || merged[0].Source != "" || merged[0].Points[1].Count != 100 || merged[0].Points[1].Max != 1000 {
		t.Fatalf("merged: %d %+v", code, merged)
	}
	if code, def := get(""); code != http.StatusOK || len(def) != 2 || len(def[0].Points) != 10 {
		t.Errorf("the default window (the last hour, 30 s steps): %d, %d series", code, len(def))
	}
	for _, bad := range []string{q("step", "500ms"), q("step", "x"), q("step", "1s", "since", t0.Add(-10*time.Hour).Format(time.RFC3339)),
		q("merge", "dynos"), q("since", "tomorrow-ish"), q("since", t0.Add(time.Hour).Format(time.RFC3339))} {
		if code, _ := get(bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
}

// TestAsAdmin: the mark an in-process caller puts on a request stands for the
// admin token; a request from the network without the token is refused.
func TestAsAdmin(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	h := rangeServer(t, t0)
	for _, tc := range []struct {
		name string
		req  func() *http.Request
		code int
	}{
		{"no token", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/api/apps/shop/metrics/range", nil) }, http.StatusUnauthorized},
		{"a forged header", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/api/apps/shop/metrics/range", nil)
			r.Header.Set("X-Drainpipe-Admin", "true")
			return r
		}, http.StatusUnauthorized},
		{"marked in process", func() *http.Request {
			return httpd.AsAdmin(httptest.NewRequest(http.MethodGet, "/api/apps/shop/metrics/range", nil))
		}, http.StatusOK},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, tc.req())
		if rec.Code != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, rec.Code, tc.code)
		}
	}
}

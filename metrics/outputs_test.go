package metrics_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/drainpipe/drainpipe/metrics"
)

// fixtureIntervals runs the whole fixture, timestamps moved to t0, through an aggregator.
func fixtureIntervals(t *testing.T, cfg metrics.Config) (*metrics.Aggregator, []metrics.Interval) {
	t.Helper()
	a := newAggregator(t, cfg)
	for i, r := range fixtureRecords(t) {
		r.Time = t0.Add(time.Duration(i) * time.Second)
		_ = a.AddRecord(r)
	}
	return a, a.Flush(t0.Add(2 * time.Minute))
}

func TestCollector(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	fixtureIntervals(t, metrics.Config{Registerer: reg, Prefix: "us-east.prod"})
	want := `
# HELP drainpipe_metrics_hidden_series Series not exposed because their sanitised name or labels collided with another's.
# TYPE drainpipe_metrics_hidden_series gauge
drainpipe_metrics_hidden_series 0
# HELP us_east_prod_logplex_dropped Log metric us_east_prod_logplex_dropped (counter, unit "") over its last closed interval.
# TYPE us_east_prod_logplex_dropped gauge
us_east_prod_logplex_dropped{app="myapp",source="log-shuttle"} 222
us_east_prod_logplex_dropped{app="myapp",source="logplex"} 3
# HELP us_east_prod_memory_rss_mb_last Log metric us_east_prod_memory_rss_mb (gauge, unit "MB") over its last closed interval.
# TYPE us_east_prod_memory_rss_mb_last gauge
us_east_prod_memory_rss_mb_last{app="myapp",source="web.1"} 21.22
# HELP us_east_prod_router_requests Log metric us_east_prod_router_requests (counter, unit "") over its last closed interval.
# TYPE us_east_prod_router_requests gauge
us_east_prod_router_requests{app="myapp",source=""} 2
us_east_prod_router_requests{app="myapp",source="web.1"} 7
# HELP us_east_prod_router_service_ms Log metric us_east_prod_router_service_ms (distribution, unit "ms") over its last closed interval.
# TYPE us_east_prod_router_service_ms gauge
us_east_prod_router_service_ms{app="myapp",quantile="0.5",source="web.1"} 2.9742334234767003
us_east_prod_router_service_ms{app="myapp",quantile="0.95",source="web.1"} 9801.163177670853
us_east_prod_router_service_ms{app="myapp",quantile="0.99",source="web.1"} 9801.163177670853
# HELP us_east_prod_router_service_ms_count Log metric us_east_prod_router_service_ms (distribution, unit "ms") over its last closed interval.
# TYPE us_east_prod_router_service_ms_count gauge
us_east_prod_router_service_ms_count{app="myapp",source="web.1"} 7
`
	names := []string{"us_east_prod_router_service_ms", "us_east_prod_router_service_ms_count", "us_east_prod_router_requests",
		"us_east_prod_memory_rss_mb_last", "us_east_prod_logplex_dropped", "drainpipe_metrics_hidden_series"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

func TestCollectorCollisionsAndStaleness(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	a := newAggregator(t, metrics.Config{Registerer: reg})
	add := func(name string, kind metrics.Kind, source string, at time.Time) {
		a.Add("app", metrics.Sample{Name: name, Source: source, Kind: kind, Value: 1, Time: at})
	}
	add("a.b", metrics.Counter, "web.1", t0)
	add("a-b", metrics.Counter, "web.1", t0) // same sanitised name: one is hidden
	add("c", metrics.Counter, "\xffbad", t0) // invalid UTF-8 label value is repaired
	add("gone", metrics.Counter, "run.1", t0)
	a.Flush(t0.Add(time.Minute))
	if n, err := testutil.GatherAndCount(reg, "drainpipe_log_a_b", "drainpipe_log_c", "drainpipe_log_gone"); err != nil || n != 3 {
		t.Errorf("got %d series (%v), want 3", n, err)
	}
	if got := testutil.ToFloat64(gaugeOf(t, reg, "drainpipe_metrics_hidden_series")); got != 1 {
		t.Errorf("hidden %v, want 1", got)
	}
	// Five intervals later with no data, the series are forgotten.
	add("a.b", metrics.Counter, "web.1", t0.Add(6*time.Minute))
	a.Flush(t0.Add(7 * time.Minute))
	if n, err := testutil.GatherAndCount(reg, "drainpipe_log_gone", "drainpipe_log_a_b"); err != nil || n != 1 {
		t.Errorf("after staleness: %d series (%v), want 1", n, err)
	}
}

func gaugeOf(t *testing.T, g prometheus.Gatherer, name string) prometheus.Collector {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			c := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x", Help: "x"})
			c.Set(mf.Metric[0].GetGauge().GetValue())
			return c
		}
	}
	t.Fatalf("no %s", name)
	return nil
}

func TestEMF(t *testing.T) {
	t.Parallel()
	_, ivs := fixtureIntervals(t, metrics.Config{})
	docs, err := metrics.EMF(ivs, metrics.EMFOptions{Namespace: "heroku/logs", Static: map[string]string{"env": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, d := range docs {
		if err := metrics.ValidateEMF(d); err != nil {
			t.Errorf("invalid document %s: %v", d, err)
		}
		var m map[string]any
		if err := json.Unmarshal(d, &m); err != nil {
			t.Fatal(err)
		}
		aws := m["_aws"].(map[string]any)
		dir := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
		if dir["Namespace"] != "heroku/logs" || m["env"] != "prod" || m["app"] != "myapp" {
			t.Errorf("document %s lacks namespace or dimensions", d)
		}
		b.Write(d)
		b.WriteByte('\n')
	}
	golden(t, "testdata/emf.golden", b.String())
}

func TestEMFLimits(t *testing.T) {
	t.Parallel()
	var ivs []metrics.Interval
	for i := range 60 { // 60 distributions × 8 metrics: several documents
		ivs = append(ivs, metrics.Interval{App: "app", Source: "web.1", Name: strings.Repeat("m", i+1), Kind: metrics.Distribution,
			Unit: "ms", Start: t0, Length: time.Minute, Count: 1, Sum: 1, Min: 1, Max: 1, Last: 1, Sketch: metrics.NewSketch()})
	}
	long := metrics.Interval{App: "app", Source: strings.Repeat("s", 1025), Name: "x", Kind: metrics.Counter, Start: t0, Count: 1, Sum: 1}
	clash := metrics.Interval{App: "app", Source: "web.1", Name: "app", Kind: metrics.Counter, Start: t0, Count: 1, Sum: 1}
	noSource := metrics.Interval{App: "app", Name: "y", Kind: metrics.Counter, Start: t0, Count: 1, Sum: 1}
	docs, err := metrics.EMF(append(ivs, long, clash, noSource), metrics.EMFOptions{})
	if err == nil || !strings.Contains(err.Error(), "1-1024") || !strings.Contains(err.Error(), `"app"`) {
		t.Errorf("error %v, want the long source and the clashing name named", err)
	}
	metricsSeen := 0
	for _, d := range docs {
		if err := metrics.ValidateEMF(d); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			AWS struct {
				CloudWatchMetrics []struct {
					Dimensions [][]string
					Metrics    []struct{ Name string }
				}
			} `json:"_aws"`
		}
		if err := json.Unmarshal(d, &doc); err != nil {
			t.Fatal(err)
		}
		dir := doc.AWS.CloudWatchMetrics[0]
		if len(dir.Metrics) > 100 {
			t.Errorf("%d metrics in one directive", len(dir.Metrics))
		}
		metricsSeen += len(dir.Metrics)
		if bytes.Contains(d, []byte(`"y"`)) && len(dir.Dimensions[0]) != 1 {
			t.Errorf("source-less interval has dimensions %v, want [app]", dir.Dimensions)
		}
	}
	if metricsSeen != 60*8+1 {
		t.Errorf("%d metrics in all, want %d", metricsSeen, 60*8+1)
	}
	for _, bad := range []string{
		`[]`, `{}`, `{"_aws":{"Timestamp":1}}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["app"]],"Metrics":[{"Name":"x"}]}]},"x":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[],"Metrics":[{"Name":"x"}]}]},"x":"1"}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[],"Metrics":[{"Name":"x"}]}]},"x":[` + strings.Repeat("1,", 100) + `1]}`,
	} {
		if metrics.ValidateEMF([]byte(bad)) == nil {
			t.Errorf("ValidateEMF(%.80s) = nil", bad)
		}
	}
	if _, err := metrics.EMF(nil, metrics.EMFOptions{Namespace: "AWS/EC2"}); err == nil {
		t.Error("AWS/ namespace accepted")
	}
}

func TestStoreRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "metrics.db")
	st := openStore(t, metrics.StoreConfig{Path: path})
	ctx := context.Background()
	a := newAggregator(t, metrics.Config{})
	for minute := range 3 {
		for i := range 100 {
			at := t0.Add(time.Duration(minute)*time.Minute + time.Duration(i)*time.Millisecond)
			a.Add("app", metrics.Sample{Name: "router.service", Source: "web.1", Unit: "ms", Kind: metrics.Distribution, Value: float64(i + minute*100), Time: at})
			a.Add("app", metrics.Sample{Name: "users", Kind: metrics.Unique, Str: string(rune('a' + i%30)), Time: at})
			a.Add("other", metrics.Sample{Name: "router.service", Kind: metrics.Distribution, Value: 1, Time: at})
		}
		ivs := a.Flush(t0.Add(time.Duration(minute+1) * time.Minute))
		if err := st.Save(ctx, ivs); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Query(ctx, "app", t0, t0.Add(time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []metrics.Series{
		{Name: "router.service", Source: "web.1", Unit: "ms", Count: 300, Sum: 44850, Min: 0, Max: 299, Mean: 149.5, Last: 299, Distribution: true},
		{Name: "users", Count: 300, Sum: 30},
	}
	if len(got) != 2 {
		t.Fatalf("query: %+v", got)
	}
	for i, w := range want {
		g := got[i]
		p50, p95, p99 := g.P50, g.P95, g.P99
		g.P50, g.P95, g.P99 = 0, 0, 0
		if g != w {
			t.Errorf("series %d:\n got %+v\nwant %+v", i, g, w)
		}
		if w.Name == "router.service" && (abs(p50-149) > 1.49 || abs(p95-284) > 2.84 || abs(p99-296) > 2.96) {
			t.Errorf("quantiles %v %v %v, want 149 284 296 ±1%%", p50, p95, p99)
		}
	}
	// A window and a prefix select.
	got, err = st.Query(ctx, "app", t0.Add(time.Minute), t0.Add(2*time.Minute), "router.")
	if err != nil || len(got) != 1 || got[0].Count != 100 || got[0].Min != 100 {
		t.Errorf("windowed query: %+v, %v", got, err)
	}
	js, _ := json.Marshal(got[0])
	if want := `{"name":"router.service","source":"web.1","unit":"ms","count":100,`; !strings.HasPrefix(string(js), want) {
		t.Errorf("JSON %s, want prefix %s", js, want)
	}
	n, err := st.Prune(ctx, t0.Add(2*time.Minute), 0)
	if err != nil || n != 6 {
		t.Errorf("prune: %d, %v; want 6", n, err)
	}
	got, _ = st.Query(ctx, "app", t0, t0.Add(time.Hour), "")
	if len(got) != 2 || got[0].Count != 100 {
		t.Errorf("after prune: %+v", got)
	}
}

func abs(v float64) float64 { return max(v, -v) }

func openStore(t *testing.T, cfg metrics.StoreConfig) *metrics.Store {
	t.Helper()
	st, err := metrics.OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestStoreFile: the store makes its own file, readable by its owner only.
func TestStoreFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "metrics.db")
	openStore(t, metrics.StoreConfig{Path: path})
	openStore(t, metrics.StoreConfig{Path: path}) // opening again is fine
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("metrics.db: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
}

// TestStoreCopiesLegacyHistory: the history that lived in archive.db is copied into
// metrics.db on the store's first start, once, and archive.db is left as it was.
func TestStoreCopiesLegacyHistory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	legacy := filepath.Join(dir, "archive.db")
	old, err := metrics.OpenStore(context.Background(), metrics.StoreConfig{Path: legacy})
	if err != nil {
		t.Fatal(err)
	}
	a := newAggregator(t, metrics.Config{})
	for i := range 10 {
		a.Add("app", metrics.Sample{Name: "router.requests", Kind: metrics.Counter, Value: 1, Time: t0.Add(time.Duration(i) * time.Second)})
	}
	if err := old.Save(context.Background(), a.Flush(t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	old.Close()
	before, err := os.ReadFile(legacy)
	if err != nil {
		t.Fatal(err)
	}
	cfg := metrics.StoreConfig{Path: filepath.Join(dir, "metrics.db"), Legacy: legacy}
	sum := func(st *metrics.Store) float64 {
		got, err := st.Query(context.Background(), "app", t0.Add(-time.Hour), t0.Add(time.Hour), "")
		if err != nil || len(got) != 1 {
			t.Fatalf("query: %+v %v", got, err)
		}
		return got[0].Sum
	}
	st, err := metrics.OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := sum(st); got != 10 {
		t.Fatalf("copied history sums %v, want 10", got)
	}
	st.Close()
	if got := sum(openStore(t, cfg)); got != 10 {
		t.Fatalf("after a restart the history sums %v, want 10 (copied once)", got)
	}
	if after, _ := os.ReadFile(legacy); !bytes.Equal(before, after) {
		t.Error("archive.db changed")
	}
}

// TestStoreLegacyWithoutHistory: an archive.db without the table, or none at all,
// copies nothing and is no error.
func TestStoreLegacyWithoutHistory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	other := filepath.Join(dir, "archive.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE lines (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, legacy := range []string{other, filepath.Join(dir, "missing.db")} {
		st := openStore(t, metrics.StoreConfig{Path: filepath.Join(t.TempDir(), "metrics.db"), Legacy: legacy})
		if got, err := st.Query(context.Background(), "app", t0.Add(-time.Hour), t0.Add(time.Hour), ""); err != nil || len(got) != 0 {
			t.Errorf("legacy %s: %+v %v, want nothing", legacy, got, err)
		}
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	err := metrics.WriteTable(&b, []metrics.Series{
		{Name: "router.service", Source: "web.1", Unit: "ms", Count: 1234567, Sum: 9876543.25, Min: 0, Max: 30000, Mean: 8.000001, Last: 3, P50: 2.97, P95: 120.5, P99: 30039.27, Distribution: true},
		{Name: "router.requests", Count: 12, Sum: 12},
		{Name: "odd\tname", Source: "a\nb", Sum: -0.5},
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/table.golden", b.String())
}

// TestCollectorFamilyClashes: series whose Prometheus names fall into another
// series' family (sample#workers_max and the _max of sample#workers) never make the
// registry's Gather fail: one of them is hidden and counted, and drainpipe's own
// metrics stay.
func TestCollectorFamilyClashes(t *testing.T) {
	t.Parallel()
	type s struct {
		name, unit string
		kind       metrics.Kind
		value      float64
	}
	for _, tt := range []struct {
		name   string
		series []s
		hidden float64
	}{
		{"gauge and its _max", []s{{"workers", "", metrics.Gauge, 3}, {"workers_max", "", metrics.Gauge, 8}}, 1},
		{"distribution and its _count", []s{{"m", "", metrics.Distribution, 2}, {"m_count", "", metrics.Distribution, 1}}, 1},
		{"gauge and a counter named its _sum", []s{{"q", "", metrics.Gauge, 2}, {"q_sum", "", metrics.Counter, 1}}, 1},
		{"unit folded into the name", []s{{"mem", "MB", metrics.Gauge, 1}, {"mem_mb", "", metrics.Gauge, 2}}, 1},
		{"unique and a counter", []s{{"users", "", metrics.Unique, 1}, {"users_distinct", "", metrics.Counter, 1}}, 1},
		{"_last of a _min", []s{{"a", "", metrics.Gauge, 1}, {"a_min", "", metrics.Gauge, 1}, {"a_min_last", "", metrics.Gauge, 1}}, 1},
		{"no clash", []s{{"workers", "", metrics.Gauge, 3}, {"workers.busy", "", metrics.Counter, 8}}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewPedanticRegistry()
			a := newAggregator(t, metrics.Config{Registerer: reg})
			for _, x := range tt.series {
				a.Add("app", metrics.Sample{Name: x.name, Unit: x.unit, Kind: x.kind, Value: x.value, Str: "u", Time: t0})
			}
			a.Add("app", metrics.Sample{Kind: metrics.Counter, Value: 1, Time: t0}) // no name: a failure, counted
			a.Flush(t0.Add(time.Minute))
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatalf("gather: %v", err)
			}
			got := map[string]bool{}
			for _, mf := range mfs {
				got[mf.GetName()] = true
			}
			for _, own := range []string{"drainpipe_metrics_hidden_series", "drainpipe_metrics_extract_failures_total"} {
				if !got[own] {
					t.Errorf("%s missing from the scrape", own)
				}
			}
			if h := testutil.ToFloat64(gaugeOf(t, reg, "drainpipe_metrics_hidden_series")); h != tt.hidden {
				t.Errorf("hidden %v, want %v", h, tt.hidden)
			}
		})
	}
}

// TestStorePrunesTheFuture: Prune deletes the intervals past the retention and
// those starting more than a day ahead of now, which a history written before
// such samples were filed at their received time holds, and keeps the rest.
func TestStorePrunesTheFuture(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, metrics.StoreConfig{Path: filepath.Join(t.TempDir(), "metrics.db")})
	now := t0
	starts := map[string]time.Time{
		"old":        now.Add(-31 * 24 * time.Hour),
		"recent":     now.Add(-time.Hour),
		"23h ahead":  now.Add(23 * time.Hour),
		"25h ahead":  now.Add(25 * time.Hour),
		"in 2100":    time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		"a day less": now.Add(24*time.Hour - time.Minute),
	}
	var ivs []metrics.Interval
	for name, start := range starts {
		ivs = append(ivs, metrics.Interval{App: "app", Name: name, Kind: metrics.Counter, Start: start, Length: time.Minute, Count: 1, Sum: 1, LastAt: start})
	}
	if err := st.Save(ctx, ivs); err != nil {
		t.Fatal(err)
	}
	n, err := st.Prune(ctx, now, 30*24*time.Hour)
	if err != nil || n != 3 {
		t.Errorf("pruned %d (%v), want 3", n, err)
	}
	got, err := st.Query(ctx, "app", time.Unix(0, 0), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range got {
		names = append(names, s.Name)
	}
	if want := []string{"23h ahead", "a day less", "recent"}; !slices.Equal(names, want) {
		t.Errorf("kept %q, want %q", names, want)
	}
}

// TestStorePathWithURICharacters: a data directory whose name holds '#' or '?'
// keeps metrics.db inside it, in WAL mode, and so does a relative path.
func TestStorePathWithURICharacters(t *testing.T) {
	for _, tt := range []struct {
		name, dir string
		relative  bool
	}{
		{"hash", "a#b", false},
		{"question mark", "a?b=c", false},
		{"percent and both", "50%#x?y", false},
		{"relative", "rel#dir", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, tt.dir)
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "metrics.db")
			if tt.relative {
				t.Chdir(root)
				path = filepath.Join(tt.dir, "metrics.db")
			}
			iv := metrics.Interval{App: "app", Name: "c", Kind: metrics.Counter, Start: t0, Length: time.Minute, Count: 1, Sum: 1, LastAt: t0}
			legacy := filepath.Join(dir, "archive.db") // a history to copy, attached by its URI
			old := openStore(t, metrics.StoreConfig{Path: legacy})
			if err := old.Save(context.Background(), []metrics.Interval{iv}); err != nil {
				t.Fatal(err)
			}
			old.Close()
			st := openStore(t, metrics.StoreConfig{Path: path, Legacy: legacy})
			if err := st.Save(context.Background(), []metrics.Interval{iv}); err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(root)
			if len(entries) != 1 || entries[0].Name() != tt.dir {
				t.Errorf("%s holds %v, want only %q", root, entries, tt.dir)
			}
			// The file header's read and write versions are 2 in WAL mode.
			if h, err := os.ReadFile(filepath.Join(dir, "metrics.db")); err != nil || len(h) < 100 || h[18] != 2 || h[19] != 2 {
				t.Errorf("%s/metrics.db is not a database in WAL mode (%v)", dir, err)
			}
			again := openStore(t, metrics.StoreConfig{Path: filepath.Join(dir, "metrics.db")})
			if got, err := again.Query(context.Background(), "app", t0, t0.Add(time.Hour), ""); err != nil || len(got) != 1 || got[0].Sum != 2 {
				t.Errorf("reopened: %+v (%v), want the interval saved and the one copied", got, err)
			}
		})
	}
}

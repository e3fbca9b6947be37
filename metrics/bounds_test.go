package metrics_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/metrics"
)

// TestHugeValuesAreRefused: a value beyond ±2^360, from a log line or an
// OpenTelemetry point, is refused and counted: two gauge points of 1.7e308 once
// made an interval's sum +Inf, which the history's JSON could not carry.
func TestHugeValuesAreRefused(t *testing.T) {
	t.Parallel()
	gauge := func(v float64) drainpipe.Record {
		p := metrics.Point{Name: "g", Type: metrics.PointGauge, Value: v}
		return drainpipe.Record{App: "app", Time: t0, Received: t0, MsgID: metrics.PointMsgID, Attrs: p.AppendAttrs(nil)}
	}
	for _, tt := range []struct {
		name    string
		add     func(a *metrics.Aggregator)
		refused float64
		max     float64 // the interval's max when one is kept
	}{
		{"two gauge points of 1.7e308", func(a *metrics.Aggregator) {
			_ = a.AddRecord(gauge(1.7e308))
			_ = a.AddRecord(gauge(1.7e308))
		}, 2, 0},
		{"a sample of -1e300", func(a *metrics.Aggregator) {
			a.Add("app", metrics.Sample{Name: "g", Kind: metrics.Gauge, Value: -1e300, Time: t0})
		}, 1, 0},
		{"2^360 is kept, and the sketch holds it", func(a *metrics.Aggregator) {
			_ = a.AddRecord(gauge(math.Ldexp(1, 360)))
			_ = a.AddRecord(gauge(math.Ldexp(1, 360)))
		}, 0, math.Ldexp(1, 360)},
		{"a cumulative counter whose increase passes the bound", func(a *metrics.Aggregator) {
			for i, v := range []float64{-2e108, 2e108} { // the first a baseline
				p := metrics.Point{Name: "c", Type: metrics.PointSum, Cumulative: true, Monotonic: true, Value: v, Start: t0.Add(-time.Hour)}
				_ = a.AddRecord(drainpipe.Record{App: "app", Time: t0.Add(time.Duration(i) * time.Second), MsgID: metrics.PointMsgID, Attrs: p.AppendAttrs(nil)})
			}
		}, 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewPedanticRegistry()
			a := newAggregator(t, metrics.Config{Registerer: reg})
			tt.add(a)
			ivs := a.Flush(t0.Add(time.Hour))
			refused := 0.0
			if tt.refused > 0 {
				refused = testutil.ToFloat64(counterChild(t, reg, "drainpipe_metrics_extract_failures_total", "app"))
			}
			if refused != tt.refused {
				t.Errorf("refused %v, want %v", refused, tt.refused)
			}
			for _, iv := range ivs {
				if iv.Count == 0 {
					continue
				}
				if math.IsInf(iv.Sum, 0) || math.IsNaN(iv.Sum) || iv.Max != tt.max {
					t.Errorf("interval %s: sum %v max %v, want a finite sum and max %v", iv.Name, iv.Sum, iv.Max, tt.max)
				}
				if tt.max != 0 && iv.Quantile(0.5) != tt.max {
					t.Errorf("p50 %v, want %v: the sketch dropped the values", iv.Quantile(0.5), tt.max)
				}
			}
		})
	}
}

// TestSketchRefusesWhatItCannotIndex: the sketch says when it cannot take a value
// instead of dropping it.
func TestSketchRefusesWhatItCannotIndex(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		v  float64
		ok bool
	}{
		{1, true}, {-1e108, true}, {0, true}, {math.Ldexp(1, 360), true},
		{math.MaxFloat64, false}, {-math.MaxFloat64, false}, {math.Inf(1), false}, {math.NaN(), false},
	} {
		s := metrics.NewSketch()
		err := s.Add(tt.v)
		if (err == nil) != tt.ok {
			t.Errorf("Add(%g) = %v, want ok %v", tt.v, err, tt.ok)
		}
		if want := map[bool]float64{true: 1, false: 0}[tt.ok]; s.Count() != want {
			t.Errorf("Add(%g): count %v, want %v", tt.v, s.Count(), want)
		}
	}
}

// TestMergedSumsStayFinite: intervals whose sums together pass float64's limit
// merge into the largest finite sum, not +Inf.
func TestMergedSumsStayFinite(t *testing.T) {
	t.Parallel()
	iv := func(sum float64) metrics.Interval {
		return metrics.Interval{App: "app", Name: "c", Kind: metrics.Counter, Start: t0, Length: time.Minute, Count: 1, Sum: sum, LastAt: t0}
	}
	for _, tt := range []struct {
		a, b, want float64
	}{
		{1.5e308, 1.5e308, math.MaxFloat64},
		{-1.5e308, -1.5e308, -math.MaxFloat64},
		{1.5e308, -1.5e308, 0},
	} {
		m := iv(tt.a)
		if err := m.Merge(iv(tt.b)); err != nil {
			t.Fatal(err)
		}
		if m.Sum != tt.want {
			t.Errorf("%g + %g = %g, want %g", tt.a, tt.b, m.Sum, tt.want)
		}
	}
}

// TestStoreKeepsOnlyFiniteNumbers: an interval holding +Inf or NaN (from a node of
// an older version) is not stored, and such a row already in metrics.db is left
// out of queries, so that the API's JSON answer can always be encoded.
func TestStoreKeepsOnlyFiniteNumbers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "metrics.db")
	st := openStore(t, metrics.StoreConfig{Path: path})
	good := metrics.Interval{App: "app", Name: "g", Kind: metrics.Counter, Start: t0, Length: time.Minute, Count: 1, Sum: 2, Min: 2, Max: 2, Last: 2, LastAt: t0}
	bad := good
	bad.Sum = math.Inf(1)
	nan := good
	nan.Last = math.NaN()
	if err := st.Save(ctx, []metrics.Interval{good, bad, nan}); err != nil {
		t.Fatal(err)
	}
	if err := st.Apply(ctx, "log", 1, []metrics.Interval{bad}); err != nil {
		t.Fatal(err)
	}
	// A row written before values were bounded.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO metric_intervals (app, name, source, unit, kind, start_ms, end_ms, count, sum, min, max, last, last_at)
		VALUES ('app', 'g', '', '', ?, ?, ?, 2, ?, 1.7e308, 1.7e308, 1.7e308, 0)`,
		int(metrics.Counter), t0.UnixMilli(), t0.Add(time.Minute).UnixMilli(), math.Inf(1)); err != nil {
		t.Fatal(err)
	}
	var stored int
	if err := db.QueryRow(`SELECT count(*) FROM metric_intervals`).Scan(&stored); err != nil || stored != 2 {
		t.Fatalf("%d rows (%v), want the good one and the old one", stored, err)
	}
	got, err := st.Query(ctx, "app", t0, t0.Add(time.Hour), "")
	if err != nil || len(got) != 1 || got[0].Sum != 2 {
		t.Fatalf("query: %+v %v, want the good interval only", got, err)
	}
	if _, err := json.Marshal(got); err != nil {
		t.Errorf("JSON: %v", err)
	}
	rs, err := st.Range(ctx, metrics.RangeQuery{App: "app", Since: t0, Until: t0.Add(time.Hour), Step: time.Minute})
	if err != nil || len(rs) != 1 || rs[0].Points[0].Sum != 2 {
		t.Errorf("range: %+v %v", rs, err)
	}
}

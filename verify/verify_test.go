package verify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/verify"
)

func TestRunAllFound(t *testing.T) {
	t.Parallel()
	d := newDrain(t, nil)
	rep := run(t, d, 300)
	if !rep.OK() || rep.Found != 300 || rep.Missing != 0 || rep.Duplicates != 0 || rep.Retried != 0 {
		t.Errorf("report %+v: want all 300 found once, no retries", rep)
	}
	if len(rep.RunID) != 16 {
		t.Errorf("run id %q: want 16 hex digits", rep.RunID)
	}
	if d.badMeths != 0 {
		t.Errorf("%d requests were not logplex POSTs with the URL's credentials", d.badMeths)
	}
	seen, _ := d.Read(t.Context(), rep.RunID, time.Time{})
	if len(seen) != 600 {
		t.Errorf("drain kept %d lines of the run, want 600: one batch per line", len(seen))
	}
}

func TestRunReportJSON(t *testing.T) {
	t.Parallel()
	d := newDrain(t, nil)
	rep := run(t, d, 5)
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"run_id", "sent", "found", "missing", "duplicates", "unacknowledged", "p50_ms", "p99_ms", "missing_ids", "unacknowledged_ids", "duplicate_ids"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON %s lacks %q", data, k)
		}
	}
	if ids, ok := got["missing_ids"].([]any); !ok || len(ids) != 0 {
		t.Errorf("missing_ids = %v, want [] (not null) when nothing is missing", got["missing_ids"])
	}
}

// A drain that acknowledges every batch but silently drops 1% of lines: exactly
// the pairs of the dropped lines are missing, and the audit fails.
func TestRunSilentDrops(t *testing.T) {
	t.Parallel()
	var dropped ids
	var n atomic.Int64
	d := newDrain(t, func(r req) answer {
		if n.Add(1)%100 == 0 {
			id, _ := r.pair()
			dropped.add(id)
			return answer{}
		}
		return answer{store: true}
	})
	rep := run(t, d, 500)
	want := dropped.sorted()
	if len(want) != 10 {
		t.Fatalf("the drain dropped lines of %d pairs, want 10", len(want))
	}
	if !slices.Equal(rep.MissingIDs, want) || rep.Missing != 10 || rep.Found != 490 || rep.OK() {
		t.Errorf("missing %d %v, found %d, OK %v: want exactly %v missing, 490 found, not OK",
			rep.Missing, rep.MissingIDs, rep.Found, rep.OK(), want)
	}
	if rep.Unacknowledged != 0 {
		t.Errorf("unacknowledged %v: the drain acknowledged every batch", rep.UnacknowledgedIDs)
	}
}

// A drain that stores some batches twice: those pairs are duplicates, and found.
func TestRunDuplicates(t *testing.T) {
	t.Parallel()
	var twice ids
	var n atomic.Int64
	d := newDrain(t, func(r req) answer {
		if n.Add(1)%25 == 0 {
			id, _ := r.pair()
			twice.add(id)
			return answer{store: true, twice: true}
		}
		return answer{store: true}
	})
	rep := run(t, d, 200)
	want := twice.sorted()
	if !slices.Equal(rep.DuplicateIDs, want) || rep.Duplicates != len(want) || len(want) == 0 {
		t.Errorf("duplicates %v, want %v", rep.DuplicateIDs, want)
	}
	if !rep.OK() || rep.Found != 200 {
		t.Errorf("found %d, OK %v: duplicates lose nothing", rep.Found, rep.OK())
	}
}

// Answers logplex retries are retried with the same Logplex-Frame-Id, so a drain
// that de-duplicates by it stores each batch once, and nothing is missing.
func TestRunRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer answer // the answer to the first two tries of every fourth batch
	}{
		{"503 before storing", answer{status: http.StatusServiceUnavailable}},
		{"503 after storing", answer{status: http.StatusServiceUnavailable, store: true}},
		{"500", answer{status: http.StatusInternalServerError}},
		{"429", answer{status: http.StatusTooManyRequests}},
		{"302 is not followed", answer{status: http.StatusFound}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newDrain(t, func(r req) answer {
				if r.first%4 == 0 && r.try < 3 {
					return tt.answer
				}
				return answer{store: true}
			})
			d.dedup = true
			rep := run(t, d, 60)
			if !rep.OK() || rep.Missing+rep.Unacknowledged+rep.Duplicates != 0 {
				t.Errorf("report %+v: want every pair found once", rep)
			}
			if got := d.triesPerFrame(); rep.Retried != got[3] || rep.Retried < 20 || len(got) != 2 || rep.LastError == "" {
				t.Errorf("retried %d, frames by tries %v, last error %q: want every fourth batch tried 3 times, and its answer",
					rep.Retried, got, rep.LastError)
			}
			if d.badMeths != 0 {
				t.Errorf("%d requests were not POSTs: a redirect was followed", d.badMeths)
			}
		})
	}
}

// Batches that never get a 2xx are unacknowledged, not missing: after three tries
// for the answers logplex retries, after one for the others. One that was stored
// all the same is found.
func TestRunUnacknowledged(t *testing.T) {
	t.Parallel()
	var unacked ids
	d := newDrain(t, func(r req) answer {
		id, half := r.pair()
		switch {
		case id%10 == 0 && half == "end":
			unacked.add(id)
			return answer{status: http.StatusServiceUnavailable}
		case id%10 == 5 && half == "begin":
			unacked.add(id)
			return answer{status: http.StatusBadRequest}
		case id%10 == 7 && half == "end":
			return answer{status: http.StatusBadGateway, store: true} // stored, never acknowledged
		}
		return answer{store: true}
	})
	d.dedup = true
	rep := run(t, d, 100)
	want := unacked.sorted()
	if !slices.Equal(rep.UnacknowledgedIDs, want) || rep.Missing != 0 || rep.Found != 80 || rep.OK() {
		t.Errorf("unacknowledged %v, missing %v, found %d, OK %v: want %v unacknowledged, 80 found, not OK",
			rep.UnacknowledgedIDs, rep.MissingIDs, rep.Found, rep.OK(), want)
	}
	// 10 × 503 and 10 × 502 frames tried 3 times; 10 × 400 frames once, like the
	// 170 frames answered 204 at once.
	got := d.triesPerFrame()
	if got[3] != 20 || got[1] != 180 || len(got) != 2 {
		t.Errorf("frames by tries %v: want 20 tried 3 times, 180 once", got)
	}
	if !strings.Contains(rep.LastError, "drain answered") {
		t.Errorf("last error %q: want the drain's answer", rep.LastError)
	}
}

// A drain that acknowledges nothing (wrong credentials) is read back once, not
// waited for.
func TestRunNothingAcknowledged(t *testing.T) {
	t.Parallel()
	d := newDrain(t, func(req) answer { return answer{status: http.StatusUnauthorized} })
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	rep, err := verify.Run(ctx, verify.Config{URL: d.url, Count: 20, Concurrency: 4, Wait: time.Hour, Reader: d})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkSums(t, rep, 20)
	if rep.Unacknowledged != 20 || !strings.Contains(rep.LastError, "401") {
		t.Errorf("report %+v: want 20 unacknowledged and the 401 in the last error", rep)
	}
	if strings.Contains(rep.LastError, "s3cret") {
		t.Errorf("last error %q holds the drain secret", rep.LastError)
	}
}

// A drain that cannot be reached: transport errors are retried, then unacknowledged,
// and the secret stays out of the error.
func TestRunUnreachable(t *testing.T) {
	t.Parallel()
	d := newDrain(t, nil)
	d.url = "http://d.test:s3cret@127.0.0.1:1/logs"
	rep, err := verify.Run(t.Context(), verify.Config{URL: d.url, Count: 3, Concurrency: 3, Wait: time.Hour, Reader: d})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkSums(t, rep, 3)
	if rep.Unacknowledged != 3 || rep.Retried != 6 {
		t.Errorf("report %+v: want 3 unacknowledged, 6 batches retried", rep)
	}
	if rep.LastError == "" || strings.Contains(rep.LastError, "s3cret") {
		t.Errorf("last error %q: want the failure, without the secret", rep.LastError)
	}
}

func TestRunCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	d := newDrain(t, func(r req) answer {
		if r.n == 50 {
			cancel()
		}
		return answer{store: true}
	})
	rep, err := verify.Run(ctx, verify.Config{URL: d.url, Count: 100_000, Concurrency: 4, Wait: time.Hour, Reader: d})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v, want context.Canceled", err)
	}
	if rep.Sent == 0 || rep.Sent >= 100_000 {
		t.Errorf("sent %d: want the pairs sent before the cancel", rep.Sent)
	}
}

// The read-back polls until stragglers arrive, within Wait.
func TestRunStragglers(t *testing.T) {
	t.Parallel()
	var held atomic.Bool
	var late *drain
	d := newDrain(t, func(r req) answer {
		if id, _ := r.pair(); id == 7 {
			held.Store(true)
			return answer{} // acknowledged, kept back; stored below after a while
		}
		return answer{store: true}
	})
	late = d
	// The reader and Progress are called by one goroutine, one after the other.
	var last verify.Report
	var progress []verify.Report
	inserted := false
	reader := readerFunc(func(ctx context.Context, runID string, since time.Time) ([]verify.Seen, error) {
		if !inserted && last.Sent == 20 && last.Found == 19 {
			late.mu.Lock()
			for _, h := range []string{"begin", "end"} {
				late.stored = append(late.stored, verify.Seen{Message: "drainpipe-verify " + runID + " 7 " + h})
			}
			late.mu.Unlock()
			inserted = true
		}
		return late.Read(ctx, runID, since)
	})
	rep, err := verify.Run(t.Context(), verify.Config{URL: d.url, Count: 20, Concurrency: 2, Wait: time.Minute, Reader: reader,
		Progress: func(r verify.Report) { progress = append(progress, r); last = r }})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkSums(t, rep, 20)
	if !held.Load() || !inserted || !rep.OK() {
		t.Errorf("report %+v: want all found once the straggler was stored", rep)
	}
	if len(progress) < 2 || progress[len(progress)-1].Found != 20 {
		t.Errorf("progress %+v: want a report per read, the last with 20 found", progress)
	}
}

type readerFunc func(ctx context.Context, runID string, since time.Time) ([]verify.Seen, error)

func (f readerFunc) Read(ctx context.Context, runID string, since time.Time) ([]verify.Seen, error) {
	return f(ctx, runID, since)
}

// A reader that keeps failing: the run reports what it knows and the error.
func TestRunReaderFails(t *testing.T) {
	t.Parallel()
	d := newDrain(t, nil)
	reader := readerFunc(func(context.Context, string, time.Time) ([]verify.Seen, error) {
		return nil, errors.New("store down")
	})
	rep, err := verify.Run(t.Context(), verify.Config{URL: d.url, Count: 10, Concurrency: 2, Wait: 600 * time.Millisecond, Reader: reader})
	if err == nil || !strings.Contains(err.Error(), "store down") {
		t.Errorf("Run: %v, want the reader's error", err)
	}
	if rep.Sent != 10 || rep.Missing != 10 || rep.OK() {
		t.Errorf("report %+v: want 10 sent, none found", rep)
	}
}

func TestRunConfig(t *testing.T) {
	t.Parallel()
	d := newDrain(t, nil)
	tests := []struct {
		name string
		cfg  verify.Config
		want string
	}{
		{"no URL", verify.Config{Reader: d}, "drain URL"},
		{"not http", verify.Config{URL: "syslog://h:1", Reader: d}, "drain URL"},
		{"no host", verify.Config{URL: "http:///logs", Reader: d}, "drain URL"},
		{"no reader", verify.Config{URL: d.url}, "no reader"},
		{"negative count", verify.Config{URL: d.url, Reader: d, Count: -1}, "count"},
		{"huge count", verify.Config{URL: d.url, Reader: d, Count: verify.MaxCount + 1}, "count"},
		{"negative concurrency", verify.Config{URL: d.url, Reader: d, Concurrency: -2}, "concurrency"},
		{"negative wait", verify.Config{URL: d.url, Reader: d, Wait: -time.Second}, "wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := verify.Run(t.Context(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run: %v, want an error about %s", err, tt.want)
			}
		})
	}
	if d.n != 0 {
		t.Errorf("%d requests sent with invalid configurations", d.n)
	}
}

// The latency is from sending a pair's end line to the moment the pair can be read
// back, not the store's own receive time: a store that takes 400 ms to make a line
// readable reports at least 400 ms.
func TestRunLatencyIsSendToReadable(t *testing.T) {
	t.Parallel()
	d := newDrain(t, nil)
	d.lag = 400 * time.Millisecond
	rep, err := verify.Run(t.Context(), verify.Config{URL: d.url, Count: 50, Concurrency: 4, Wait: 10 * time.Second, Reader: d})
	if err != nil {
		t.Fatal(err)
	}
	checkSums(t, rep, 50)
	if !rep.OK() || rep.P50Ms < 400 || rep.P99Ms > 5000 {
		t.Errorf("found %d of 50, latency p50 %v ms p99 %v ms; want every pair, readable 400 ms after its send at the earliest", rep.Found, rep.P50Ms, rep.P99Ms)
	}
}

// A drain that goes away mid-run (its server closed: connections refused; or
// hanging up on every request: connections reset) is given up on after
// GiveUpTries tries in a row without an answer, not sent to for hours: the run
// stops sending, reads back what it sent and says why it stopped.
func TestRunDrainGoesAway(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		gone func(d *drain, r req) answer // for requests after the 200th
	}{
		{"server closed", func(d *drain, r req) answer {
			if r.n == 201 {
				go d.srv.Close() // waits for this request: not from its handler
			}
			return answer{store: true}
		}},
		{"connections reset", func(*drain, req) answer { return answer{hangUp: true} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var d *drain
			var hangUps atomic.Int64
			d = newDrain(t, func(r req) answer {
				if r.n <= 200 {
					return answer{store: true}
				}
				a := tt.gone(d, r)
				if a.hangUp {
					hangUps.Add(1)
				}
				return a
			})
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			const count = 100_000
			rep, err := verify.Run(ctx, verify.Config{URL: d.url, Count: count, Concurrency: 8, Wait: 300 * time.Millisecond, Reader: d})
			if !errors.Is(err, verify.ErrUnreachable) || !strings.Contains(err.Error(), "stopped sending") {
				t.Fatalf("Run: %v, want ErrUnreachable: it kept sending to a drain that is gone", err)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(rep.LastError, "s3cret") {
				t.Errorf("error %q, last error %q: hold the drain secret", err, rep.LastError)
			}
			if rep.Sent < 90 || rep.Sent > 1000 || rep.Found+rep.Missing+rep.Unacknowledged != rep.Sent {
				t.Errorf("report %+v: want the ~100 pairs sent before the drain went away, all accounted for", rep)
			}
			if rep.Acknowledged < 90 || rep.Missing != 0 || rep.Found < rep.Acknowledged || rep.OK() {
				t.Errorf("report %+v: want the pairs acknowledged read back, none missing, and no pass", rep)
			}
			if rep.Unfinished != err.Error() {
				t.Errorf("unfinished %q, want the error %q", rep.Unfinished, err)
			}
			if n := hangUps.Load(); n > 2*verify.GiveUpTries {
				t.Errorf("%d requests hung up on: want the sending stopped after %d in a row", n, verify.GiveUpTries)
			}
		})
	}
}

package verify

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// pair is what is known of one begin/end pair. The sending fields are written by
// the one sender of the pair before the read-back starts; the rest by the read-back.
type pair struct {
	sent    bool
	acked   bool      // both batches got a 2xx
	endSent time.Time // the first try of the end line's batch
	copies  [2]int    // most copies of each half seen in one read
	visible [2]time.Time
}

// tally gathers a run's pairs. Ids run from 1; pairs[0] is unused.
type tally struct {
	runID   string
	pairs   []pair
	sent    atomic.Int64
	retried atomic.Int64

	mu      sync.Mutex
	lastErr string
}

func newTally(runID string, count int) *tally {
	return &tally{runID: runID, pairs: make([]pair, count+1)}
}

func (t *tally) setError(err error) {
	t.mu.Lock()
	t.lastErr = err.Error()
	t.mu.Unlock()
}

// observe takes in one read of the store, made at now.
func (t *tally) observe(seen []Seen, now time.Time) {
	counts := make(map[[2]int]int)
	for _, s := range seen {
		id, half, ok := parseLine(s.Message, t.runID)
		if !ok || id >= len(t.pairs) || !t.pairs[id].sent {
			continue // another run's line, or one this run never sent
		}
		counts[[2]int{id, half}]++
		p := &t.pairs[id]
		if p.visible[half].IsZero() {
			p.visible[half] = visibleAt(s.Visible, now)
		}
	}
	for k, n := range counts {
		p := &t.pairs[k[0]]
		p.copies[k[1]] = max(p.copies[k[1]], n)
	}
}

// visibleAt is when a line became visible: the store's own time, unless it is
// missing or after the read that returned it (the store's clock runs ahead).
func visibleAt(store, read time.Time) time.Time {
	if store.IsZero() || store.After(read) {
		return read
	}
	return store
}

// complete reports whether every pair sent was found whole.
func (t *tally) complete() bool {
	for i := 1; i < len(t.pairs); i++ {
		p := &t.pairs[i]
		if p.sent && (p.copies[begin] == 0 || p.copies[end] == 0) {
			return false
		}
	}
	return true
}

// acked counts the pairs whose batches were all acknowledged.
func (t *tally) acked() int {
	n := 0
	for i := 1; i < len(t.pairs); i++ {
		if t.pairs[i].acked {
			n++
		}
	}
	return n
}

// report sums up the pairs. It must not run while senders write.
func (t *tally) report() Report {
	r := Report{
		RunID: t.runID, Retried: int(t.retried.Load()),
		MissingIDs: []int{}, UnacknowledgedIDs: []int{}, DuplicateIDs: []int{},
	}
	var lat []time.Duration
	for id := 1; id < len(t.pairs); id++ {
		p := &t.pairs[id]
		if !p.sent {
			continue
		}
		r.Sent++
		switch {
		case p.copies[begin] > 0 && p.copies[end] > 0:
			r.Found++
			lat = append(lat, max(0, latest(p.visible).Sub(p.endSent)))
		case p.acked:
			r.Missing++
			r.MissingIDs = append(r.MissingIDs, id)
		default:
			r.Unacknowledged++
			r.UnacknowledgedIDs = append(r.UnacknowledgedIDs, id)
		}
		if p.copies[begin] > 1 || p.copies[end] > 1 {
			r.Duplicates++
			r.DuplicateIDs = append(r.DuplicateIDs, id)
		}
	}
	r.P50Ms, r.P99Ms = percentiles(lat)
	t.mu.Lock()
	r.LastError = t.lastErr
	t.mu.Unlock()
	return r
}

// sending is the report while senders run: only the counts that are safe to read.
func (t *tally) sending() Report {
	r := Report{RunID: t.runID, Sent: int(t.sent.Load()), Retried: int(t.retried.Load())}
	t.mu.Lock()
	r.LastError = t.lastErr
	t.mu.Unlock()
	return r
}

func latest(ts [2]time.Time) time.Time {
	if ts[0].After(ts[1]) {
		return ts[0]
	}
	return ts[1]
}

func percentiles(lat []time.Duration) (p50, p99 float64) {
	if len(lat) == 0 {
		return 0, 0
	}
	slices.Sort(lat)
	return ms(lat[len(lat)*50/100]), ms(lat[min(len(lat)-1, len(lat)*99/100)])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

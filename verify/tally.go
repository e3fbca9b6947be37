package verify

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// pair is what is known of one begin/end pair. The sending fields are written by
// the one sender of the pair, the rest by the read-back, which runs meanwhile.
type pair struct {
	sent    bool
	acked   bool         // both batches got a 2xx
	endSent time.Time    // the first try of the end line's batch
	copies  [2]int       // most copies of each half seen in one read
	visible [2]time.Time // the end of the first read that returned each half
}

// tally gathers a run's pairs. Ids run from 1; pairs[0] is unused. Its methods
// are safe for concurrent use.
type tally struct {
	runID   string
	sent    atomic.Int64
	retried atomic.Int64

	mu      sync.Mutex
	pairs   []pair
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

// endSending records that pair id's end line is being sent now.
func (t *tally) endSending(id int, at time.Time) {
	t.mu.Lock()
	t.pairs[id].endSent = at
	t.mu.Unlock()
}

// pairSent records that pair id was sent, both its batches answered or given up.
func (t *tally) pairSent(id int, acked bool) {
	t.mu.Lock()
	t.pairs[id].sent, t.pairs[id].acked = true, acked
	t.mu.Unlock()
	t.sent.Add(1)
}

// observe takes in one read of the store, which ended at now: the lines it
// returned were readable by then. A line of a pair still being sent counts too:
// the pair is reported once its sender is done. Copies are counted only from
// reads made once every pair was sent (counted): a store paged while lines are
// still being written into it may return a line on two pages of one read.
func (t *tally) observe(seen []Seen, now time.Time, counted bool) {
	counts := make(map[[2]int]int)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range seen {
		id, half, ok := parseLine(s.Message, t.runID)
		if !ok || id >= len(t.pairs) {
			continue // another run's line
		}
		counts[[2]int{id, half}]++
		if p := &t.pairs[id]; p.visible[half].IsZero() {
			p.visible[half] = now
		}
	}
	if !counted {
		return
	}
	for k, n := range counts {
		p := &t.pairs[k[0]]
		p.copies[k[1]] = max(p.copies[k[1]], n)
	}
}

// complete reports whether every pair sent was found whole.
func (t *tally) complete() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
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
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for i := 1; i < len(t.pairs); i++ {
		if t.pairs[i].acked {
			n++
		}
	}
	return n
}

// report sums up the pairs sent so far.
func (t *tally) report() Report {
	r := Report{
		RunID: t.runID, Retried: int(t.retried.Load()),
		MissingIDs: []int{}, UnacknowledgedIDs: []int{}, DuplicateIDs: []int{},
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r.LastError = t.lastErr
	var lat []time.Duration
	for id := 1; id < len(t.pairs); id++ {
		p := &t.pairs[id]
		if !p.sent {
			continue
		}
		r.Sent++
		if p.acked {
			r.Acknowledged++
		}
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

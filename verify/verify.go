package verify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Defaults for the zero values of Config.
const (
	// DefaultCount is the number of pairs: the size of the experiment that first
	// proved a loss (600 concurrent invocations).
	DefaultCount = 600
	// DefaultConcurrency is the number of concurrent senders.
	DefaultConcurrency = 16
	// DefaultWait bounds the read-back after the last pair is sent. A line goes
	// through the journal and a sink's batching before it is visible.
	DefaultWait = time.Minute
	// MaxCount bounds Count, which sets the size of the run's memory and of each read-back.
	MaxCount = 1_000_000
)

// pollInterval is how often the read-back asks the store again.
const pollInterval = 250 * time.Millisecond

// Reader reads back the lines of one run from a store.
type Reader interface {
	// Read returns every line of the run the store holds now whose own time is at
	// or after since, each stored copy once: a line stored twice comes back twice.
	// Lines of other runs may come back too; they are ignored.
	Read(ctx context.Context, runID string, since time.Time) ([]Seen, error)
}

// Seen is one line read back. When it became readable is the time the read that
// first returned it ended, measured by Run: a store's own times (a receive or
// ingestion time) say when it took the line in, not when a reader could see it.
type Seen struct {
	// Message is the stored line, possibly with a prefix such as CloudWatch's
	// "app[verify.1]: ".
	Message string
}

// Config describes one run.
type Config struct {
	// URL is the drain URL, credentials included (https://ID:SECRET@host/logs).
	URL string
	// Count is the number of begin/end pairs to send. Default DefaultCount.
	Count int
	// Concurrency is the number of concurrent senders. Default DefaultConcurrency.
	Concurrency int
	// Wait bounds how long the read-back waits for stragglers once every pair is
	// sent (it reads from the start, while the pairs are being sent). Default
	// DefaultWait.
	Wait time.Duration
	// Reader reads the lines back; required.
	Reader Reader
	// Progress, if set, is called with the counts so far after every read-back
	// (a few times a second, while sending and after). Calls never overlap.
	Progress func(Report)
}

func (c *Config) setDefaults() error {
	if c.Count == 0 {
		c.Count = DefaultCount
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Wait == 0 {
		c.Wait = DefaultWait
	}
	switch {
	case c.Count < 0 || c.Count > MaxCount:
		return fmt.Errorf("count %d: want 1 to %d pairs", c.Count, MaxCount)
	case c.Concurrency < 0:
		return fmt.Errorf("concurrency %d: want at least 1 sender", c.Concurrency)
	case c.Wait < 0:
		return fmt.Errorf("wait %v: want a positive duration", c.Wait)
	case c.Reader == nil:
		return errors.New("no reader: say where to read the lines back from")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("drain URL: want http(s)://ID:SECRET@host/logs")
	}
	return nil
}

// Report is what a run found. Sent = Found + Missing + Unacknowledged.
type Report struct {
	// RunID marks every line of the run.
	RunID string `json:"run_id"`
	// Sent is the number of pairs sent (both batches tried).
	Sent int `json:"sent"`
	// Acknowledged is the number of pairs sent whose batches both got a 2xx.
	Acknowledged int `json:"acknowledged"`
	// Found is the number of pairs read back whole.
	Found int `json:"found"`
	// Missing is the number of pairs whose batches were all acknowledged but not
	// read back whole: lines lost after the drain said it had them.
	Missing int `json:"missing"`
	// Unacknowledged is the number of pairs with a batch that never got a 2xx
	// and that were not read back whole.
	Unacknowledged int `json:"unacknowledged"`
	// Duplicates is the number of pairs with a line read back more than once.
	Duplicates int `json:"duplicates"`
	// Retried is the number of batches that needed more than one try.
	Retried int `json:"retried"`
	// P50Ms and P99Ms are the delivery latency of the pairs found, in
	// milliseconds: from sending the end line to the end of the first read that
	// returned the whole pair (so within one poll, 250 ms, and one read of the
	// moment it became readable).
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	// MissingIDs, UnacknowledgedIDs and DuplicateIDs list the pairs counted
	// above, in ascending order.
	MissingIDs        []int `json:"missing_ids"`
	UnacknowledgedIDs []int `json:"unacknowledged_ids"`
	DuplicateIDs      []int `json:"duplicate_ids"`
	// LastError is the last failure of a batch or of the read-back, if any.
	LastError string `json:"last_error,omitempty"`
	// Unfinished, when set, says why the run ended before its verdict: the drain
	// stopped answering, the read-back failed, or the run was interrupted. The
	// counts are then what was known so far, and a pair counted missing may only
	// not have been read back yet.
	Unfinished string `json:"unfinished,omitempty"`
}

// OK reports whether every pair sent was read back whole: the audit passed.
// Duplicates do not fail it (nothing was lost), but are reported. An unfinished
// run never passes.
func (r Report) OK() bool {
	return r.Sent > 0 && r.Found == r.Sent && r.Unfinished == ""
}

// Run sends the pairs, reads them back until all are found or cfg.Wait passes,
// and reports. It returns an error when the configuration is invalid (and an
// empty report), or, with the report of what was known so far and its
// Unfinished set, when the drain stopped answering (ErrUnreachable), when the
// read-back failed for good, or when ctx ended.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return Report{}, err
	}
	r, err := run(ctx, cfg)
	if err != nil {
		r.Unfinished = err.Error()
	}
	return r, err
}

func run(ctx context.Context, cfg Config) (Report, error) {
	runID := newRunID()
	// Since bounds the lines' own timestamps, which the senders write from this
	// clock: a second of slack only guards against rounding in the stores.
	since := time.Now().Add(-time.Second)
	t := newTally(runID, cfg.Count)
	// The read-back runs from the start, so a pair is found as soon as it is
	// readable, not only once every pair was sent.
	sent := make(chan error, 1)
	go func() { sent <- send(ctx, &cfg, t) }()
	return readBack(ctx, &cfg, t, since, sent)
}

// newRunID returns 16 hex digits: one word for the archive and CloudWatch filter
// patterns alike, and unique enough that two runs never mix.
func newRunID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return hex.EncodeToString(b)
}

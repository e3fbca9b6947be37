package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/logplex"
)

const (
	// tries is logplex's: a batch is sent at most three times, then dropped.
	tries = 3
	// requestTimeout is logplex's bound on a whole request; a drain slower than
	// this loses logs on Heroku, so here it costs the batch a try.
	requestTimeout = 5 * time.Second
	// retryPause is the pause before a second try, doubled before a third.
	retryPause = 100 * time.Millisecond
	// GiveUpTries and GiveUpAfter bound sending to a drain that no longer answers:
	// once GiveUpTries tries in a row, or every try for GiveUpAfter, ended without
	// an answer (connection refused or reset, a timeout), the run stops sending
	// (ErrUnreachable) and reads back what it sent. Any HTTP answer, even a 5xx,
	// starts the count again.
	GiveUpTries = 48
	GiveUpAfter = 30 * time.Second
)

// ErrUnreachable is the error of a run that stopped sending because the drain
// stopped answering (see GiveUpTries).
var ErrUnreachable = errors.New("drain unreachable")

// unanswered counts the tries in a row, across all senders, that got no answer.
type unanswered struct {
	mu    sync.Mutex
	n     int
	since time.Time // the first of them
	stop  context.CancelCauseFunc
}

// answered records that a try got an HTTP answer.
func (u *unanswered) answered() {
	u.mu.Lock()
	u.n, u.since = 0, time.Time{}
	u.mu.Unlock()
}

// failed records a try that got no answer, and stops the senders once too many
// did in a row.
func (u *unanswered) failed(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	if u.n == 0 {
		u.since = now
	}
	u.n++
	if u.n >= GiveUpTries || (u.n > 1 && now.Sub(u.since) >= GiveUpAfter) {
		u.stop(fmt.Errorf("%w: stopped sending after %d tries in a row over %v got no answer (the last: %w)",
			ErrUnreachable, u.n, now.Sub(u.since).Round(time.Millisecond), err))
	}
}

// send runs cfg.Concurrency senders until every pair is sent, ctx ends, or the
// drain stops answering (ErrUnreachable).
func send(ctx context.Context, cfg *Config, t *tally) error {
	client := newHTTPClient(cfg.Concurrency)
	defer client.CloseIdleConnections()
	parent := ctx
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	u := &unanswered{stop: stop}
	ids := make(chan int)
	var wg sync.WaitGroup
	for w := range cfg.Concurrency {
		s := &sender{client: client, url: cfg.URL, dyno: "verify." + strconv.Itoa(w+1), t: t, u: u}
		wg.Go(func() {
			for id := range ids {
				s.pair(ctx, id)
			}
		})
	}
feed:
	for id := 1; id <= cfg.Count; id++ {
		select {
		case ids <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(ids)
	wg.Wait()
	if err := parent.Err(); err != nil {
		return err
	}
	if err := context.Cause(ctx); errors.Is(err, ErrUnreachable) {
		return err
	}
	return nil
}

// newHTTPClient is a client that behaves as logplex's: one connection per sender,
// kept alive; redirects are answers to retry, not to follow.
func newHTTPClient(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	tr.MaxConnsPerHost = conns
	return &http.Client{
		Transport:     tr,
		Timeout:       requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// sender is one concurrent sender, standing for one dyno.
type sender struct {
	client *http.Client
	url    string
	dyno   string
	t      *tally
	u      *unanswered
	body   []byte
	msg    []byte
}

// pair sends pair id: the begin line, and once that is answered, the end line.
// A pair is sent whatever the answers, as an invocation logs its end even when
// its begin was lost.
func (s *sender) pair(ctx context.Context, id int) {
	okBegin := s.batch(ctx, id, begin)
	s.t.endSending(id, time.Now())
	okEnd := s.batch(ctx, id, end)
	if ctx.Err() != nil {
		return // cut short: the pair was not sent in full
	}
	s.t.pairSent(id, okBegin && okEnd)
}

// batch posts one half of a pair in its own batch, with logplex's retries, and
// reports whether the drain acknowledged it.
func (s *sender) batch(ctx context.Context, id, half int) bool {
	s.msg = logplex.AppendMessage(s.msg[:0], drainpipe.Record{
		Priority: 14, Time: time.Now(), Source: "app", Dyno: s.dyno, Message: line(s.t.runID, id, half),
	})
	s.body = logplex.AppendFrame(s.body[:0], s.msg)
	frameID := newFrameID()
	for try := 1; ; try++ {
		retry, err := s.post(ctx, frameID)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		s.t.setError(fmt.Errorf("pair %d %s: %w", id, kinds[half], err))
		if !retry || try == tries {
			return false
		}
		if try == 1 {
			s.t.retried.Add(1)
		}
		if !pause(ctx, retryPause<<(try-1)) {
			return false
		}
	}
}

// post sends the body once. It says whether a failure is worth another try, as
// logplex decides: 3xx, 429, 5xx, timeouts and transport errors are; any other
// 4xx drops the batch for good.
func (s *sender) post(ctx context.Context, frameID string) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(s.body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/logplex-1")
	req.Header.Set("User-Agent", "Logplex/drainpipe-verify")
	req.Header.Set("Logplex-Msg-Count", "1")
	req.Header.Set("Logplex-Frame-Id", frameID)
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			s.u.failed(err)
		}
		return true, err // the client's errors hide the URL's password
	}
	s.u.answered()
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	code := resp.StatusCode
	switch {
	case code/100 == 2:
		return false, nil
	case code/100 == 3 || code == http.StatusTooManyRequests || code/100 == 5:
		return true, errors.New("drain answered " + resp.Status)
	}
	return false, errors.New("drain answered " + resp.Status + ", which logplex does not retry")
}

// newFrameID is a Logplex-Frame-Id: 32 hex digits, the same for every try of a
// batch so the drain can store a retried batch once.
func newFrameID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// pause waits d, or less if ctx ends first; it reports whether ctx is still live.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

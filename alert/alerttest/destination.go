package alerttest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/drainpipe/drainpipe/alert"
)

// Recorder is an alert.Opener of test:// destinations that records every
// notification sent to them, in order. A destination fails while its name is in
// Failing (with ErrRejected when the value is true).
type Recorder struct {
	mu      sync.Mutex
	sent    []Sent
	failing map[string]bool
	tries   map[string]int
}

// Sent is one notification a Recorder destination took.
type Sent struct {
	Destination string
	alert.Notification
}

var _ alert.Opener = (*Recorder)(nil)

// Open opens test://NAME.
func (r *Recorder) Open(rawURL string) (alert.Destination, error) {
	name, ok := strings.CutPrefix(rawURL, "test://")
	if !ok || name == "" {
		return nil, errors.New("want test://NAME")
	}
	return &recorderDest{r: r, name: name}, nil
}

// Fail makes destination name fail (for good when rejected) until Heal.
func (r *Recorder) Fail(name string, rejected bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing == nil {
		r.failing = map[string]bool{}
	}
	r.failing[name] = rejected
}

// Heal makes name take notifications again.
func (r *Recorder) Heal(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.failing, name)
}

// Sent returns what was delivered so far.
func (r *Recorder) Sent() []Sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Sent(nil), r.sent...)
}

// Tries counts the attempts to reach name, failed ones included.
func (r *Recorder) Tries(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tries[name]
}

type recorderDest struct {
	r    *Recorder
	name string
}

func (d *recorderDest) Send(_ context.Context, n alert.Notification) error {
	d.r.mu.Lock()
	defer d.r.mu.Unlock()
	if d.r.tries == nil {
		d.r.tries = map[string]int{}
	}
	d.r.tries[d.name]++
	if rejected, failing := d.r.failing[d.name]; failing {
		if rejected {
			return fmt.Errorf("%w: 404 no such channel", alert.ErrRejected)
		}
		return errors.New("503 service unavailable")
	}
	d.r.sent = append(d.r.sent, Sent{Destination: d.name, Notification: n})
	return nil
}

func (d *recorderDest) String() string { return "test://" + d.name }

package drains

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrLost means the drain store holds less than it held when this node last saw it,
// and not because drains were removed: see the package doc. Test with errors.Is.
var ErrLost = errors.New("the drain store lost drains")

// bucketState is what a node remembers of the bucket between starts. The bucket
// keeps one message per key (History 1): changing or deleting a key replaces its
// message with a new one (a delete leaves a marker), so in a bucket that kept its
// files the last sequence and the number of messages never go down.
type bucketState struct {
	// Created is when the bucket's stream was created: another time means another bucket.
	Created time.Time `json:"created"`
	// LastSeq is the stream's last sequence.
	LastSeq uint64 `json:"last_seq"`
	// Messages is how many messages the stream held.
	Messages uint64 `json:"messages"`
	// Drains is how many drains the bucket held.
	Drains int `json:"drains"`
}

// stateKeeper checks the bucket against the state file at start and keeps the file
// current while the bucket can be trusted.
type stateKeeper struct {
	path string
	kv   jetstream.KeyValue
	log  *slog.Logger
	lost prometheus.Gauge

	mu      sync.Mutex
	checked bool // changes are recorded only after check compared the file
	saved   bucketState
	err     error // non-nil once the store is found lost
}

func newStateKeeper(path string, kv jetstream.KeyValue, log *slog.Logger, reg prometheus.Registerer) *stateKeeper {
	k := &stateKeeper{path: path, kv: kv, log: log, lost: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "drainpipe_drain_store_lost",
		Help: "1 while the drain store holds less than this node saw, not by removals: unknown drain credentials are answered 503."})}
	if reg != nil {
		reg.MustRegister(k.lost)
	}
	return k
}

// check compares the bucket with the state file. It fails only when it cannot
// read the bucket's status or the file; a loss is logged and kept for health.
func (k *stateKeeper) check(ctx context.Context, drains int) error {
	now, err := k.status(ctx, drains)
	if err != nil {
		return err
	}
	if k.path == "" {
		return nil
	}
	prev, err := readState(k.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return k.save(now)
	case err != nil:
		return err
	}
	if reason := lostReason(prev, now); reason != "" {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.checked = true
		k.err = fmt.Errorf("%w: %s (this node last saw %d drains; %s remembers them)", ErrLost, reason, prev.Drains, k.path)
		k.lost.Set(1)
		k.log.Error("THE DRAIN STORE LOST ITS DRAINS: drain requests with unknown credentials are answered 503, so Heroku retries them instead of dropping them. "+
			"Restore the journal directory (or point --nats at the server that holds the drains) and restart; "+
			"or, to accept the loss, delete the state file, restart and add the drains again",
			"reason", reason, "drains_before", prev.Drains, "drains_now", now.Drains, "state_file", k.path)
		return nil
	}
	return k.save(now)
}

// lostReason says why now holds less than prev without drains having been removed
// through drainpipe, or "" when nothing was lost.
func lostReason(prev, now bucketState) string {
	switch {
	case prev.Drains == 0:
		return "" // nothing to lose
	case !prev.Created.Equal(now.Created):
		return fmt.Sprintf("the drain store is another one than before (created %s, before %s): the journal directory was lost or replaced, or --nats changed",
			now.Created.UTC().Format(time.RFC3339), prev.Created.UTC().Format(time.RFC3339))
	case now.LastSeq < prev.LastSeq:
		return fmt.Sprintf("the drain store went back from change %d to %d: its files were damaged", prev.LastSeq, now.LastSeq)
	case now.Messages < prev.Messages:
		return fmt.Sprintf("the drain store holds %d records where it held %d: its files were damaged", now.Messages, prev.Messages)
	}
	return ""
}

// status reads the bucket's stream state.
func (k *stateKeeper) status(ctx context.Context, drains int) (bucketState, error) {
	status, err := k.kv.Status(ctx)
	if err != nil {
		return bucketState{}, fmt.Errorf("drain store status: %w", err)
	}
	now := bucketState{Drains: drains}
	if st, ok := status.(*jetstream.KeyValueBucketStatus); ok {
		info := st.StreamInfo()
		now.Created, now.LastSeq, now.Messages = info.Created, info.State.LastSeq, info.State.Msgs
	}
	return now, nil
}

// changed records the bucket's state after a change that left it with drains.
func (k *stateKeeper) changed(drains int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.checked || k.err != nil || k.path == "" {
		return // a lost store's file keeps what was lost, so the next start says it too
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now, err := k.status(ctx, drains)
	if err == nil && now != k.saved {
		err = k.saveLocked(now)
	}
	if err != nil {
		k.log.Warn("drain store: could not remember its state", "file", k.path, "err", err)
	}
}

func (k *stateKeeper) health() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.err
}

// save writes st and from then on records changes.
func (k *stateKeeper) save(st bucketState) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.checked = true
	return k.saveLocked(st)
}

// saveLocked writes st to the state file by a rename of a synced temporary file,
// so a crash leaves the old state or the new one, never half of one.
func (k *stateKeeper) saveLocked(st bucketState) error {
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode drain store state: %w", err)
	}
	tmp := k.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write drain store state: %w", err)
	}
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, k.path)
	}
	if err != nil {
		return fmt.Errorf("write drain store state: %w", err)
	}
	if d, err := os.Open(filepath.Dir(k.path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	k.saved = st
	return nil
}

func readState(path string) (bucketState, error) {
	var st bucketState
	data, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("drain store state %s does not parse (delete it to start afresh): %w", path, err)
	}
	return st, nil
}

package archive

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/herokulog"
)

// How much of the journal the archive asks to be handed in one Write: each
// Write ends with a barrier that costs tens of milliseconds whatever its size
// (see the package doc), so larger Writes keep up with more; the bytes bound
// the memory a Write holds (group commit makes messages of megabytes under
// load, so a count alone would not).
const (
	DeliveryMessages = 256
	DeliveryBytes    = 16 << 20
)

// ErrDiskFull means the disk holding the archive has less free space than
// Config.MinFreeBytes; Write stores nothing and the journal keeps the lines.
var ErrDiskFull = errors.New("archive disk almost full")

// plan is what one Write stores: which records get which ids, and what the
// state becomes once they are on disk.
type plan struct {
	journal string
	intent  intent
	// work lists the records to store, with the id of each one's first row.
	work []job
	// counts are the per-app counts the write adds.
	counts map[string]*appCounts
	// position is the highest Seq applied from the journal.
	position uint64
	lastID   int64
	lines    int64
	skipped  []uint64
}

// job is one record to store, the id of its first row, and (from a recovery)
// which of its rows are stored already.
type job struct {
	rec     *drainpipe.Record
	id      int64
	present func(int64) bool
}

// Write stores the records of entries not stored before, each once, and
// returns when they are on disk (see the package doc, "Exactly once"). An
// entry whose Seq is at or below the position stored for its journal is
// skipped (and counted): it was delivered again after a crash. Entries of a
// journal the archive has not seen are stored whatever their Seq.
func (a *Archive) Write(ctx context.Context, entries []drainpipe.Entry) error {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if a.closed {
		return ErrClosed
	}
	start := time.Now()
	p := a.plan(entries)
	if len(p.skipped) > 0 {
		a.metrics.skipped(reasonStored, len(p.skipped))
		a.log.Info("journal entries delivered again were already stored; skipped",
			"journal", p.journal, "entries", len(p.skipped), "first_seq", p.skipped[0], "last_seq", p.skipped[len(p.skipped)-1])
	}
	if len(p.intent.Entries) == 0 {
		return nil
	}
	if a.store.st.IsReadOnly() {
		return fmt.Errorf("archive write: %w (under %d bytes free)", ErrDiskFull, a.cfg.MinFreeBytes)
	}
	if err := a.apply(ctx, p, newWindow(start, a.cfg.Retention)); err != nil {
		return fmt.Errorf("archive write: %w", err)
	}
	a.metrics.linesWritten.Add(float64(p.lines))
	a.metrics.writeDuration.Observe(time.Since(start).Seconds())
	return nil
}

// apply stores p's rows and commits the state that acknowledges them, in
// this order: the intent (so that a crash can be reconciled), the rows, the
// barrier (rows on disk), the field names, the state.
func (a *Archive) apply(ctx context.Context, p *plan, win window) error {
	next := a.current().clone()
	// The intent covers what an earlier interrupted write left too, so that a
	// crash now forgets none of it.
	pending := a.recovery.with(p.journal, p.intent.Entries, nil)
	next.Pending = &intent{Journal: p.journal, Entries: pending.intent()}
	next.LastID = max(next.LastID, p.lastID)
	if err := a.commit(next); err != nil {
		return err
	}
	days, streams := a.addRows(p.work, win)
	// The rows are in: should anything below fail, the journal delivers the
	// entries again, and they must not be added twice.
	a.recovery = pending
	a.notify.publish(p.lastID)
	a.recent.add(p.intent, days)
	flushStart := time.Now()
	if err := a.store.barrier(ctx, days, streams); err != nil {
		return err
	}
	a.metrics.flushDuration.Observe(time.Since(flushStart).Seconds())
	if err := a.vocab.save(filepath.Join(a.cfg.Dir, fieldsFile)); err != nil {
		return err
	}
	done := next.clone()
	left := a.recovery.without(p.journal, p.position)
	done.Pending = nil
	if left != nil {
		done.Pending = &intent{Journal: left.journal, Entries: left.intent()}
	}
	done.Positions[p.journal] = max(done.Positions[p.journal], p.position)
	for app, c := range p.counts {
		if done.Apps[app] == nil {
			done.Apps[app] = &appCounts{}
		}
		done.Apps[app].add(c)
	}
	if err := a.commit(done); err != nil {
		return err
	}
	a.recovery = left
	for app, c := range p.counts {
		if c.Dropped > 0 {
			a.metrics.herokuDropped.WithLabelValues(app).Add(float64(c.Dropped))
		}
	}
	return nil
}

// plan decides what Write stores. Ids are given in order: entries, batches,
// records, and a record's parts; an entry a recovery knows keeps its ids.
func (a *Archive) plan(entries []drainpipe.Entry) *plan {
	st := a.current()
	p := &plan{counts: map[string]*appCounts{}, lastID: st.LastID}
	next := st.LastID + 1
	for i := range entries {
		e := &entries[i]
		if p.journal != e.Journal && len(p.intent.Entries) > 0 {
			// One journal per write: the consumer never mixes them, and the
			// intent has room for one. The rest comes again in the next Write.
			break
		}
		p.journal, p.intent.Journal = e.Journal, e.Journal
		if e.Seq <= st.Positions[e.Journal] {
			p.skipped = append(p.skipped, e.Seq)
			continue
		}
		first, present, known := a.recovery.lookup(e.Journal, e.Seq)
		if !known {
			first = next
		}
		id := first
		for b := range e.Batches {
			batch := &e.Batches[b]
			// A batch's loss counts once, by herokulog's one rule (its drop
			// headers and its report lines may tell of the same loss).
			p.count(batch.App).Dropped += int64(herokulog.BatchLoss(batch).Total)
			for r := range batch.Records {
				rec := &batch.Records[r]
				p.work = append(p.work, job{rec: rec, id: id, present: present})
				p.countRecord(rec)
				id += rowsOf(rec)
			}
		}
		p.intent.Entries = append(p.intent.Entries, intentEntry{Seq: e.Seq, FirstID: first, Rows: id - first})
		p.position = max(p.position, e.Seq)
		p.lastID = max(p.lastID, id-1)
		if !known {
			next = id
		}
	}
	return p
}

// count is app's counts in this write. The key is a copy: it becomes a key of
// the archive's state and a metric's label, both long-lived, and app is a
// slice of a journal message (records are decoded in place), which it would
// keep whole.
func (p *plan) count(app string) *appCounts {
	c := p.counts[app]
	if c == nil {
		c = &appCounts{}
		p.counts[strings.Clone(app)] = c
	}
	return c
}

// countRecord adds r to its app's counts: a line, maybe malformed.
func (p *plan) countRecord(r *drainpipe.Record) {
	p.lines++
	c := p.count(r.App)
	c.Lines++
	if r.Malformed {
		c.Malformed++
	}
	if t, ok := nanos(r.Time); ok {
		c.add(&appCounts{First: t, Last: t})
	}
	if t, ok := nanos(r.Received); ok {
		c.LastReceived = max(c.LastReceived, t)
	}
}

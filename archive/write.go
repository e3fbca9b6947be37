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

// How much of the journal the archive asks to be handed in one Write. The
// barrier that makes rows durable costs tens of milliseconds whatever its size
// (see the package doc), but it no longer ends every Write: Writes add rows,
// and the barrier comes at most every SettleEvery for all of them (the archive
// is a journal.DeferredSink). So a Write can be small, and what it holds (the
// journal messages and their decoded records) is freed as soon as its rows are
// added; the bytes bound that memory (group commit makes messages of megabytes
// under load, so a count alone would not).
const (
	DeliveryMessages = 256
	DeliveryBytes    = 4 << 20
)

// SettleEvery is how long at most rows added by Write wait for the barrier
// that makes them durable (and lets the journal forget their entries): the
// storage engine's own flush interval, which writes them out by then anyway.
const SettleEvery = time.Second

// DurablePoll is how often the journal should ask Durable while entries wait
// (journal.ConsumeOptions.DurablePoll): at idle, rows are then acknowledged
// within SettleEvery and a quarter of a second of their Write.
const DurablePoll = 250 * time.Millisecond

// settleLines is how many lines Writes add at most before the barrier comes,
// whatever the time: it bounds the intent a crash leaves to reconcile.
const settleLines = 1 << 18

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

// Write adds the records of entries not stored before, each once: when it
// returns they are searchable, and durable within SettleEvery (Durable says
// how far). An entry whose Seq is at or below the position stored (or added)
// for its journal is skipped (and counted): it was delivered again after a
// crash. Entries of a journal the archive has not seen are stored whatever
// their Seq. See the package doc, "Exactly once".
func (a *Archive) Write(ctx context.Context, entries []drainpipe.Entry) error {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if a.closed {
		return ErrClosed
	}
	start := time.Now()
	win := newWindow(start, a.cfg.Retention)
	p := a.plan(entries, win)
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
	if a.staged != nil && a.staged.journal != p.journal {
		// The intent holds one journal's entries.
		if err := a.settle(ctx); err != nil {
			return fmt.Errorf("archive write: %w", err)
		}
	}
	if err := a.stage(p, win); err != nil {
		return fmt.Errorf("archive write: %w", err)
	}
	a.metrics.linesWritten.Add(float64(p.lines))
	a.metrics.writeDuration.Observe(time.Since(start).Seconds())
	// The rows are in, and these entries are the archive's now: a barrier that
	// fails here is tried again at the next Write or Durable, and until it
	// succeeds Durable holds the journal's acknowledgement back.
	a.settleIfDue(ctx, start)
	return nil
}

// Durable returns the highest Seq of journal up to which every entry Write took
// is durable (journal.DeferredSink). The journal asks before each delivery, so
// rows added SettleEvery ago or more are made durable here first.
func (a *Archive) Durable(journal string) uint64 {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if !a.closed {
		ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
		a.settleIfDue(ctx, time.Now())
		cancel()
	}
	return a.current().Positions[journal]
}

// settleTimeout bounds a barrier run from Durable, which has no context of its
// own: a barrier takes tens of milliseconds, and one that cannot finish is
// tried again.
const settleTimeout = 5 * time.Second

// settleIfDue settles what Writes staged when it is due: SettleEvery old, or
// settleLines of it. A failure is logged and counted; the next call tries again.
// A Write whose context ended (the consumer is stopping) leaves it to Durable,
// which the journal asks as it stops, and to Close.
func (a *Archive) settleIfDue(ctx context.Context, now time.Time) {
	s := a.staged
	if s == nil || ctx.Err() != nil || (now.Sub(s.since) < SettleEvery && s.lines < settleLines) {
		return
	}
	if err := a.settle(ctx); err != nil {
		a.metrics.settleFailed.Inc()
		a.log.Warn("archive rows not made durable yet; trying again", "journal", s.journal, "through_seq", s.position, "err", err)
	}
}

// staged is what Writes added since the last barrier: their rows are
// searchable and their intent saved; their position and counts wait for the
// barrier.
type staged struct {
	journal  string
	since    time.Time
	lines    int64
	days     map[int64]bool
	position uint64
	counts   map[string]*appCounts
}

// stage saves p's intent (together with what is staged already), adds its
// rows and stages its position and counts. The caller holds wmu.
func (a *Archive) stage(p *plan, win window) error {
	next := a.current().clone()
	// The intent covers what an earlier interrupted write left too, so that a
	// crash now forgets none of it.
	pending := a.recovery.with(p.journal, p.intent.Entries, nil)
	next.Pending = &intent{Journal: p.journal, Entries: pending.intent()}
	next.LastID = max(next.LastID, p.lastID)
	if err := a.commit(next); err != nil {
		return err
	}
	days := a.addRows(p.work, win)
	// The rows are in: should the barrier fail, or the journal deliver the
	// entries again, they must not be added twice.
	a.recovery = pending
	a.notify.publish(p.lastID)
	a.recent.add(p.intent, days)
	s := a.staged
	if s == nil {
		s = &staged{journal: p.journal, since: time.Now(), days: map[int64]bool{}, counts: map[string]*appCounts{}}
		a.staged = s
	}
	s.lines += p.lines
	s.position = max(s.position, p.position)
	for d := range days {
		s.days[d] = true
	}
	// States are never changed once shown: the view shares the maps of the
	// state just committed, with the staged counts beside them.
	view := *a.current()
	view.staged = make(map[string]*appCounts, len(s.counts)+len(p.counts))
	for app, c := range p.counts {
		if s.counts[app] == nil {
			s.counts[app] = &appCounts{}
		}
		s.counts[app].add(c)
		// Counted once shown (Stats shows staged counts): a staged entry is
		// never staged again by this process.
		if c.Dropped > 0 {
			a.metrics.herokuDropped.WithLabelValues(app).Add(float64(c.Dropped))
		}
	}
	for app, c := range s.counts {
		n := *c
		view.staged[app] = &n
	}
	a.show(&view)
	return nil
}

// settle makes what Writes staged durable and commits it, in this order: the
// barrier (rows on disk), the field names, the state (positions, counts, and
// the intent less what is now stored). Everything else that commits the state
// settles first, so that the state it saves holds the staged rows' intent and
// counts them once. The caller holds wmu.
func (a *Archive) settle(ctx context.Context) error {
	s := a.staged
	if s == nil {
		return nil
	}
	flushStart := time.Now()
	if err := a.store.barrier(ctx, s.days); err != nil {
		return err
	}
	a.metrics.flushDuration.Observe(time.Since(flushStart).Seconds())
	if err := a.vocab.save(filepath.Join(a.cfg.Dir, fieldsFile)); err != nil {
		return err
	}
	done := a.current().clone()
	done.staged = nil
	left := a.recovery.without(s.journal, s.position)
	done.Pending = nil
	if left != nil {
		done.Pending = &intent{Journal: left.journal, Entries: left.intent()}
	}
	done.Positions[s.journal] = max(done.Positions[s.journal], s.position)
	for app, c := range s.counts {
		if done.Apps[app] == nil {
			done.Apps[app] = &appCounts{}
		}
		done.Apps[app].add(c)
	}
	if err := a.commit(done); err != nil {
		return err
	}
	a.recovery = left
	a.staged = nil
	return nil
}

// plan decides what Write stores. Ids are given in order: entries, batches,
// records, and a record's parts; an entry a recovery knows keeps its ids.
func (a *Archive) plan(entries []drainpipe.Entry, win window) *plan {
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
		if e.Seq <= a.position(st, e.Journal) {
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
				p.countRecord(rec, win)
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

// position is the highest Seq of journal whose entry is stored, or added and
// staged for the barrier: the journal delivers in order, so an entry at or
// below it is a redelivery (after a crash, or while its acknowledgement waits).
func (a *Archive) position(st *state, journal string) uint64 {
	if s := a.staged; s != nil && s.journal == journal {
		return max(st.Positions[journal], s.position)
	}
	return st.Positions[journal]
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

// countRecord adds r to its app's counts: a line, maybe malformed, first at
// the time it is filed under in win (its own, or when it was received: a line
// dated next week must not make the app's newest line look a week ahead), and
// last at that time or when it was received, whichever is earlier: a line is
// never newer than its arrival, and one dated hours ahead (a dyno's clock
// running fast, inside the day ahead the engine files under its own time)
// must not either.
func (p *plan) countRecord(r *drainpipe.Record, win window) {
	p.lines++
	c := p.count(r.App)
	c.Lines++
	if r.Malformed {
		c.Malformed++
	}
	t, _ := win.stamp(r)
	last := t
	if rt, ok := nanos(r.Received); ok {
		c.LastReceived = max(c.LastReceived, rt)
		last = min(last, rt)
	}
	c.add(&appCounts{First: t, Last: last})
}

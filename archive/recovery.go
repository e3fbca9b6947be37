package archive

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// recovery remembers the entries of one journal whose rows were added, in
// whole or in part, but whose position was not committed: after a crash (from
// the intent saved before the rows) or after a Write that failed past adding
// them. When the journal delivers such an entry again, its records keep their
// ids and only the rows that are missing are added. A recovery is never
// changed, only replaced, so that a plan can hold one.
type recovery struct {
	journal string
	entries map[uint64]recovered
}

type recovered struct {
	firstID, rows int64
	// present holds the ids of the rows already stored; nil means all of them.
	present map[int64]bool
}

// lookup returns the first id of the entry's rows and which of them are
// already stored, if the recovery knows the entry.
func (r *recovery) lookup(journal string, seq uint64) (int64, func(int64) bool, bool) {
	if r == nil || r.journal != journal {
		return 0, nil, false
	}
	e, ok := r.entries[seq]
	if !ok {
		return 0, nil, false
	}
	if e.present == nil {
		return e.firstID, func(int64) bool { return true }, true
	}
	return e.firstID, func(id int64) bool { return e.present[id] }, true
}

// with returns r plus entries, whose stored rows are present (nil: all). An
// entry of another journal replaces r: one journal at a time.
func (r *recovery) with(journal string, entries []intentEntry, present map[int64]bool) *recovery {
	n := &recovery{journal: journal, entries: map[uint64]recovered{}}
	if r != nil && r.journal == journal {
		maps.Copy(n.entries, r.entries)
	}
	for _, e := range entries {
		n.entries[e.Seq] = recovered{firstID: e.FirstID, rows: e.Rows, present: present}
	}
	return n
}

// without returns r less the entries of journal up to Seq through, or nil
// when none is left.
func (r *recovery) without(journal string, through uint64) *recovery {
	if r == nil {
		return nil
	}
	n := &recovery{journal: r.journal, entries: map[uint64]recovered{}}
	for seq, e := range r.entries {
		if r.journal != journal || seq > through {
			n.entries[seq] = e
		}
	}
	if len(n.entries) == 0 {
		return nil
	}
	return n
}

// intent is r as saved in the state, so that a crash forgets nothing it knows.
func (r *recovery) intent() []intentEntry {
	if r == nil {
		return nil
	}
	out := make([]intentEntry, 0, len(r.entries))
	for seq, e := range r.entries {
		out = append(out, intentEntry{Seq: seq, FirstID: e.firstID, Rows: e.rows})
	}
	slices.SortFunc(out, func(a, b intentEntry) int { return int(a.FirstID - b.FirstID) })
	return out
}

// reconcile settles, at Open, a write that a crash interrupted: the ids its
// rows were given are looked up in the storage, and the entries are kept in a
// recovery so that the journal's redelivery adds only the missing rows. The
// ids promised are never given again.
func (a *Archive) reconcile(ctx context.Context) error {
	p := a.state.Pending
	if p == nil || len(p.Entries) == 0 {
		return nil
	}
	lo, hi := p.Entries[0].FirstID, p.Entries[0].FirstID
	for _, e := range p.Entries {
		lo, hi = min(lo, e.FirstID), max(hi, e.FirstID+e.Rows-1)
	}
	present, err := a.idsIn(ctx, lo, hi)
	if err != nil {
		return fmt.Errorf("reconcile the write a crash interrupted: %w", err)
	}
	if p.Journal == importJournal {
		a.importPresent = present
	} else {
		a.recovery = (*recovery)(nil).with(p.Journal, p.Entries, present)
	}
	a.state.LastID = max(a.state.LastID, hi)
	a.log.Info("a write was interrupted; the rows that reached the disk are kept and the rest will be stored when the journal delivers them again",
		"journal", p.Journal, "entries", len(p.Entries), "rows_promised", hi-lo+1, "rows_on_disk", len(present))
	return nil
}

// idsIn returns the ids between lo and hi (inclusive) that the storage holds.
func (a *Archive) idsIn(ctx context.Context, lo, hi int64) (map[int64]bool, error) {
	present := map[int64]bool{}
	q := fmt.Sprintf("%s:>=%d %s:<=%d | fields %s", FieldID, lo, FieldID, hi, FieldID)
	err := a.queryString(ctx, q, allTime(), func(cols columns) error {
		ids := cols.get(FieldID)
		for _, v := range ids {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("stored id %q: %w", v, err)
			}
			present[id] = true
		}
		return nil
	})
	return present, err
}

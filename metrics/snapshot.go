package metrics

import "slices"

// Snapshot returns a copy of every open interval of the apps for which mine is
// true, as it stands: what a node that owns those apps publishes so that the next
// owner, after a crash, starts after what it had aggregated (see Sink). Each copy
// keeps its bucket's ID, so a later snapshot, or the bucket once closed, replaces
// it in the history.
func (a *Aggregator) Snapshot(mine func(app string) bool) []Interval {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Interval
	for app, as := range a.apps {
		if !mine(app) {
			continue
		}
		for _, sr := range as.series {
			for _, b := range sr.buckets {
				if b.iv.Count == 0 {
					continue
				}
				out = append(out, b.snapshot())
			}
		}
	}
	slices.SortFunc(out, compareIntervals)
	return out
}

// snapshot copies an open bucket's interval, sketch and set included.
func (b *bucket) snapshot() Interval {
	iv := b.iv
	if iv.Sketch != nil {
		iv.Sketch = iv.Sketch.Copy()
	}
	if iv.Distinct != nil {
		iv.Distinct = iv.Distinct.Copy()
		iv.Sum = iv.Distinct.Estimate()
	}
	iv.owned = false
	return iv
}

// Forget drops what is open, and what was closed early and not yet flushed, for
// the apps for which mine is true: a node that lost those apps to another leaves
// them to it, and the other starts from what this one last published.
func (a *Aggregator) Forget(mine func(app string) bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.epoch++ // hot buckets of deleted series must not be used again
	for app := range a.apps {
		if mine(app) {
			// Its series, and the last points of its cumulative OpenTelemetry
			// streams: a baseline kept from before another node counted would count
			// the increase in between twice.
			delete(a.apps, app)
		}
	}
	a.ready = slices.DeleteFunc(a.ready, func(iv Interval) bool { return mine(iv.App) })
}

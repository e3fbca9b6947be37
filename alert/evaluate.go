package alert

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/drainpipe/drainpipe/internal/backoff"
)

// maxWindowsPerPass bounds the windows one rule evaluates in one pass, so that a rule
// catching up after downtime does not hold the others back.
const maxWindowsPerPass = 100

// Evaluate evaluates every window that is ready, of every rule, in order: a window
// [start, end) is ready once the source's watermark has reached end + Grace, that
// is, once every line received before then is searchable. Each window is evaluated
// once: its outcome (the rule's position, its groups' states, the notifications it
// made) is stored in one write before the next window is looked at. A rule whose
// evaluation fails is retried with backoff, from the same window.
func (s *Service) Evaluate(ctx context.Context) error {
	entries := s.entries(false)
	var needLines, needMetrics bool
	for _, e := range entries {
		needLines = needLines || e.rule.Kind != Metric
		needMetrics = needMetrics || e.rule.Kind == Metric
	}
	var lines, mets time.Time
	var errs []error
	wctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if needLines {
		var err error
		if lines, err = s.cfg.Searcher.Watermark(wctx); err != nil {
			errs = append(errs, fmt.Errorf("archive watermark: %w", err))
		}
	}
	if needMetrics {
		var err error
		if mets, err = s.cfg.Metrics.Watermark(wctx); err != nil {
			errs = append(errs, fmt.Errorf("metrics watermark: %w", err))
		}
	}
	s.mu.Lock()
	s.marks = marks{lines: lines, metrics: mets}
	s.mu.Unlock()
	for _, e := range entries {
		mark := lines
		if e.rule.Kind == Metric {
			mark = mets
		}
		if mark.IsZero() {
			continue
		}
		if err := s.evaluateRule(ctx, e, mark); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// evaluateRule evaluates the ready windows of one rule, up to maxWindowsPerPass.
func (s *Service) evaluateRule(ctx context.Context, e *entry, mark time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := s.cfg.Now()
	if now.Before(e.retryAt) {
		return nil
	}
	for range maxWindowsPerPass {
		if ctx.Err() != nil {
			return nil
		}
		st := e.state
		w := Window{Start: st.Next, End: st.Next.Add(e.rule.Window)}
		if w.End.Add(s.cfg.Grace).After(mark) {
			return nil
		}
		var err error
		if now.Sub(w.End) > s.cfg.MaxBacklog {
			err = s.skipBacklog(ctx, e, now)
		} else {
			err = s.evaluateWindow(ctx, e, w, now)
		}
		if err != nil {
			s.failed(ctx, e, now, err)
			return fmt.Errorf("rule %s: %w", e.rule.Name, err)
		}
		e.errs = 0
	}
	return nil
}

// evaluateWindow evaluates window w of e's rule and stores the outcome.
func (s *Service) evaluateWindow(ctx context.Context, e *entry, w Window, now time.Time) error {
	r, st := &e.rule, e.state
	obs, err := s.observe(ctx, r, w)
	if err != nil {
		return err
	}
	excessBefore := st.Excess
	muted := r.Mute.MutedAt(now) || now.Before(st.MutedUntil)
	for _, c := range st.step(r, w, obs, now, muted) {
		s.transition(ctx, e, c, w, now)
	}
	if st.Excess > 0 && excessBefore == 0 {
		st.record(Event{Time: now, Type: "over_cap", Window: &w, Detail: fmt.Sprintf("%d groups over the cap of %d were not evaluated", st.Excess, MaxGroups)})
	}
	st.Next, st.EvaluatedAt = w.End, now
	st.Evaluated++
	st.LastError, st.LastErrorAt = "", time.Time{}
	if err := s.save(ctx, e); err != nil {
		return err
	}
	s.m.evaluated.WithLabelValues(r.Name).Inc()
	return nil
}

// transition records a group's change and queues its notification.
func (s *Service) transition(ctx context.Context, e *entry, c change, w Window, now time.Time) {
	r, st := &e.rule, e.state
	label := groupLabel(r.GroupBy, c.group.Values)
	v := c.group.Value
	ev := Event{Time: now, Type: c.event, Window: &w, Group: label, Value: &v}
	if c.group.NoData {
		ev.Value, ev.Detail = nil, "no data"
	}
	st.record(ev)
	event := c.event
	g := st.Groups[c.key]
	dests := st.Notify
	switch {
	case event == StateFiring, event == "renotify":
		if event == "renotify" {
			event = EventRenotify
		}
		g.sentTo(dests)
	case event == StateResolved && c.group.Announced:
		// The resolution goes where the incident was announced, even when the
		// rule notifies elsewhere now: a PagerDuty incident is closed where it
		// was opened, and a destination never told of it hears nothing.
		dests = st.owed(&c.group)
		g.Announced, g.To = false, nil
		st.prune()
	default:
		return // pending, muted, or the resolution of an incident never announced
	}
	reason := "" // firing and renotify have none: a reason says why a group resolved
	if event == EventResolved {
		reason = "recovered"
	}
	n := newNotification(r, &c.group, event, reason, w, now, s.cfg.PublicURL)
	if event != EventResolved && r.Kind == Match {
		n.Samples = s.samples(ctx, r, c.group.Values, w)
	}
	s.m.notifications.WithLabelValues(r.Name, event).Inc()
	for _, d := range st.enqueue(n, dests, now) {
		s.drop(st, d, now, "the outbox was full")
	}
}

// samples reads up to MaxSamples lines of the group in w; a failure leaves them out
// rather than hold the notification back.
func (s *Service) samples(ctx context.Context, r *Rule, values []string, w Window) []Line {
	q := Search{App: r.App, Query: r.Query, Start: w.Start, End: w.End}
	if len(r.GroupBy) > 0 {
		q.Fields = make(map[string]string, len(r.GroupBy))
		for i, f := range r.GroupBy {
			q.Fields[f] = values[i]
		}
	}
	ctx, cancel := context.WithTimeout(ctx, sourceTimeout)
	defer cancel()
	lines, err := s.cfg.Searcher.Sample(ctx, q, MaxSamples)
	if err != nil {
		s.log.Warn("alert: sample lines for a notification", "rule", r.Name, "err", err)
		return nil
	}
	for i := range lines {
		lines[i] = clipLine(lines[i])
	}
	return lines[:min(len(lines), MaxSamples)]
}

// skipBacklog moves a rule that is more than MaxBacklog behind to the oldest window
// it still evaluates, and says so in its history.
func (s *Service) skipBacklog(ctx context.Context, e *entry, now time.Time) error {
	st := e.state
	next := windowAt(now.Add(-s.cfg.MaxBacklog), e.rule.Window).Start
	n := int64(next.Sub(st.Next) / e.rule.Window)
	st.record(Event{Time: now, Type: "skipped", Window: &Window{Start: st.Next, End: next},
		Detail: fmt.Sprintf("%d windows older than %s were not evaluated", n, s.cfg.MaxBacklog)})
	s.log.Warn("alert rule skipped windows older than the backlog limit", "rule", e.rule.Name, "windows", n)
	st.Next = next
	return s.save(ctx, e)
}

// failed records an evaluation error (once per distinct message in the history) and
// schedules the retry.
func (s *Service) failed(ctx context.Context, e *entry, now time.Time, err error) {
	e.errs++
	b := backoff.Backoff{Min: time.Second, Max: time.Minute}
	var d time.Duration
	for range min(e.errs, 10) {
		d = b.Next()
	}
	e.retryAt = now.Add(d)
	s.m.evalErrors.WithLabelValues(e.rule.Name).Inc()
	st := e.state
	if st.LastError != err.Error() {
		s.log.Warn("alert rule evaluation failed", "rule", e.rule.Name, "err", err, "retry_in", d)
		st.record(Event{Time: now, Type: "error", Window: &Window{Start: st.Next, End: st.Next.Add(e.rule.Window)}, Detail: err.Error()})
		st.LastError, st.LastErrorAt = err.Error(), now
		if serr := s.save(ctx, e); serr != nil {
			s.log.Warn("alert rule: save its error", "rule", e.rule.Name, "err", serr)
		}
	}
}

// drop forgets a delivery that will not be made, and says so.
func (s *Service) drop(st *ruleState, d *Delivery, now time.Time, why string) {
	st.Dropped++
	st.record(Event{Time: now, Type: "dropped", Group: d.Notification.GroupLabel, Destination: d.Dest.Name,
		Detail: fmt.Sprintf("%s notification %s: %s", d.Notification.Event, d.Notification.ID, why)})
	s.m.deliveries.WithLabelValues(st.Rule, destType(d.Dest.Name), "dropped").Inc()
	s.log.Warn("alert notification dropped", "rule", st.Rule, "destination", d.Dest.Name, "event", d.Notification.Event, "why", why)
}

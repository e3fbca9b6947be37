package alert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config.
const (
	// DefaultGrace is how long after a window's end, in received time, its late lines
	// are waited for: Heroku's logplex stamps a line when it takes it and retries a
	// batch up to 3 times with a 5 s timeout, so a line normally arrives within
	// seconds and within 20 s when logplex retries.
	DefaultGrace = 30 * time.Second
	// DefaultMaxBacklog is how far back a rule catches up after downtime; older
	// windows are skipped, and the skip is recorded in the rule's history.
	DefaultMaxBacklog = 7 * 24 * time.Hour
)

// ErrReadOnly means a rule comes from the rules file and cannot be changed through
// the API.
var ErrReadOnly = errors.New("rule is defined in the alerts file: change it there")

// Config is what a Service needs.
type Config struct {
	// Searcher reads the archive; required.
	Searcher Searcher
	// Metrics reads the metrics history; nil refuses metric rules.
	Metrics MetricSource
	// MetricInterval is the metrics' aggregation interval: a metric rule's window
	// must be a multiple of it. Default 1 minute.
	MetricInterval time.Duration
	// Store keeps rules and states; required.
	Store Store
	// Opener opens destination URLs; required.
	Opener Opener
	// Sealer encrypts destination URLs before they are stored; required.
	Sealer *Sealer
	// FileRules are the rules of the alerts file, read-only through the API.
	FileRules []Rule
	// Grace is the wait for late lines after a window's end; DefaultGrace when 0.
	Grace time.Duration
	// PublicURL is the base of the links to the UI in notifications.
	PublicURL string
	// Tick is how often evaluation and delivery look for work; default 1 s.
	Tick time.Duration
	// MaxBacklog bounds how far back evaluation catches up; DefaultMaxBacklog when 0.
	MaxBacklog time.Duration
	// SendTimeout bounds one delivery attempt; default 10 s.
	SendTimeout time.Duration
	// Logger receives the service's logs; they never hold a destination's secret.
	Logger *slog.Logger
	// Registerer receives the alert metrics; nil registers none.
	Registerer prometheus.Registerer
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.MetricInterval <= 0 {
		c.MetricInterval = time.Minute
	}
	if c.Grace <= 0 {
		c.Grace = DefaultGrace
	}
	if c.Tick <= 0 {
		c.Tick = time.Second
	}
	if c.MaxBacklog <= 0 {
		c.MaxBacklog = DefaultMaxBacklog
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Service evaluates the rules, keeps their states, and delivers their
// notifications. Its methods are safe for concurrent use.
type Service struct {
	cfg Config
	log *slog.Logger
	m   *serviceMetrics

	mu      sync.Mutex
	rules   map[string]*entry
	orphans map[string]*entry // states of removed rules still delivering their resolutions
	dests   map[string]Destination
	marks   marks // the last watermarks seen
	// evaluating is true while Run runs: this node then writes the states of
	// rules other nodes add (Follow); the others only read them.
	evaluating atomic.Bool
}

// marks are the last watermarks the evaluation saw, shown by Status.
type marks struct {
	lines, metrics time.Time
}

// entry is one rule and its state.
type entry struct {
	mu      sync.Mutex // held while the state is read or changed
	rule    Rule
	created time.Time
	state   *ruleState
	saved   []byte // the state as last stored, to go back to when a save fails
	retryAt time.Time
	errs    int // consecutive evaluation errors
	// broken says why the stored rule's destinations cannot be opened; sealed are
	// they, as stored.
	broken error
	sealed []sealedDest
	// stored is the rule as stored (nil for a rule of the file): a change the
	// store reports (Follow) with the same bytes is this node's own.
	stored []byte
}

// New loads the stored rules and states, adds the file's rules, and resolves the
// groups of rules that are gone. Call Run to evaluate.
func New(ctx context.Context, cfg Config) (*Service, error) {
	cfg.setDefaults()
	if cfg.Searcher == nil || cfg.Store == nil || cfg.Opener == nil || cfg.Sealer == nil {
		return nil, errors.New("alerts: Searcher, Store, Opener and Sealer are required")
	}
	cfg.Store = timedStore{cfg.Store}
	s := &Service{cfg: cfg, log: cfg.Logger, rules: map[string]*entry{}, orphans: map[string]*entry{}, dests: map[string]Destination{}}
	m, err := newServiceMetrics(cfg.Registerer, s)
	if err != nil {
		return nil, err
	}
	s.m = m
	if err := s.loadRules(ctx); err != nil {
		return nil, err
	}
	if err := s.loadStates(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// loadRules reads the stored rules, then the file's, which win over stored rules of
// the same name.
func (s *Service) loadRules(ctx context.Context) error {
	stored, err := s.cfg.Store.Rules(ctx)
	if err != nil {
		return fmt.Errorf("load alert rules: %w", err)
	}
	for name, data := range stored {
		r, sealed, created, err := s.cfg.Sealer.decodeRule(data)
		if errors.Is(err, errUnseal) && r.Normalize() == nil {
			// Listed and evaluated; its deliveries fail, visibly, until the key is
			// back or the rule is added again.
			s.log.Error("alert rule's destinations cannot be decrypted: restore alerts.key, or add the rule again", "rule", name, "err", err)
			s.rules[name] = &entry{rule: r, created: created, broken: err, sealed: sealed, stored: data}
			continue
		}
		if err == nil {
			err = s.check(ctx, &r)
		}
		if err != nil {
			// A rule that cannot be read keeps its state (resolved when removed).
			s.log.Error("alert rule cannot be used; remove it and add it again", "rule", name, "err", err)
			continue
		}
		s.rules[name] = &entry{rule: r, created: created, stored: data}
	}
	// Every rule of the file is checked before any is refused, so that one start
	// reports all of the file's mistakes.
	var mistakes []error
	for _, r := range s.cfg.FileRules {
		r.Source = FromFile
		if err := s.check(ctx, &r); err != nil {
			mistakes = append(mistakes, fmt.Errorf("alerts file, line %d: rule %q: %w", r.Line, r.Name, err))
			continue
		}
		if e, ok := s.rules[r.Name]; ok && e.rule.Source != FromFile {
			s.log.Warn("the alerts file defines a rule of the same name as one added through the API: the file's is used", "rule", r.Name)
		}
		s.rules[r.Name] = &entry{rule: r, created: s.cfg.Now()}
	}
	return errors.Join(mistakes...)
}

// loadStates attaches each stored state to its rule; a state whose rule is gone has
// its announced groups resolved, and one whose rule changed identity starts again.
func (s *Service) loadStates(ctx context.Context) error {
	states, err := s.cfg.Store.States(ctx)
	if err != nil {
		return fmt.Errorf("load alert states: %w", err)
	}
	now := s.cfg.Now()
	for name, stored := range states {
		st, err := loadState(stored)
		if err != nil {
			return fmt.Errorf("rule %s: %w", name, err)
		}
		e, ok := s.rules[name]
		if !ok {
			r := st.Def
			r.Name = name
			if err := s.orphan(ctx, &entry{rule: r, state: st, saved: stored.Data}, now); err != nil {
				return err
			}
			continue
		}
		e.state, e.saved = st, stored.Data
	}
	for _, e := range s.rules {
		if err := s.attach(ctx, e, now); err != nil {
			return err
		}
	}
	return nil
}

// attach gives e a state: a new one, or its stored one brought up to the rule,
// and saves it.
func (s *Service) attach(ctx context.Context, e *entry, now time.Time) error {
	if err := s.bring(e, now); err != nil {
		return err
	}
	return s.save(ctx, e)
}

// bring gives e a state, a new one or its own brought up to the rule, in memory.
func (s *Service) bring(e *entry, now time.Time) error {
	dests := e.sealed
	if e.broken == nil {
		var err error
		if dests, err = s.destinations(e.rule); err != nil {
			return err
		}
	}
	st := e.state
	if st == nil {
		st = &ruleState{Rule: e.rule.Name, Identity: e.rule.identity(), Next: windowAt(now, e.rule.Window).Start}
		e.state = st
	}
	s.identify(st)
	if st.Removed || st.Identity != e.rule.identity() {
		old := st.Def // the groups are the old rule's: their labels are its
		old.Name = e.rule.Name
		// Each resolution goes where its group's firing went: st.Notify and
		// st.Former are still the old rule's.
		st.resolveAll(&old, "rule changed", now, s.cfg.PublicURL)
		st.record(Event{Time: now, Type: "rule_changed"})
		st.Identity, st.Next, st.Removed = e.rule.identity(), windowAt(now, e.rule.Window).Start, false
	}
	st.redirect(dests)
	st.Def = e.rule
	st.Def.Notify = nil // the URLs are in Notify, sealed
	return nil
}

// identify gives ids to the destinations of a state stored before destinations
// had one, and has its announced groups remember them, so that a change of the
// rule's destinations does not take their resolutions elsewhere. A destination
// that cannot be opened (the key changed) stays without one.
func (s *Service) identify(st *ruleState) {
	for i, d := range st.Notify {
		if d.ID != "" {
			continue
		}
		u, err := s.cfg.Sealer.Open(d.Sealed)
		if err != nil {
			return
		}
		st.Notify[i].ID = s.cfg.Sealer.id(u)
	}
	for _, g := range st.Groups {
		if g.Announced && g.To == nil {
			g.sentTo(st.Notify)
		}
	}
}

// orphan resolves the announced groups of a rule that is gone and keeps its state
// until those notifications are delivered.
func (s *Service) orphan(ctx context.Context, e *entry, now time.Time) error {
	st := e.state
	if !st.Removed {
		r := e.rule
		st.resolveAll(&r, "rule removed", now, s.cfg.PublicURL)
		st.record(Event{Time: now, Type: "rule_removed"})
		st.Removed = true
		if err := s.save(ctx, e); err != nil {
			return err
		}
	}
	if len(st.Outbox) == 0 {
		if err := s.cfg.Store.DeleteState(ctx, st.Rule, st.rev); err != nil {
			return fmt.Errorf("delete the state of removed rule %s: %w", st.Rule, err)
		}
		return nil
	}
	s.orphans[st.Rule] = e
	return nil
}

// check normalizes r and checks what the Service alone knows: a metric rule needs
// the metrics, destinations must open, a query must be valid.
func (s *Service) check(ctx context.Context, r *Rule) error {
	if err := r.Normalize(); err != nil {
		return err
	}
	if r.Kind == Metric {
		if s.cfg.Metrics == nil {
			return invalid("metric rules need the metrics pipeline (serve --metrics)")
		}
		if r.Window%s.cfg.MetricInterval != 0 {
			return invalid("window %s: a metric rule's window must be a multiple of the metrics interval (%s)", r.Window, s.cfg.MetricInterval)
		}
	}
	for i, u := range r.Notify {
		if _, err := s.cfg.Opener.Open(u); err != nil {
			return invalid("notify #%d: %v", i+1, err)
		}
	}
	if qc, ok := s.cfg.Searcher.(QueryChecker); ok && r.Kind != Metric {
		if err := qc.CheckQuery(ctx, r.Query); err != nil {
			return invalid("query %q: %v", r.Query, err)
		}
	}
	return nil
}

// destinations seals r's destinations for its state.
func (s *Service) destinations(r Rule) ([]sealedDest, error) {
	names := make([]string, len(r.Notify))
	for i, u := range r.Notify {
		d, err := s.cfg.Opener.Open(u)
		if err != nil {
			return nil, fmt.Errorf("rule %s: notify #%d: %w", r.Name, i+1, err)
		}
		names[i] = d.String()
	}
	return s.cfg.Sealer.sealAll(r.Notify, names)
}

// save stores e's state; when that fails, e goes back to the state last stored, so
// what this node holds is never ahead of what a restart would find.
func (s *Service) save(ctx context.Context, e *entry) error {
	data, err := e.state.save(ctx, s.cfg.Store)
	if errors.Is(err, ErrConflict) {
		// Another node wrote the state (a mute through its API, the node that
		// evaluated before this one): take the stored one, and let the caller
		// do its change again from it.
		if rerr := s.refresh(ctx, e); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	if err != nil {
		if e.saved != nil {
			if old, lerr := loadState(Stored{Data: e.saved, Rev: e.state.rev}); lerr == nil {
				e.state = old
			}
		}
		return err
	}
	e.saved = data
	return nil
}

// Add stores a rule made through the API, or replaces the API rule of the same
// name; it reports whether the rule is new. Errors wrap ErrInvalid or ErrReadOnly.
func (s *Service) Add(ctx context.Context, r Rule) (bool, error) {
	return s.add(ctx, r, true)
}

// Create stores a rule made through the API only if no rule of its name exists,
// on any node: otherwise the error wraps ErrExists (or ErrReadOnly for a rule of
// the alerts file). Errors wrap ErrInvalid too.
func (s *Service) Create(ctx context.Context, r Rule) error {
	_, err := s.add(ctx, r, false)
	return err
}

// add stores r, replacing an API rule of its name only if replace is set.
func (s *Service) add(ctx context.Context, r Rule, replace bool) (bool, error) {
	r.Source, r.Line = FromAPI, 0
	if err := s.check(ctx, &r); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	old, exists := s.rules[r.Name]
	if exists && old.rule.Source == FromFile {
		return false, fmt.Errorf("add %s: %w", r.Name, ErrReadOnly)
	}
	if exists && !replace {
		return false, fmt.Errorf("add %s: %w", r.Name, ErrExists)
	}
	created := now
	if exists {
		created = old.created
	}
	names := make([]string, len(r.Notify))
	for i, u := range r.Notify {
		d, _ := s.cfg.Opener.Open(u) // opened by check
		names[i] = d.String()
	}
	data, _, err := s.cfg.Sealer.encodeRule(r, names, created)
	if err != nil {
		return false, err
	}
	put := s.cfg.Store.PutRule
	if !replace {
		// Another node may have stored the name since this one heard of it.
		put = s.cfg.Store.CreateRule
	}
	if err := put(ctx, r.Name, data); err != nil {
		return false, fmt.Errorf("store rule %s: %w", r.Name, err)
	}
	e := old
	if !exists {
		e = s.orphans[r.Name] // a rule added again while its old resolutions are pending
		delete(s.orphans, r.Name)
		if e == nil {
			e = &entry{}
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rule, e.created, e.broken, e.sealed, e.stored = r, created, nil, nil, data
	if err := s.attach(ctx, e, now); err != nil {
		return false, err
	}
	s.rules[r.Name] = e
	return !exists, nil
}

// Remove deletes an API rule. Its firing groups are resolved: those notifications
// are still delivered, and its state is deleted once they are.
func (s *Service) Remove(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.rules[name]
	if !ok {
		return fmt.Errorf("alert rule %s: %w", name, drainpipe.ErrNotFound)
	}
	if e.rule.Source == FromFile {
		return fmt.Errorf("remove %s: %w", name, ErrReadOnly)
	}
	if err := s.cfg.Store.DeleteRule(ctx, name); err != nil {
		return fmt.Errorf("remove rule %s: %w", name, err)
	}
	delete(s.rules, name)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := s.orphan(ctx, e, s.cfg.Now()); err != nil {
		return err
	}
	s.m.forget(name)
	return nil
}

// Mute holds back a rule's firing notifications until until (a zero or past time
// unmutes). Rules of the alerts file can be muted too: the mute is part of the
// rule's state, not of its definition.
func (s *Service) Mute(ctx context.Context, name string, until time.Time) error {
	e, ok := s.entry(name)
	if !ok {
		return fmt.Errorf("alert rule %s: %w", name, drainpipe.ErrNotFound)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := s.cfg.Now()
	detail := "unmuted"
	if until.After(now) {
		detail = "muted until " + until.UTC().Format(time.RFC3339)
	}
	// A state another node changed since this one read it is read again (by
	// save), and the mute made on it once more.
	var err error
	for range 2 {
		e.state.MutedUntil = until
		e.state.record(Event{Time: now, Type: "mute", Detail: detail})
		if err = s.save(ctx, e); !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return err
}

func (s *Service) entry(name string) (*entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.rules[name]
	return e, ok
}

// entries returns the rules' entries and the orphans', by name.
func (s *Service) entries(withOrphans bool) []*entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Collect(maps.Values(s.rules))
	if withOrphans {
		out = slices.AppendSeq(out, maps.Values(s.orphans))
	}
	slices.SortFunc(out, func(a, b *entry) int { return cmp.Compare(a.rule.Name, b.rule.Name) })
	return out
}

package alert

import (
	"bytes"
	"context"
	"errors"
)

// Change is a change of the Store, made by this node or another of a cluster.
type Change struct {
	// Name is the rule's name.
	Name string
	// Rule says the rule's definition changed; otherwise its state did.
	Rule bool
	// Stored is the new value and its revision; Data is nil when it was deleted.
	Stored Stored
}

// Follow applies changes of the Store to what the Service holds, until changes is
// closed: on every node of a cluster the rules added, changed or removed through
// another node's API, and the states another node wrote (the evaluating node's
// windows, a mute made elsewhere). Only the node that evaluates (Run) writes the
// state of a rule added elsewhere; the others read it.
func (s *Service) Follow(ctx context.Context, changes <-chan Change) {
	for c := range changes {
		if c.Rule {
			s.followRule(ctx, c)
		} else {
			s.followState(c)
		}
	}
}

// followState takes a state newer than the one held.
func (s *Service) followState(c Change) {
	s.mu.Lock()
	e := s.rules[c.Name]
	if e == nil {
		e = s.orphans[c.Name]
	}
	s.mu.Unlock()
	if e == nil || c.Stored.Data == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state != nil && c.Stored.Rev <= e.state.rev {
		return // this node's own write, or older than what it holds
	}
	st, err := loadState(c.Stored)
	if err != nil {
		s.log.Error("alert state changed in the store does not decode; kept the one held", "rule", c.Name, "err", err)
		return
	}
	e.state, e.saved = st, c.Stored.Data
}

// followRule adds, changes or removes a rule changed in the store. The file's
// rules win over stored ones, as at start.
func (s *Service) followRule(ctx context.Context, c Change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, exists := s.rules[c.Name]
	if exists && (e.rule.Source == FromFile || bytes.Equal(e.stored, c.Stored.Data)) {
		return
	}
	now := s.cfg.Now()
	if c.Stored.Data == nil {
		if !exists {
			return
		}
		delete(s.rules, c.Name)
		s.m.forget(c.Name)
		e.mu.Lock()
		defer e.mu.Unlock()
		if s.evaluating.Load() {
			if err := s.orphan(ctx, e, now); err != nil {
				s.log.Warn("alert rule removed through another node: its resolutions", "rule", c.Name, "err", err)
			}
		}
		return
	}
	r, sealed, created, err := s.cfg.Sealer.decodeRule(c.Stored.Data)
	var broken error
	switch {
	case errors.Is(err, errUnseal) && r.Normalize() == nil:
		broken = err
	case err == nil:
		err = s.check(ctx, &r)
	}
	if err != nil && broken == nil {
		s.log.Error("alert rule changed through another node cannot be used here", "rule", c.Name, "err", err)
		return
	}
	if !exists {
		if e = s.orphans[c.Name]; e == nil {
			e = &entry{}
		}
		delete(s.orphans, c.Name)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rule, e.created, e.broken, e.sealed, e.stored = r, created, broken, sealed, c.Stored.Data
	if broken == nil {
		e.sealed = nil
	}
	s.rules[c.Name] = e
	if e.state == nil {
		if states, err := s.cfg.Store.States(ctx); err == nil {
			if st, ok := states[c.Name]; ok {
				if e.state, err = loadState(st); err == nil {
					e.saved = st.Data
				}
			}
		}
	}
	if s.evaluating.Load() {
		err = s.attach(ctx, e, now)
	} else {
		err = s.bring(e, now)
	}
	if err != nil {
		s.log.Warn("alert rule changed through another node", "rule", c.Name, "err", err)
	}
}

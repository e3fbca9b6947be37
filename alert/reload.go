package alert

import (
	"context"
	"fmt"
	"maps"
)

// Reload reads the rules and states again from the Store, as New does, and
// replaces what the Service holds with them. A node of a cluster that takes over
// the evaluation calls it first: the states in the bucket are then the last
// evaluator's, not what this node read when it started. Call it while Run is not
// running; on error the Service keeps what it held.
func (s *Service) Reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rules, orphans := s.rules, s.orphans
	s.rules, s.orphans = map[string]*entry{}, map[string]*entry{}
	err := s.loadRules(ctx)
	if err == nil {
		err = s.loadStates(ctx)
	}
	if err != nil {
		s.rules, s.orphans = rules, orphans
		return err
	}
	for name := range maps.Keys(rules) {
		if _, ok := s.rules[name]; !ok {
			s.m.forget(name)
		}
	}
	return nil
}

// refresh replaces e's state with the stored one (a new one when none is
// stored), brought up to e's rule as attach does, without saving it.
func (s *Service) refresh(ctx context.Context, e *entry) error {
	states, err := s.cfg.Store.States(ctx)
	if err != nil {
		return fmt.Errorf("read the state of %s again: %w", e.state.Rule, err)
	}
	stored, ok := states[e.state.Rule]
	if !ok {
		e.state.rev, e.saved = 0, nil
		return nil
	}
	st, err := loadState(stored)
	if err != nil {
		return fmt.Errorf("rule %s: %w", e.state.Rule, err)
	}
	// The stored state's incidents keep their destinations: those the rule no
	// longer notifies move to Former, as in bring.
	st.redirect(e.state.Notify)
	st.Def = e.state.Def
	e.state, e.saved = st, stored.Data
	return nil
}

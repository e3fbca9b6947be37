package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Store keeps rules and their evaluation states; jskv implements it over a
// JetStream key-value bucket.
type Store interface {
	// Rules returns the stored rules by name.
	Rules(ctx context.Context) (map[string][]byte, error)
	PutRule(ctx context.Context, name string, data []byte) error
	// CreateRule stores a rule only if none of that name is stored; otherwise
	// the error wraps ErrExists. It is atomic across the nodes sharing the store.
	CreateRule(ctx context.Context, name string, data []byte) error
	// DeleteRule deletes a rule; deleting a missing rule is not an error.
	DeleteRule(ctx context.Context, name string) error
	// States returns every stored state by rule name, with its revision.
	States(ctx context.Context) (map[string]Stored, error)
	// PutState stores a state if the stored one is still at revision rev (0: there
	// is none) and returns the new revision; otherwise the error wraps ErrConflict.
	PutState(ctx context.Context, name string, data []byte, rev uint64) (uint64, error)
	// DeleteState deletes a state if it is still at revision rev.
	DeleteState(ctx context.Context, name string, rev uint64) error
}

// Stored is a stored value and its revision.
type Stored struct {
	Data []byte
	Rev  uint64
}

// ErrExists means a rule of that name exists, for a create-only add.
var ErrExists = errors.New("an alert rule of that name exists")

// ErrConflict means a state was changed by another writer since it was read.
var ErrConflict = errors.New("alert state changed by another writer")

// storedRule is a rule as stored: its destinations sealed.
type storedRule struct {
	Rule    Rule         `json:"rule"`
	Notify  []sealedDest `json:"notify"`
	Created time.Time    `json:"created"`
}

// encodeRule seals r's destinations; names are their redacted forms.
func (s *Sealer) encodeRule(r Rule, names []string, created time.Time) ([]byte, []sealedDest, error) {
	dests, err := s.sealAll(r.Notify, names)
	if err != nil {
		return nil, nil, err
	}
	r.Notify = nil
	data, err := json.Marshal(storedRule{Rule: r, Notify: dests, Created: created})
	if err != nil {
		return nil, nil, fmt.Errorf("encode rule %s: %w", r.Name, err)
	}
	return data, dests, nil
}

func (s *Sealer) sealAll(urls, names []string) ([]sealedDest, error) {
	dests := make([]sealedDest, len(urls))
	for i, u := range urls {
		sealed, err := s.Seal(u)
		if err != nil {
			return nil, err
		}
		dests[i] = sealedDest{Sealed: sealed, Name: names[i], ID: s.id(u)}
	}
	return dests, nil
}

// decodeRule reads a stored rule and opens its destinations. When one cannot be
// opened (the key changed), it returns the rule with the redacted names in Notify,
// its sealed destinations, and an error wrapping errUnseal.
func (s *Sealer) decodeRule(data []byte) (Rule, []sealedDest, time.Time, error) {
	var sr storedRule
	if err := json.Unmarshal(data, &sr); err != nil {
		return Rule{}, nil, time.Time{}, fmt.Errorf("decode rule: %w", err)
	}
	r := sr.Rule
	r.Notify = make([]string, len(sr.Notify))
	var broken error
	for i, d := range sr.Notify {
		u, err := s.Open(d.Sealed)
		if err != nil {
			u, broken = d.Name, fmt.Errorf("destination %s: %w", d.Name, err)
		}
		r.Notify[i] = u
	}
	return r, sr.Notify, sr.Created, broken
}

// save stores st if it is still the revision this node last saw.
func (st *ruleState) save(ctx context.Context, store Store) ([]byte, error) {
	data, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode state of %s: %w", st.Rule, err)
	}
	rev, err := store.PutState(ctx, st.Rule, data, st.rev)
	if err != nil {
		return nil, fmt.Errorf("save state of %s: %w", st.Rule, err)
	}
	st.rev = rev
	return data, nil
}

// loadState decodes a stored state.
func loadState(s Stored) (*ruleState, error) {
	st := new(ruleState)
	if err := json.Unmarshal(s.Data, st); err != nil {
		return nil, fmt.Errorf("decode alert state: %w", err)
	}
	st.rev = s.Rev
	return st, nil
}

// storeTimeout bounds every call to the Store: a journal that does not answer
// fails the call (the window is evaluated again later) rather than hang.
const storeTimeout = 10 * time.Second

// timedStore gives every call of a Store its own deadline.
type timedStore struct{ s Store }

func (t timedStore) Rules(ctx context.Context) (map[string][]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	return t.s.Rules(ctx)
}

func (t timedStore) PutRule(ctx context.Context, name string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	return t.s.PutRule(ctx, name, data)
}

func (t timedStore) CreateRule(ctx context.Context, name string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	return t.s.CreateRule(ctx, name, data)
}

func (t timedStore) DeleteRule(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	return t.s.DeleteRule(ctx, name)
}

func (t timedStore) States(ctx context.Context) (map[string]Stored, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	return t.s.States(ctx)
}

func (t timedStore) PutState(ctx context.Context, name string, data []byte, rev uint64) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	return t.s.PutState(ctx, name, data, rev)
}

func (t timedStore) DeleteState(ctx context.Context, name string, rev uint64) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	return t.s.DeleteState(ctx, name, rev)
}

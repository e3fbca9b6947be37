// Package jskv keeps alert rules and their evaluation states in a JetStream
// key-value bucket (drainpipe_alerts), the journal's own engine: one store from a
// laptop to a cluster, and the same durability as the journal (the embedded server
// fsyncs every write). Keys are rule.NAME (a rule added through the API, its
// destinations sealed) and state.NAME (its position, groups, outbox and history).
package jskv

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	bucket      = "drainpipe_alerts"
	rulePrefix  = "rule."
	statePrefix = "state."
)

// Store is an alert.Store over a JetStream key-value bucket.
type Store struct {
	kv jetstream.KeyValue
}

var _ alert.Store = (*Store)(nil)

// Open creates or opens the bucket with the given number of replicas (1 on an
// embedded or single server, 3 on a cluster).
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Store, error) {
	if replicas < 1 {
		replicas = 1
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: "drainpipe: alert rules (destinations sealed) and their evaluation states",
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		History:     1,
	})
	if err != nil {
		return nil, fmt.Errorf("alert store: %w", err)
	}
	return &Store{kv: kv}, nil
}

// Rules returns the stored rules by name.
func (s *Store) Rules(ctx context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := s.each(ctx, rulePrefix, func(name string, e jetstream.KeyValueEntry) { out[name] = e.Value() })
	return out, err
}

// States returns the stored states by rule name, with their revisions.
func (s *Store) States(ctx context.Context) (map[string]alert.Stored, error) {
	out := map[string]alert.Stored{}
	err := s.each(ctx, statePrefix, func(name string, e jetstream.KeyValueEntry) {
		out[name] = alert.Stored{Data: e.Value(), Rev: e.Revision()}
	})
	return out, err
}

// each calls fn with every live key under prefix.
func (s *Store) each(ctx context.Context, prefix string, fn func(string, jetstream.KeyValueEntry)) error {
	lister, err := s.kv.ListKeysFiltered(ctx, prefix+">")
	if err != nil {
		return fmt.Errorf("list %s*: %w", prefix, err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	// The lister stops its watch itself once it has listed every key; the channel
	// also closes early when ctx ends, and then the list is not whole.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %s*: %w", prefix, err)
	}
	for _, k := range keys {
		e, err := s.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", k, err)
		}
		fn(strings.TrimPrefix(k, prefix), e)
	}
	return nil
}

// PutRule stores a rule.
func (s *Store) PutRule(ctx context.Context, name string, data []byte) error {
	if _, err := s.kv.Put(ctx, rulePrefix+name, data); err != nil {
		return fmt.Errorf("store rule %s: %w", name, err)
	}
	return nil
}

// CreateRule stores a rule unless one of that name is stored: a KV create, which
// the stream's leader orders against every other node's.
func (s *Store) CreateRule(ctx context.Context, name string, data []byte) error {
	_, err := s.kv.Create(ctx, rulePrefix+name, data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("rule %s: %w", name, alert.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store rule %s: %w", name, err)
	}
	return nil
}

// DeleteRule deletes a rule.
func (s *Store) DeleteRule(ctx context.Context, name string) error {
	if err := s.kv.Purge(ctx, rulePrefix+name); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("delete rule %s: %w", name, err)
	}
	return nil
}

// PutState stores a state if the stored one is at revision rev (0: none).
func (s *Store) PutState(ctx context.Context, name string, data []byte, rev uint64) (uint64, error) {
	var err error
	var newRev uint64
	if rev == 0 {
		newRev, err = s.kv.Create(ctx, statePrefix+name, data)
	} else {
		newRev, err = s.kv.Update(ctx, statePrefix+name, data, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, fmt.Errorf("state of %s: %w", name, alert.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("store state of %s: %w", name, err)
	}
	return newRev, nil
}

// DeleteState deletes a state if it is still at revision rev.
func (s *Store) DeleteState(ctx context.Context, name string, rev uint64) error {
	err := s.kv.Purge(ctx, statePrefix+name, jetstream.LastRevision(rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("delete state of %s: %w", name, err)
	}
	return nil
}

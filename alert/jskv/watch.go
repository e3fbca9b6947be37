package jskv

import (
	"context"
	"fmt"
	"strings"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/nats-io/nats.go/jetstream"
)

// Changes returns every change of the bucket made from now on, by any node, until
// ctx ends (the channel is then closed): the server pushes them, so another node's
// change arrives within milliseconds. A deleted key's Change has nil Data.
func (s *Store) Changes(ctx context.Context) (<-chan alert.Change, error) {
	w, err := s.kv.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		return nil, fmt.Errorf("watch the alert store: %w", err)
	}
	out := make(chan alert.Change, 64)
	go func() {
		defer close(out)
		defer func() { _ = w.Stop() }()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				c, ok := change(e)
				if !ok {
					continue
				}
				select {
				case out <- c:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// change reads a watched entry; false for a key that is neither a rule nor a state.
func change(e jetstream.KeyValueEntry) (alert.Change, bool) {
	if e == nil {
		return alert.Change{}, false
	}
	c := alert.Change{Stored: alert.Stored{Rev: e.Revision()}}
	k := e.Key()
	switch {
	case strings.HasPrefix(k, rulePrefix):
		c.Name, c.Rule = strings.TrimPrefix(k, rulePrefix), true
	case strings.HasPrefix(k, statePrefix):
		c.Name = strings.TrimPrefix(k, statePrefix)
	default:
		return c, false
	}
	if e.Operation() == jetstream.KeyValuePut {
		c.Stored.Data = e.Value()
	}
	return c, true
}

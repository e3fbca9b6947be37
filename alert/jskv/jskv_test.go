package jskv_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/jskv"
	"github.com/drainpipe/drainpipe/journal"
)

func open(t *testing.T, dir string) (*jskv.Store, func()) {
	t.Helper()
	j, err := journal.Open(context.Background(), journal.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s, err := jskv.Open(context.Background(), j.JetStream(), 1)
	if err != nil {
		t.Fatal(err)
	}
	return s, func() { j.Close() }
}

// TestStore: rules and states survive a restart; a state is written only over the
// revision its writer read; deleted ones are gone and can be made again.
func TestStore(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "journal")
	s, closeJ := open(t, dir)
	if err := s.PutRule(ctx, "h12", []byte(`{"rule":1}`)); err != nil {
		t.Fatal(err)
	}
	rev, err := s.PutState(ctx, "h12", []byte("v1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutState(ctx, "h12", []byte("again"), 0); !errors.Is(err, alert.ErrConflict) {
		t.Errorf("create over an existing state: %v", err)
	}
	rev2, err := s.PutState(ctx, "h12", []byte("v2"), rev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutState(ctx, "h12", []byte("stale"), rev); !errors.Is(err, alert.ErrConflict) {
		t.Errorf("a write over a stale revision: %v", err)
	}
	if _, err := s.PutState(ctx, "gone", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	states, _ := s.States(ctx)
	if err := s.DeleteState(ctx, "gone", states["gone"].Rev); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRule(ctx, "missing"); err != nil {
		t.Errorf("delete a missing rule: %v", err)
	}
	if err := s.CreateRule(ctx, "h12", []byte(`{"rule":2}`)); !errors.Is(err, alert.ErrExists) {
		t.Errorf("create over an existing rule: %v", err)
	}
	if err := s.CreateRule(ctx, "r14", []byte(`{"rule":3}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRule(ctx, "r14"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRule(ctx, "r14", []byte(`{"rule":4}`)); err != nil {
		t.Errorf("create a deleted rule again: %v", err)
	}
	if err := s.DeleteRule(ctx, "r14"); err != nil {
		t.Fatal(err)
	}
	closeJ()

	s, closeJ = open(t, dir)
	defer closeJ()
	rules, err := s.Rules(ctx)
	if err != nil || string(rules["h12"]) != `{"rule":1}` || len(rules) != 1 {
		t.Errorf("rules after a restart: %v, %v", rules, err)
	}
	states, err = s.States(ctx)
	if err != nil || len(states) != 1 || string(states["h12"].Data) != "v2" || states["h12"].Rev != rev2 {
		t.Errorf("states after a restart: %+v, %v", states, err)
	}
	if _, err := s.PutState(ctx, "gone", []byte("new"), 0); err != nil {
		t.Errorf("make a deleted state again: %v", err)
	}
}

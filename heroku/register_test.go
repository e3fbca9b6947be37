package heroku_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/heroku"
)

// fakeDrains is drainpipe's side of a registration: what the admin API would record.
type fakeDrains struct {
	mu         sync.Mutex
	registered map[string]drainpipe.HerokuDrain
	removed    []string
	failSet    error
}

func newFakeDrains() *fakeDrains {
	return &fakeDrains{registered: map[string]drainpipe.HerokuDrain{}}
}

func (f *fakeDrains) SetHeroku(_ context.Context, app string, h drainpipe.HerokuDrain) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failSet != nil {
		return f.failSet
	}
	f.registered[app] = h
	return nil
}

func (f *fakeDrains) RemoveDrain(_ context.Context, app string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, app)
	return nil
}

const httpsDrain = "https://d_abc:s3cret@logs.example.com/logs"

func TestRegister(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.emu.AddApp("myapp")
	ds := newFakeDrains()
	res, err := e.client.Register(t.Context(), ds, heroku.Registration{App: "myapp", URL: httpsDrain, New: true})
	if err != nil || !res.Created {
		t.Fatalf("Register = %+v, %v", res, err)
	}
	hd := e.emu.Drains("myapp")
	if len(hd) != 1 || hd[0].URL != httpsDrain || res.Drain != (drainpipe.HerokuDrain{ID: hd[0].ID, Token: hd[0].Token}) {
		t.Fatalf("Heroku has %+v, registration %+v", hd, res.Drain)
	}
	if ds.registered["myapp"] != res.Drain {
		t.Fatalf("recorded %+v, want %+v", ds.registered["myapp"], res.Drain)
	}
	// Registered already and still on Heroku: nothing changes, on either side.
	before := e.emu.Requests()
	again, err := e.client.Register(t.Context(), ds, heroku.Registration{App: "myapp", Current: &res.Drain})
	if err != nil || again.Created || again.Drain != res.Drain || e.emu.Requests() != before+1 {
		t.Fatalf("Register again = %+v, %v after %d requests; want the same registration after one look-up", again, err, e.emu.Requests()-before)
	}
	// Gone from Heroku, and no URL to give it again (the secret is not stored).
	if _, err := e.client.Unregister(t.Context(), "myapp", res.Drain); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Register(t.Context(), ds, heroku.Registration{App: "myapp", Current: &res.Drain}); !errors.Is(err, heroku.ErrNoURL) {
		t.Fatalf("re-register without a URL: %v, want ErrNoURL", err)
	}
	if len(ds.removed) != 0 {
		t.Fatalf("removed %v: a drain that was not made for the registration is kept", ds.removed)
	}
}

// TestRegisterLeavesNothingHalfMade: a refusal on either side undoes what this
// registration made on the other.
func TestRegisterLeavesNothingHalfMade(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		app         string
		new         bool
		failSet     bool
		wantRemoved bool
		wantErr     string
	}{
		{"Heroku refuses, new drain removed", "no-such-app", true, false, true, "no-such-app"},
		{"Heroku refuses, existing drain kept", "no-such-app", false, false, false, "no-such-app"},
		{"cannot record, Heroku drain deleted, new drain removed", "myapp", true, true, true, "record the Heroku registration"},
		{"cannot record, existing drain kept", "myapp", false, true, false, "record the Heroku registration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			e.emu.AddApp("myapp")
			ds := newFakeDrains()
			if tt.failSet {
				ds.failSet = errors.New("admin API unavailable")
			}
			_, err := e.client.Register(t.Context(), ds, heroku.Registration{App: tt.app, URL: httpsDrain, New: tt.new})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want one saying %q", err, tt.wantErr)
			}
			if n := len(e.emu.Drains("myapp")); n != 0 {
				t.Errorf("Heroku keeps %d drains", n)
			}
			if removed := len(ds.removed) > 0; removed != tt.wantRemoved {
				t.Errorf("drainpipe's drain removed: %v, want %v", removed, tt.wantRemoved)
			}
		})
	}
}

// TestRegisterKeepsAnotherProcesssDrain: a Heroku drain that this call did not add
// (another process added the same URL) is not deleted when recording fails.
func TestRegisterKeepsAnotherProcesssDrain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.emu.AddApp("myapp")
	if _, err := e.client.CreateLogDrain(t.Context(), "myapp", httpsDrain); err != nil {
		t.Fatal(err)
	}
	ds := newFakeDrains()
	ds.failSet = errors.New("admin API unavailable")
	if _, err := e.client.Register(t.Context(), ds, heroku.Registration{App: "myapp", URL: httpsDrain}); err == nil {
		t.Fatal("Register succeeded although recording failed")
	}
	if n := len(e.emu.Drains("myapp")); n != 1 {
		t.Fatalf("Heroku has %d drains, want the other process's one kept", n)
	}
}

func TestUnregisterAndCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.emu.AddApp("myapp")
	d, err := e.client.CreateLogDrain(t.Context(), "myapp", "syslog+tls://logs.example.com:6514")
	if err != nil {
		t.Fatal(err)
	}
	byToken := drainpipe.HerokuDrain{Token: d.Token}
	if ok, err := e.client.IsRegistered(t.Context(), "myapp", byToken); !ok || err != nil {
		t.Fatalf("IsRegistered by token = %v, %v", ok, err)
	}
	if _, err := e.client.Unregister(t.Context(), "myapp", byToken); err == nil || !strings.Contains(err.Error(), "heroku drains:remove") {
		t.Fatalf("Unregister of a drain the user added: %v, want a refusal saying how to remove it", err)
	}
	removed, err := e.client.Unregister(t.Context(), "myapp", d.Ref())
	if err != nil || !removed {
		t.Fatalf("Unregister = %v, %v", removed, err)
	}
	removed, err = e.client.Unregister(t.Context(), "myapp", d.Ref())
	if err != nil || removed {
		t.Fatalf("Unregister of a drain Heroku no longer has = %v, %v; want false, nil", removed, err)
	}
	if ok, err := e.client.IsRegistered(t.Context(), "myapp", d.Ref()); ok || err != nil {
		t.Fatalf("IsRegistered after removal = %v, %v", ok, err)
	}
}

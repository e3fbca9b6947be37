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

// TestRegisterKeepsTheRegistration: a drain registered already is left as it is
// only when its Heroku drain delivers where it is asked to; otherwise Register
// refuses with a *RegisteredError naming both, and changes nothing on either side
// (audit 2026-11-29: `--heroku --syslog` on an HTTPS-registered drain said
// "Heroku already had it").
func TestRegisterKeepsTheRegistration(t *testing.T) {
	t.Parallel()
	const syslogURL, otherSyslog = "syslog+tls://logs.example.com:6514", "syslog+tls://other.example.com:6514"
	tests := []struct {
		name     string
		heroku   string // the URL of the drain's current Heroku drain
		byToken  bool   // recorded by its token only (--heroku-token)
		gone     bool   // Heroku no longer has it
		url      string // asked for; empty for the drain's own HTTPS URL
		wantErr  error  // nil: kept as it is
		wantSaid []string
	}{
		{"HTTPS drain, asked the same", httpsDrain, false, false, "", nil, nil},
		{"syslog drain, asked the same", syslogURL, false, false, syslogURL, nil, nil},
		{"by token, asked the same", syslogURL, true, false, syslogURL, nil, nil},
		{"HTTPS drain, asked syslog", httpsDrain, false, false, syslogURL, &heroku.RegisteredError{},
			[]string{"https://d_abc:xxxxx@logs.example.com/logs", syslogURL}},
		{"syslog drain, asked another syslog", syslogURL, false, false, otherSyslog, &heroku.RegisteredError{}, []string{syslogURL, otherSyslog}},
		{"syslog drain, asked HTTPS", syslogURL, false, false, "", &heroku.RegisteredError{}, []string{syslogURL, "the drain's HTTPS URL"}},
		{"by token, asked another syslog", syslogURL, true, false, otherSyslog, &heroku.RegisteredError{}, []string{"--heroku-token", otherSyslog}},
		{"gone, asked syslog", syslogURL, false, true, otherSyslog, &heroku.RegisteredError{}, []string{"no longer has"}},
		{"gone, no URL to give again", httpsDrain, false, true, "", heroku.ErrNoURL, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			e.emu.AddApp("myapp")
			hd, err := e.client.CreateLogDrain(t.Context(), "myapp", tt.heroku)
			if err != nil {
				t.Fatal(err)
			}
			current := hd.Ref()
			if tt.byToken {
				current.ID = ""
			}
			if tt.gone {
				if _, err := e.client.DeleteLogDrain(t.Context(), "myapp", hd.ID); err != nil {
					t.Fatal(err)
				}
			}
			before := e.emu.Drains("myapp")
			ds := newFakeDrains()
			res, err := e.client.Register(t.Context(), ds, heroku.Registration{App: "myapp", URL: tt.url, Current: &current})
			var refused *heroku.RegisteredError
			switch {
			case tt.wantErr == nil && (err != nil || res.Created || res.Drain != current):
				t.Fatalf("Register = %+v, %v; want the current registration kept", res, err)
			case tt.wantErr == heroku.ErrNoURL && !errors.Is(err, heroku.ErrNoURL):
				t.Fatalf("Register: %v, want ErrNoURL", err)
			case tt.wantErr != nil && tt.wantErr != heroku.ErrNoURL && !errors.As(err, &refused):
				t.Fatalf("Register = %+v, %v; want a *RegisteredError", res, err)
			}
			if refused != nil && (refused.Current != current || refused.Gone != tt.gone) {
				t.Errorf("refusal %+v, want it to name %+v (gone %v)", refused, current, tt.gone)
			}
			for _, w := range tt.wantSaid {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if after := e.emu.Drains("myapp"); len(after) != len(before) {
				t.Errorf("Heroku had %d drains, has %d: a refusal changed Heroku", len(before), len(after))
			}
			if len(ds.registered) != 0 || len(ds.removed) != 0 {
				t.Errorf("drainpipe's side changed: registered %v, removed %v", ds.registered, ds.removed)
			}
		})
	}
}

package drains_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/drains"
	"github.com/drainpipe/drainpipe/journal"
)

// node is one drainpipe node's view: its data directory, its journal (an embedded
// JetStream) and its drain store over the journal's engine.
type node struct {
	dir string
	j   *journal.Journal
	ds  *drains.Store
}

// openNode opens the journal and the drain store in dir, as `drainpipe serve` does.
func openNode(t *testing.T, dir string) *node {
	t.Helper()
	n := &node{dir: dir}
	j, err := journal.Open(t.Context(), journal.Config{Dir: filepath.Join(dir, "journal")})
	if err != nil {
		t.Fatalf("open journal: %v", err)
	}
	n.j = j
	ds, err := drains.Open(t.Context(), drains.Config{JetStream: j.JetStream(), StateFile: filepath.Join(dir, "drains.state")})
	if err != nil {
		j.Close()
		t.Fatalf("open drain store: %v", err)
	}
	n.ds = ds
	t.Cleanup(n.close)
	return n
}

func (n *node) close() {
	_ = n.ds.Close()
	_ = n.j.Close()
}

func newDrain(t *testing.T, app string) (drainpipe.Drain, string) {
	t.Helper()
	d, secret, err := drainpipe.NewDrain(app, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return d, secret
}

func add(t *testing.T, ds *drains.Store, d drainpipe.Drain) {
	t.Helper()
	if _, created, err := ds.Add(context.Background(), d); err != nil || !created {
		t.Fatalf("add %s: created=%v err=%v", d.App, created, err)
	}
}

func TestStore(t *testing.T) {
	t.Parallel()
	n := openNode(t, t.TempDir())
	ds := n.ds
	ctx := context.Background()
	secret := "s3cret-with-128-bits-of-entropy-at-least"
	sum := sha256.Sum256([]byte(secret))
	d := drainpipe.Drain{ID: "d_one", App: "myapp", SecretHash: sum[:], Created: time.Now().UTC()}
	got, created, err := ds.Add(ctx, d)
	if err != nil || !created || got.ID != "d_one" {
		t.Fatalf("add: %+v %v %v", got, created, err)
	}
	again, created, err := ds.Add(ctx, drainpipe.Drain{ID: "d_two", App: "myapp"})
	if err != nil || created || again.ID != "d_one" {
		t.Fatalf("add existing app: %+v created=%v err=%v, want the existing drain", again, created, err)
	}
	if dr, ok := ds.Authenticate(secret); !ok || dr.ID != "d_one" {
		t.Fatalf("authenticate: %+v %v", dr, ok)
	}
	if _, ok := ds.Authenticate(secret + "x"); ok {
		t.Fatal("wrong secret authenticated")
	}
	if dr, ok := ds.ByApp("myapp"); !ok || dr.ID != "d_one" {
		t.Fatalf("by app: %+v %v", dr, ok)
	}
	if err := ds.Remove(ctx, "d_one"); err != nil {
		t.Fatal(err)
	}
	if _, ok := ds.Authenticate(secret); ok {
		t.Fatal("removed drain still authenticates")
	}
	if err := ds.Remove(ctx, "d_one"); !errors.Is(err, drainpipe.ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
	if _, created, err := ds.Add(ctx, drainpipe.Drain{ID: "d_three", App: "myapp"}); err != nil || !created {
		t.Fatalf("re-add after remove: created=%v err=%v", created, err)
	}
	if n := len(ds.List()); n != 1 {
		t.Fatalf("list has %d drains, want 1", n)
	}

	// A second view of the same store (another node) sees the same drains.
	ds2, err := drains.Open(ctx, drains.Config{JetStream: n.j.JetStream()})
	if err != nil {
		t.Fatal(err)
	}
	defer ds2.Close()
	if _, ok := ds2.ByApp("myapp"); !ok {
		t.Fatal("second view does not see the drain")
	}
	if err := ds.Health(); err != nil {
		t.Fatalf("health of a new store: %v", err)
	}
}

// TestHerokuTokenNamesOneDrain: a Heroku drain token is how syslog lines find their
// drain, so a token that another drain holds is refused, on this node and on another.
func TestHerokuTokenNamesOneDrain(t *testing.T) {
	t.Parallel()
	n := openNode(t, t.TempDir())
	ctx := context.Background()
	b, _ := newDrain(t, "appb")
	c, _ := newDrain(t, "appc")
	add(t, n.ds, b)
	add(t, n.ds, c)
	const token = "d.0b4c3a6e-2f55-4d6b-9a43-8c6f0e7d5a21"
	c.Heroku = &drainpipe.HerokuDrain{ID: "h-c", Token: token}
	if err := n.ds.Update(ctx, c); err != nil {
		t.Fatalf("set appc's token: %v", err)
	}
	b.Heroku = &drainpipe.HerokuDrain{Token: token}
	err := n.ds.Update(ctx, b)
	if !errors.Is(err, drainpipe.ErrConflict) {
		t.Fatalf("appb with appc's token: %v, want ErrConflict", err)
	}
	if got, _ := n.ds.ByHerokuToken(token); got.App != "appc" {
		t.Fatalf("token names %q after the refused update, want appc", got.App)
	}
	if got, _ := n.ds.ByApp("appb"); got.Heroku != nil {
		t.Fatalf("appb stored the refused token: %+v", got.Heroku)
	}

	// Another node's store is refused too, even before its watch saw appc's token:
	// the claim in the bucket is atomic.
	other, err := drains.Open(ctx, drains.Config{JetStream: n.j.JetStream()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Update(ctx, b); !errors.Is(err, drainpipe.ErrConflict) {
		t.Fatalf("other node: appb with appc's token: %v, want ErrConflict", err)
	}

	// Setting the same token again on its own drain is fine; once appc lets it go
	// (its removal) appb may have it.
	if err := n.ds.Update(ctx, c); err != nil {
		t.Fatalf("same token on its own drain again: %v", err)
	}
	if err := n.ds.Remove(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := n.ds.Update(ctx, b); err != nil {
		t.Fatalf("appb takes the token appc's removal freed: %v", err)
	}
	if got, _ := n.ds.ByHerokuToken(token); got.App != "appb" {
		t.Fatalf("token names %q, want appb", got.App)
	}
}

// TestHerokuRegistrationIsKept: a drain has one Heroku registration: another
// token is refused (the one recorded still delivers: its syslog lines must keep
// finding the drain), on this node and on one whose cache has not seen the
// registration yet; the same token again keeps it (learning Heroku's id), and an
// update of something else (the CloudWatch group) leaves it in place.
func TestHerokuRegistrationIsKept(t *testing.T) {
	t.Parallel()
	const t1, t2 = "d.11111111-1111-4111-8111-111111111111", "d.22222222-2222-4222-8222-222222222222"
	tests := []struct {
		name     string
		current  drainpipe.HerokuDrain
		update   *drainpipe.HerokuDrain // nil: an update of the CloudWatch group only
		otherCfg bool                   // update through another node that has not seen the registration
		want     drainpipe.HerokuDrain  // the registration stored afterwards
		refused  bool
	}{
		{"another token, registered by drainpipe", drainpipe.HerokuDrain{ID: "h-1", Token: t1}, &drainpipe.HerokuDrain{Token: t2}, false, drainpipe.HerokuDrain{ID: "h-1", Token: t1}, true},
		{"another token, recorded by token", drainpipe.HerokuDrain{Token: t1}, &drainpipe.HerokuDrain{Token: t2}, false, drainpipe.HerokuDrain{Token: t1}, true},
		{"another token, through another node", drainpipe.HerokuDrain{Token: t1}, &drainpipe.HerokuDrain{ID: "h-2", Token: t2}, true, drainpipe.HerokuDrain{Token: t1}, true},
		{"the same token", drainpipe.HerokuDrain{ID: "h-1", Token: t1}, &drainpipe.HerokuDrain{Token: t1}, false, drainpipe.HerokuDrain{ID: "h-1", Token: t1}, false},
		{"the same token, with Heroku's id", drainpipe.HerokuDrain{Token: t1}, &drainpipe.HerokuDrain{ID: "h-1", Token: t1}, false, drainpipe.HerokuDrain{ID: "h-1", Token: t1}, false},
		{"the group only", drainpipe.HerokuDrain{ID: "h-1", Token: t1}, nil, false, drainpipe.HerokuDrain{ID: "h-1", Token: t1}, false},
		{"the group only, through another node", drainpipe.HerokuDrain{ID: "h-1", Token: t1}, nil, true, drainpipe.HerokuDrain{ID: "h-1", Token: t1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			n := openNode(t, t.TempDir())
			d, _ := newDrain(t, "s")
			add(t, n.ds, d)
			via := n.ds
			if tt.otherCfg {
				other, err := drains.Open(ctx, drains.Config{JetStream: n.j.JetStream()})
				if err != nil {
					t.Fatal(err)
				}
				defer other.Close()
				via = other
			}
			before, _ := via.Drain(d.ID) // what the updating node knows: no registration yet on another node
			reg := d
			reg.Heroku = &tt.current
			if err := n.ds.Update(ctx, reg); err != nil {
				t.Fatalf("record the registration: %v", err)
			}
			if !tt.otherCfg {
				before, _ = via.Drain(d.ID)
			}
			upd := before
			upd.Heroku = tt.update
			upd.CloudWatchGroup = "/other/x"
			err := via.Update(ctx, upd)
			var regErr *drains.HerokuRegisteredError
			if tt.refused != errors.As(err, &regErr) || tt.refused != errors.Is(err, drainpipe.ErrConflict) || (!tt.refused && err != nil) {
				t.Fatalf("update: %v, want refused %v", err, tt.refused)
			}
			if tt.refused && (regErr.Current.Token != t1 || regErr.App != "s") {
				t.Fatalf("refusal %+v, want it to name t1 and the app", regErr)
			}
			views := []*drains.Store{n.ds}
			if !tt.refused {
				views = append(views, via) // a refusal changes nothing there; its watch may lag
			}
			for _, view := range views {
				got, _ := view.ByHerokuToken(t1)
				if got.ID != d.ID || got.Heroku == nil || *got.Heroku != tt.want {
					t.Fatalf("the drain of t1 is %+v, want %s with registration %+v", got, d.ID, tt.want)
				}
				if _, ok := view.ByHerokuToken(t2); ok {
					t.Fatal("t2 names a drain")
				}
			}
			// t2 was not claimed: another drain may have it.
			o, _ := newDrain(t, "other")
			add(t, n.ds, o)
			o.Heroku = &drainpipe.HerokuDrain{Token: t2}
			if err := n.ds.Update(ctx, o); err != nil {
				t.Fatalf("t2 on another drain: %v", err)
			}
		})
	}
}

// TestLostStore: a drain store whose files were damaged, or that is another store
// than the one this data directory saw, is reported lost, never silently trusted;
// drains removed through drainpipe are not a loss.
func TestLostStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		harm func(t *testing.T, dir string)
		lost bool
	}{
		{"restart", func(*testing.T, string) {}, false},
		{"block file deleted", func(t *testing.T, dir string) {
			blk := filepath.Join(dir, "journal", "jetstream", "$G", "streams", "KV_drainpipe_drains", "msgs", "1.blk")
			if err := os.Remove(blk); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"journal directory lost", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "journal")); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"every drain removed", func(t *testing.T, dir string) {
			n := openNode(t, dir)
			for _, d := range n.ds.List() {
				if err := n.ds.Remove(context.Background(), d.ID); err != nil {
					t.Fatal(err)
				}
			}
			n.close()
		}, false},
		{"whole data directory new", func(t *testing.T, dir string) {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			n := openNode(t, dir)
			d, _ := newDrain(t, "myapp")
			add(t, n.ds, d)
			add(t, n.ds, func() drainpipe.Drain { d, _ := newDrain(t, "other"); return d }())
			n.close()
			tt.harm(t, dir)

			again := openNode(t, dir)
			err := again.ds.Health()
			if got := errors.Is(err, drains.ErrLost); got != tt.lost {
				t.Fatalf("health after %s: %v, want lost=%v", tt.name, err, tt.lost)
			}
			if !tt.lost {
				return
			}
			// Still lost after another restart: the state file keeps what was lost.
			again.close()
			if err := openNode(t, dir).ds.Health(); !errors.Is(err, drains.ErrLost) {
				t.Fatalf("second restart: %v, want still lost", err)
			}
		})
	}
}

// TestLostStoreAccepted: deleting the state file accepts the loss.
func TestLostStoreAccepted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := openNode(t, dir)
	d, _ := newDrain(t, "myapp")
	add(t, n.ds, d)
	n.close()
	if err := os.RemoveAll(filepath.Join(dir, "journal")); err != nil {
		t.Fatal(err)
	}
	n = openNode(t, dir)
	if err := n.ds.Health(); !errors.Is(err, drains.ErrLost) {
		t.Fatalf("health: %v, want lost", err)
	}
	n.close()
	if err := os.Remove(filepath.Join(dir, "drains.state")); err != nil {
		t.Fatal(err)
	}
	n = openNode(t, dir)
	if err := n.ds.Health(); err != nil {
		t.Fatalf("health after the state file was deleted: %v", err)
	}
}

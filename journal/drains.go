package journal

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/drainpipe/drainpipe"
	"github.com/nats-io/nats.go/jetstream"
)

// The drain store's key-value bucket and key prefixes.
const (
	drainsBucket   = "drainpipe_drains"
	drainKeyPrefix = "drain."
	appKeyPrefix   = "app."
	adminTokenKey  = "setting.admin-token-sha256"
)

// Drains is the drain store: drains live in a JetStream key-value bucket, so every
// node of a cluster sees the same ones, and in a local cache kept current by a watch,
// so authenticating a request costs a map lookup, not a round trip.
type Drains struct {
	kv jetstream.KeyValue
	w  jetstream.KeyWatcher

	mu      sync.RWMutex
	byID    map[string]drainpipe.Drain
	byHash  map[[sha256.Size]byte]string
	byApp   map[string]string
	byToken map[string]string // Heroku drain token → id
	// removed holds the ids removed here: a watch that lags must not bring one back.
	// Ids are random and never reused, so the set only grows by one per removal.
	removed map[string]bool
	ready   chan struct{}
}

// Drains opens the drain store and starts watching it for changes by other nodes.
func (j *Journal) Drains(ctx context.Context) (*Drains, error) {
	replicas := j.cfg.Replicas
	if j.srv != nil {
		replicas = 1
	}
	kv, err := j.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      drainsBucket,
		Description: "drainpipe: drains, their secrets' hashes, settings",
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		History:     1,
	})
	if err != nil {
		return nil, fmt.Errorf("drain store: %w", err)
	}
	d := &Drains{
		kv:      kv,
		byID:    make(map[string]drainpipe.Drain),
		byHash:  make(map[[sha256.Size]byte]string),
		byApp:   make(map[string]string),
		byToken: make(map[string]string),
		removed: make(map[string]bool),
		ready:   make(chan struct{}),
	}
	w, err := kv.Watch(context.Background(), drainKeyPrefix+">")
	if err != nil {
		return nil, fmt.Errorf("watch drains: %w", err)
	}
	d.w = w
	go d.watch()
	select {
	case <-d.ready:
	case <-ctx.Done():
		_ = w.Stop()
		return nil, ctx.Err()
	}
	return d, nil
}

// watch applies every change of the bucket to the cache; a nil entry marks the end
// of the initial values.
func (d *Drains) watch() {
	for e := range d.w.Updates() {
		if e == nil {
			close(d.ready)
			continue
		}
		id := strings.TrimPrefix(e.Key(), drainKeyPrefix)
		if e.Operation() != jetstream.KeyValuePut {
			d.forget(id)
			continue
		}
		var dr drainpipe.Drain
		if err := json.Unmarshal(e.Value(), &dr); err != nil {
			continue // not a drain we wrote; never trust it for authentication
		}
		d.remember(dr)
	}
}

func (d *Drains) remember(dr drainpipe.Drain) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.removed[dr.ID] {
		return
	}
	if old, ok := d.byID[dr.ID]; ok {
		d.unindex(old)
	}
	d.byID[dr.ID] = dr
	if len(dr.SecretHash) == sha256.Size {
		d.byHash[[sha256.Size]byte(dr.SecretHash)] = dr.ID
	}
	d.byApp[dr.App] = dr.ID
	if dr.Heroku != nil && dr.Heroku.Token != "" {
		d.byToken[dr.Heroku.Token] = dr.ID
	}
}

func (d *Drains) forget(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dr, ok := d.byID[id]
	if !ok {
		return
	}
	delete(d.byID, id)
	d.unindex(dr)
}

// unindex removes dr from the lookup maps that still point at it.
func (d *Drains) unindex(dr drainpipe.Drain) {
	if len(dr.SecretHash) == sha256.Size {
		delete(d.byHash, [sha256.Size]byte(dr.SecretHash))
	}
	if d.byApp[dr.App] == dr.ID {
		delete(d.byApp, dr.App)
	}
	if dr.Heroku != nil && d.byToken[dr.Heroku.Token] == dr.ID {
		delete(d.byToken, dr.Heroku.Token)
	}
}

// Close stops watching.
func (d *Drains) Close() error { return d.w.Stop() }

// Add stores dr unless its app already has a drain, in which case it returns that
// drain and created false. The app's key is created atomically, so two nodes adding
// the same app at once end with one drain.
func (d *Drains) Add(ctx context.Context, dr drainpipe.Drain) (drainpipe.Drain, bool, error) {
	if _, err := d.kv.Create(ctx, appKeyPrefix+dr.App, []byte(dr.ID)); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return drainpipe.Drain{}, false, fmt.Errorf("add drain: %w", err)
		}
		existing, err := d.lookupApp(ctx, dr.App)
		return existing, false, err
	}
	if err := d.put(ctx, dr); err != nil {
		_ = d.kv.Delete(ctx, appKeyPrefix+dr.App)
		return drainpipe.Drain{}, false, err
	}
	return dr, true, nil
}

// Update replaces a stored drain (its Heroku registration, its overrides).
func (d *Drains) Update(ctx context.Context, dr drainpipe.Drain) error {
	if _, ok := d.Drain(dr.ID); !ok {
		return fmt.Errorf("update drain %s: %w", dr.ID, drainpipe.ErrNotFound)
	}
	return d.put(ctx, dr)
}

func (d *Drains) put(ctx context.Context, dr drainpipe.Drain) error {
	data, err := json.Marshal(dr)
	if err != nil {
		return fmt.Errorf("encode drain: %w", err)
	}
	if _, err := d.kv.Put(ctx, drainKeyPrefix+dr.ID, data); err != nil {
		return fmt.Errorf("store drain: %w", err)
	}
	d.remember(dr) // visible on this node at once, not when the watch catches up
	return nil
}

func (d *Drains) lookupApp(ctx context.Context, app string) (drainpipe.Drain, error) {
	e, err := d.kv.Get(ctx, appKeyPrefix+app)
	if err != nil {
		return drainpipe.Drain{}, fmt.Errorf("look up app %s: %w", app, err)
	}
	id := string(e.Value())
	if dr, ok := d.Drain(id); ok {
		return dr, nil
	}
	e, err = d.kv.Get(ctx, drainKeyPrefix+id)
	if err != nil {
		// The other node's Add is between its two writes; the caller may retry.
		return drainpipe.Drain{}, fmt.Errorf("look up drain %s: %w", id, err)
	}
	var dr drainpipe.Drain
	if err := json.Unmarshal(e.Value(), &dr); err != nil {
		return drainpipe.Drain{}, fmt.Errorf("decode drain %s: %w", id, err)
	}
	return dr, nil
}

// Remove deletes the drain; its secret stops working at once on this node and as
// soon as the watch delivers the deletion on the others.
func (d *Drains) Remove(ctx context.Context, id string) error {
	dr, ok := d.Drain(id)
	if !ok {
		return fmt.Errorf("remove drain %s: %w", id, drainpipe.ErrNotFound)
	}
	d.mu.Lock()
	d.removed[id] = true
	d.mu.Unlock()
	d.forget(id)
	if err := d.kv.Delete(ctx, drainKeyPrefix+id); err != nil {
		return fmt.Errorf("remove drain %s: %w", id, err)
	}
	if err := d.kv.Delete(ctx, appKeyPrefix+dr.App); err != nil {
		return fmt.Errorf("remove drain %s: %w", id, err)
	}
	return nil
}

// Drain returns the drain with the given id.
func (d *Drains) Drain(id string) (drainpipe.Drain, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	dr, ok := d.byID[id]
	return dr, ok
}

// ByApp returns the drain of app.
func (d *Drains) ByApp(app string) (drainpipe.Drain, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	dr, ok := d.byID[d.byApp[app]]
	return dr, ok
}

// ByHerokuToken returns the drain that Heroku knows by token ("d.<uuid>"), the
// HOSTNAME of its syslog lines.
func (d *Drains) ByHerokuToken(token string) (drainpipe.Drain, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	id, ok := d.byToken[token]
	if !ok {
		return drainpipe.Drain{}, false
	}
	dr, ok := d.byID[id]
	return dr, ok
}

// Authenticate returns the drain whose secret is secret. The secret is hashed and
// the hash compared in constant time; a secret is high-entropy, so looking its hash
// up in a map reveals nothing that helps guess it.
func (d *Drains) Authenticate(secret string) (drainpipe.Drain, bool) {
	sum := sha256.Sum256([]byte(secret))
	d.mu.RLock()
	defer d.mu.RUnlock()
	id, ok := d.byHash[sum]
	if !ok {
		return drainpipe.Drain{}, false
	}
	dr := d.byID[id]
	if subtle.ConstantTimeCompare(dr.SecretHash, sum[:]) != 1 {
		return drainpipe.Drain{}, false
	}
	return dr, true
}

// List returns every drain, by app.
func (d *Drains) List() []drainpipe.Drain {
	d.mu.RLock()
	out := make([]drainpipe.Drain, 0, len(d.byID))
	for _, dr := range d.byID {
		out = append(out, dr)
	}
	d.mu.RUnlock()
	sort.Slice(out, func(i, k int) bool { return out[i].App < out[k].App })
	return out
}

// InitAdminToken stores hash as the admin token's hash unless one is stored already.
// It returns the stored hash, and whether it was stored by this call.
func (d *Drains) InitAdminToken(ctx context.Context, hash []byte) ([]byte, bool, error) {
	if _, err := d.kv.Create(ctx, adminTokenKey, hash); err == nil {
		return hash, true, nil
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, false, fmt.Errorf("store admin token hash: %w", err)
	}
	e, err := d.kv.Get(ctx, adminTokenKey)
	if err != nil {
		return nil, false, fmt.Errorf("read admin token hash: %w", err)
	}
	return e.Value(), false, nil
}

// AdminTokenHash returns the stored admin token hash, if any.
func (d *Drains) AdminTokenHash(ctx context.Context) ([]byte, error) {
	e, err := d.kv.Get(ctx, adminTokenKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, drainpipe.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read admin token hash: %w", err)
	}
	return e.Value(), nil
}

package drains

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/drainpipe/drainpipe"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// The drain store's key-value bucket and key prefixes.
const (
	bucket         = "drainpipe_drains"
	drainKeyPrefix = "drain."
	appKeyPrefix   = "app."
	tokenKeyPrefix = "token."
	adminTokenKey  = "setting.admin-token-sha256"
)

// Config says where the drain store lives.
type Config struct {
	// JetStream is the engine the bucket lives in: the journal's (journal.JetStream).
	JetStream jetstream.JetStream
	// Replicas of the bucket on an external cluster (3 for R3). Default 1.
	Replicas int
	// StateFile is where this node remembers the bucket it last saw, so that a
	// bucket that lost its drains is told from one whose drains were removed (see the
	// package doc). Empty remembers nothing and trusts any bucket.
	StateFile string
	// Logger receives the store's logs.
	Logger *slog.Logger
	// Registerer receives the store's metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Store is the drain store: drains live in a JetStream key-value bucket, so every
// node of a cluster sees the same ones, and in a local cache kept current by a watch,
// so authenticating a request costs a map lookup, not a round trip. Its methods are
// safe for concurrent use.
type Store struct {
	kv    jetstream.KeyValue
	w     jetstream.KeyWatcher
	log   *slog.Logger
	state *stateKeeper

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

// Open opens the drain store (creating its bucket on first use), loads every drain
// and starts watching for changes made by other nodes. It checks the bucket against
// what this node saw last (Config.StateFile) and logs loudly when drains were lost.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.JetStream == nil {
		return nil, errors.New("drain store: no JetStream")
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	kv, err := cfg.JetStream.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: "drainpipe: drains, their secrets' hashes, settings",
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		History:     1,
	})
	if err != nil {
		return nil, fmt.Errorf("drain store: %w", err)
	}
	s := &Store{
		kv:      kv,
		log:     cfg.Logger,
		byID:    make(map[string]drainpipe.Drain),
		byHash:  make(map[[sha256.Size]byte]string),
		byApp:   make(map[string]string),
		byToken: make(map[string]string),
		removed: make(map[string]bool),
		ready:   make(chan struct{}),
	}
	s.state = newStateKeeper(cfg.StateFile, kv, cfg.Logger, cfg.Registerer)
	if err := s.startWatch(ctx); err != nil {
		return nil, err
	}
	if err := s.state.check(ctx, s.count()); err != nil {
		_ = s.w.Stop()
		return nil, err
	}
	return s, nil
}

// startWatch starts the watch and waits until it has delivered every drain.
func (s *Store) startWatch(ctx context.Context) error {
	w, err := s.kv.Watch(context.Background(), drainKeyPrefix+">")
	if err != nil {
		return fmt.Errorf("watch drains: %w", err)
	}
	s.w = w
	go s.watch()
	select {
	case <-s.ready:
		return nil
	case <-ctx.Done():
		_ = w.Stop()
		return ctx.Err()
	}
}

// watch applies every change of the bucket to the cache; a nil entry marks the end
// of the initial values.
func (s *Store) watch() {
	initial := true
	for e := range s.w.Updates() {
		if e == nil {
			initial = false
			close(s.ready)
			continue
		}
		s.apply(e)
		if !initial {
			s.state.changed(s.count())
		}
	}
}

func (s *Store) apply(e jetstream.KeyValueEntry) {
	id := strings.TrimPrefix(e.Key(), drainKeyPrefix)
	if e.Operation() != jetstream.KeyValuePut {
		s.forget(id)
		return
	}
	var dr drainpipe.Drain
	if err := json.Unmarshal(e.Value(), &dr); err != nil {
		s.log.Warn("drain store: a value that is not a drain is ignored", "key", e.Key())
		return // not a drain we wrote; never trust it for authentication
	}
	s.remember(dr)
}

func (s *Store) count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byID)
}

func (s *Store) remember(dr drainpipe.Drain) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.removed[dr.ID] {
		return
	}
	if old, ok := s.byID[dr.ID]; ok {
		s.unindex(old)
	}
	s.byID[dr.ID] = dr
	if len(dr.SecretHash) == sha256.Size {
		s.byHash[[sha256.Size]byte(dr.SecretHash)] = dr.ID
	}
	s.byApp[dr.App] = dr.ID
	if dr.Heroku != nil && dr.Heroku.Token != "" {
		s.byToken[dr.Heroku.Token] = dr.ID
	}
}

func (s *Store) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dr, ok := s.byID[id]
	if !ok {
		return
	}
	delete(s.byID, id)
	s.unindex(dr)
}

// unindex removes dr from the lookup maps that still point at it.
func (s *Store) unindex(dr drainpipe.Drain) {
	if len(dr.SecretHash) == sha256.Size {
		delete(s.byHash, [sha256.Size]byte(dr.SecretHash))
	}
	if s.byApp[dr.App] == dr.ID {
		delete(s.byApp, dr.App)
	}
	if dr.Heroku != nil && s.byToken[dr.Heroku.Token] == dr.ID {
		delete(s.byToken, dr.Heroku.Token)
	}
}

// Close stops watching.
func (s *Store) Close() error { return s.w.Stop() }

// Add stores dr unless its app already has a drain, in which case it returns that
// drain and created false. The app's key is created atomically, so two nodes adding
// the same app at once end with one drain.
func (s *Store) Add(ctx context.Context, dr drainpipe.Drain) (drainpipe.Drain, bool, error) {
	if _, err := s.kv.Create(ctx, appKeyPrefix+dr.App, []byte(dr.ID)); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return drainpipe.Drain{}, false, fmt.Errorf("add drain: %w", err)
		}
		existing, err := s.lookupApp(ctx, dr.App)
		return existing, false, err
	}
	if err := s.put(ctx, dr, 0); err != nil {
		_ = s.kv.Delete(ctx, appKeyPrefix+dr.App)
		return drainpipe.Drain{}, false, err
	}
	return dr, true, nil
}

// Update replaces a stored drain (its Heroku registration, its overrides). It reads
// the drain from the bucket and writes it back only if no one changed it meanwhile
// (retrying a few times if someone did), so two nodes updating one drain at once
// lose neither change.
//
// A drain has at most one Heroku registration in its life: once it has one, an
// update that names another Heroku drain (another token) is refused with a
// *HerokuRegisteredError (which matches drainpipe.ErrConflict), because the one
// recorded still delivers (a syslog drain's lines would become "unknown token", an
// HTTPS drain registered by drainpipe would be left on Heroku by `drains remove`).
// An update naming the same token keeps it (learning Heroku's id of it when only its
// token was known), and one with no registration leaves the recorded one in place.
// A Heroku drain token that another drain holds is refused with
// drainpipe.ErrConflict: the token is how syslog lines find their drain, so it must
// name one.
func (s *Store) Update(ctx context.Context, dr drainpipe.Drain) (err error) {
	var claimed string // a token this call claimed: released if the drain does not get it
	defer func() {
		if err != nil && claimed != "" {
			_ = s.kv.Delete(ctx, tokenKey(claimed))
		}
	}()
	const attempts = 5
	for attempt := 1; ; attempt++ {
		old, rev, err := s.stored(ctx, dr.ID)
		if err != nil {
			return err
		}
		next, err := withRegistration(old, dr)
		if err != nil {
			return err
		}
		if t := herokuToken(next); t != "" && t != herokuToken(old) {
			if err := s.claimToken(ctx, t, dr.ID); err != nil {
				return err
			}
			claimed = t
		}
		err = s.put(ctx, next, rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) && attempt < attempts {
			continue // changed by another node meanwhile: decide again on what it stored
		}
		return err
	}
}

// stored reads the drain with the given id from the bucket, with its revision.
func (s *Store) stored(ctx context.Context, id string) (drainpipe.Drain, uint64, error) {
	e, err := s.kv.Get(ctx, drainKeyPrefix+id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return drainpipe.Drain{}, 0, fmt.Errorf("update drain %s: %w", id, drainpipe.ErrNotFound)
	} else if err != nil {
		return drainpipe.Drain{}, 0, fmt.Errorf("update drain %s: %w", id, err)
	}
	var dr drainpipe.Drain
	if err := json.Unmarshal(e.Value(), &dr); err != nil {
		return drainpipe.Drain{}, 0, fmt.Errorf("decode drain %s: %w", id, err)
	}
	return dr, e.Revision(), nil
}

// HerokuRegisteredError refuses to give a drain that has a Heroku registration
// another one. It matches drainpipe.ErrConflict.
type HerokuRegisteredError struct {
	// App is the drain's app.
	App string
	// Current is the registration the drain has.
	Current drainpipe.HerokuDrain
	// Asked is the registration that was refused.
	Asked drainpipe.HerokuDrain
}

func (e *HerokuRegisteredError) Error() string {
	return fmt.Sprintf("the drain of app %s has Heroku drain %s already, so %s is refused: a drain has one Heroku registration (remove the drain to give it another)",
		e.App, e.Current.Token, e.Asked.Token)
}

// Unwrap makes the error match drainpipe.ErrConflict.
func (e *HerokuRegisteredError) Unwrap() error { return drainpipe.ErrConflict }

// withRegistration is dr with the Heroku registration that old's may become (see
// Update), or the error refusing it.
func withRegistration(old, dr drainpipe.Drain) (drainpipe.Drain, error) {
	if old.Heroku == nil {
		return dr, nil
	}
	cur := *old.Heroku
	switch {
	case dr.Heroku == nil:
	case dr.Heroku.Token != cur.Token:
		return dr, &HerokuRegisteredError{App: old.App, Current: cur, Asked: *dr.Heroku}
	case cur.ID == "":
		cur.ID = dr.Heroku.ID
	}
	dr.Heroku = &cur
	return dr, nil
}

func herokuToken(d drainpipe.Drain) string {
	if d.Heroku == nil {
		return ""
	}
	return d.Heroku.Token
}

// tokenKey is the key that claims a Heroku token. Tokens come from users, so the
// key holds their hash, which is always a valid key.
func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return tokenKeyPrefix + hex.EncodeToString(sum[:])
}

// claimToken makes id the holder of token, unless a drain that still exists holds
// it. The cache catches drains stored before tokens were claimed; the key's atomic
// create catches two nodes claiming one token at once.
func (s *Store) claimToken(ctx context.Context, token, id string) error {
	if holder, ok := s.ByHerokuToken(token); ok && holder.ID != id {
		return tokenTaken(token, holder)
	}
	key := tokenKey(token)
	_, err := s.kv.Create(ctx, key, []byte(id))
	if err == nil || !errors.Is(err, jetstream.ErrKeyExists) {
		if err != nil {
			return fmt.Errorf("claim Heroku token: %w", err)
		}
		return nil
	}
	e, err := s.kv.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("claim Heroku token: %w", err)
	}
	if holder, ok := s.Drain(string(e.Value())); ok && holder.ID != id {
		return tokenTaken(token, holder)
	}
	// The claim is this drain's already, or its drain is gone: take it over, unless
	// another node took it over first.
	if _, err := s.kv.Update(ctx, key, []byte(id), e.Revision()); err != nil {
		return fmt.Errorf("claim Heroku token: %w", err)
	}
	return nil
}

func tokenTaken(token string, holder drainpipe.Drain) error {
	return fmt.Errorf("the Heroku drain token %s belongs to the drain of app %s already: %w", token, holder.App, drainpipe.ErrConflict)
}

// put stores dr: over whatever is stored when rev is 0, else only over revision rev
// (an error matching jetstream.ErrKeyRevisionMismatch when it is not the latest).
func (s *Store) put(ctx context.Context, dr drainpipe.Drain, rev uint64) error {
	data, err := json.Marshal(dr)
	if err != nil {
		return fmt.Errorf("encode drain: %w", err)
	}
	if rev == 0 {
		_, err = s.kv.Put(ctx, drainKeyPrefix+dr.ID, data)
	} else {
		_, err = s.kv.Update(ctx, drainKeyPrefix+dr.ID, data, rev)
	}
	if err != nil {
		return fmt.Errorf("store drain: %w", err)
	}
	s.remember(dr) // visible on this node at once, not when the watch catches up
	s.state.changed(s.count())
	return nil
}

func (s *Store) lookupApp(ctx context.Context, app string) (drainpipe.Drain, error) {
	e, err := s.kv.Get(ctx, appKeyPrefix+app)
	if err != nil {
		return drainpipe.Drain{}, fmt.Errorf("look up app %s: %w", app, err)
	}
	id := string(e.Value())
	if dr, ok := s.Drain(id); ok {
		return dr, nil
	}
	e, err = s.kv.Get(ctx, drainKeyPrefix+id)
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
func (s *Store) Remove(ctx context.Context, id string) error {
	dr, ok := s.Drain(id)
	if !ok {
		return fmt.Errorf("remove drain %s: %w", id, drainpipe.ErrNotFound)
	}
	s.mu.Lock()
	s.removed[id] = true
	s.mu.Unlock()
	s.forget(id)
	if err := s.kv.Delete(ctx, drainKeyPrefix+id); err != nil {
		return fmt.Errorf("remove drain %s: %w", id, err)
	}
	if err := s.kv.Delete(ctx, appKeyPrefix+dr.App); err != nil {
		return fmt.Errorf("remove drain %s: %w", id, err)
	}
	if t := herokuToken(dr); t != "" {
		_ = s.kv.Delete(ctx, tokenKey(t)) // a stale claim only costs a lookup later
	}
	s.state.changed(s.count())
	return nil
}

// Drain returns the drain with the given id.
func (s *Store) Drain(id string) (drainpipe.Drain, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	dr, ok := s.byID[id]
	return dr, ok
}

// ByApp returns the drain of app.
func (s *Store) ByApp(app string) (drainpipe.Drain, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	dr, ok := s.byID[s.byApp[app]]
	return dr, ok
}

// ByHerokuToken returns the drain that Heroku knows by token ("d.<uuid>"), the
// HOSTNAME of its syslog lines.
func (s *Store) ByHerokuToken(token string) (drainpipe.Drain, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.byToken[token]
	if !ok {
		return drainpipe.Drain{}, false
	}
	dr, ok := s.byID[id]
	return dr, ok
}

// Authenticate returns the drain whose secret is secret. The secret is hashed and
// the hash compared in constant time; a secret is high-entropy, so looking its hash
// up in a map reveals nothing that helps guess it.
func (s *Store) Authenticate(secret string) (drainpipe.Drain, bool) {
	sum := sha256.Sum256([]byte(secret))
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.byHash[sum]
	if !ok {
		return drainpipe.Drain{}, false
	}
	dr := s.byID[id]
	if subtle.ConstantTimeCompare(dr.SecretHash, sum[:]) != 1 {
		return drainpipe.Drain{}, false
	}
	return dr, true
}

// List returns every drain, by app.
func (s *Store) List() []drainpipe.Drain {
	s.mu.RLock()
	out := make([]drainpipe.Drain, 0, len(s.byID))
	for _, dr := range s.byID {
		out = append(out, dr)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, k int) bool { return out[i].App < out[k].App })
	return out
}

// Health is nil while the store can be trusted to say that a secret is unknown, and
// otherwise says why not: the store lost drains it had (see the package doc). A
// receiver then answers unknown credentials with a retryable error, not a refusal.
func (s *Store) Health() error { return s.state.health() }

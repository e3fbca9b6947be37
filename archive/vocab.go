package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
)

// vocabulary is the set of field names each app's messages and attributes have
// added, capped at MaxNamesPerApp per app for good (see MaxNamesPerApp). It is
// kept in <dir>/fields.json, written before the state that acknowledges the
// rows that use a new name.
type vocabulary struct {
	mu    sync.RWMutex
	names map[string]map[string]struct{}
	dirty bool
}

func loadVocabulary(path string) (*vocabulary, error) {
	v := &vocabulary{names: map[string]map[string]struct{}{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return v, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read field names: %w", err)
	}
	var lists map[string][]string
	if err := json.Unmarshal(data, &lists); err != nil {
		return nil, fmt.Errorf("read field names %s: %w", path, err)
	}
	for app, names := range lists {
		set := make(map[string]struct{}, len(names))
		for _, n := range names {
			set[n] = struct{}{}
		}
		v.names[app] = set
	}
	return v, nil
}

// admit reports whether app may store a field named name: it has before, or
// it has room for one more name.
func (v *vocabulary) admit(app, name string) bool {
	v.mu.RLock()
	set := v.names[app]
	_, ok := set[name]
	full := len(set) >= MaxNamesPerApp
	v.mu.RUnlock()
	if ok || full {
		return ok
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	set = v.names[app]
	if set == nil {
		set = map[string]struct{}{}
		// Copies, here and below: app and name are slices of a journal
		// message (records are decoded in place), which these long-lived keys
		// would keep whole.
		v.names[strings.Clone(app)] = set
	}
	if _, ok := set[name]; ok {
		return true
	}
	if len(set) >= MaxNamesPerApp {
		return false
	}
	set[strings.Clone(name)] = struct{}{}
	v.dirty = true
	return true
}

// save writes the names to path if they changed since the last save.
func (v *vocabulary) save(path string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.dirty {
		return nil
	}
	lists := make(map[string][]string, len(v.names))
	for app, set := range v.names {
		names := make([]string, 0, len(set))
		for n := range set {
			names = append(names, n)
		}
		slices.Sort(names)
		lists[app] = names
	}
	data, err := json.Marshal(lists)
	if err != nil {
		return fmt.Errorf("save field names: %w", err)
	}
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("save field names: %w", err)
	}
	v.dirty = false
	return nil
}

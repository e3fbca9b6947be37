package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
)

// stateVersion is the layout of state.json; Open refuses a newer one.
const stateVersion = 1

// state is what the archive keeps beside VictoriaLogs' files, in
// <dir>/state.json, rewritten atomically (temporary file, fsync, rename, fsync
// of the directory) at each step that must survive a crash.
type state struct {
	Version int `json:"version"`
	// Positions maps each journal's identity to the highest entry Seq whose
	// rows are durable. Entries of a journal not listed are new.
	Positions map[string]uint64 `json:"positions"`
	// LastID is the highest line id ever assigned (or promised to a pending write).
	LastID int64 `json:"last_id"`
	// Apps holds each app's counts, changed in the same step as the rows.
	Apps map[string]*appCounts `json:"apps"`
	// Pending is the write under way when the state was saved: its rows may
	// be on disk in part. Open reconciles it.
	Pending *intent `json:"pending,omitempty"`
	// Dropping lists day partitions retention is deleting; their counts were
	// already taken off Apps, so Open finishes deleting them.
	Dropping []string `json:"dropping,omitempty"`
	// Import is the progress of importing a SQLite archive.
	Import *importState `json:"import,omitempty"`

	// staged holds the counts of the rows Writes added that wait for the
	// barrier: they are searchable, so Stats shows them, but they are never
	// saved (a crash delivers their entries again). Never changed, only replaced.
	staged map[string]*appCounts
}

// appCounts are one app's counts. Times are nanoseconds since the epoch, 0 for none.
type appCounts struct {
	Lines        int64 `json:"lines"`
	Malformed    int64 `json:"malformed"`
	Dropped      int64 `json:"dropped"`
	First        int64 `json:"first,omitempty"`
	Last         int64 `json:"last,omitempty"`
	LastReceived int64 `json:"last_received,omitempty"`
}

// add adds d's counts to c and widens c's times to d's.
func (c *appCounts) add(d *appCounts) {
	c.Lines += d.Lines
	c.Malformed += d.Malformed
	c.Dropped += d.Dropped
	if d.First != 0 && (c.First == 0 || d.First < c.First) {
		c.First = d.First
	}
	c.Last = max(c.Last, d.Last)
	c.LastReceived = max(c.LastReceived, d.LastReceived)
}

// intent says which ids a write gives which rows, before the rows are added:
// with it, Open finds out which of them reached the disk.
type intent struct {
	// Journal is the identity of the journal the entries come from ("" for an import).
	Journal string `json:"journal"`
	// Entries are the write's journal entries, or for an import the old ids.
	Entries []intentEntry `json:"entries"`
}

// intentEntry is one entry of a pending write: its rows have the ids FirstID
// to FirstID+Rows-1, in the order of its records (and of a record's parts).
type intentEntry struct {
	Seq     uint64 `json:"seq"`
	FirstID int64  `json:"first_id"`
	Rows    int64  `json:"rows"`
}

// importState is how far the import of a SQLite archive has come.
type importState struct {
	// Path is the file imported.
	Path string `json:"path"`
	// Through is the highest old line id imported.
	Through int64 `json:"through"`
	// Done reports that every line was imported and the counts added.
	Done bool `json:"done,omitempty"`
}

func newState() *state {
	return &state{Version: stateVersion, Positions: map[string]uint64{}, Apps: map[string]*appCounts{}}
}

// clone returns a deep copy, to change and save while s stays as it is on disk.
func (s *state) clone() *state {
	c := *s
	c.Positions = maps.Clone(s.Positions)
	c.Apps = make(map[string]*appCounts, len(s.Apps))
	for app, n := range s.Apps {
		v := *n
		c.Apps[app] = &v
	}
	if s.Pending != nil {
		p := *s.Pending
		c.Pending = &p
	}
	c.Dropping = append([]string(nil), s.Dropping...)
	if s.Import != nil {
		im := *s.Import
		c.Import = &im
	}
	return &c
}

func loadState(path string) (*state, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newState(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	s := newState()
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	if s.Version > stateVersion {
		return nil, fmt.Errorf("state %s is version %d, newer than this drainpipe (%d)", path, s.Version, stateVersion)
	}
	if s.Positions == nil {
		s.Positions = map[string]uint64{}
	}
	if s.Apps == nil {
		s.Apps = map[string]*appCounts{}
	}
	return s, nil
}

func saveState(path string, s *state) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old file or the new one, both whole: a temporary file, fsynced, renamed over
// path, and the directory fsynced so the rename itself is on disk.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

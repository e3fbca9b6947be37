package archive_test

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/prometheus/client_golang/prometheus"
)

// legacyDB copies testdata/legacy-archive.db.gz, an archive.db written by the
// SQLite archive (2,578 lines of two apps, counts of lines Heroku dropped, and
// a metrics history table), into a fresh directory.
func legacyDB(t *testing.T) string {
	t.Helper()
	f, err := os.Open("testdata/legacy-archive.db.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "archive.db")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// legacyLines reads every line of the old archive, by id, and its counts.
func legacyLines(t *testing.T, path string) (map[int64]drainpipe.Record, map[string]archive.AppStats) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, app, drain, time, received, priority, host, source, dyno, msgid, structured_data, message, malformed FROM lines`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	lines := map[int64]drainpipe.Record{}
	nanos := func(n int64) time.Time {
		if n == math.MinInt64 {
			return time.Time{}
		}
		return time.Unix(0, n).UTC()
	}
	for rows.Next() {
		var r drainpipe.Record
		var id, tm, recv int64
		if err := rows.Scan(&id, &r.App, &r.Drain, &tm, &recv, &r.Priority, &r.Host, &r.Source, &r.Dyno, &r.MsgID,
			&r.StructuredData, &r.Message, &r.Malformed); err != nil {
			t.Fatal(err)
		}
		r.Time, r.Received = nanos(tm), nanos(recv)
		lines[id] = r
	}
	counts := map[string]archive.AppStats{}
	crows, err := db.Query(`SELECT app, lines, malformed, dropped FROM app_counts`)
	if err != nil {
		t.Fatal(err)
	}
	defer crows.Close()
	for crows.Next() {
		var app string
		var s archive.AppStats
		if err := crows.Scan(&app, &s.Lines, &s.Malformed, &s.Dropped); err != nil {
			t.Fatal(err)
		}
		counts[app] = s
	}
	return lines, counts
}

// waitImported waits until the app counts are the old archive's (the import
// adds the dropped counts last).
func waitImported(t *testing.T, a *archive.Archive, want map[string]archive.AppStats) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		done := true
		for app, w := range want {
			st, err := a.Stats(context.Background(), app)
			if err != nil {
				t.Fatal(err)
			}
			if st.Lines != w.Lines || st.Malformed != w.Malformed || st.Dropped != w.Dropped {
				done = false
				if time.Now().After(deadline) {
					t.Fatalf("after 2 minutes %s has %+v, want %+v", app, st, w)
				}
			}
		}
		if done {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	return sha256.Sum256(must(os.ReadFile(path)))
}

// TestImport imports an archive.db written by the SQLite archive: every line
// with its id and every field, the per-app counts, the file left as it was,
// and new lines numbered after the old ones.
func TestImport(t *testing.T) {
	t.Parallel()
	path := legacyDB(t)
	before := fileHash(t, path)
	want, counts := legacyLines(t, path)
	reg := prometheus.NewRegistry()
	a := open(t, archive.Config{Import: path, Retention: -1, Registerer: reg})
	write(t, a, entry(1, seqLines("cryptic-cliffs", received, 1)...)) // a live line meanwhile
	c := counts["cryptic-cliffs"]
	c.Lines++
	counts["cryptic-cliffs"] = c
	waitImported(t, a, counts)

	for _, app := range []string{"cryptic-cliffs", "busy"} {
		lines, err := a.After(context.Background(), app, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			w, ok := want[l.ID]
			if !ok {
				if l.ID != 2579 {
					t.Errorf("line %d was not in the old archive, nor the live line (2579)", l.ID)
				}
				continue
			}
			sameRecord(t, l.Record, w)
			delete(want, l.ID)
		}
	}
	if len(want) != 0 {
		t.Errorf("%d lines of the old archive not imported", len(want))
	}
	if got := metricValue(t, reg, "drainpipe_archive_imported_lines_total"); got != 2578 {
		t.Errorf("imported_lines_total = %v, want 2578", got)
	}
	if fileHash(t, path) != before {
		t.Error("the old archive.db was changed")
	}
}

// TestImportResumes stops the import in the middle and starts again, then
// opens the archive once more: every line once, counts exact, nothing imported
// twice.
func TestImportResumes(t *testing.T) {
	t.Parallel()
	path := legacyDB(t)
	_, counts := legacyLines(t, path)
	dir := filepath.Join(t.TempDir(), "archive")
	cfg := archive.Config{Dir: dir, Import: path, Retention: -1, PruneInterval: -1}
	archive.SetImportChunk(&cfg, 300)
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	a, err := archive.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for metricValue(t, reg, "drainpipe_archive_imported_lines_total") < 600 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	a.Close()
	var st struct {
		Import struct {
			Through int64 `json:"through"`
		} `json:"import"`
	}
	if err := json.Unmarshal(must(os.ReadFile(filepath.Join(dir, "state.json"))), &st); err != nil {
		t.Fatal(err)
	}
	if st.Import.Through >= 2578 || st.Import.Through < 600 {
		t.Fatalf("the import was not stopped in the middle (through id %d)", st.Import.Through)
	}
	b := open(t, cfg)
	waitImported(t, b, counts)
	for app, w := range counts {
		if n := countRows(t, b, app); n != int(w.Lines) {
			t.Errorf("%s: %d rows, want %d", app, n, w.Lines)
		}
	}
	b.Close()
	reg3 := prometheus.NewRegistry()
	cfg.Registerer = reg3
	c := open(t, cfg)
	waitImported(t, c, counts)
	if got := metricValue(t, reg3, "drainpipe_archive_imported_lines_total"); got != 0 {
		t.Errorf("a finished import imported %v lines again", got)
	}
}

// TestImportKillNine kills a process that imports at random moments until
// the import is done: every old line is stored once, with its counts.
func TestImportKillNine(t *testing.T) {
	t.Parallel()
	path := legacyDB(t)
	old, counts := legacyLines(t, path)
	dir := filepath.Join(t.TempDir(), "archive")
	kills, interrupted := 0, 0
	for done := false; !done; kills++ {
		if kills == 40 {
			t.Fatal("the import did not finish in 40 runs")
		}
		runChild(t, "import:"+path, dir, time.Duration(100+rand.IntN(400))*time.Millisecond)
		var st struct {
			Pending *struct{} `json:"pending"`
			Import  struct {
				Done bool `json:"done"`
			} `json:"import"`
		}
		if err := json.Unmarshal(must(os.ReadFile(filepath.Join(dir, "state.json"))), &st); err != nil {
			t.Fatal(err)
		}
		done = st.Import.Done
		if st.Pending != nil {
			interrupted++
		}
	}
	t.Logf("killed %d times, %d in the middle of a step", kills, interrupted)
	a := open(t, archive.Config{Dir: dir, Import: path, Retention: -1})
	waitImported(t, a, counts)
	seen := map[int64]int{}
	q := must(archive.ParseQuery(`*`, time.Now()))
	if err := a.Lines(context.Background(), q, func(l archive.Line) error { seen[l.ID]++; return nil }); err != nil {
		t.Fatal(err)
	}
	for id := range old {
		if seen[id] != 1 {
			t.Errorf("old line %d stored %d times", id, seen[id])
		}
	}
	if len(seen) != len(old) {
		t.Errorf("%d lines stored, want %d", len(seen), len(old))
	}
}

// TestImportNothing: no file, or a file with only the metrics history, imports
// nothing and is no error.
func TestImportNothing(t *testing.T) {
	t.Parallel()
	open(t, archive.Config{Import: filepath.Join(t.TempDir(), "no-such.db")})
	metricsOnly := filepath.Join(t.TempDir(), "archive.db")
	db, err := sql.Open("sqlite", "file:"+metricsOnly)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE metric_intervals (app TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	a := open(t, archive.Config{Import: metricsOnly})
	write(t, a, entry(1, seqLines("app", received, 1)...))
	if lines, err := a.Tail(context.Background(), "app", 1); err != nil || len(lines) != 1 || lines[0].ID != 1 {
		t.Errorf("Tail = %v, %v; want the one line, id 1", lines, err)
	}
}

// TestImportRelativePath: the data directory given relative to the working
// directory (the default, ./drainpipe-data) imports as an absolute one does; its
// path once became the SQLite URI's authority, and the start failed.
func TestImportRelativePath(t *testing.T) {
	path := legacyDB(t)
	_, counts := legacyLines(t, path)
	t.Chdir(filepath.Dir(path)) // not parallel: the working directory is the process's
	a := open(t, archive.Config{Import: "archive.db", Dir: "archive", Retention: -1})
	waitImported(t, a, counts)
}

// TestImportDamaged: an archive.db SQLite cannot read (cut short, or not a
// database) stops the start with what to do about it, not a bare SQLite error.
func TestImportDamaged(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile(legacyDB(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"cut short", good[:8192]},
		{"not a database", append([]byte("SQLite format 3\x00"), make([]byte, 8192)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "archive.db")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := archive.Open(context.Background(), archive.Config{Dir: filepath.Join(t.TempDir(), "archive"), Import: path,
				PruneInterval: -1, Registerer: prometheus.NewRegistry()})
			if err == nil {
				t.Fatal("a damaged archive.db was taken")
			}
			for _, want := range []string{"the file is damaged", ".recover", "move it out of the data directory"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not say %q: %v", want, err)
				}
			}
		})
	}
}

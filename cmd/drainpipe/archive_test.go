package main_test

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/logplex"
)

// postLines posts n numbered lines to a drain URL in one logplex batch.
func postLines(t *testing.T, u, prefix string, n int) {
	t.Helper()
	var body []byte
	for i := range n {
		msg := logplex.AppendMessage(nil, drainpipe.Record{Priority: 190, Time: time.Now(), Source: "app", Dyno: "web.1",
			Message: fmt.Sprintf("%s %d", prefix, i)})
		body = logplex.AppendFrame(body, msg)
	}
	if code := post(t, u, strings.NewReader(string(body)), logplexHeaders); code != 204 {
		t.Fatalf("post: status %d", code)
	}
}

// drainOf returns app's drain as `drains list --json` shows it.
func (s *server) drainOf(app string) api.Drain {
	s.t.Helper()
	out, errOut, code := s.cli("drains", "list", "--json")
	if code != 0 {
		s.t.Fatalf("drains list: exit %d: %s", code, errOut)
	}
	var drains []api.Drain
	if err := json.Unmarshal([]byte(out), &drains); err != nil {
		s.t.Fatalf("drains list --json: %v: %q", err, out)
	}
	for _, d := range drains {
		if d.App == app {
			return d
		}
	}
	s.t.Fatalf("no drain for %s in %q", app, out)
	return api.Drain{}
}

// TestJournalLostArchiveKeepsStoring is issue 9's lost lines: the journal's
// directory is lost, its sequence numbers start again, and the archive must
// store the new journal's lines, not skip them as "already stored".
func TestJournalLostArchiveKeepsStoring(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	u := s.addDrain("lost")
	for i := range 5 {
		postLines(t, u, fmt.Sprintf("before %d", i), 20)
	}
	s.waitLines("lost", 100)
	if _, err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(s.data, "journal")); err != nil {
		t.Fatal(err)
	}
	s.start()
	u = s.addDrain("lost") // the drains lived in the journal too
	postLines(t, u, "after", 30)
	lines := s.waitLines("lost", 130)
	after := 0
	for _, l := range lines {
		if strings.HasPrefix(l.Message, "after ") {
			after++
		}
	}
	if after != 30 || len(lines) != 130 {
		t.Fatalf("%d of the 30 lines of the new journal stored, %d lines in all; want 30, 130", after, len(lines))
	}
	// The counts change once the lines are on disk, a moment after they are searchable.
	deadline := time.Now().Add(30 * time.Second)
	for d := s.drainOf("lost"); d.Lines != 130; d = s.drainOf("lost") {
		if time.Now().After(deadline) {
			t.Fatalf("drains list counts %d lines, want 130", d.Lines)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := s.metric("drainpipe_archive_entries_skipped_total"); n != 0 {
		t.Errorf("entries_skipped_total = %v, want 0", n)
	}
	if !strings.Contains(s.logText(), "new journal") {
		t.Errorf("no log line about the new journal:\n%s", s.logText())
	}
}

// TestServeImportsSQLiteArchive starts a server on a data directory holding
// the archive.db of the SQLite archive: its lines are imported, with their
// ids and counts, new lines come after them, and the file stays.
func TestServeImportsSQLiteArchive(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	gunzip(t, "../../archive/testdata/legacy-archive.db.gz", filepath.Join(data, "archive.db"))
	s := startServer(t, data, "--retention", "876000h")
	deadline := time.Now().Add(time.Minute)
	for {
		out, _, code := s.cli("tail", "busy", "-n", "1")
		if code == 0 && strings.Contains(out, "items/2499") {
			break // the last line of the import is in
		}
		if time.Now().After(deadline) {
			t.Fatalf("busy's lines not imported after a minute:\n%s", s.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
	lines := s.waitLines("busy", 2500)
	if len(lines) != 2500 || lines[0].ID != 79 || lines[2499].ID != 2578 {
		t.Fatalf("imported %d lines of busy, ids %d to %d; want 2500, 79 to 2578", len(lines), lines[0].ID, lines[len(lines)-1].ID)
	}
	u := s.addDrain("cryptic-cliffs")
	postLines(t, u, "new", 3)
	got := s.waitLines("cryptic-cliffs", 81)
	if len(got) != 81 || got[80].ID != 2581 {
		t.Fatalf("cryptic-cliffs has %d lines, the last id %d; want 81, 2581", len(got), got[len(got)-1].ID)
	}
	deadline = time.Now().Add(time.Minute)
	for d := s.drainOf("cryptic-cliffs"); d.Lines != 81 || d.Malformed != 1 || d.DroppedByHeroku != 457; d = s.drainOf("cryptic-cliffs") {
		if time.Now().After(deadline) {
			t.Fatalf("drains list shows %+v; want 81 lines, 1 malformed, 457 dropped by Heroku", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(data, "archive.db")); err != nil {
		t.Errorf("archive.db was not left in place: %v", err)
	}
}

func gunzip(t *testing.T, from, to string) {
	t.Helper()
	f, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDataFilesPrivate: every file the server creates is 0600 and every
// directory 0700, in a data directory made 0755 beforehand (which is reported).
func TestDataFilesPrivate(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, data)
	u := s.addDrain("private")
	postLines(t, u, "secret", 10)
	s.waitLines("private", 10)
	err := filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == data {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v", strings.TrimPrefix(path, data), fi.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.logText(), "can be read by other users") {
		t.Errorf("no warning about the 0755 data directory:\n%s", s.logText())
	}
}

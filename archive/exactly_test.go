package archive_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/prometheus/client_golang/prometheus"
)

func TestRedeliveryStoredOnce(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	a := open(t, archive.Config{Registerer: reg})
	e := func(seq uint64) drainpipe.Entry { return entry(seq, seqLines("app", received, 10)...) }
	write(t, a, e(1), e(2), e(3))
	write(t, a, e(2), e(3), e(4))
	st, err := a.Stats(context.Background(), "app")
	if err != nil || st.Lines != 40 {
		t.Errorf("Stats = %+v, %v; want 40 lines", st, err)
	}
	if n := countRows(t, a, "app"); n != 40 {
		t.Errorf("%d rows stored, want 40", n)
	}
	if got := metricValue(t, reg, "drainpipe_archive_entries_skipped_total"); got != 2 {
		t.Errorf("entries_skipped_total = %v, want 2", got)
	}
}

// TestNewJournalNotSkipped is issue 9's lost lines: a journal whose sequence
// numbers start again (its directory was lost) must be stored from its
// beginning, while the old journal's entries delivered again are still skipped.
func TestNewJournalNotSkipped(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	in := func(journal string, seq uint64, n int) drainpipe.Entry {
		e := entry(seq, seqLines("app", received, n)...)
		e.Journal = journal
		return e
	}
	write(t, a, in("old", 100, 5))
	write(t, a, in("new", 1, 30))
	write(t, a, in("old", 50, 7), in("old", 100, 5))
	write(t, a, in("old", 101, 2))
	if n := countRows(t, a, "app"); n != 37 {
		t.Errorf("%d rows stored, want 37 (5 + 30 + 2)", n)
	}
}

// countRows counts an app's rows.
func countRows(t testing.TB, a *archive.Archive, app string) int {
	t.Helper()
	n, err := rowCount(a, app)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// rowCount counts an app's rows, for a goroutine that cannot end the test.
func rowCount(a *archive.Archive, app string) (int, error) {
	q, err := archive.ParseQuery(`app:=`+strconv.Quote(app)+` | stats count() n`, time.Now())
	if err != nil {
		return 0, err
	}
	n := 0
	err = a.Query(context.Background(), q, func(cols []logstorage.BlockColumn) error {
		n, err = strconv.Atoi(cols[0].Values[0])
		return err
	})
	return n, err
}

// TestInterruptedWrite reopens an archive whose state is what a crash leaves
// when a write's rows were on disk but its state was not saved, with a
// promised entry whose rows never reached the disk: the journal delivers the
// entries again, and each line is stored once, under the id it was promised.
func TestInterruptedWrite(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "archive")
	a := open(t, archive.Config{Dir: dir})
	e := func(seq uint64, n int) drainpipe.Entry {
		return entry(seq, seqLines("app", received.Add(time.Duration(seq)*time.Second), n)...)
	}
	write(t, a, e(1, 10))
	write(t, a, e(2, 10), e(3, 10))
	a.Close()
	// The state as it was saved before the second write's rows went in, with
	// entry 4 promised too (its rows never went in).
	var st map[string]any
	if err := json.Unmarshal(must(os.ReadFile(filepath.Join(dir, "state.json"))), &st); err != nil {
		t.Fatal(err)
	}
	st["positions"] = map[string]any{testJournal: 1}
	st["apps"] = map[string]any{"app": map[string]any{"lines": 10}}
	st["pending"] = map[string]any{"journal": testJournal, "entries": []any{
		map[string]any{"seq": 2, "first_id": 11, "rows": 10},
		map[string]any{"seq": 3, "first_id": 21, "rows": 10},
		map[string]any{"seq": 4, "first_id": 31, "rows": 5},
	}}
	mustWrite(t, filepath.Join(dir, "state.json"), string(must(json.Marshal(st))))

	b := open(t, archive.Config{Dir: dir})
	write(t, b, e(2, 10)) // redelivered one at a time
	write(t, b, e(3, 10), e(4, 5), e(5, 1))
	lines, err := b.After(context.Background(), "app", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 36 {
		t.Fatalf("%d lines stored, want 36", len(lines))
	}
	for i, l := range lines {
		if l.ID != int64(i+1) {
			t.Fatalf("line %d has id %d", i, l.ID)
		}
	}
	if st, err := b.Stats(context.Background(), "app"); err != nil || st.Lines != 36 {
		t.Errorf("Stats = %+v, %v; want 36 lines", st, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// crashEntries are the entries the crash child writes and the parent delivers
// again: seq n holds 200 lines numbered n.0 to n.199.
func crashEntry(seq uint64) drainpipe.Entry {
	recs := make([]drainpipe.Record, 200)
	for i := range recs {
		recs[i] = drainpipe.Record{App: "crash", Time: received.Add(time.Duration(seq)*time.Millisecond + time.Duration(i)),
			Received: received, Priority: 190, Source: "app", Dyno: "web.1",
			Message: fmt.Sprintf("line %d.%d status=200 request_id=%016x", seq, i, (seq*7919+uint64(i))*2654435761)}
	}
	return entry(seq, recs...)
}

const crashEntries = 400

// TestKillNineExactlyOnce kills a process that writes to an archive with
// SIGKILL at random moments, three times, each time delivering again from the
// last entry it reported written (as the journal does from its acknowledged
// floor), and then every entry once more: every line is stored exactly once.
func TestKillNineExactlyOnce(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "archive")
	interrupted := 0
	for round := range 5 {
		acked := runChild(t, "write", dir, time.Duration(300+rand.IntN(900))*time.Millisecond)
		var st struct {
			Pending *struct{} `json:"pending"`
		}
		if err := json.Unmarshal(must(os.ReadFile(filepath.Join(dir, "state.json"))), &st); err != nil {
			t.Fatal(err)
		}
		if st.Pending != nil {
			interrupted++
		}
		t.Logf("round %d: killed after entry %d was acknowledged; a write was interrupted: %v", round, acked, st.Pending != nil)
	}
	t.Logf("%d of 5 kills interrupted a write", interrupted)
	a := open(t, archive.Config{Dir: dir})
	for seq := uint64(1); seq <= crashEntries; seq += 8 {
		var es []drainpipe.Entry
		for s := seq; s < seq+8 && s <= crashEntries; s++ {
			es = append(es, crashEntry(s))
		}
		write(t, a, es...)
	}
	seen := map[string]int{}
	q := must(archive.ParseQuery(`app:="crash"`, time.Now()))
	err := a.Lines(context.Background(), q, func(l archive.Line) error {
		var seq, i int
		if _, err := fmt.Sscanf(l.Message, "line %d.%d", &seq, &i); err != nil {
			return err
		}
		seen[fmt.Sprintf("%d.%d", seq, i)]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	missing, twice := 0, 0
	for seq := 1; seq <= crashEntries; seq++ {
		for i := range 200 {
			switch seen[fmt.Sprintf("%d.%d", seq, i)] {
			case 0:
				missing++
			case 1:
			default:
				twice++
			}
		}
	}
	if missing > 0 || twice > 0 || len(seen) != crashEntries*200 {
		t.Fatalf("%d lines missing, %d stored more than once, %d distinct", missing, twice, len(seen))
	}
	if st, _ := a.Stats(context.Background(), "crash"); st.Lines != crashEntries*200 {
		t.Errorf("Stats counts %d lines, want %d", st.Lines, crashEntries*200)
	}
}

// runChild runs this test binary as a writer (mode "write") or an importer
// (mode "import:PATH") on dir and kills it after d; it returns the last entry
// the child reported written.
func runChild(t *testing.T, mode, dir string, d time.Duration) uint64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ARCHIVE_CRASH_DIR="+dir, "ARCHIVE_CRASH_MODE="+mode)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked, ready := make(chan uint64, 1), make(chan struct{})
	go func() {
		var last uint64
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				close(ready)
			}
			if n, err := strconv.ParseUint(sc.Text(), 10, 64); err == nil {
				last = n
			}
		}
		acked <- last
	}()
	select {
	case <-ready:
	case <-time.After(time.Minute):
		t.Fatal("the child did not open the archive in a minute")
	}
	time.Sleep(d)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return <-acked
}

// crashChild is the process the kill tests kill (TestMain runs it when
// ARCHIVE_CRASH_DIR is set). As a writer it opens the archive, delivers
// entries from a little before the position stored (as a journal whose last
// acks were lost would) and prints each entry's Seq once its Write returned.
// As an importer it imports, 200 lines a step.
func crashChild(dir, mode string) error {
	if path, ok := strings.CutPrefix(mode, "import:"); ok {
		cfg := archive.Config{Dir: dir, Import: path, Retention: -1, PruneInterval: -1}
		archive.SetImportChunk(&cfg, 200)
		if _, err := archive.Open(context.Background(), cfg); err != nil {
			return err
		}
		fmt.Println("ready")
		select {} // wait for the kill
	}
	a, err := archive.Open(context.Background(), archive.Config{Dir: dir, PruneInterval: -1})
	if err != nil {
		return err
	}
	fmt.Println("ready")
	from := uint64(1)
	var st struct {
		Positions map[string]uint64 `json:"positions"`
	}
	if data, err := os.ReadFile(filepath.Join(dir, "state.json")); err == nil {
		if err := json.Unmarshal(data, &st); err != nil {
			return err
		}
		p := st.Positions[testJournal]
		from = p - min(p, 3) + 1
	}
	for seq := from; seq <= crashEntries; seq += 4 {
		var es []drainpipe.Entry
		for s := seq; s < seq+4 && s <= crashEntries; s++ {
			es = append(es, crashEntry(s))
		}
		if err := a.Write(context.Background(), es); err != nil {
			return err
		}
		fmt.Println(es[len(es)-1].Seq)
	}
	select {} // wait for the kill
}

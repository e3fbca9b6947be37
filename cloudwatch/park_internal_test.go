package cloudwatch

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenPark: whatever a crash or a damaged disk left in a park, opening it
// either fails with an error or yields a park whose records can be read to the end.
func FuzzOpenPark(f *testing.F) {
	f.Add([]byte("{\"group\":\"/heroku/a\"}\n{\"s\":\"2026-11-22\",\"a\":\"a\",\"t\":1,\"m\":\"app[web.1]: x\",\"l\":true}\n"), []byte("22"))
	f.Add([]byte("{\"group\":\"/heroku/a\"}\n{\"s\":\"x\",\"a\":\"a\",\"t\":1,\"m\":\"torn"), []byte(""))
	f.Add([]byte("{\"group\":\"g\"}\nnot json\n{}\n"), []byte("-5"))
	f.Add([]byte(""), []byte("0"))
	f.Fuzz(func(t *testing.T, content, offset []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "x"+parkExt)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+".off", offset, 0o600); err != nil {
			t.Fatal(err)
		}
		group, p, err := openPark(path)
		if err != nil {
			return
		}
		defer p.close()
		if group == "" || p.offset > p.size || p.size > int64(len(content)) {
			t.Fatalf("group %q offset %d size %d of %d bytes", group, p.offset, p.size, len(content))
		}
		for from := p.offset; from < p.size; {
			recs, next, _, err := p.read(from, p.size, 64)
			if err != nil {
				t.Fatal(err)
			}
			if next <= from {
				t.Fatalf("read from %d made no progress", from)
			}
			for _, r := range recs {
				if r.Msg == "" {
					t.Fatal("empty message read from a park")
				}
			}
			from = next
		}
	})
}

// TestParkOffsetSurvivesReopen: what a drain delivered before a restart is not
// read again; what it had not is, in order.
func TestParkOffsetSurvivesReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p, err := createPark(dir, "/heroku/a")
	if err != nil {
		t.Fatal(err)
	}
	recs := []parkRecord{{Stream: "s", App: "a", TS: 1, Msg: "one", Line: true}, {Stream: "s", App: "a", TS: 2, Msg: "two", Line: true}, {Stream: "t", App: "b", TS: 3, Msg: "three", Line: true}}
	if err := p.append(recs); err != nil {
		t.Fatal(err)
	}
	first, next, bad, err := p.read(p.offset, p.size, 1) // one record at a time
	if err != nil || bad != 0 || len(first) != 1 || first[0] != recs[0] {
		t.Fatalf("read = %v, %v, %v", first, bad, err)
	}
	if err := p.setOffset(next); err != nil {
		t.Fatal(err)
	}
	p.close()

	group, p2, err := openPark(parkPath(dir, "/heroku/a"))
	if err != nil {
		t.Fatal(err)
	}
	defer p2.close()
	rest, _, _, err := p2.read(p2.offset, p2.size, 1<<20)
	if err != nil || group != "/heroku/a" || len(rest) != 2 || rest[0] != recs[1] || rest[1] != recs[2] {
		t.Fatalf("after reopen: group %q, records %v, err %v", group, rest, err)
	}
	if !p2.apps["a"] || !p2.apps["b"] {
		t.Errorf("apps %v", p2.apps)
	}
	if err := p2.remove(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

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

// Package testfixtures holds the Heroku drain fixtures for the tests of every
// package: real-shaped logplex, log-shuttle and syslog bodies, edge cases, and the
// list of Heroku's error codes (heroku/README.md says what each file is and where
// it comes from). They are embedded, so a test reads them from any clone of the
// repository, with nothing beside it. Only tests import this package.
package testfixtures

import (
	"embed"
	"io/fs"
	"testing"
)

//go:embed heroku
var files embed.FS

// FS holds the fixtures by their names in the fixture set:
// "heroku-drain-realistic.logplex", "edge-cases/empty-body.logplex",
// "log-shuttle/req1.body.bin".
var FS fs.FS = sub(files, "heroku")

func sub(fsys fs.FS, dir string) fs.FS {
	s, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // dir is embedded above: it exists
	}
	return s
}

// Read returns the fixture name, failing the test when there is none.
func Read(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := fs.ReadFile(FS, name)
	if err != nil {
		tb.Fatalf("fixture %s: %v", name, err)
	}
	return b
}

// Glob returns the names of the fixtures that match pattern (path.Match syntax),
// failing the test when none does.
func Glob(tb testing.TB, pattern string) []string {
	tb.Helper()
	names, err := fs.Glob(FS, pattern)
	if err != nil || len(names) == 0 {
		tb.Fatalf("no fixture matches %s: %v", pattern, err)
	}
	return names
}

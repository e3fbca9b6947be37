package drainpipe_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/drainpipe/drainpipe"

// pkg is what `go list -json` says of one package.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// listPackages runs `go list -json ./...` on the module: every package, its direct
// imports and all it depends on (tests excluded).
func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[short(p.ImportPath)] = p
	}
	return pkgs
}

// short names a package of the module as the package map does: "drainpipe" for the
// root, the directory for the others ("cloudwatch/cwlemu").
func short(importPath string) string {
	if importPath == module {
		return "drainpipe"
	}
	return strings.TrimPrefix(importPath, module+"/")
}

var backticked = regexp.MustCompile("`([^`]+)`")

// packageMap reads the package map of docs/architecture.md: each package and the
// module's packages it may import ("anything" for cmd/drainpipe).
func packageMap(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rules := map[string][]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == "## Package map"
		case in && strings.HasPrefix(line, "| `"):
			cols := strings.Split(line, "|")
			if len(cols) < 5 {
				t.Fatalf("package map row %q: want | package | owns | may import |", line)
			}
			name := strings.TrimSuffix(backticked.FindStringSubmatch(cols[1])[1], "/")
			var allowed []string
			for _, m := range backticked.FindAllStringSubmatch(cols[3], -1) {
				allowed = append(allowed, strings.TrimSuffix(m[1], "/"))
			}
			rules[name] = allowed
		}
	}
	if len(rules) == 0 {
		t.Fatal("docs/architecture.md has no package map (a table under ## Package map)")
	}
	return rules
}

// TestPackageMap holds the code to the package map of docs/architecture.md: every
// package has a row, and imports only what its row allows.
func TestPackageMap(t *testing.T) {
	t.Parallel()
	pkgs := listPackages(t)
	rules := packageMap(t)
	for name, p := range pkgs {
		allowed, ok := rules[name]
		if !ok {
			t.Errorf("package %s is not in the package map of docs/architecture.md", name)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) || slices.Contains(allowed, "anything") {
				continue
			}
			if !slices.Contains(allowed, short(imp)) {
				t.Errorf("%s imports %s, which its row in the package map does not allow (%v)", name, short(imp), allowed)
			}
		}
	}
	for name := range rules {
		if _, ok := pkgs[name]; !ok {
			t.Errorf("the package map names %s, which is not a package", name)
		}
	}
}

// TestImportRules are the rules the package map exists for, checked on everything
// a package depends on, not only what it imports itself: the stores and the
// receiver never depend on the Heroku Platform API client (Heroku's log vocabulary
// is herokulog), and nothing but cmd/ depends on cmd/.
func TestImportRules(t *testing.T) {
	t.Parallel()
	pkgs := listPackages(t)
	for _, name := range []string{"archive", "metrics", "httpd"} {
		p, ok := pkgs[name]
		if !ok {
			t.Errorf("no package %s", name)
			continue
		}
		if slices.Contains(p.Deps, module+"/heroku") {
			t.Errorf("%s depends on the Heroku API client (heroku): read Heroku's log lines with herokulog", name)
		}
	}
	for name, p := range pkgs {
		if strings.HasPrefix(name, "cmd/") {
			continue
		}
		for _, d := range p.Deps {
			if strings.HasPrefix(d, module+"/cmd/") {
				t.Errorf("%s depends on %s: only cmd/ wires packages together", name, short(d))
			}
		}
	}
}

package main_test

import (
	"archive/zip"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/deploy"
)

// TestLambdaPackage: `drainpipe lambda package` writes, for each architecture,
// a zip holding one executable bootstrap, a static Linux binary for that
// architecture, and the template set to that architecture.
func TestLambdaPackage(t *testing.T) {
	t.Parallel()
	lambdaBinaries(t) // the host's architecture, packaged once for every Lambda test
	dirs := map[string]string{hostArch(): filepath.Join(lambdaDir, "package")}
	other := map[string]string{"x86_64": "arm64", "arm64": "x86_64"}[hostArch()]
	dirs[other] = t.TempDir()
	if out, errOut, code := runDrainpipe(t, nil, "lambda", "package", "--arch", other, "--out", dirs[other], "--source", "."); code != 0 ||
		!strings.Contains(out, "sam deploy --template-file") {
		t.Fatalf("lambda package --arch %s: exit %d\n%s%s", other, code, out, errOut)
	}
	machine := map[string]elf.Machine{"x86_64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	for arch, dir := range dirs {
		zr, err := zip.OpenReader(filepath.Join(dir, deploy.LambdaZip))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
			t.Fatalf("%s: zip holds %v", arch, zr.File)
		}
		bin := filepath.Join(t.TempDir(), "bootstrap")
		rc, _ := zr.File[0].Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		os.WriteFile(bin, b, 0o755)
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatalf("%s: bootstrap is not ELF: %v", arch, err)
		}
		if f.Machine != machine[arch] {
			t.Errorf("%s: bootstrap for %v", arch, f.Machine)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s: bootstrap is dynamically linked", arch)
			}
		}
		f.Close()
		want, _ := deploy.LambdaTemplate(arch)
		if got, err := os.ReadFile(filepath.Join(dir, "template.yaml")); err != nil || string(got) != want {
			t.Errorf("%s: template.yaml is not the %s template: %v", arch, arch, err)
		}
	}
}

// TestLambdaTemplateEnvironment: every variable the template sets on the
// function is one `drainpipe lambda run` reads.
func TestLambdaTemplateEnvironment(t *testing.T) {
	t.Parallel()
	_, help, _ := runDrainpipe(t, nil, "lambda", "run", "-h")
	tpl, _ := deploy.LambdaTemplate("arm64")
	_, vars, _ := strings.Cut(tpl, "Variables:\n")
	names := regexp.MustCompile(`(?m)^\s+(DRAINPIPE_[A-Z_]+):`).FindAllStringSubmatch(vars, -1)
	if len(names) < 4 {
		t.Fatalf("found %d variables in the template", len(names))
	}
	for _, m := range names {
		if !strings.Contains(help, "("+m[1]+")") {
			t.Errorf("the template sets %s, which drainpipe lambda run does not read:\n%s", m[1], help)
		}
	}
}

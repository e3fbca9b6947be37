package main

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/deploy"
)

// modulePath is drainpipe's module, whose source `lambda package` builds.
const modulePath = "github.com/drainpipe/drainpipe"

// goArch maps Lambda's architecture names to Go's.
var goArch = map[string]string{"arm64": "arm64", "x86_64": "amd64"}

// lambdaPackage writes the function's zip (the drainpipe binary for Linux on
// the chosen architecture, as bootstrap) and its CloudFormation template.
func lambdaPackage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("lambda package", stderr)
	arch := f.String("arch", "arm64", "Lambda architecture: arm64 (Graviton, cheaper) or x86_64")
	out := f.String("out", filepath.Join("deploy", "lambda"), "directory for "+deploy.LambdaZip+" and template.yaml")
	src := f.String("source", ".", "drainpipe's source tree to build from (a directory inside it)")
	if pos, err := f.parse(args); err != nil || len(pos) > 0 {
		return cmpErr(err, usagef("usage: drainpipe lambda package [--arch arm64|x86_64] [--out DIR]"))
	}
	switch *arch {
	case "amd64":
		*arch = "x86_64"
	case "aarch64":
		*arch = "arm64"
	}
	template, err := deploy.LambdaTemplate(*arch)
	if err != nil {
		return usagef("--arch: %v", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "drainpipe-lambda")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bootstrap := filepath.Join(tmp, "bootstrap")
	how, err := buildBootstrap(ctx, *src, goArch[*arch], bootstrap, stderr)
	if err != nil {
		return err
	}
	if err := checkBootstrap(bootstrap, goArch[*arch]); err != nil {
		return err
	}
	zipPath := filepath.Join(*out, deploy.LambdaZip)
	size, err := writeZip(zipPath, bootstrap)
	if err != nil {
		return err
	}
	tmplPath := filepath.Join(*out, "template.yaml")
	if err := os.WriteFile(tmplPath, []byte(template), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s, bootstrap %s for linux/%s) and %s\n\n", zipPath, humanBytes(size), how, *arch, tmplPath)
	fmt.Fprintf(stdout, "Deploy it (the zip is uploaded to S3 for you):\n\n  sam deploy --template-file %s --stack-name drainpipe --resolve-s3 --capabilities CAPABILITY_IAM\n", tmplPath)
	return nil
}

// buildBootstrap cross-compiles drainpipe from its source: static (no cgo), for
// Linux, without the RPC mode only the retired go1.x runtime used. Away from the
// source, a drainpipe binary already built so is copied instead.
func buildBootstrap(ctx context.Context, src, goarch, dst string, stderr io.Writer) (string, error) {
	root, err := moduleRoot(ctx, src)
	if err != nil {
		if self, ok := selfFits(goarch); ok {
			return "copied from this binary", copyFile(self, dst)
		}
		return "", fmt.Errorf("build the bootstrap: %w (run it inside drainpipe's source with Go installed, or use a drainpipe built for linux/%s with CGO_ENABLED=0)", err, goarch)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", dst, "./cmd/drainpipe")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build for linux/%s: %w", goarch, err)
	}
	return "built from " + root, nil
}

// moduleRoot is the root of drainpipe's module containing dir.
func moduleRoot(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD in %s: %w", dir, err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("%s is not inside a Go module", dir)
	}
	raw, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	if strings.TrimSpace(first) != "module "+modulePath {
		return "", fmt.Errorf("%s is not drainpipe's module", gomod)
	}
	return filepath.Dir(gomod), nil
}

// selfFits reports whether this very binary can be the bootstrap: built for
// linux/goarch without cgo.
func selfFits(goarch string) (string, bool) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	set := map[string]string{}
	for _, s := range info.Settings {
		set[s.Key] = s.Value
	}
	self, err := os.Executable()
	return self, err == nil && set["GOOS"] == "linux" && set["GOARCH"] == goarch && set["CGO_ENABLED"] == "0"
}

// checkBootstrap makes sure the file is what Lambda runs: a static ELF
// executable for the architecture (a dynamic one would look for a loader).
func checkBootstrap(path, goarch string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64}[goarch]
	if f.Machine != want {
		return fmt.Errorf("bootstrap is for %v, not %v", f.Machine, want)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("bootstrap is dynamically linked: build it with CGO_ENABLED=0")
		}
	}
	return nil
}

// writeZip writes a zip holding bootstrap, executable, with a fixed date so
// that the same binary gives the same zip (and CloudFormation sees no change).
func writeZip(path, bootstrap string) (int64, error) {
	bin, err := os.ReadFile(bootstrap)
	if err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write(bin)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return 0, fmt.Errorf("zip: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return 0, err
	}
	return int64(buf.Len()), nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}

func humanBytes(n int64) string {
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

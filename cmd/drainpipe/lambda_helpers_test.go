package main_test

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// rieModule is AWS's Lambda Runtime Interface Emulator: the Runtime API and an
// invoke endpoint in front of a bootstrap it runs as its child, as Lambda runs
// a function. It is built from its source by the tests.
const rieModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

var (
	lambdaOnce      sync.Once
	lambdaDir       string // holds the RIE and the bootstrap
	lambdaBuildErr  error
	lambdaBootstrap string
	lambdaRIE       string
)

// lambdaBinaries builds, once, the RIE and the function: the zip that
// `drainpipe lambda package` makes for this machine's architecture, unpacked,
// so that what runs is exactly what would be deployed.
func lambdaBinaries(t testing.TB) (rie, bootstrap string) {
	t.Helper()
	lambdaOnce.Do(func() {
		lambdaDir, lambdaBuildErr = os.MkdirTemp("", "drainpipe-lambda-test")
		if lambdaBuildErr != nil {
			return
		}
		lambdaRIE, lambdaBuildErr = buildRIE(lambdaDir)
		if lambdaBuildErr == nil {
			lambdaBootstrap, lambdaBuildErr = packageBootstrap(lambdaDir)
		}
	})
	if lambdaBuildErr != nil {
		t.Fatalf("the Lambda test needs the RIE and the bootstrap built: %v", lambdaBuildErr)
	}
	return lambdaRIE, lambdaBootstrap
}

func buildRIE(dir string) (string, error) {
	cmd := exec.Command("go", "install", rieModule)
	cmd.Dir = dir // outside drainpipe's module: the RIE builds with its own go.mod
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %v\n%s", rieModule, err, out)
	}
	return filepath.Join(dir, "aws-lambda-rie"), nil
}

// hostArch is this machine's architecture as Lambda names it.
func hostArch() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

func packageBootstrap(dir string) (string, error) {
	out := filepath.Join(dir, "package")
	cmd := exec.Command(binary, "lambda", "package", "--arch", hostArch(), "--out", out, "--source", ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("drainpipe lambda package: %v\n%s", err, b)
	}
	zr, err := zip.OpenReader(filepath.Join(out, "drainpipe-lambda.zip"))
	if err != nil {
		return "", err
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode()&0o111 == 0 {
		return "", fmt.Errorf("the zip holds %v, want one executable bootstrap", zr.File)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	task := filepath.Join(dir, "task")
	if err := os.MkdirAll(task, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(task, "bootstrap")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// function is one execution environment: the RIE with the bootstrap, on
// 127.0.0.1 ports of its own.
type function struct {
	t         testing.TB
	cmd       *exec.Cmd
	bootstrap string
	stopOnce  sync.Once
	invoke    string // the invoke endpoint
	mu        sync.Mutex
	out       bytes.Buffer // the RIE's and the function's output
	done      chan struct{}
}

// startFunction runs the function under the RIE with env (the function's
// environment: the RIE passes its own on), and a timeout in seconds.
func startFunction(t testing.TB, timeout int, env ...string) *function {
	t.Helper()
	rie, bootstrap := lambdaBinaries(t)
	invokeAddr, apiAddr := freeAddr(t), freeAddr(t)
	fn := &function{t: t, bootstrap: bootstrap, invoke: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations", done: make(chan struct{})}
	fn.cmd = exec.Command(rie, "--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", apiAddr, bootstrap)
	fn.cmd.Dir = filepath.Dir(bootstrap)
	fn.cmd.Env = append(os.Environ(), append([]string{"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(timeout),
		"AWS_LAMBDA_FUNCTION_NAME=drainpipe", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "LOG_LEVEL=warn"}, env...)...)
	fn.cmd.Stdout, fn.cmd.Stderr = fn, fn
	if err := fn.cmd.Start(); err != nil {
		t.Fatalf("start the RIE: %v", err)
	}
	go func() { _ = fn.cmd.Wait(); close(fn.done) }()
	t.Cleanup(fn.stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", invokeAddr, time.Second)
		if err == nil {
			c.Close()
			return fn
		}
		select {
		case <-fn.done:
			t.Fatalf("the RIE exited at start:\n%s", fn.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the RIE does not listen on %s:\n%s", invokeAddr, fn.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (fn *function) Write(p []byte) (int, error) {
	fn.mu.Lock()
	defer fn.mu.Unlock()
	return fn.out.Write(p)
}

func (fn *function) output() string {
	fn.mu.Lock()
	defer fn.mu.Unlock()
	return fn.out.String()
}

// stop ends the RIE and the bootstrap it started (in a process group of its
// own, so found through /proc), each by its id, once.
func (fn *function) stop() {
	fn.stopOnce.Do(func() {
		bootstraps := fn.bootstraps()
		_ = fn.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-fn.done:
		case <-time.After(5 * time.Second):
			_ = fn.cmd.Process.Kill()
			<-fn.done
		}
		for _, pid := range bootstraps {
			if isBootstrap(pid, fn.bootstrap) { // not a process that took the id since
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
}

// bootstraps lists the RIE's children that run the bootstrap, while it runs.
func (fn *function) bootstraps() []int {
	select {
	case <-fn.done:
		return nil // its id may be another process's by now
	default:
	}
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", fn.cmd.Process.Pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil && isBootstrap(n, fn.bootstrap) {
				out = append(out, n)
			}
		}
	}
	return out
}

// isBootstrap reports whether process pid runs the bootstrap at path.
func isBootstrap(pid int, path string) bool {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return err == nil && exe == path
}

// peakRSS is the bootstrap's peak resident memory in bytes (VmHWM), 0 if unknown.
func (fn *function) peakRSS() int64 {
	for _, pid := range fn.bootstraps() {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// call invokes the function with an event and returns its answer, as a
// Function URL would turn it into HTTP.
func (fn *function) call(ev json.RawMessage) events.LambdaFunctionURLResponse {
	fn.t.Helper()
	resp, err := http.Post(fn.invoke, "application/json", bytes.NewReader(ev))
	if err != nil {
		fn.t.Fatalf("invoke: %v\n%s", err, fn.output())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out events.LambdaFunctionURLResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.StatusCode == 0 {
		fn.t.Fatalf("invoke answered %d %q: the function failed\n%s", resp.StatusCode, body, fn.output())
	}
	return out
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// urlEvent is the Function URL event of an HTTP request, as AWS builds it:
// header names in lower case (repeated ones joined by commas), the body in
// base64.
func urlEvent(method, path string, h http.Header, body []byte) json.RawMessage {
	headers := map[string]string{}
	for k, vs := range h {
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	ev := map[string]any{
		"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "", "headers": headers,
		"requestContext": map[string]any{
			"domainName": "abc.lambda-url.eu-west-1.on.aws", "requestId": fmt.Sprint(time.Now().UnixNano()),
			"routeKey": "$default", "stage": "$default",
			"http": map[string]any{"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
		},
		"body": base64.StdEncoding.EncodeToString(body), "isBase64Encoded": true,
	}
	raw, _ := json.Marshal(ev)
	return raw
}

// functionURL is a Function URL in front of a pool of execution environments:
// each HTTP request becomes one invocation of a free environment (one request
// at a time each, as Lambda runs them), and its answer the HTTP response.
type functionURL struct {
	url  string
	free chan *function
}

func startFunctionURL(t testing.TB) *functionURL {
	t.Helper()
	u := &functionURL{free: make(chan *function, 64)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: u, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	u.url = "http://" + ln.Addr().String()
	return u
}

// add puts execution environments behind the URL.
func (u *functionURL) add(fns ...*function) {
	for _, fn := range fns {
		u.free <- fn
	}
}

func (u *functionURL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 6<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h := r.Header.Clone()
	var fn *function
	select {
	case fn = <-u.free:
	case <-r.Context().Done():
		return
	}
	defer func() { u.free <- fn }()
	resp, err := http.Post(fn.invoke, "application/json", bytes.NewReader(urlEvent(r.Method, r.URL.Path, h, body)))
	if err != nil {
		http.Error(w, "invoke: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out events.LambdaFunctionURLResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.StatusCode == 0 {
		http.Error(w, "function failed: "+string(raw), http.StatusBadGateway) // what a Function URL answers
		return
	}
	for k, v := range out.Headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(out.StatusCode)
	_, _ = io.WriteString(w, out.Body)
}

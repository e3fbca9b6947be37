package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	victoriaOnce sync.Once
	victoriaPath string
	victoriaErr  error
)

// victoriaLogs builds VictoriaLogs itself (a tool of this module, see go.mod),
// once per test binary: the reference the LogsQL API is held to.
func victoriaLogs(t *testing.T) string {
	t.Helper()
	victoriaOnce.Do(func() {
		victoriaPath = filepath.Join(filepath.Dir(binary), "victoria-logs")
		out, err := exec.Command("go", "build", "-o", victoriaPath, "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs").CombinedOutput()
		if err != nil {
			victoriaErr, victoriaPath = err, string(out)
		}
	})
	if victoriaErr != nil {
		t.Fatalf("build victoria-logs: %v\n%s", victoriaErr, victoriaPath)
	}
	return victoriaPath
}

var vlAddrRe = regexp.MustCompile(`started server at (http://127\.0\.0\.1:\d+)/`)

// startVictoriaLogs runs VictoriaLogs on 127.0.0.1 with data in a temporary
// directory and returns its URL.
func startVictoriaLogs(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(victoriaLogs(t), "-storageDataPath="+t.TempDir(), "-httpListenAddr=127.0.0.1:0", "-retentionPeriod=100y")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := vlAddrRe.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case u := <-addr:
		return u
	case <-time.After(60 * time.Second):
		t.Fatal("VictoriaLogs did not start in 60 s")
	}
	return ""
}

// ask sends a LogsQL API request (a POSTed form) and returns the status and body.
func ask(t *testing.T, base, path string, args url.Values, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(args.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestLogsQLMatchesVictoriaLogs stores the same lines in drainpipe and in
// VictoriaLogs itself and asks both the same questions: the answers must be the
// same, but for the order of what neither orders.
func TestLogsQLMatchesVictoriaLogs(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.sendLines(t, s.addDrain("shop"), "shop", shopLines())
	vl := startVictoriaLogs(t)
	token := s.token(t)

	// Copy drainpipe's rows, every field, into VictoriaLogs.
	code, rows := ask(t, s.url, "/select/logsql/query", url.Values{"query": {"*"}}, token)
	if code != 200 || strings.Count(rows, "\n") != 8 {
		t.Fatalf("every row: %d\n%s", code, rows)
	}
	var body bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(rows), "\n") {
		var row map[string]string
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatal(err)
		}
		delete(row, "_stream")
		delete(row, "_stream_id")
		b, _ := json.Marshal(row)
		body.Write(append(b, '\n'))
	}
	resp, err := http.Post(vl+"/insert/jsonline?_stream_fields=app,source&_time_field=_time&_msg_field=_msg", "application/stream+json", &body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("insert into VictoriaLogs: %v %v", resp, err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, n := ask(t, vl, "/select/logsql/query", url.Values{"query": {"* | count() n"}}, ""); strings.Contains(n, `"n":"8"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("VictoriaLogs did not make the 8 rows searchable in 30 s")
		}
		time.Sleep(200 * time.Millisecond)
	}

	y := shopLines()[0].Time
	at := func(sec int) string { return y.Add(time.Duration(sec) * time.Second).Format(time.RFC3339) }
	for _, tt := range []struct {
		path    string
		args    url.Values
		ordered bool // the answer's order is defined
	}{
		{"/select/logsql/query", url.Values{"query": {"app:=shop status:503"}}, false},
		{"/select/logsql/query", url.Values{"query": {"app:=shop"}, "limit": {"3"}}, true},
		{"/select/logsql/query", url.Values{"query": {"*"}, "limit": {"2"}, "offset": {"1"}}, true},
		{"/select/logsql/query", url.Values{"query": {"*"}, "start": {at(2)}, "end": {at(5)}}, false},
		{"/select/logsql/query", url.Values{"query": {"app:=shop | fields _time, _msg, status"}, "format": {"csv"}}, false},
		{"/select/logsql/query", url.Values{"query": {"*"}, "extra_filters": {`{"dyno":["web.1","web.2"]}`}}, false},
		{"/select/logsql/query", url.Values{"query": {"*"}, "extra_stream_filters": {`{"source":"heroku"}`}}, false},
		{"/select/logsql/query", url.Values{"query": {"(H12"}}, true},
		{"/select/logsql/hits", url.Values{"query": {"app:=shop"}, "start": {at(-3600)}, "end": {at(3600)}, "step": {"30m"}, "field": {"status"}}, true},
		{"/select/logsql/hits", url.Values{"query": {"*"}, "step": {"1s"}, "field": {"dyno"}, "fields_limit": {"1"}, "start": {at(0)}, "end": {at(8)}}, true},
		{"/select/logsql/hits", url.Values{"query": {"*"}, "step": {"0s"}}, true},
		{"/select/logsql/field_names", url.Values{"query": {"app:=shop"}}, false},
		{"/select/logsql/field_values", url.Values{"query": {"*"}, "field": {"dyno"}, "limit": {"10"}}, false},
		{"/select/logsql/field_values", url.Values{"query": {"*"}}, true},
		{"/select/logsql/facets", url.Values{"query": {"app:=shop"}}, true},
		{"/select/logsql/stats_query", url.Values{"query": {"* | stats by (source) count() n, max(bytes) b"}, "time": {at(3600)}}, false},
		{"/select/logsql/stats_query", url.Values{"query": {"app:=shop"}}, true},
		{"/select/logsql/stats_query_range", url.Values{"query": {"* | stats by (status) count() n"}, "start": {at(0)}, "end": {at(7)}, "step": {"2s"}}, false},
		{"/select/logsql/streams", url.Values{"query": {"*"}}, false},
		{"/select/logsql/stream_field_names", url.Values{"query": {"*"}}, false},
		{"/select/logsql/stream_field_values", url.Values{"query": {"*"}, "field": {"source"}}, false},
		{"/select/logsql/stream_ids", url.Values{"query": {"*"}}, false},
		{"/select/logsql/query_time_range", url.Values{"query": {"_time:[" + at(0) + ", " + at(9) + ") error"}, "start": {at(-5)}}, true},
		{"/select/logsql/query", url.Values{"query": {"*"}, "limit": {"1"}, "offset": {"7"}}, true},
	} {
		gotCode, got := ask(t, s.url, tt.path, tt.args, token)
		same := func(wantCode int, want string) bool {
			return gotCode == wantCode && (wantCode != 200 || normalize(t, got, tt.ordered) == normalize(t, want, tt.ordered))
		}
		wantCode, want := askReference(t, vl, tt.path, tt.args, same)
		switch {
		case gotCode != wantCode:
			t.Errorf("%s %v: status %d, VictoriaLogs %d\n got %s\nwant %s", tt.path, tt.args, gotCode, wantCode, got, want)
		case wantCode == 200 && !same(wantCode, want): // else the sentences may differ; the status may not
			t.Errorf("%s %v:\n got %s\nwant %s", tt.path, tt.args, normalize(t, got, tt.ordered), normalize(t, want, tt.ordered))
		}
	}
}

// askReference asks VictoriaLogs, the reference, and asks again (for up to 3 s)
// while its answer differs from drainpipe's. On a loaded machine it was once
// seen to leave the newest day's row out of a few answers after it had counted
// all the rows; drainpipe's answer is asked for once and must be right.
func askReference(t *testing.T, vl, path string, args url.Values, same func(int, string) bool) (int, string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		code, body := ask(t, vl, path, args, "")
		if same(code, body) || time.Now().After(deadline) {
			return code, body
		}
		t.Logf("%s %v: VictoriaLogs answered otherwise; asking it again", path, args)
		time.Sleep(250 * time.Millisecond)
	}
}

// normalize is an answer with its JSON re-encoded (keys sorted) and, unless its
// order is defined, its lines and the elements of its arrays sorted.
func normalize(t *testing.T, body string, ordered bool) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(body), "\n")
	for i, line := range lines {
		var v any
		if json.Unmarshal([]byte(line), &v) != nil {
			continue // CSV, text
		}
		if !ordered {
			v = sortArrays(v)
		}
		b, _ := json.Marshal(v)
		lines[i] = string(b)
	}
	if !ordered {
		slices.Sort(lines)
	}
	return strings.Join(lines, "\n")
}

// sortArrays sorts every array in v by the JSON of its elements.
func sortArrays(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = sortArrays(e)
		}
	case []any:
		for i, e := range x {
			x[i] = sortArrays(e)
		}
		slices.SortFunc(x, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	}
	return v
}

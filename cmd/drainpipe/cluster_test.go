package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
	"github.com/drainpipe/drainpipe/logplex"
	"github.com/drainpipe/drainpipe/metrics"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsBinary builds nats-server, from the module this project depends on, once.
var natsBinary = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(filepath.Dir(binary), "nats-server")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build nats-server: %v\n%s", err, out)
	}
	return bin, nil
})

// natsNode is one nats-server process of a test cluster.
type natsNode struct {
	t          *testing.T
	name, conf string
	port, mon  int
	cmd        *exec.Cmd
	done       chan struct{}
}

// startNATSCluster runs three nats-server processes clustered on 127.0.0.1, with
// JetStream syncing every write (sync_interval: always), and waits until JetStream
// answers.
func startNATSCluster(t *testing.T) []*natsNode { return startNATS(t, 3) }

// startNATS runs n nats-server processes (clustered when more than one) on
// 127.0.0.1, with JetStream syncing every write, and waits until JetStream answers.
func startNATS(t *testing.T, n int) []*natsNode {
	t.Helper()
	bin, err := natsBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var routes []int
	var routeURLs []string
	for range n {
		routes = append(routes, freePort(t))
		routeURLs = append(routeURLs, fmt.Sprintf("nats://127.0.0.1:%d", routes[len(routes)-1]))
	}
	var nodes []*natsNode
	for i := range n {
		nn := &natsNode{t: t, name: fmt.Sprintf("nats-%c", 'a'+i), port: freePort(t), mon: freePort(t)}
		nn.conf = filepath.Join(dir, nn.name+".conf")
		conf := fmt.Sprintf("server_name: %s\nlisten: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\njetstream { store_dir: %q, sync_interval: always }\n",
			nn.name, nn.port, nn.mon, filepath.Join(dir, nn.name))
		if n > 1 {
			conf += fmt.Sprintf("cluster { name: drainpipe, listen: 127.0.0.1:%d, routes: [%s] }\n", routes[i], strings.Join(routeURLs, ", "))
		}
		if err := os.WriteFile(nn.conf, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		nn.start(bin)
		t.Cleanup(nn.kill)
		nodes = append(nodes, nn)
	}
	waitJetStream(t, natsURLs(nodes))
	return nodes
}

func (n *natsNode) start(bin string) {
	n.cmd = exec.Command(bin, "-c", n.conf)
	n.done = make(chan struct{})
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	go func() { _ = n.cmd.Wait(); close(n.done) }()
	waitListening(n.t, fmt.Sprintf("127.0.0.1:%d", n.port), n.done)
}

func (n *natsNode) kill() {
	if n.cmd.Process != nil {
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

func natsURLs(nodes []*natsNode) string {
	var out []string
	for _, n := range nodes {
		out = append(out, fmt.Sprintf("nats://127.0.0.1:%d", n.port))
	}
	return strings.Join(out, ",")
}

func monitorURLs(nodes []*natsNode) string {
	var out []string
	for _, n := range nodes {
		out = append(out, fmt.Sprintf("http://127.0.0.1:%d", n.mon))
	}
	return strings.Join(out, ",")
}

// waitJetStream waits until the cluster's JetStream answers (its meta leader is
// elected).
func waitJetStream(t *testing.T, urls string) {
	t.Helper()
	nc, err := nats.Connect(urls, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("JetStream cluster not ready after 60 s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// clusterNodes are drainpipe nodes on fixed ports, so a restarted node answers
// where it did.
type clusterNodes struct {
	t     *testing.T
	nodes []*server
	addrs []string
}

// startDrainpipeNodes runs n drainpipe nodes, n1…, on the NATS servers nats.
func startDrainpipeNodes(t *testing.T, nats []*natsNode, n int, env []string, extra ...string) *clusterNodes {
	t.Helper()
	c := &clusterNodes{t: t}
	for i := range n {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		args := append([]string{"--listen", addr, "--nats", natsURLs(nats), "--node", fmt.Sprintf("n%d", i+1),
			"--nats-monitor", monitorURLs(nats), "--partitions", "8"}, extra...)
		s := startServerEnv(t, "", env, args...)
		c.nodes = append(c.nodes, s)
		c.addrs = append(c.addrs, addr)
		t.Cleanup(func() {
			if t.Failed() {
				path := filepath.Join(os.TempDir(), fmt.Sprintf("%s-n%d.log", strings.ReplaceAll(t.Name(), "/", "-"), i+1))
				if os.WriteFile(path, []byte(s.logText()), 0o600) == nil {
					t.Logf("node %d's logs: %s", i+1, path)
				}
			}
		})
	}
	// The first node made the admin token; the others hold only its hash (in the
	// cluster's drain store). Their CLI gets the token as a user's would.
	token, err := os.ReadFile(filepath.Join(c.nodes[0].data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.nodes[1:] {
		if err := os.WriteFile(filepath.Join(s.data, "admin-token"), token, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// drainURL is u (a drain URL) on node i.
func (c *clusterNodes) drainURL(u string, i int) string {
	p, err := url.Parse(u)
	if err != nil {
		c.t.Fatal(err)
	}
	p.Host = c.addrs[i]
	return p.String()
}

// routerLine is a router line of app's request id, served in ms.
func routerLine(id string, ms float64, now time.Time) []byte {
	msg := fmt.Sprintf(`at=info method=GET path="/" host=x.herokuapp.com request_id=%s fwd="1.2.3.4" dyno=web.1 connect=1ms service=%.3fms status=200 bytes=100 protocol=https`, id, ms)
	return logplex.AppendMessage(nil, drainpipe.Record{Priority: 158, Time: now, Source: "heroku", Dyno: "router", Message: msg})
}

// spreadLoader sends router lines to every node of a cluster as logplex does: a
// batch that gets no 204 is retried, with its Frame-Id, on the next node, until it
// is acknowledged; and now and then an acknowledged batch is sent again to another
// node, as logplex does when the 2xx was lost on its way back.
type spreadLoader struct {
	c       *clusterNodes
	drains  map[string]string // app → drain URL
	lines   int
	mu      sync.Mutex
	acked   map[string]map[string]float64 // app → request id → service ms
	resent  int
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	retried int
}

func startSpreadLoader(c *clusterNodes, drains map[string]string, senders, lines int) *spreadLoader {
	ctx, cancel := context.WithCancel(context.Background())
	l := &spreadLoader{c: c, drains: drains, lines: lines, acked: map[string]map[string]float64{}, cancel: cancel}
	apps := slices.Sorted(func(yield func(string) bool) {
		for a := range drains {
			if !yield(a) {
				return
			}
		}
	})
	for s := range senders {
		l.wg.Go(func() {
			client := &http.Client{Timeout: 5 * time.Second}
			for b := 0; ctx.Err() == nil; b++ {
				l.send(ctx, client, apps[(s+b)%len(apps)], s, b)
				time.Sleep(20 * time.Millisecond) // a few thousand lines a second: the checks read them all back
			}
		})
	}
	return l
}

func (l *spreadLoader) send(ctx context.Context, client *http.Client, app string, sender, batch int) {
	var body []byte
	values := map[string]float64{}
	now := time.Now()
	for i := range l.lines {
		id := fmt.Sprintf("%s-s%d-b%d-l%d", app, sender, batch, i)
		values[id] = 1 + rand.Float64()*rand.Float64()*2000
		body = logplex.AppendFrame(body, routerLine(id, values[id], now))
	}
	frame := fmt.Sprintf("%s-s%d-b%d", app, sender, batch)
	node := rand.IntN(3)
	for try := 0; ctx.Err() == nil; try++ {
		if try > 0 {
			l.mu.Lock()
			l.retried++
			l.mu.Unlock()
			node = (node + 1) % 3
		}
		if l.post(ctx, client, l.c.drainURL(l.drains[app], node), frame, body) {
			l.mu.Lock()
			if l.acked[app] == nil {
				l.acked[app] = map[string]float64{}
			}
			for id, v := range values {
				l.acked[app][id] = v
			}
			l.mu.Unlock()
			if rand.IntN(10) == 0 && l.post(ctx, client, l.c.drainURL(l.drains[app], (node+1)%3), frame, body) {
				l.mu.Lock()
				l.resent++
				l.mu.Unlock()
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *spreadLoader) post(ctx context.Context, client *http.Client, u, frame string, body []byte) bool {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/logplex-1")
	req.Header.Set("Logplex-Frame-Id", frame)
	req.Header.Set("User-Agent", "Logplex/v123")
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusNoContent
}

func (l *spreadLoader) stop() map[string]map[string]float64 {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked
}

// TestCluster runs three drainpipe nodes on a three-server NATS cluster (R3, every
// write fsynced) with senders spread over all nodes retrying as logplex does, and
// under load kills a drainpipe node and restarts it, kills a NATS server and
// restarts it, and restarts every drainpipe node in turn. Then every acknowledged
// line is in every node's archive exactly once, in CloudWatch at least once (the
// duplicates are counted), and every node's metrics count every line once, with
// quantiles within 1%. DRAINPIPE_SOAK=1 repeats the kills for longer.
func TestCluster(t *testing.T) {
	t.Parallel()
	emu, cwURL := startEmulator(t, cwlemu.Faults{})
	nats := startNATSCluster(t)
	c := startDrainpipeNodes(t, nats, 3, awsEnv(cwURL), "--cloudwatch", "--metrics-interval", "5s")
	for _, s := range c.nodes {
		logs := s.logText()
		if strings.Contains(logs, "NOT REPLICATED") || strings.Contains(logs, "DOES NOT FSYNC") || !strings.Contains(logs, "NATS server fsyncs every write") {
			t.Errorf("start checks on an R3 cluster that syncs:\n%s", logs)
		}
	}
	drains := map[string]string{}
	for _, app := range []string{"shop", "blog", "api"} {
		drains[app] = c.nodes[0].addDrain(app)
	}
	t.Run("a retry on another node is stored once", func(t *testing.T) { retryElsewhere(t, c, emu, drains["shop"]) })
	const batchLines = 25
	l := startSpreadLoader(c, drains, 4, batchLines)
	rounds := chaos(t, c, nats)
	acked := l.stop()
	t.Logf("%d batches retried on another node after a failure, %d acknowledged batches sent again elsewhere", l.retried, l.resent)
	for app, ids := range acked {
		// Batches sent and not acknowledged before the load stopped may be stored
		// too: what is stored, every line once, is what the metrics must count.
		stored := checkReplicas(t, c, drains[app], app, ids)
		// A drainpipe process that ends (killed, or restarted in turn: four per round)
		// may have had CloudWatch take its last write of an app's partition (at most
		// 16 entries) without the journal's acknowledgement: those come again. A NATS
		// server's end brings none: what a sink took is acknowledged again, not
		// delivered again.
		checkCloudWatch(t, emu, app, ids, rounds*4*16*batchLines)
		checkMetrics(t, c, app, stored)
	}
	checkOwnership(t, c)
	// After the kills, a drain added on one node is taken by the others within a
	// second: their watches of the drain bucket came through.
	late := c.nodes[0].addDrain("late")
	line := "<190>1 2026-11-22T10:00:00.000000+00:00 host app web.1 - late"
	for i := 1; i < 3; i++ {
		seen(t, fmt.Sprintf("a drain added on n1 after the kills, accepted by n%d", i+1), func() bool {
			return post(t, c.drainURL(late, i), strings.NewReader(fmt.Sprintf("%d %s", len(line), line)), nil) == http.StatusNoContent
		})
	}
}

// chaos restarts things under load: a drainpipe node killed, a NATS server killed,
// every drainpipe node restarted in turn. It returns the rounds it made.
func chaos(t *testing.T, c *clusterNodes, nats []*natsNode) int {
	rounds := 1
	if os.Getenv("DRAINPIPE_SOAK") != "" {
		rounds = 6
	}
	bin, _ := natsBinary()
	pause := func(d time.Duration) { time.Sleep(d) }
	for r := range rounds {
		pause(4 * time.Second)
		victim := c.nodes[(r+1)%3]
		victim.kill()
		pause(time.Second)
		victim.start()
		pause(4 * time.Second)
		n := nats[(r+2)%3]
		n.kill()
		pause(3 * time.Second)
		n.start(bin)
		pause(5 * time.Second)
		for _, s := range c.nodes {
			if _, err := s.stop(); err != nil {
				t.Errorf("node exit after SIGTERM: %v", err)
			}
			s.start()
			pause(2 * time.Second)
		}
	}
	pause(3 * time.Second)
	return rounds
}

// retryElsewhere: a batch acknowledged by one node and sent again (the same
// Frame-Id) to the two others is stored once, everywhere.
func retryElsewhere(t *testing.T, c *clusterNodes, emu *cwlemu.Server, drainURL string) {
	body := logplex.AppendFrame(nil, routerLine("retry-1", 12, time.Now()))
	ids := map[string]float64{"retry-1": 12}
	for i := range 3 {
		h := map[string]string{"Content-Type": "application/logplex-1", "Logplex-Frame-Id": "retried-frame"}
		if code := post(t, c.drainURL(drainURL, i), bytes.NewReader(body), h); code != http.StatusNoContent {
			t.Fatalf("try on node %d: status %d", i+1, code)
		}
	}
	checkReplicas(t, c, drainURL, "shop", ids)
	// Any node answers a search, from its own replica.
	for i, s := range c.nodes {
		token, err := os.ReadFile(filepath.Join(s.data, "admin-token"))
		if err != nil {
			t.Fatal(err)
		}
		page, err := api.NewClient(s.url, strings.TrimSpace(string(token))).Search(t.Context(),
			api.PageRequest{Search: api.Search{App: "shop", Query: `"retry-1"`}})
		found := page.Lines
		if err != nil || len(found) != 1 || requestID(found[0].Message) != "retry-1" {
			t.Fatalf("search on node %d: %d lines, %v", i+1, len(found), err)
		}
	}
	got := waitCloudWatchFor(t, emu, "/heroku/shop", routerMessage(t, emu, "retry-1"))
	n := 0
	for _, m := range got {
		if strings.Contains(m, "request_id=retry-1 ") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the retried batch is in CloudWatch %d times, want once", n)
	}
}

// routerMessage waits for the CloudWatch event holding request id and returns it.
func routerMessage(t *testing.T, emu *cwlemu.Server, id string) string {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range cloudwatchLines(emu, "/heroku/shop") {
			if strings.Contains(m, "request_id="+id+" ") {
				return m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("request %s not in CloudWatch", id)
	return ""
}

// requestID is the request_id of a router line.
func requestID(msg string) string {
	_, rest, ok := strings.Cut(msg, "request_id=")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, " ")
	return id
}

// checkReplicas: once a closing marker sent after the load is in every node's
// archive, each holds every acknowledged line exactly once, and the same lines.
// It returns the service time of every router line stored.
func checkReplicas(t *testing.T, c *clusterNodes, drainURL, app string, ids map[string]float64) map[string]float64 {
	t.Helper()
	marker := fmt.Sprintf("closing marker %d", time.Now().UnixNano())
	line := "<190>1 2026-11-22T10:00:00.000000+00:00 host app web.1 - " + marker
	if code := post(t, c.drainURL(drainURL, 0), strings.NewReader(fmt.Sprintf("%d %s", len(line), line)), nil); code != 204 {
		t.Fatalf("closing marker: status %d", code)
	}
	stored, first := map[string]float64{}, 0
	for i, s := range c.nodes {
		deadline := time.Now().Add(90 * time.Second)
		var lines []string
		for {
			lines = lines[:0]
			for _, l := range s.allLines(app) {
				lines = append(lines, l.Message)
			}
			if slices.Contains(lines, marker) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %d: the closing marker of %s is not in its archive after 90 s\n%s", i+1, app, s.logText())
			}
			time.Sleep(200 * time.Millisecond)
		}
		seen := map[string]int{}
		for _, m := range lines {
			if id := requestID(m); id != "" {
				seen[id]++
				stored[id] = serviceTime(t, m)
			}
		}
		if i == 0 {
			first = len(seen)
		} else if len(seen) != first {
			t.Errorf("node %d, app %s: %d lines stored, node 1 has %d", i+1, app, len(seen), first)
		}
		missing, twice := 0, 0
		for id := range ids {
			if seen[id] == 0 {
				missing++
			}
		}
		for _, n := range seen {
			if n > 1 {
				twice++
			}
		}
		if missing > 0 || twice > 0 {
			t.Errorf("node %d, app %s: %d acknowledged lines, %d missing, %d stored more than once", i+1, app, len(ids), missing, twice)
		} else {
			t.Logf("node %d, app %s: all %d acknowledged lines stored once (%d stored)", i+1, app, len(ids), len(seen))
		}
	}
	return stored
}

// serviceTime reads service=...ms from a router line.
func serviceTime(t *testing.T, msg string) float64 {
	_, rest, _ := strings.Cut(msg, "service=")
	v, _, _ := strings.Cut(rest, "ms")
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatalf("router line without a service time: %q", msg)
	}
	return f
}

// checkCloudWatch: every acknowledged line reached CloudWatch; at most maxDups
// twice (a node killed between CloudWatch's answer and the journal's
// acknowledgement delivers its last write again).
func checkCloudWatch(t *testing.T, emu *cwlemu.Server, app string, ids map[string]float64, maxDups int) {
	t.Helper()
	group := "/heroku/" + app
	deadline := time.Now().Add(120 * time.Second)
	var seen map[string]int
	for {
		seen = map[string]int{}
		for _, m := range cloudwatchLines(emu, group) {
			if id := requestID(m); id != "" {
				seen[id]++
			}
		}
		missing := 0
		for id := range ids {
			if seen[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CloudWatch %s: %d of %d acknowledged lines missing after 120 s", group, missing, len(ids))
		}
		time.Sleep(200 * time.Millisecond)
	}
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	t.Logf("CloudWatch %s: all %d acknowledged lines, %d duplicates", group, len(ids), dups)
	if dups > maxDups {
		t.Errorf("CloudWatch %s: %d duplicates of %d lines, more than the %d that the restarts explain", group, dups, len(ids), maxDups)
	}
}

// checkMetrics: every node's metrics history counts each stored router line once,
// and its router.service quantiles are within 1% of the true ones.
func checkMetrics(t *testing.T, c *clusterNodes, app string, ids map[string]float64) {
	t.Helper()
	values := make([]float64, 0, len(ids))
	for _, v := range ids {
		values = append(values, v)
	}
	slices.Sort(values)
	for i, s := range c.nodes {
		deadline := time.Now().Add(120 * time.Second)
		var svc *metrics.Series
		for {
			out, errOut, code := s.cli("metrics", app, "--since", "2h", "--name", "router.service", "--json")
			if code != 0 {
				t.Fatalf("metrics %s: exit %d %s", app, code, errOut)
			}
			var series []metrics.Series
			if err := json.Unmarshal([]byte(out), &series); err != nil {
				t.Fatalf("metrics --json: %v: %q", err, out)
			}
			svc = find(series, "router.service", "web.1")
			if svc != nil && svc.Count >= float64(len(values)) || time.Now().After(deadline) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if svc == nil || svc.Count != float64(len(values)) {
			t.Errorf("node %d, app %s: router.service counted %v lines, want %d", i+1, app, svc, len(values))
			continue
		}
		for _, q := range []struct {
			q   float64
			got float64
		}{{0.5, svc.P50}, {0.95, svc.P95}, {0.99, svc.P99}} {
			// The sketch answers within 1% of the value at rank q·(n-1)
			// (DDSketch's rank); the nearest-rank value is at ceil(q·n)-1:
			// either, within 1%, is right.
			lo, hi := int(math.Floor(q.q*float64(len(values)-1))), int(math.Ceil(q.q*float64(len(values))))-1
			if !slices.ContainsFunc(values[lo:hi+1], func(want float64) bool { return math.Abs(q.got-want) <= 0.0101*want }) {
				t.Errorf("node %d, app %s: p%v = %v, want one of %v within 1%%", i+1, app, q.q*100, q.got, values[lo:hi+1])
			}
		}
	}
}

// checkOwnership: drains list and /metrics say which node delivers what.
func checkOwnership(t *testing.T, c *clusterNodes) {
	t.Helper()
	out, errOut, code := c.nodes[2].cli("drains", "list")
	if code != 0 {
		t.Fatalf("drains list: exit %d %s", code, errOut)
	}
	// A sink may show a lag of a few seconds (the metrics acknowledge at each
	// publish): what matters here is the node named.
	for _, want := range []string{`archive=(ok|lag \S+) \(node n3\)`, `cloudwatch=(ok|lag \S+) \(node n[123]\)`, `metrics=(ok|lag \S+) \(node n[123]\)`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("drains list does not match %q:\n%s", want, out)
		}
	}
	owners := 0
	for _, s := range c.nodes {
		owners += int(s.metric("drainpipe_cluster_lease_owner", `lease="cloudwatch.`))
	}
	if owners != 3*8 {
		t.Errorf("the nodes see %d owners of CloudWatch's partitions, want 8 each", owners)
	}
	for i, s := range c.nodes {
		if v := s.metric("drainpipe_cluster_node", `node="n1"`); v != 1 {
			t.Errorf("node %d sees n1 live=%v", i+1, v)
		}
	}
}

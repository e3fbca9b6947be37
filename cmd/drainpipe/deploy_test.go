package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"go.yaml.in/yaml/v3"
)

// The deployment examples of deploy/ are read as docker compose and Kubernetes
// would read them, and what they say is checked against the real parts: the NATS
// servers' configuration through nats-server's own parser, drainpipe's command
// lines (with their environment) through serve's flag set.

const deployDir = "../../deploy"

// composeFile is what the test reads of deploy/compose/docker-compose.yml.
type composeFile struct {
	Services map[string]struct {
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		StopSignal  string            `yaml:"stop_signal"`
		Secrets     []struct {
			Source string `yaml:"source"`
			Target string `yaml:"target"`
		} `yaml:"secrets"`
	} `yaml:"services"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

func TestDeployCompose(t *testing.T) {
	dir := filepath.Join(deployDir, "compose")
	var f composeFile
	readYAML(t, filepath.Join(dir, "docker-compose.yml"), &f)
	var natsHosts, nodes []string
	for name, s := range f.Services {
		if strings.HasPrefix(name, "nats-") {
			natsHosts = append(natsHosts, name)
			conf := mountedFrom(t, s.Volumes, "/etc/nats/nats.conf")
			if !slices.Equal(s.Command, []string{"-c", "/etc/nats/nats.conf"}) {
				t.Errorf("%s: command %q does not read its configuration", name, s.Command)
			}
			if s.StopSignal != "SIGUSR2" {
				t.Errorf("%s: stop_signal %q, want SIGUSR2 (lame duck mode)", name, s.StopSignal)
			}
			checkNATSConf(t, filepath.Join(dir, conf), map[string]string{"SERVER_NAME": s.Environment["SERVER_NAME"]}, name)
		}
	}
	slices.Sort(natsHosts)
	if len(natsHosts) != 3 {
		t.Fatalf("%d NATS servers (%q), want 3", len(natsHosts), natsHosts)
	}
	for name, s := range f.Services {
		if !strings.HasPrefix(name, "drainpipe-") {
			continue
		}
		nodes = append(nodes, name)
		t.Run(name, func(t *testing.T) {
			c := parseServe(t, s.Command, s.Environment)
			checkNode(t, c, name, natsHosts)
			if mountedFrom(t, s.Volumes, c.data) != name {
				t.Errorf("--data %s is not the node's own volume: %q", c.data, s.Volumes)
			}
			if len(s.Secrets) != 1 || s.Secrets[0].Target != filepath.Join(c.data, "admin-token") || f.Secrets[s.Secrets[0].Source].File == "" {
				t.Errorf("the admin token is not given to %s as %s: %+v", name, filepath.Join(c.data, "admin-token"), s.Secrets)
			}
		})
	}
	slices.Sort(nodes)
	if len(nodes) != 3 {
		t.Fatalf("%d drainpipe nodes, want 3", len(nodes))
	}
	lb, ok := f.Services["lb"]
	if !ok {
		t.Fatal("no load balancer (lb)")
	}
	checkHAProxy(t, filepath.Join(dir, mountedFrom(t, lb.Volumes, "/usr/local/etc/haproxy/haproxy.cfg")), nodes)
}

// mountedFrom returns the source of the volume mounted at target.
func mountedFrom(t *testing.T, volumes []string, target string) string {
	t.Helper()
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == target {
			return parts[0]
		}
	}
	t.Fatalf("nothing mounted at %s: %q", target, volumes)
	return ""
}

// checkNATSConf parses a NATS server's configuration as nats-server does, with
// env as its environment, and checks what drainpipe relies on.
func checkNATSConf(t *testing.T, path string, env map[string]string, name string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if opts.ServerName != name {
		t.Errorf("%s: server_name %q, want %q", path, opts.ServerName, name)
	}
	if !opts.JetStream || !opts.SyncAlways {
		t.Errorf("%s: jetstream %v, sync_interval always %v: want both", path, opts.JetStream, opts.SyncAlways)
	}
	if opts.Port != 4222 || opts.HTTPPort != 8222 || opts.Cluster.Port != 6222 || opts.Cluster.Name == "" {
		t.Errorf("%s: ports client %d, monitor %d, cluster %d (%q)", path, opts.Port, opts.HTTPPort, opts.Cluster.Port, opts.Cluster.Name)
	}
	if len(opts.Routes) != 3 {
		t.Errorf("%s: %d routes, want the 3 servers", path, len(opts.Routes))
	}
	for _, r := range opts.Routes {
		if r.Port() != "6222" {
			t.Errorf("%s: route %s", path, r)
		}
	}
}

// parseServe parses a `drainpipe serve` command line with its environment
// through serve's own flag set.
func parseServe(t *testing.T, command []string, env map[string]string) serveConfig {
	t.Helper()
	if len(command) == 0 || command[0] != "serve" {
		t.Fatalf("command %q: want serve ...", command)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var stderr bytes.Buffer
	c, err := serveFlags(command[1:], &stderr)
	if err != nil {
		t.Fatalf("drainpipe %q: %v\n%s", command, err, stderr.String())
	}
	return c
}

// checkNode checks a node's configuration: its name, the three NATS servers of
// natsHosts (clients and monitoring), HTTP on 8080.
func checkNode(t *testing.T, c serveConfig, node string, natsHosts []string) {
	t.Helper()
	if c.cluster.node != node {
		t.Errorf("node name %q, want %q", c.cluster.node, node)
	}
	if c.listen != ":8080" {
		t.Errorf("listen %q, want :8080", c.listen)
	}
	if got := hosts(t, strings.Split(c.natsURL, ","), "4222"); !slices.Equal(got, natsHosts) {
		t.Errorf("--nats servers %q, want %q", got, natsHosts)
	}
	if got := hosts(t, c.cluster.monitor, "8222"); !slices.Equal(got, natsHosts) {
		t.Errorf("--nats-monitor servers %q, want %q (the fsync check at start)", got, natsHosts)
	}
	if !c.cloudwatch {
		t.Error("CloudWatch is off")
	}
}

// hosts returns the sorted hosts of urls, which must all use port.
func hosts(t *testing.T, urls []string, port string) []string {
	t.Helper()
	var out []string
	for _, s := range urls {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.Port() != port {
			t.Errorf("URL %q: want port %s", s, port)
			continue
		}
		out = append(out, u.Hostname())
	}
	slices.Sort(out)
	return out
}

// checkHAProxy: the load balancer checks /readyz and sends to every node.
func checkHAProxy(t *testing.T, path string, nodes []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var servers []string
	check := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 0 || strings.HasPrefix(fields[0], "#"):
		case fields[0] == "server" && len(fields) >= 3:
			host, port, _ := strings.Cut(fields[2], ":")
			if host != fields[1] || port != "8080" {
				t.Errorf("%s: server %q", path, fields)
			}
			servers = append(servers, host)
		case slices.Equal(fields, []string{"option", "httpchk", "GET", "/readyz"}):
			check = true
		}
	}
	slices.Sort(servers)
	if !slices.Equal(servers, nodes) {
		t.Errorf("%s: servers %q, want %q", path, servers, nodes)
	}
	if !check {
		t.Errorf("%s: no option httpchk GET /readyz", path)
	}
}

// k8sObject is what the test reads of a Kubernetes object.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Replicas    int               `yaml:"replicas"`
		ServiceName string            `yaml:"serviceName"`
		ClusterIP   string            `yaml:"clusterIP"`
		Selector    map[string]any    `yaml:"selector"`
		Ports       []k8sPort         `yaml:"ports"`
		Template    k8sPodTemplate    `yaml:"template"`
		Claims      []k8sObjectHeader `yaml:"volumeClaimTemplates"`
		// A NetworkPolicy's.
		PodSelector k8sLabelSelector `yaml:"podSelector"`
		PolicyTypes []string         `yaml:"policyTypes"`
		Ingress     []struct {
			From []struct {
				PodSelector k8sLabelSelector `yaml:"podSelector"`
			} `yaml:"from"`
			Ports []struct {
				Port int `yaml:"port"`
			} `yaml:"ports"`
		} `yaml:"ingress"`
	} `yaml:"spec"`
}

type k8sLabelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

// allowed is, per port, the apps (app.kubernetes.io/name) a NetworkPolicy lets in.
func (o k8sObject) allowed() map[int][]string {
	out := map[int][]string{}
	for _, in := range o.Spec.Ingress {
		for _, p := range in.Ports {
			for _, f := range in.From {
				out[p.Port] = append(out[p.Port], f.PodSelector.MatchLabels["app.kubernetes.io/name"])
			}
		}
	}
	for _, apps := range out {
		slices.Sort(apps)
	}
	return out
}

type k8sObjectHeader struct {
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
}

type k8sPort struct {
	Name          string `yaml:"name"`
	Port          int    `yaml:"port"`
	ContainerPort int    `yaml:"containerPort"`
	TargetPort    string `yaml:"targetPort"`
}

type k8sPodTemplate struct {
	Metadata struct {
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		Containers []k8sContainer `yaml:"containers"`
		Volumes    []struct {
			Name      string            `yaml:"name"`
			ConfigMap map[string]string `yaml:"configMap"`
			Secret    map[string]string `yaml:"secret"`
		} `yaml:"volumes"`
	} `yaml:"spec"`
}

type k8sContainer struct {
	Args []string `yaml:"args"`
	Env  []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom struct {
			FieldRef struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports          []k8sPort `yaml:"ports"`
	ReadinessProbe struct {
		HTTPGet struct {
			Path string `yaml:"path"`
			Port string `yaml:"port"`
		} `yaml:"httpGet"`
	} `yaml:"readinessProbe"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
	} `yaml:"volumeMounts"`
}

// env is the container's environment in the pod named pod.
func (c k8sContainer) env(pod string) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		out[e.Name] = e.Value
		if e.ValueFrom.FieldRef.FieldPath == "metadata.name" {
			out[e.Name] = pod
		}
	}
	return out
}

// mount is where the volume named name is mounted, and its subPath.
func (c k8sContainer) mount(name string) (string, string) {
	for _, m := range c.VolumeMounts {
		if m.Name == name {
			return m.MountPath, m.SubPath
		}
	}
	return "", ""
}

func TestDeployKubernetes(t *testing.T) {
	dir := filepath.Join(deployDir, "kubernetes")
	objs := map[string]k8sObject{} // by kind/name
	for _, file := range []string{"nats.yaml", "drainpipe.yaml"} {
		for _, o := range readYAMLDocs(t, filepath.Join(dir, file)) {
			objs[o.Kind+"/"+o.Metadata.Name] = o
		}
	}
	nats := object(t, objs, "StatefulSet/nats")
	if nats.Spec.Replicas != 3 {
		t.Errorf("NATS: %d replicas, want 3", nats.Spec.Replicas)
	}
	if headless := object(t, objs, "Service/"+nats.Spec.ServiceName); headless.Spec.ClusterIP != "None" {
		t.Errorf("NATS's service %s is not headless: the routes need the pods' names", nats.Spec.ServiceName)
	}
	var natsHosts []string
	for i := range nats.Spec.Replicas {
		natsHosts = append(natsHosts, nats.Metadata.Name+"-"+string(rune('0'+i))+"."+nats.Spec.ServiceName)
	}
	natsC := nats.Spec.Template.Spec.Containers[0]
	cm := ""
	for _, v := range nats.Spec.Template.Spec.Volumes {
		if mp, _ := natsC.mount(v.Name); mp == "/etc/nats" {
			cm = v.ConfigMap["name"]
		}
	}
	conf := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(conf, []byte(object(t, objs, "ConfigMap/"+cm).Data["nats.conf"]), 0o600); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(natsC.Args, "/etc/nats/nats.conf") {
		t.Errorf("NATS args %q do not read /etc/nats/nats.conf", natsC.Args)
	}
	checkNATSConf(t, conf, natsC.env("nats-0"), "nats-0")
	if len(nats.Spec.Claims) == 0 {
		t.Error("NATS has no volume claims: JetStream's store would not survive its pods")
	}
	// NATS is a trust boundary: drainpipe's pods and the servers alone reach it.
	np := object(t, objs, "NetworkPolicy/nats")
	if !maps.Equal(np.Spec.PodSelector.MatchLabels, nats.Spec.Template.Metadata.Labels) || !slices.Equal(np.Spec.PolicyTypes, []string{"Ingress"}) {
		t.Errorf("NetworkPolicy nats selects %v (%v), not NATS's pods' ingress", np.Spec.PodSelector.MatchLabels, np.Spec.PolicyTypes)
	}
	want := map[int][]string{4222: {"drainpipe"}, 8222: {"drainpipe"}, 6222: {"nats"}}
	if got := np.allowed(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("NetworkPolicy nats lets in %v, want %v", got, want)
	}

	dp := object(t, objs, "StatefulSet/drainpipe")
	if name := dp.Spec.Template.Metadata.Labels["app.kubernetes.io/name"]; name != "drainpipe" {
		t.Errorf("drainpipe's pods are %q, which NetworkPolicy nats does not let in", name)
	}
	if dp.Spec.Replicas < 2 {
		t.Errorf("drainpipe: %d replicas", dp.Spec.Replicas)
	}
	c := dp.Spec.Template.Spec.Containers[0]
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("drainpipe's readiness probe: %q, want /readyz", c.ReadinessProbe.HTTPGet.Path)
	}
	cfg := parseServe(t, c.Args, c.env("drainpipe-0"))
	slices.Sort(natsHosts)
	checkNode(t, cfg, "drainpipe-0", natsHosts)
	if mp, _ := c.mount(dp.Spec.Claims[0].Metadata.Name); mp != cfg.data {
		t.Errorf("--data %s is not the node's volume claim (mounted at %s)", cfg.data, mp)
	}
	if mp, sub := c.mount("admin-token"); mp != filepath.Join(cfg.data, "admin-token") || sub != "admin-token" {
		t.Errorf("the admin token secret is mounted at %s (%s), want %s", mp, sub, filepath.Join(cfg.data, "admin-token"))
	}
	svc := object(t, objs, "Service/drainpipe")
	for k, v := range svc.Spec.Selector {
		if dp.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("Service drainpipe selects %s=%v, not drainpipe's pods", k, v)
		}
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != c.ReadinessProbe.HTTPGet.Port ||
		len(c.Ports) != 1 || c.Ports[0].Name != svc.Spec.Ports[0].TargetPort || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("Service drainpipe's port %+v does not reach the container's %+v", svc.Spec.Ports, c.Ports)
	}
}

func object(t *testing.T, objs map[string]k8sObject, key string) k8sObject {
	t.Helper()
	o, ok := objs[key]
	if !ok {
		t.Fatalf("no %s", key)
	}
	return o
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readYAMLDocs reads every document of a Kubernetes manifest.
func readYAMLDocs(t *testing.T, path string) []k8sObject {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []k8sObject
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var o k8sObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("%s: document %d: %v", path, len(out)+1, err)
		}
		out = append(out, o)
	}
}

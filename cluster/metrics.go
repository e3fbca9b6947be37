package cluster

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the cluster's Prometheus metrics: the registry and the leases are
// read from the watches' caches when scraped.
type metrics struct {
	c                 *Cluster
	heartbeatFailures prometheus.Counter
	acquired          *prometheus.CounterVec
	nodeDesc          *prometheus.Desc
	leaseDesc         *prometheus.Desc
}

func newMetrics(reg prometheus.Registerer, c *Cluster) *metrics {
	m := &metrics{
		c: c,
		heartbeatFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_cluster_heartbeat_failures_total", Help: "Heartbeats this node failed to write to the registry."}),
		acquired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_cluster_leases_taken_total", Help: "Leases this node took (a part of a shared sink, the purge), by group."}, []string{"group"}),
		nodeDesc: prometheus.NewDesc("drainpipe_cluster_node", "The cluster's nodes as this node sees them: 1 when live, 0 when stopped or silent.",
			[]string{"node", "sinks"}, nil),
		leaseDesc: prometheus.NewDesc("drainpipe_cluster_lease_owner", "Which node owns which lease (1 per held lease), as this node sees it.",
			[]string{"lease", "node"}, nil),
	}
	if reg != nil {
		reg.MustRegister(m.heartbeatFailures, m.acquired, m)
	}
	return m
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.nodeDesc
	ch <- m.leaseDesc
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	for _, n := range m.c.Nodes() {
		v := 0.0
		if n.Live {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(m.nodeDesc, prometheus.GaugeValue, v, n.Name, strings.Join(n.Sinks, ","))
	}
	for key, node := range m.c.Owners() {
		ch <- prometheus.MustNewConstMetric(m.leaseDesc, prometheus.GaugeValue, 1, key, node)
	}
}

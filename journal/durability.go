package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// On an external server, "a 2xx means durable" holds only when the journal is
// kept by three servers (R3: a batch is acknowledged once a majority stored it)
// that each fsync every write (sync_interval: always); by default a NATS server
// fsyncs every two minutes, so a power cut of a majority loses what the last two
// minutes acknowledged. The stream tells its replicas; a client connection cannot
// see a server's sync setting, the monitoring endpoint (/varz) can.

// checkDurability warns about what would break that promise: a stream with fewer
// than three replicas, replicas that are not current, and servers that do not
// fsync every write (through MonitorURLs, when given).
func (j *Journal) checkDurability(ctx context.Context) {
	info, err := j.stream.Info(ctx)
	if err != nil {
		j.log.Warn("cannot read the journal stream's replicas", "err", err)
		return
	}
	if r := info.Config.Replicas; r < 3 {
		j.log.Warn("THE JOURNAL IS NOT REPLICATED: one NATS server's disk holds every acknowledged batch; run a three-server cluster (R3)",
			"replicas", r, "cluster", j.nc.ConnectedClusterName())
	}
	if c := info.Cluster; c != nil {
		for _, p := range c.Replicas {
			if !p.Current || p.Offline {
				j.log.Warn("a replica of the journal is behind or offline", "server", p.Name, "current", p.Current, "offline", p.Offline, "lag", p.Lag)
			}
		}
	}
	if len(j.cfg.MonitorURLs) == 0 {
		j.log.Warn("cannot tell whether the NATS servers fsync every write (a client connection does not show it): give their monitoring URLs (--nats-monitor) or check each one's /varz for \"sync_always\": true")
		return
	}
	for _, u := range j.cfg.MonitorURLs {
		name, always, interval, err := serverSync(ctx, u)
		switch {
		case err != nil:
			j.log.Warn("cannot read a NATS server's sync setting", "monitor", u, "err", err)
		case !always:
			j.log.Warn("A NATS SERVER DOES NOT FSYNC EVERY WRITE: a power cut may lose batches it acknowledged; set sync_interval: always in its jetstream block",
				"server", name, "monitor", u, "sync_interval", interval)
		default:
			j.log.Info("NATS server fsyncs every write", "server", name)
		}
	}
}

// varz is the part of a server's /varz that says how it syncs.
type varz struct {
	Name      string `json:"server_name"`
	JetStream struct {
		Config *struct {
			SyncInterval time.Duration `json:"sync_interval"`
			SyncAlways   bool          `json:"sync_always"`
		} `json:"config"`
	} `json:"jetstream"`
}

// serverSync reads a server's sync setting from its monitoring endpoint.
func serverSync(ctx context.Context, monitor string) (name string, always bool, interval time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(monitor, "/")+"/varz", nil)
	if err != nil {
		return "", false, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", false, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", false, 0, fmt.Errorf("GET /varz: %s", resp.Status)
	}
	var v varz
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&v); err != nil {
		return "", false, 0, fmt.Errorf("read /varz: %w", err)
	}
	if v.JetStream.Config == nil {
		return v.Name, false, 0, fmt.Errorf("server %s runs no JetStream", v.Name)
	}
	return v.Name, v.JetStream.Config.SyncAlways, v.JetStream.Config.SyncInterval, nil
}

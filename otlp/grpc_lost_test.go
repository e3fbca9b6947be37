package otlp_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/drains"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/drainpipe/drainpipe/otlp"
)

// lostStore makes a drain store that lost a drain, as a node whose journal
// directory was lost finds it at start: the drain forgotten's secret, and the store
// reopened in a new journal with the same state file, holding the drain known.
func lostStore(t *testing.T) (j *journal.Journal, ds *drains.Store, forgotten, known string) {
	t.Helper()
	ctx, dir := t.Context(), t.TempDir()
	state := filepath.Join(dir, "drains.state")
	open := func(journalDir string) (*journal.Journal, *drains.Store) {
		j, err := journal.Open(ctx, journal.Config{Dir: filepath.Join(dir, journalDir), Sinks: []string{"grpc-test"}})
		if err != nil {
			t.Fatal(err)
		}
		ds, err := drains.Open(ctx, drains.Config{JetStream: j.JetStream(), StateFile: state})
		if err != nil {
			j.Close()
			t.Fatal(err)
		}
		return j, ds
	}
	addDrain := func(ds *drains.Store, app string) string {
		d, secret, err := drainpipe.NewDrain(app, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := ds.Add(ctx, d); err != nil {
			t.Fatal(err)
		}
		return secret
	}
	j1, ds1 := open("journal")
	forgotten = addDrain(ds1, "forgotten")
	ds1.Close()
	j1.Close()
	j, ds = open("journal-new") // the old journal directory is lost
	t.Cleanup(func() { ds.Close(); j.Close() })
	if err := ds.Health(); !errors.Is(err, drains.ErrLost) {
		t.Fatalf("drain store health: %v, want lost", err)
	}
	return j, ds, forgotten, addDrain(ds, "known")
}

// TestGRPCWhileDrainStoreLost: while the drain store lost drains, a token it does
// not know may be a good one it forgot: Unavailable with a RetryInfo, which
// exporters retry, not Unauthenticated, which they drop, as /logs answers 503, not
// 401; a drain it knows is served.
func TestGRPCWhileDrainStoreLost(t *testing.T) {
	t.Parallel()
	j, ds, forgotten, known := lostStore(t)
	rc, err := otlp.NewReceiver(otlp.ReceiverConfig{Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	srv := otlp.NewGRPCServer(otlp.GRPCConfig{Receiver: rc, Drains: ds})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	e := &grpcEnv{addr: ln.Addr().String(), j: j}
	cctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = j.Consume(cctx, e, journal.ConsumeOptions{}) }()
	t.Cleanup(func() { cancel(); <-done })

	for name, secret := range map[string]string{"a forgotten drain's token": forgotten, "no token": ""} {
		client, ctx := pdataClient(t, e.addr, secret)
		_, err := client.Export(ctx, logsRequest(1, 10))
		if status.Code(err) != codes.Unavailable || retryDelay(err) != otlp.LostStoreRetry {
			t.Fatalf("%s, to a lost store: %v (retry after %v), want Unavailable with a RetryInfo of %v",
				name, err, retryDelay(err), otlp.LostStoreRetry)
		}
	}
	if err := e.emit(t, map[string]string{"x-drainpipe-token": known}, "served"); err != nil {
		t.Fatalf("a drain the store knows: %v", err)
	}
	if got := e.wait(t, 1); len(got) != 1 || got[0].App != "known" || got[0].Message != "served" {
		t.Fatalf("journaled %+v, want only known's record", got)
	}
}

package main_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
)

// TestClusterChangesReachEveryNode: a drain added, its settings changed (its
// CloudWatch group, its Heroku registration) and the drain removed on one node
// are seen by another within a second: each node watches the cluster's drain
// bucket, it does not poll it.
func TestClusterChangesReachEveryNode(t *testing.T) {
	t.Parallel()
	nats := startNATS(t, 1)
	c := startDrainpipeNodes(t, nats, 2, nil)
	token, err := os.ReadFile(filepath.Join(c.nodes[0].data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	a := api.NewClient(c.nodes[0].url, strings.TrimSpace(string(token)))
	b := api.NewClient(c.nodes[1].url, strings.TrimSpace(string(token)))
	ctx := t.Context()

	d, err := a.AddDrain(ctx, api.AddDrainRequest{App: "watched"})
	if err != nil {
		t.Fatal(err)
	}
	onB := c.drainURL(d.URL, 1)
	line := "<190>1 2026-11-22T10:00:00.000000+00:00 host app web.1 - hello"
	body := func() *strings.Reader { return strings.NewReader(fmt.Sprintf("%d %s", len(line), line)) }
	seen(t, "a drain added on n1, accepted by n2", func() bool {
		return post(t, onB, body(), nil) == http.StatusNoContent
	})

	if _, err := a.AddDrain(ctx, api.AddDrainRequest{App: "watched", CloudWatchGroup: "/custom/watched"}); err != nil {
		t.Fatal(err)
	}
	seen(t, "a CloudWatch group set on n1, on n2", func() bool {
		got, err := b.Drain(ctx, "watched")
		return err == nil && got.CloudWatchGroup == "/custom/watched"
	})

	h := drainpipe.HerokuDrain{ID: "5a1c6b9e-8f8f-4a38-9d0e-0a4a4b9c8f11", Token: "d.7d0e9f3c-1b2a-4c5d-8e9f-0a1b2c3d4e5f"}
	if _, err := a.SetHeroku(ctx, "watched", h); err != nil {
		t.Fatal(err)
	}
	seen(t, "a Heroku registration recorded on n1, on n2", func() bool {
		got, err := b.Drain(ctx, "watched")
		return err == nil && got.Heroku != nil && got.Heroku.Token == h.Token
	})

	if _, err := a.RemoveDrain(ctx, "watched"); err != nil {
		t.Fatal(err)
	}
	seen(t, "a drain removed on n1, refused by n2", func() bool {
		return post(t, onB, body(), nil) == http.StatusUnauthorized
	})
}

// seen fails the test unless cond holds within a second of the change that
// was just acknowledged, and logs how long it took.
func seen(t *testing.T, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > time.Second {
			t.Fatalf("%s: not after %v", what, time.Since(start))
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("%s after %v", what, time.Since(start).Round(time.Millisecond))
}

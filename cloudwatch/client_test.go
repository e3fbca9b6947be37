package cloudwatch_test

import (
	"context"
	"testing"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/cloudwatch"
)

// TestNewClientDefaultChain: credentials and endpoint come from the SDK's default
// chain, so AWS_ENDPOINT_URL_CLOUDWATCH_LOGS points the sink at any endpoint.
func TestNewClientDefaultChain(t *testing.T) {
	e := newEnv(t)
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", e.url)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	c, err := cloudwatch.NewClient(context.Background(), "eu-west-1", "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := cloudwatch.New(cloudwatch.Config{Client: c, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := lines("a", recent(), 0, 3)
	if err := s.Write(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), []drainpipe.Entry{entry(1, recs...)}); err != nil {
		t.Fatal(err)
	}
	e.wantMessages(t, "/heroku/a", day(recent()), recs)
}

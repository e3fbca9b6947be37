package logplextest_test

import (
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/internal/logplextest"
	"github.com/drainpipe/drainpipe/internal/testfixtures"
	"github.com/drainpipe/drainpipe/logplex"
)

// TestRecent: every frame of the realistic fixture keeps its message and gets
// a time within the window asked for, in order, with octet counts intact.
func TestRecent(t *testing.T) {
	body := testfixtures.Read(t, "heroku-drain-realistic.logplex")
	now := time.Now().Truncate(time.Second)
	got := logplextest.Recent(body, now, time.Second)
	if len(got) != len(body) {
		t.Fatalf("length %d, want %d", len(got), len(body))
	}
	old, _ := logplex.AppendRecords(nil, body, logplex.Options{Received: now})
	recs, st := logplex.AppendRecords(nil, got, logplex.Options{Received: now})
	if len(recs) != 38 || st.Malformed != 0 || st.BadTimestamps != 0 {
		t.Fatalf("%d records, %+v", len(recs), st)
	}
	for i, r := range recs {
		if r.Message != old[i].Message || r.Dyno != old[i].Dyno {
			t.Errorf("frame %d changed: %q", i, r.Message)
		}
		want := now.Add(-time.Duration(len(recs)-1-i) * time.Second)
		if d := r.Time.Sub(want); d < 0 || d >= time.Second {
			t.Errorf("frame %d at %v, want within a second after %v", i, r.Time, want)
		}
	}
}

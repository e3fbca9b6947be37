package journal

import (
	"testing"
	"time"
)

func TestWrittenTimeOf(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	var w written
	// sequences 10–13 on two partitions, then 15 (14 was another node's)
	for _, s := range []struct {
		seq  uint64
		subj string
	}{{10, "a"}, {11, "b"}, {12, "b"}, {13, "a"}, {15, "a"}} {
		w.add(s.seq, s.subj, at(int(s.seq)))
	}
	tests := []struct {
		name    string
		seq     uint64
		subject string
		want    time.Time
		ok      bool
	}{
		{"the message itself", 11, "", at(11), true},
		{"the partition's next", 11, "a", at(13), true},
		{"older than remembered", 9, "", time.Time{}, false},
		{"another node's in between", 14, "a", time.Time{}, false},
		{"none of the partition yet", 12, "c", time.Time{}, false},
		{"beyond the newest", 16, "", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := w.timeOf(tt.seq, tt.subject)
			if ok != tt.ok || (ok && !got.Equal(tt.want)) {
				t.Errorf("timeOf(%d, %q) = %v, %v; want %v, %v", tt.seq, tt.subject, got, ok, tt.want, tt.ok)
			}
		})
	}
	t.Run("forgets the oldest", func(t *testing.T) {
		var w written
		for s := range uint64(writtenSize + 10) {
			w.add(s+1, "a", at(int(s)))
		}
		if _, ok := w.timeOf(5, ""); ok {
			t.Error("a message older than the ring is still known")
		}
		if got, ok := w.timeOf(writtenSize+10, ""); !ok || !got.Equal(at(writtenSize+9)) {
			t.Errorf("the newest: %v, %v", got, ok)
		}
	})
}

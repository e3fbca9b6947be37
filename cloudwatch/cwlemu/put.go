package cwlemu

import (
	"fmt"
	"time"
)

const (
	maxBatchBytes  = 1_048_576
	maxEventBytes  = 1_048_576
	eventOverhead  = 26
	maxBatchEvents = 10_000
	maxSpan        = 24 * time.Hour
	maxAhead       = 2 * time.Hour
	maxAge         = 14 * 24 * time.Hour
)

type inputEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

type putLogEventsInput struct {
	groupName
	LogStreamName string       `json:"logStreamName"`
	LogEvents     []inputEvent `json:"logEvents"`
	SequenceToken *string      `json:"sequenceToken"`
}

type rejectedInfo struct {
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
}

type putLogEventsOutput struct {
	NextSequenceToken     string        `json:"nextSequenceToken"`
	RejectedLogEventsInfo *rejectedInfo `json:"rejectedLogEventsInfo,omitempty"`
}

// putLogEvents stores a batch, applying the service's rules in this order: model
// validation, per-event size, batch size, chronological order, the group and stream
// existing, then the time windows, whose rejected events are reported, not failed.
func (s *Server) putLogEvents(_ *call, in *putLogEventsInput) (any, *apiError) {
	if err := validatePut(in); err != nil {
		return nil, err
	}
	if err := checkSizes(in.LogEvents); err != nil {
		return nil, err
	}
	for i := 1; i < len(in.LogEvents); i++ {
		if *in.LogEvents[i].Timestamp < *in.LogEvents[i-1].Timestamp {
			return nil, invalidParameter("Log events in a single PutLogEvents request must be in chronological order.")
		}
	}
	g, st, aerr := s.lockStream(in.LogGroupName, in.LogStreamName)
	if aerr != nil {
		return nil, aerr
	}
	defer s.mu.Unlock()
	now := s.now()
	w := classify(in.LogEvents, now, g.retention)
	if w.lo < w.hi {
		first, last := *in.LogEvents[w.lo].Timestamp, *in.LogEvents[w.hi-1].Timestamp
		if time.Duration(last-first)*time.Millisecond > maxSpan {
			return nil, invalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
		}
	}
	s.store(st, in.LogEvents[w.lo:w.hi], now.UnixMilli())
	return &putLogEventsOutput{NextSequenceToken: s.nextID(), RejectedLogEventsInfo: w.rejected()}, nil
}

// validatePut applies the model's constraints on the request members.
func validatePut(in *putLogEventsInput) *apiError {
	var v violations
	checkGroupName(&v, in.LogGroupName, "logGroupName")
	checkStreamName(&v, in.LogStreamName, "logStreamName")
	switch n := len(in.LogEvents); {
	case in.LogEvents == nil:
		v.addNull("logEvents")
	case n < 1:
		v.add("[]", "logEvents", "Member must have length greater than or equal to 1")
	case n > maxBatchEvents:
		v.add(fmt.Sprintf("[%d events]", n), "logEvents", fmt.Sprintf("Member must have length less than or equal to %d", maxBatchEvents))
	}
	for i, e := range in.LogEvents {
		member := fmt.Sprintf("logEvents.%d.member.", i+1)
		if e.Timestamp == nil {
			v.addNull(member + "timestamp")
		}
		switch {
		case e.Message == nil:
			v.addNull(member + "message")
		case *e.Message == "":
			v.add("", member+"message", "Member must have length greater than or equal to 1")
		}
	}
	return v.err()
}

// checkSizes applies the per-event limit, then the batch limit, each counting 26
// bytes per event on top of the message's UTF-8 bytes. The per-event check comes
// first because the two limits are equal: the other order could never report it.
func checkSizes(evs []inputEvent) *apiError {
	total := 0
	for _, e := range evs {
		n := len(*e.Message) + eventOverhead
		if n > maxEventBytes {
			return invalidParameter(fmt.Sprintf("Log event too large: %d bytes exceeds limit of %d", n, maxEventBytes))
		}
		total += n
	}
	if total > maxBatchBytes {
		return invalidParameter(fmt.Sprintf("Upload too large: %d bytes exceeds limit of %d", total, maxBatchBytes))
	}
	return nil
}

// window is the classification of a chronological batch: events [0, tooOld) are
// older than 14 days, [tooOld, lo) older than the retention, [lo, hi) stored, and
// [hi, n) more than 2 hours ahead.
type window struct {
	tooOld, lo, hi, n int
}

func classify(evs []inputEvent, now time.Time, retentionDays int) window {
	oldest := now.Add(-maxAge).UnixMilli()
	expired := oldest
	if retentionDays > 0 {
		expired = max(oldest, now.AddDate(0, 0, -retentionDays).UnixMilli())
	}
	newest := now.Add(maxAhead).UnixMilli()
	w := window{n: len(evs), hi: len(evs)}
	for w.tooOld < w.n && *evs[w.tooOld].Timestamp < oldest {
		w.tooOld++
	}
	w.lo = w.tooOld
	for w.lo < w.n && *evs[w.lo].Timestamp < expired {
		w.lo++
	}
	for w.hi > w.lo && *evs[w.hi-1].Timestamp > newest {
		w.hi--
	}
	return w
}

// rejected is the rejectedLogEventsInfo for the window, nil when all were stored.
func (w window) rejected() *rejectedInfo {
	var r rejectedInfo
	set := false
	if w.tooOld > 0 {
		r.TooOldLogEventEndIndex, set = &w.tooOld, true
	}
	if w.lo > w.tooOld {
		r.ExpiredLogEventEndIndex, set = &w.lo, true
	}
	if w.hi < w.n {
		r.TooNewLogEventStartIndex, set = &w.hi, true
	}
	if !set {
		return nil
	}
	return &r
}

// store appends events to the stream. Callers hold s.mu.
func (s *Server) store(st *stream, evs []inputEvent, ingest int64) {
	for _, e := range evs {
		ts := *e.Timestamp
		if len(st.events) == 0 || ts < st.firstEvent {
			st.firstEvent = ts
		}
		st.lastEvent = max(st.lastEvent, ts)
		st.events = append(st.events, event{ts: ts, ingest: ingest, msg: *e.Message, id: s.nextID()})
		st.storedBytes += int64(len(*e.Message))
	}
	if len(evs) > 0 {
		st.lastIngest = ingest
	}
}

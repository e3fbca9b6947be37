package journal

import (
	"context"
	"time"
)

// SinkStatus is how one sink's delivery goes, for people (`drainpipe drains list`).
type SinkStatus struct {
	// Lag is the age of the oldest line the sink has not delivered, 0 when caught up.
	Lag time.Duration
	// LastError is what the sink's last Write failed with, when no Write has
	// succeeded since, and LastErrorAt when; empty while its writes succeed.
	LastError   string
	LastErrorAt time.Time
}

// writeError is a sink's failed Write.
type writeError struct {
	msg string
	at  time.Time
}

// SinkStatus reports the named sink's lag and its last failed Write.
func (j *Journal) SinkStatus(ctx context.Context, sink string) (SinkStatus, error) {
	return j.ConsumerStatus(ctx, sink, sink)
}

// ConsumerStatus reports the lag of one of sink's consumers (a partition, a
// replica: see PartitionConsumer and ReplicaConsumer), and the sink's last failed
// Write on this node.
func (j *Journal) ConsumerStatus(ctx context.Context, consumer, sink string) (SinkStatus, error) {
	lag, err := j.Lag(ctx, consumer)
	if err != nil {
		return SinkStatus{}, err
	}
	j.metrics.mu.Lock()
	we := j.metrics.lastErrors[sink]
	j.metrics.mu.Unlock()
	return SinkStatus{Lag: lag, LastError: we.msg, LastErrorAt: we.at}, nil
}

func (m *metrics) writeFailed(sink string, err error) {
	m.sinkErrors.WithLabelValues(sink).Inc()
	m.mu.Lock()
	m.lastErrors[sink] = writeError{msg: err.Error(), at: time.Now()}
	m.mu.Unlock()
}

func (m *metrics) writeSucceeded(sink string) {
	m.mu.Lock()
	delete(m.lastErrors, sink)
	m.mu.Unlock()
}

// LastWriteError is the named sink's last failed Write on this node, while no
// Write has succeeded since ("" when its writes succeed).
func (j *Journal) LastWriteError(sink string) (string, time.Time) {
	j.metrics.mu.Lock()
	defer j.metrics.mu.Unlock()
	we := j.metrics.lastErrors[sink]
	return we.msg, we.at
}

package journal

import (
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// deferredAcks holds what a DeferredSink took until it says it is durable. It
// keeps each message's sequence and reply subject only, not its data.
type deferredAcks struct {
	sink    DeferredSink
	journal string
	nc      *nats.Conn
	pending []pendingAck
}

type pendingAck struct {
	seq   uint64
	reply string
}

func (d *deferredAcks) add(msgs []jetstream.Msg, seqs []uint64) {
	for i, m := range msgs {
		d.pending = append(d.pending, pendingAck{seq: seqs[i], reply: m.Reply()})
	}
}

// waitFor is how long at most the consumer waits for new messages before
// asking the sink again how far it is durable: poll while entries wait for
// their acknowledgement (ConsumeOptions.DurablePoll), otherwise no bound.
func (d *deferredAcks) waitFor(poll time.Duration) time.Duration {
	if d == nil || len(d.pending) == 0 {
		return 0
	}
	return poll
}

// flush acknowledges, with the consumer's AckAll policy, the newest message the
// sink says is durable, and with it every earlier one.
func (d *deferredAcks) flush() { d.ack(false) }

// last acknowledges what is durable as the consumer stops, and waits for the
// server to take it: whoever consumes next starts after it.
func (d *deferredAcks) last() { d.ack(true) }

func (d *deferredAcks) ack(wait bool) {
	if d == nil || len(d.pending) == 0 {
		return
	}
	durable := d.sink.Durable(d.journal)
	n := 0
	for n < len(d.pending) && d.pending[n].seq <= durable {
		n++
	}
	if n == 0 {
		return
	}
	var err error
	if wait {
		_, err = d.nc.Request(d.pending[n-1].reply, []byte("+ACK"), 2*time.Second)
	} else {
		err = d.nc.Publish(d.pending[n-1].reply, []byte("+ACK"))
	}
	if err != nil {
		return // the next flush tries again; a redelivery is skipped by the sink
	}
	d.pending = append(d.pending[:0], d.pending[n:]...)
}

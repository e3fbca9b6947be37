package otlp

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/drainpipe/drainpipe"
)

func retryOf(err error) bool {
	for _, d := range status.Convert(err).Details() {
		if _, ok := d.(*errdetails.RetryInfo); ok {
			return true
		}
	}
	return false
}

// TestGRPCFailures: journal failures are retryable with a RetryInfo, a request
// over the caps is not. (A full journal is also tested end to end.)
func TestGRPCFailures(t *testing.T) {
	rc, err := NewReceiver(ReceiverConfig{Journal: nil})
	if err != nil {
		t.Fatal(err)
	}
	g := &grpcTransport{cfg: GRPCConfig{Receiver: rc}}
	for _, tt := range []struct {
		err   error
		code  codes.Code
		retry bool
	}{
		{fmt.Errorf("append: %w", drainpipe.ErrJournalFull), codes.ResourceExhausted, true},
		{fmt.Errorf("append: %w", drainpipe.ErrUnavailable), codes.Unavailable, true},
		{context.DeadlineExceeded, codes.Unavailable, true},
		{fmt.Errorf("%w: 300000 log records", ErrTooLarge), codes.ResourceExhausted, false},
	} {
		got := g.fail(Logs, tt.err)
		if status.Code(got) != tt.code || retryOf(got) != tt.retry {
			t.Errorf("%v: %v (retry info %v), want %v (%v)", tt.err, got, retryOf(got), tt.code, tt.retry)
		}
	}
}

// TestGRPCDecodingSlots: a call is refused as Unavailable, to be retried, while
// every decoding slot is taken, and its slot comes back when it ends.
func TestGRPCDecodingSlots(t *testing.T) {
	rc, err := NewReceiver(ReceiverConfig{MaxDecoding: 1})
	if err != nil {
		t.Fatal(err)
	}
	g := &grpcTransport{cfg: GRPCConfig{Receiver: rc}}
	ctx, err := g.tap(context.Background(), nil)
	if err != nil {
		t.Fatalf("first call: %v", err)
	}
	if _, err := g.tap(context.Background(), nil); status.Code(err) != codes.Unavailable || !retryOf(err) {
		t.Fatalf("second call while the first decodes: %v, want Unavailable with a RetryInfo", err)
	}
	g.HandleRPC(ctx, &stats.End{})
	g.HandleRPC(ctx, &stats.End{}) // twice is harmless
	if _, err := g.tap(context.Background(), nil); err != nil {
		t.Fatalf("a call after the first ended: %v", err)
	}
	if _, ok := rc.tryAdmit(); ok {
		t.Fatal("a slot given back twice")
	}
}

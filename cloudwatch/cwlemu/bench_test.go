package cwlemu_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// BenchmarkPutLogEvents measures batches of 1,000 real Heroku lines sent by the
// SDK over a real socket, the way the CloudWatch sink's tests drive the emulator.
func BenchmarkPutLogEvents(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "heroku-drain-realistic.lines.txt"))
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	const batch = 1000
	evs := make([]types.InputLogEvent, batch)
	for i := range evs {
		evs[i] = types.InputLogEvent{Timestamp: aws.Int64(ms(now)), Message: aws.String(lines[i%len(lines)])}
	}
	srv, c := startB(b)
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("web"), LogEvents: evs}
	puts := 0
	for b.Loop() {
		if _, err := c.PutLogEvents(context.Background(), in); err != nil {
			b.Fatal(err)
		}
		// Keep memory flat: the benchmark is about the request path, not a growing stream.
		if puts++; puts%100 == 0 {
			b.StopTimer()
			srv.DeleteGroup("app")
			setup(b, c, "app", "web")
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "lines/s")
}

func startB(b *testing.B) (*cwlemu.Server, *cloudwatchlogs.Client) {
	srv, c := start(b, cwlemu.Options{})
	setup(b, c, "app", "web")
	return srv, c
}

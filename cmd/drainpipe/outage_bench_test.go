package main_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/drainpipe/drainpipe/cloudwatch"
	"github.com/drainpipe/drainpipe/verify"

	"github.com/drainpipe/drainpipe/bench"
	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// BenchmarkOutageRecovery measures what docs/benchmarks.md reports for an outage:
// the ingest rate and ack latency while CloudWatch is down (the journal holds
// the lines), then the rate at which the CloudWatch sink catches up once it is
// back. One iteration is one whole outage; run it with -benchtime 1x.
func BenchmarkOutageRecovery(b *testing.B) {
	for b.Loop() {
		emu, url := startEmulator(b, cwlemu.Faults{Down: true})
		s := startServerEnv(b, "", awsEnv(url), "--cloudwatch", "--metrics=false")
		u := s.addDrain("outage")
		r, err := bench.Run(context.Background(), bench.Config{URL: u, Duration: 10 * time.Second, Connections: 16})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.LinesPerSec, "outage-lines/s")
		b.ReportMetric(r.P99Ms, "outage-p99-ms")
		emu.SetFaults(cwlemu.Faults{})
		start := time.Now()
		for len(cloudwatchLines(emu, "/heroku/outage")) < int(r.Lines) && time.Since(start) < 5*time.Minute {
			time.Sleep(200 * time.Millisecond)
		}
		b.ReportMetric(float64(r.Lines)/time.Since(start).Seconds(), "recovery-lines/s")
	}
}

// BenchmarkCloudWatchLatency measures the delivery latency from a drain's 2xx to
// the line being readable in CloudWatch (the emulator), with drainpipe verify's
// begin/end pairs: on an idle server, and while drainpipe bench loads it.
func BenchmarkCloudWatchLatency(b *testing.B) {
	for _, load := range []int{0, 4} {
		b.Run(fmt.Sprintf("load-connections=%d", load), func(b *testing.B) {
			for b.Loop() {
				_, url := startEmulator(b, cwlemu.Faults{})
				s := startServerEnv(b, "", awsEnv(url), "--cloudwatch", "--metrics=false")
				u := s.addDrain("latency")
				ctx, stop := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() {
					defer close(done)
					if load > 0 {
						_, _ = bench.Run(ctx, bench.Config{URL: s.addDrain("load"), Duration: time.Minute, Connections: load})
					}
				}()
				client, err := cloudwatch.NewClient(context.Background(), "eu-west-1", url, func(o *cloudwatchlogs.Options) {
					o.Credentials = credentials.NewStaticCredentialsProvider("AKIDREADER", "secret", "")
				})
				if err != nil {
					b.Fatal(err)
				}
				r, err := verify.Run(context.Background(), verify.Config{URL: u, Count: 600, Concurrency: 16, Wait: time.Minute,
					Reader: verify.NewCloudWatchReader(client, "/heroku/latency")})
				stop()
				<-done
				if err != nil || !r.OK() {
					b.Fatalf("verify: %v %+v", err, r)
				}
				b.ReportMetric(r.P50Ms, "p50-ms")
				b.ReportMetric(r.P99Ms, "p99-ms")
			}
		})
	}
}

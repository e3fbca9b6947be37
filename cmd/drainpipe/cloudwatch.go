package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/drainpipe/drainpipe/cloudwatch"
	"github.com/prometheus/client_golang/prometheus"
)

// cloudwatchFlags are the --cloudwatch-* flags of `drainpipe serve`.
type cloudwatchFlags struct {
	enabled                                   *bool
	group, stream, format, tags, kms, class   *string
	retention, concurrency, newGroups         *int
	putRate, streamRate, groupRate, retenRate *int
}

func addCloudWatchFlags(f *flags) cloudwatchFlags {
	return cloudwatchFlags{
		enabled:     f.bool("cloudwatch", false, "deliver every line to CloudWatch Logs; credentials and region from the AWS SDK's default chain"),
		group:       f.string("cloudwatch-group", cloudwatch.DefaultGroupTemplate, "log group template; placeholders {app} {drain} {source} {dyno} {date}"),
		stream:      f.string("cloudwatch-stream", cloudwatch.DefaultStreamTemplate, "log stream template; {date} is the line's UTC date"),
		format:      f.string("cloudwatch-format", cloudwatch.FormatText, "event format: text ('app[web.1]: msg') or json (for Logs Insights)"),
		retention:   f.int("cloudwatch-retention-days", 0, "retention of the log groups, set on new groups and enforced on existing ones at start (0 leaves it alone)"),
		tags:        f.string("cloudwatch-tags", "", "tags for new log groups: k=v,k2=v2"),
		kms:         f.string("cloudwatch-kms-key", "", "KMS key ARN for new log groups"),
		class:       f.string("cloudwatch-log-class", "", "class of new log groups: STANDARD or INFREQUENT_ACCESS"),
		concurrency: f.int("cloudwatch-concurrency", cloudwatch.DefaultConcurrency, "log streams delivered at once"),
		putRate:     f.int("cloudwatch-put-rate", int(cloudwatch.DefaultRates.PutLogEvents), "PutLogEvents calls per second at most"),
		streamRate:  f.int("cloudwatch-create-stream-rate", int(cloudwatch.DefaultRates.CreateLogStream), "CreateLogStream calls per second at most"),
		groupRate:   f.int("cloudwatch-create-group-rate", int(cloudwatch.DefaultRates.CreateLogGroup), "CreateLogGroup calls per second at most"),
		retenRate:   f.int("cloudwatch-retention-rate", int(cloudwatch.DefaultRates.PutRetentionPolicy), "PutRetentionPolicy calls per second at most"),
		newGroups: f.int("cloudwatch-new-groups-per-minute", cloudwatch.DefaultNewGroupsPerMinute,
			"log groups one drain may have created at once, and each minute after, with {source}, {dyno} or {date} in the group template; the rest go to its _other group (negative: no cap)"),
	}
}

// config turns the flags into the sink's configuration; cloudwatch.New validates
// it, so a mistake stops the server at start, not at the first line.
func (c cloudwatchFlags) config(data string) (cloudwatch.Config, error) {
	var tags map[string]string
	if *c.tags != "" {
		var err error
		if tags, err = cloudwatch.ParseTags(strings.Split(*c.tags, ",")); err != nil {
			return cloudwatch.Config{}, usagef("--cloudwatch-tags: %v", err)
		}
	}
	cfg := cloudwatch.Config{
		Dir: filepath.Join(data, "cloudwatch"), GroupTemplate: *c.group, StreamTemplate: *c.stream,
		Format: *c.format, RetentionDays: int32(*c.retention), Tags: tags, KMSKeyID: *c.kms, LogClass: *c.class,
		Concurrency: *c.concurrency, NewGroupsPerMinute: *c.newGroups,
		Rates: cloudwatch.Rates{PutLogEvents: float64(*c.putRate), CreateLogStream: float64(*c.streamRate),
			CreateLogGroup: float64(*c.groupRate), PutRetentionPolicy: float64(*c.retenRate)},
	}
	return cfg, nil
}

// openCloudWatch builds the CloudWatch sink from the SDK's default chain
// (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, roles).
func openCloudWatch(ctx context.Context, cfg cloudwatch.Config, drains cloudwatch.Drains, log *slog.Logger, reg prometheus.Registerer) (*cloudwatch.Sink, error) {
	client, err := cloudwatch.NewClient(ctx, "", "")
	if err != nil {
		return nil, fmt.Errorf("cloudwatch: %w", err)
	}
	cfg.Client, cfg.Drains, cfg.Logger, cfg.Registerer = client, drains, log, reg
	sink, err := cloudwatch.New(cfg)
	if err != nil {
		return nil, usagef("cloudwatch: %v", err)
	}
	return sink, nil
}

package cloudwatch_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/drainpipe/drainpipe/cloudwatch"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := cloudwatch.Config{Client: &cloudwatchlogs.Client{}, Dir: "/tmp/x"}
	tests := []struct {
		name    string
		mod     func(c *cloudwatch.Config)
		wantErr string
	}{
		{"defaults", func(*cloudwatch.Config) {}, ""},
		{"everything set", func(c *cloudwatch.Config) {
			c.GroupTemplate, c.StreamTemplate, c.Format = "/h/{app}/{source}", "{dyno}-{date}-{drain}", "json"
			c.RetentionDays, c.LogClass, c.KMSKeyID = 30, "INFREQUENT_ACCESS", "arn:aws:kms:k"
			c.Tags = map[string]string{"team": "core"}
		}, ""},
		{"no client", func(c *cloudwatch.Config) { c.Client = nil }, "client is required"},
		{"no dir", func(c *cloudwatch.Config) { c.Dir = "" }, "dir is required"},
		{"unknown placeholder", func(c *cloudwatch.Config) { c.GroupTemplate = "/h/{ap}" }, "unknown placeholder {ap}"},
		{"unclosed brace", func(c *cloudwatch.Config) { c.StreamTemplate = "{date" }, "unclosed"},
		{"bad format", func(c *cloudwatch.Config) { c.Format = "xml" }, `format "xml"`},
		{"bad retention", func(c *cloudwatch.Config) { c.RetentionDays = 2 }, "retention days 2"},
		{"bad class", func(c *cloudwatch.Config) { c.LogClass = "DELIVERY" }, `log class "DELIVERY"`},
		{"reserved tag", func(c *cloudwatch.Config) { c.Tags = map[string]string{"aws:x": "y"} }, "reserved"},
		{"negative rate", func(c *cloudwatch.Config) { c.Rates.PutLogEvents = -1 }, "rates"},
		{"backoff reversed", func(c *cloudwatch.Config) { c.BackoffMin, c.BackoffMax = 10, 5 }, "BackoffMin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tt.mod(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseTags(t *testing.T) {
	t.Parallel()
	tags, err := cloudwatch.ParseTags([]string{"team=core", "env=prod=1", "empty="})
	if err != nil || tags["team"] != "core" || tags["env"] != "prod=1" || tags["empty"] != "" || len(tags) != 3 {
		t.Errorf("ParseTags = %v, %v", tags, err)
	}
	for _, bad := range []string{"novalue", "=v", "aws:x=1"} {
		if _, err := cloudwatch.ParseTags([]string{bad}); err == nil {
			t.Errorf("ParseTags(%q) accepted", bad)
		}
	}
}

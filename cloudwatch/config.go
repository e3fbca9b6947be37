package cloudwatch

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drainpipe/drainpipe"
)

// Defaults for the Config fields left zero.
const (
	DefaultGroupTemplate  = "/heroku/{app}"
	DefaultStreamTemplate = "{date}"
	DefaultConcurrency    = 16
	DefaultBackoffMin     = 200 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
	DefaultParkBackoffMax = 5 * time.Minute
	DefaultIdleTimeout    = 30 * time.Minute
	// DefaultNewGroupsPerMinute: at 10 creations a second, a Write that creates
	// this many holds its partition for about 2 s.
	DefaultNewGroupsPerMinute = 20
)

// Message formats.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// Log group classes accepted by Config.LogClass.
const (
	ClassStandard         = "STANDARD"
	ClassInfrequentAccess = "INFREQUENT_ACCESS"
)

// RetentionDays lists the only retention periods CloudWatch Logs accepts.
var RetentionDays = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Drains finds a drain by id; the sink uses it for the per-drain group override.
type Drains interface {
	Drain(id string) (drainpipe.Drain, bool)
}

// Rates are client-side limits in calls per second, one per API, that keep the sink
// below the account's quotas (which are shared with everything else in the account).
type Rates struct {
	// PutLogEvents is the put rate (account default quota 5,000/s).
	PutLogEvents float64
	// CreateLogStream is the stream creation rate (quota 50/s).
	CreateLogStream float64
	// CreateLogGroup is the group creation rate (quota 10/s).
	CreateLogGroup float64
	// PutRetentionPolicy is the retention update rate (quota 5/s).
	PutRetentionPolicy float64
}

// DefaultRates are the default account quotas of CloudWatch Logs.
var DefaultRates = Rates{PutLogEvents: 5000, CreateLogStream: 50, CreateLogGroup: 10, PutRetentionPolicy: 5}

// Config configures a Sink. Only Client and Dir are required. The comment on each
// field names the `drainpipe serve` flag that sets it.
type Config struct {
	// Client talks to CloudWatch Logs; build it with NewClient.
	// (--cloudwatch; region and endpoint from the SDK's default chain)
	Client Client
	// Dir holds the parks of failing groups; it must survive restarts. (<--data>/cloudwatch)
	// Not used, and not required, with Inline.
	Dir string
	// Inline is for a process that may be frozen or ended as soon as a call returns
	// and keeps nothing on disk (AWS Lambda): Write does all its work before it
	// returns and leaves none behind. A group failing for good makes Write return
	// the error instead of parking its lines; retention is applied by the put that
	// first reaches a group, once, and not retried past that Write; and since no
	// archive keeps the lines CloudWatch refuses, each is logged whole, followed by
	// a summary at the end of every Write. (`drainpipe lambda`)
	Inline bool
	// GroupTemplate names the log group of a line. Placeholders: {app} {drain}
	// {source} {dyno} {date}. Default "/heroku/{app}". (--cloudwatch-group)
	GroupTemplate string
	// StreamTemplate names the log stream of a line; same placeholders.
	// Default "{date}", the line's UTC date. (--cloudwatch-stream)
	StreamTemplate string
	// Format is "text" (default, like `heroku logs`) or "json". (--cloudwatch-format)
	Format string
	// RetentionDays, when not zero, is applied to new groups and enforced once per
	// start on existing ones; it must be one of RetentionDays. (--cloudwatch-retention-days)
	RetentionDays int32
	// Tags are set on groups the sink creates. (--cloudwatch-tag k=v, repeated; see ParseTags)
	Tags map[string]string
	// KMSKeyID encrypts groups the sink creates. (--cloudwatch-kms-key)
	KMSKeyID string
	// LogClass is STANDARD or INFREQUENT_ACCESS for groups the sink creates;
	// empty lets CloudWatch choose (STANDARD). (--cloudwatch-log-class)
	LogClass string
	// Drains looks up the per-drain group override; nil means none.
	Drains Drains
	// Concurrency bounds the streams delivered at once. (--cloudwatch-concurrency)
	Concurrency int
	// Rates are client-side API rate limits; zero fields take DefaultRates.
	// (--cloudwatch-put-rate, --cloudwatch-create-stream-rate,
	// --cloudwatch-create-group-rate, --cloudwatch-retention-rate)
	Rates Rates
	// NewGroupsPerMinute caps the log groups one drain's lines may have the sink
	// create: that many at once, and that many more each minute. It applies to a
	// group template holding {source}, {dyno} or {date}, whose values the sender
	// chooses (2,000 dyno names in one batch made 2,000 groups, at 10 creations a
	// second, while every other app of the partition waited). A line whose group
	// is missing once its drain's budget is spent goes to the drain's overflow
	// group instead: the template with those placeholders as "_other"
	// ("/prod/myapp/_other"). Default DefaultNewGroupsPerMinute; negative: no cap.
	NewGroupsPerMinute int
	// BackoffMin and BackoffMax bound the retry delay of transient faults.
	BackoffMin, BackoffMax time.Duration
	// ParkBackoffMax bounds the delay between attempts to deliver a park.
	ParkBackoffMax time.Duration
	// IdleTimeout is how long the state of a group nobody writes to is kept.
	IdleTimeout time.Duration
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
	// Registerer receives the sink's metrics; nil registers them nowhere.
	Registerer prometheus.Registerer
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	c.GroupTemplate = orDefault(c.GroupTemplate, DefaultGroupTemplate)
	c.StreamTemplate = orDefault(c.StreamTemplate, DefaultStreamTemplate)
	c.Format = orDefault(c.Format, FormatText)
	c.Concurrency = orDefault(c.Concurrency, DefaultConcurrency)
	c.Rates.PutLogEvents = orDefault(c.Rates.PutLogEvents, DefaultRates.PutLogEvents)
	c.Rates.CreateLogStream = orDefault(c.Rates.CreateLogStream, DefaultRates.CreateLogStream)
	c.Rates.CreateLogGroup = orDefault(c.Rates.CreateLogGroup, DefaultRates.CreateLogGroup)
	c.Rates.PutRetentionPolicy = orDefault(c.Rates.PutRetentionPolicy, DefaultRates.PutRetentionPolicy)
	c.BackoffMin = orDefault(c.BackoffMin, DefaultBackoffMin)
	c.BackoffMax = orDefault(c.BackoffMax, DefaultBackoffMax)
	c.ParkBackoffMax = orDefault(c.ParkBackoffMax, DefaultParkBackoffMax)
	c.IdleTimeout = orDefault(c.IdleTimeout, DefaultIdleTimeout)
	c.NewGroupsPerMinute = orDefault(c.NewGroupsPerMinute, DefaultNewGroupsPerMinute)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Validate reports every setting that cannot work, after applying the defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Client == nil {
		errs = append(errs, errors.New("client is required"))
	}
	if c.Dir == "" && !c.Inline {
		errs = append(errs, errors.New("dir is required"))
	}
	if _, err := parseTemplate(c.GroupTemplate); err != nil {
		errs = append(errs, fmt.Errorf("group template: %w", err))
	}
	if _, err := parseTemplate(c.StreamTemplate); err != nil {
		errs = append(errs, fmt.Errorf("stream template: %w", err))
	}
	if c.Format != FormatText && c.Format != FormatJSON {
		errs = append(errs, fmt.Errorf("format %q: want %q or %q", c.Format, FormatText, FormatJSON))
	}
	if c.RetentionDays != 0 && !slices.Contains(RetentionDays, c.RetentionDays) {
		errs = append(errs, fmt.Errorf("retention days %d: want one of %v", c.RetentionDays, RetentionDays))
	}
	if c.LogClass != "" && c.LogClass != ClassStandard && c.LogClass != ClassInfrequentAccess {
		errs = append(errs, fmt.Errorf("log class %q: want %s or %s", c.LogClass, ClassStandard, ClassInfrequentAccess))
	}
	if err := validateTags(c.Tags); err != nil {
		errs = append(errs, err)
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("concurrency %d: want at least 1", c.Concurrency))
	}
	r := c.Rates
	if r.PutLogEvents < 0 || r.CreateLogStream < 0 || r.CreateLogGroup < 0 || r.PutRetentionPolicy < 0 {
		errs = append(errs, errors.New("rates must be positive"))
	}
	if c.BackoffMin < 0 || c.BackoffMax < c.BackoffMin || c.ParkBackoffMax < 0 || c.IdleTimeout < 0 {
		errs = append(errs, errors.New("backoffs and idle timeout must be positive, with BackoffMin ≤ BackoffMax"))
	}
	return errors.Join(errs...)
}

// validateTags checks the tags against CloudWatch's limits: at most 50, keys of
// 1–128 characters not starting with "aws:", values of at most 256.
func validateTags(tags map[string]string) error {
	if len(tags) > 50 {
		return fmt.Errorf("tags: %d, at most 50 allowed", len(tags))
	}
	for k, v := range tags {
		switch {
		case k == "" || len(k) > 128:
			return fmt.Errorf("tag key %q: want 1 to 128 characters", k)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return fmt.Errorf("tag key %q: the aws: prefix is reserved", k)
		case len(v) > 256:
			return fmt.Errorf("tag %q: value longer than 256 characters", k)
		}
	}
	return nil
}

// ParseTags turns "k=v" arguments (the --cloudwatch-tag flag) into Config.Tags.
func ParseTags(args []string) (map[string]string, error) {
	tags := make(map[string]string, len(args))
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("tag %q: want key=value", a)
		}
		tags[k] = v
	}
	return tags, validateTags(tags)
}

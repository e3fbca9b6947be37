package cwlemu_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

const (
	groupPattern  = `Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`
	streamPattern = `Member must satisfy regular expression pattern: [^:*]*`
)

func TestNameRules(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 513)
	tests := []struct {
		name, group, stream string
		msg                 string // "" means accepted
	}{
		{name: "ok", group: "/heroku/my-app_1.prod#x", stream: "web.1 2026/03/01 [héllo]"},
		{name: "group at 512", group: strings.Repeat("g", 512), stream: "s"},
		{name: "stream at 512", group: "g512s", stream: strings.Repeat("s", 512)},
		{name: "group too long", group: long, stream: "s",
			msg: "1 validation error detected: Value '" + long + "' at 'logGroupName' failed to satisfy constraint: Member must have length less than or equal to 512"},
		{name: "group empty", group: "", stream: "s",
			msg: "1 validation error detected: Value '' at 'logGroupName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "group with space", group: "my app", stream: "s",
			msg: "1 validation error detected: Value 'my app' at 'logGroupName' failed to satisfy constraint: " + groupPattern},
		{name: "group with colon", group: "app:1", stream: "s",
			msg: "1 validation error detected: Value 'app:1' at 'logGroupName' failed to satisfy constraint: " + groupPattern},
		{name: "group starting aws/", group: "aws/app", stream: "s",
			msg: "Log group names can't start with the string aws/"},
		{name: "group starting /aws/ is fine", group: "/aws/lambda/x", stream: "s"},
		{name: "stream with colon", group: "g1", stream: "web:1",
			msg: "1 validation error detected: Value 'web:1' at 'logStreamName' failed to satisfy constraint: " + streamPattern},
		{name: "stream with star", group: "g2", stream: "web*",
			msg: "1 validation error detected: Value 'web*' at 'logStreamName' failed to satisfy constraint: " + streamPattern},
		{name: "stream too long", group: "g3", stream: long,
			msg: "1 validation error detected: Value '" + long + "' at 'logStreamName' failed to satisfy constraint: Member must have length less than or equal to 512"},
	}
	_, c := start(t, cwlemu.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(tt.group)})
			if err == nil {
				_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(tt.group), LogStreamName: aws.String(tt.stream)})
			}
			if tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ipe *types.InvalidParameterException
			if !errors.As(err, &ipe) {
				t.Fatalf("err = %v, want InvalidParameterException", err)
			}
			wantAPIError(t, err, "InvalidParameterException", tt.msg)
		})
	}
}

func TestCreateLogGroup(t *testing.T) {
	t.Parallel()
	tags51 := map[string]string{}
	for i := range 51 {
		tags51[fmt.Sprint("k", i)] = "v"
	}
	tests := []struct {
		name string
		in   cloudwatchlogs.CreateLogGroupInput
		want cwlemu.Group
		msg  string
	}{
		{name: "defaults", in: cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("a")},
			want: cwlemu.Group{Name: "a", Class: "STANDARD", Tags: map[string]string{}, Streams: []string{}}},
		{name: "everything", in: cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("b"), KmsKeyId: aws.String("arn:aws:kms:eu-west-1:1:key/k"),
			Tags: map[string]string{"app": "x", "team": "y"}, LogGroupClass: types.LogGroupClassInfrequentAccess},
			want: cwlemu.Group{Name: "b", KMSKeyID: "arn:aws:kms:eu-west-1:1:key/k", Class: "INFREQUENT_ACCESS", Tags: map[string]string{"app": "x", "team": "y"}, Streams: []string{}}},
		{name: "bad class", in: cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("c"), LogGroupClass: "DELIVERY"},
			msg: "1 validation error detected: Value 'DELIVERY' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS]"},
		{name: "51 tags", in: cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("d"), Tags: tags51},
			msg: "1 validation error detected: Value '{51 tags}' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := start(t, cwlemu.Options{})
			_, err := c.CreateLogGroup(context.Background(), &tt.in)
			if tt.msg != "" {
				wantAPIError(t, err, "InvalidParameterException", tt.msg)
				if len(srv.Groups()) != 0 {
					t.Error("group created anyway")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := srv.Groups()
			if len(got) != 1 || !reflect.DeepEqual(got[0], tt.want) {
				t.Errorf("groups = %+v, want [%+v]", got, tt.want)
			}
		})
	}
}

func TestAlreadyExists(t *testing.T) {
	t.Parallel()
	_, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web")
	ctx := context.Background()
	_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("app")})
	var exists *types.ResourceAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("err = %v, want ResourceAlreadyExistsException", err)
	}
	wantAPIError(t, err, "ResourceAlreadyExistsException", "The specified log group already exists")
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("web")})
	wantAPIError(t, err, "ResourceAlreadyExistsException", "The specified log stream already exists")
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("nope"), LogStreamName: aws.String("web")})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("err = %v, want ResourceNotFoundException", err)
	}
	wantAPIError(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
}

func TestRetention(t *testing.T) {
	t.Parallel()
	allowed := []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
	srv, c := start(t, cwlemu.Options{})
	setup(t, c, "app")
	ctx := context.Background()
	tries := []int32{-1, 0, 3654, 10000}
	for _, d := range allowed {
		tries = append(tries, d-1, d, d+1)
	}
	for _, days := range tries {
		_, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("app"), RetentionInDays: aws.Int32(days)})
		if !slices.Contains(allowed, days) {
			wantAPIError(t, err, "InvalidParameterException", fmt.Sprintf("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]", days))
			continue
		}
		if err != nil {
			t.Fatalf("%d days: %v", days, err)
		}
		if got := srv.Groups()[0].RetentionDays; got != int(days) {
			t.Fatalf("retention = %d, want %d", got, days)
		}
		out, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
		if err != nil || aws.ToInt32(out.LogGroups[0].RetentionInDays) != days {
			t.Fatalf("described retention = %v (%v), want %d", out.LogGroups[0].RetentionInDays, err, days)
		}
	}
	if _, err := c.DeleteRetentionPolicy(ctx, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Groups()[0].RetentionDays; got != 0 {
		t.Errorf("retention after delete = %d", got)
	}
	_, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("nope"), RetentionInDays: aws.Int32(7)})
	wantAPIError(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	_, err = c.DeleteRetentionPolicy(ctx, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
}

func TestTags(t *testing.T) {
	t.Parallel()
	srv, c := start(t, cwlemu.Options{})
	ctx := context.Background()
	_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("app"), Tags: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.LogGroups[0].LogGroupArn)
	if arn != "arn:aws:logs:eu-west-1:123456789012:log-group:app" || aws.ToString(out.LogGroups[0].Arn) != arn+":*" {
		t.Fatalf("arns = %q, %q", arn, aws.ToString(out.LogGroups[0].Arn))
	}
	if _, err := c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"b": "2", "a": "0"}}); err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 TagLogGroup is deprecated but still served, and some clients still call it.
	if _, err := c.TagLogGroup(ctx, &cloudwatchlogs.TagLogGroupInput{LogGroupName: aws.String("app"), Tags: map[string]string{"c": "3"}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "0", "b": "2", "c": "3"}
	if got := srv.Groups()[0].Tags; !maps.Equal(got, want) {
		t.Errorf("tags = %v, want %v", got, want)
	}
	many := map[string]string{}
	for i := range 48 {
		many[fmt.Sprint("k", i)] = "v"
	}
	_, err = c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(arn), Tags: many})
	var tooMany *types.TooManyTagsException
	if !errors.As(err, &tooMany) {
		t.Fatalf("err = %v, want TooManyTagsException", err)
	}
	wantAPIError(t, err, "TooManyTagsException", "A resource can have no more than 50 tags.")
	_, err = c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String("arn:aws:logs:eu-west-1:123456789012:log-group:nope"), Tags: want})
	wantAPIError(t, err, "ResourceNotFoundException", "The specified resource does not exist.")
}

func TestDelete(t *testing.T) {
	t.Parallel()
	srv, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web", "worker")
	ctx := context.Background()
	if _, err := c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Groups()[0].Streams; !reflect.DeepEqual(got, []string{"worker"}) {
		t.Errorf("streams = %v", got)
	}
	_, err := c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("web")})
	wantAPIError(t, err, "ResourceNotFoundException", "The specified log stream does not exist.")
	if _, err := c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("app")})
	wantAPIError(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	_, err = c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("worker")})
	wantAPIError(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	if len(srv.Groups()) != 0 {
		t.Errorf("groups = %v", srv.Groups())
	}
}

func TestDeleteGroupMidRun(t *testing.T) {
	t.Parallel()
	srv, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web")
	srv.DeleteGroup("app")
	_, err := c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("web"), LogEvents: events(now)})
	wantAPIError(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	if srv.Events("app", "web") != nil {
		t.Error("events of a deleted group")
	}
}

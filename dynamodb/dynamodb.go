// Package dynamodb keeps, in an Amazon DynamoDB table, which batches drainpipe's
// Lambda function delivered, so that logplex's retry of a batch whose 2xx was
// lost is answered without delivering it twice (lambda.Dedup). A batch is
// claimed with a conditional put before its delivery, marked delivered after
// it, and its claim released if it failed; items expire after Window (the
// table's time to live deletes them later; expiry is checked here, since
// DynamoDB may keep an expired item readable for days). dynamodb/ddbemu is its
// double for tests.
package dynamodb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/drainpipe/drainpipe/lambda"
)

// Window is how long a delivered batch is remembered: logplex retries within
// seconds; the server's journal remembers batches for as long.
const Window = 10 * time.Minute

// Attribute names of an item: its key, its state, when a claim ends (ms), when
// the item expires (s, the table's time to live), and the claim's owner.
const (
	attrKey     = "pk"
	attrState   = "state"
	attrUntil   = "until"
	attrExpires = "expires"
	attrOwner   = "owner"

	stateDelivering = "delivering"
	stateDelivered  = "delivered"
)

// API is the part of DynamoDB's API used; *awsddb.Client implements it.
type API interface {
	PutItem(ctx context.Context, in *awsddb.PutItemInput, optFns ...func(*awsddb.Options)) (*awsddb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *awsddb.DeleteItemInput, optFns ...func(*awsddb.Options)) (*awsddb.DeleteItemOutput, error)
}

var _ API = (*awsddb.Client)(nil)

// NewClient builds a DynamoDB client from the SDK's default chain
// (environment, AWS_ENDPOINT_URL_DYNAMODB, the function's role).
func NewClient(ctx context.Context, optFns ...func(*awsddb.Options)) (*awsddb.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	return awsddb.NewFromConfig(cfg, optFns...), nil
}

// Dedup is lambda.Dedup on a table whose hash key is the string "pk".
type Dedup struct {
	api   API
	table string
	now   func() time.Time

	mu     sync.Mutex
	owners map[string]string // key → the token of the claim this process holds
}

var _ lambda.Dedup = (*Dedup)(nil)

// New returns a Dedup on table; now is the clock (nil: time.Now).
func New(api API, table string, now func() time.Time) *Dedup {
	if now == nil {
		now = time.Now
	}
	return &Dedup{api: api, table: table, now: now, owners: map[string]string{}}
}

// Claim takes key until until, unless it is delivered (done) or claimed by a
// live claim (lambda.ErrBusy); an expired item counts as absent.
func (d *Dedup) Claim(ctx context.Context, key string, until time.Time) (bool, error) {
	now := d.now()
	owner := token()
	_, err := d.api.PutItem(ctx, &awsddb.PutItemInput{
		TableName: aws.String(d.table),
		Item: map[string]types.AttributeValue{
			attrKey: str(key), attrState: str(stateDelivering), attrOwner: str(owner),
			attrUntil: num(until.UnixMilli()), attrExpires: num(now.Add(Window).Unix()),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#k) OR #e < :nows OR (#s = :delivering AND #u < :nowms)"),
		ExpressionAttributeNames: map[string]string{"#k": attrKey, "#e": attrExpires, "#s": attrState, "#u": attrUntil},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":nows": num(now.Unix()), ":nowms": num(now.UnixMilli()), ":delivering": str(stateDelivering),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		if s, ok := failed.Item[attrState].(*types.AttributeValueMemberS); ok && s.Value == stateDelivered {
			return true, nil
		}
		return false, lambda.ErrBusy
	case err != nil:
		return false, fmt.Errorf("dynamodb claim %s: %w", key, err)
	}
	d.mu.Lock()
	d.owners[key] = owner
	d.mu.Unlock()
	return false, nil
}

// Done records key as delivered, for Window.
func (d *Dedup) Done(ctx context.Context, key string) error {
	d.forget(key)
	_, err := d.api.PutItem(ctx, &awsddb.PutItemInput{
		TableName: aws.String(d.table),
		Item: map[string]types.AttributeValue{
			attrKey: str(key), attrState: str(stateDelivered), attrExpires: num(d.now().Add(Window).Unix()),
		},
	})
	if err != nil {
		return fmt.Errorf("dynamodb done %s: %w", key, err)
	}
	return nil
}

// Release deletes this process's claim of key, if it still holds it.
func (d *Dedup) Release(ctx context.Context, key string) error {
	owner := d.forget(key)
	if owner == "" {
		return nil
	}
	_, err := d.api.DeleteItem(ctx, &awsddb.DeleteItemInput{
		TableName:                 aws.String(d.table),
		Key:                       map[string]types.AttributeValue{attrKey: str(key)},
		ConditionExpression:       aws.String("#o = :owner"),
		ExpressionAttributeNames:  map[string]string{"#o": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": str(owner)},
	})
	if err != nil && !errors.As(err, new(*types.ConditionalCheckFailedException)) {
		return fmt.Errorf("dynamodb release %s: %w", key, err)
	}
	return nil
}

func (d *Dedup) forget(key string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	owner := d.owners[key]
	delete(d.owners, key)
	return owner
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

package ddbemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/drainpipe/drainpipe/dynamodb/ddbemu"
)

func newClient(t *testing.T) (*ddbemu.Server, *awsddb.Client) {
	t.Helper()
	emu := ddbemu.New()
	emu.CreateTable("t", "pk", "S")
	url, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	c := awsddb.New(awsddb.Options{BaseEndpoint: aws.String(url), Region: "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer:     retry.AddWithMaxAttempts(retry.NewStandard(), 1)})
	return emu, c
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// stored is the item every condition below is checked against.
func stored() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": s("k"), "state": s("delivered"), "n": n("42"), "big": n("1e3"), "name": s("drainpipe"),
		"tags": &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"doc": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"xs": &types.AttributeValueMemberL{Value: []types.AttributeValue{n("1"), s("two")}},
		}},
	}
}

// TestConditions: each condition, through the real SDK, passes or fails the
// put as the documented semantics say.
func TestConditions(t *testing.T) {
	t.Parallel()
	_, c := newClient(t)
	ctx := context.Background()
	vals := map[string]types.AttributeValue{":d": s("delivered"), ":40": n("40"), ":42": n("42.0"), ":50": n("50"),
		":pre": s("drain"), ":a": s("a"), ":two": s("two"), ":ss": s("SS"), ":n": s("N"), ":1000": n("1000")}
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{"attribute_exists(pk)", true},
		{"attribute_not_exists(pk)", false},
		{"attribute_not_exists(nothere)", true},
		{"#s = :d", true},
		{"#s <> :d", false},
		{"n = :42", true}, // numbers by value
		{"n > :40 AND n < :50", true},
		{"n BETWEEN :40 AND :50", true},
		{"n BETWEEN :50 AND :40", false},
		{"big = :1000", true},
		{"n IN (:40, :42)", true},
		{"n > :d", false}, // types differ: false, not an error
		{"begins_with(#nm, :pre)", true},
		{"contains(tags, :a)", true},
		{"contains(doc.xs, :two)", true},
		{"doc.xs[1] = :two", true},
		{"doc.xs[5] = :two", false},
		{"attribute_type(tags, :ss)", true},
		{"attribute_type(n, :ss)", false},
		{"size(#nm) = :40 OR size(tags) < :50", true},
		{"NOT attribute_exists(pk) OR (#s = :d AND n = :42)", true},
		{"NOT (#s = :d)", false},
		{"nothere < :50", false},
		{"attribute_type(n, :n) and not nothere = :a", true},
	} {
		c.PutItem(ctx, &awsddb.PutItemInput{TableName: aws.String("t"), Item: stored()})
		names := map[string]string{}
		for _, ph := range []string{"#s", "#nm"} {
			if strings.Contains(tc.expr, ph) {
				names[ph] = map[string]string{"#s": "state", "#nm": "name"}[ph]
			}
		}
		used := map[string]types.AttributeValue{}
		for k, v := range vals {
			if strings.Contains(tc.expr, k+" ") || strings.Contains(tc.expr, k+")") || strings.HasSuffix(tc.expr, k) || strings.Contains(tc.expr, k+",") {
				used[k] = v
			}
		}
		in := &awsddb.PutItemInput{TableName: aws.String("t"), Item: stored(), ConditionExpression: aws.String(tc.expr), ExpressionAttributeValues: used}
		if len(names) > 0 {
			in.ExpressionAttributeNames = names
		}
		if len(used) == 0 {
			in.ExpressionAttributeValues = nil
		}
		_, err := c.PutItem(ctx, in)
		var failed *types.ConditionalCheckFailedException
		switch {
		case tc.want && err != nil:
			t.Errorf("%s: %v, want it to pass", tc.expr, err)
		case !tc.want && !errors.As(err, &failed):
			t.Errorf("%s: %v, want ConditionalCheckFailedException", tc.expr, err)
		}
	}
}

// TestRefusedRequests: what the service refuses, the double refuses with the
// same error code.
func TestRefusedRequests(t *testing.T) {
	t.Parallel()
	_, c := newClient(t)
	ctx := context.Background()
	put := func(item map[string]types.AttributeValue, expr string, names map[string]string, vals map[string]types.AttributeValue) error {
		in := &awsddb.PutItemInput{TableName: aws.String("t"), Item: item, ExpressionAttributeNames: names, ExpressionAttributeValues: vals}
		if expr != "" {
			in.ConditionExpression = aws.String(expr)
		}
		_, err := c.PutItem(ctx, in)
		return err
	}
	key := map[string]types.AttributeValue{"pk": s("k")}
	for _, tc := range []struct {
		name, code, text string
		err              error
	}{
		{"reserved word", "ValidationException", "reserved keyword", put(key, "state = :v", nil, map[string]types.AttributeValue{":v": s("x")})},
		{"undefined name", "ValidationException", "not defined", put(key, "#x = :v", nil, map[string]types.AttributeValue{":v": s("x")})},
		{"undefined value", "ValidationException", "not defined", put(key, "pk = :v", nil, nil)},
		{"unused value", "ValidationException", "unused", put(key, "attribute_exists(pk)", nil, map[string]types.AttributeValue{":v": s("x")})},
		{"syntax", "ValidationException", "Syntax error", put(key, "pk = = :v", nil, map[string]types.AttributeValue{":v": s("x")})},
		{"arity", "ValidationException", "number of operands", put(key, "attribute_exists(pk, pk)", nil, nil)},
		{"missing key", "ValidationException", "Missing the key pk", put(map[string]types.AttributeValue{"x": s("1")}, "", nil, nil)},
		{"key type", "ValidationException", "Type mismatch", put(map[string]types.AttributeValue{"pk": n("1")}, "", nil, nil)},
		{"bad number", "ValidationException", "number", put(map[string]types.AttributeValue{"pk": s("k"), "x": n("12abc")}, "", nil, nil)},
		{"duplicate set", "ValidationException", "duplicates", put(map[string]types.AttributeValue{"pk": s("k"), "x": &types.AttributeValueMemberSS{Value: []string{"a", "a"}}}, "", nil, nil)},
		{"too large", "ValidationException", "maximum allowed size", put(map[string]types.AttributeValue{"pk": s("k"), "x": s(strings.Repeat("x", 401<<10))}, "", nil, nil)},
	} {
		var api smithy.APIError
		if !errors.As(tc.err, &api) || api.ErrorCode() != tc.code || !strings.Contains(api.ErrorMessage(), tc.text) {
			t.Errorf("%s: %v, want %s containing %q", tc.name, tc.err, tc.code, tc.text)
		}
	}
	_, err := c.PutItem(ctx, &awsddb.PutItemInput{TableName: aws.String("nope"), Item: key})
	if !errors.As(err, new(*types.ResourceNotFoundException)) {
		t.Errorf("missing table: %v", err)
	}
}

// TestReturnValues: ALL_OLD on put and delete, and the old item on a failed
// condition, arrive as the SDK's typed values.
func TestReturnValues(t *testing.T) {
	t.Parallel()
	emu, c := newClient(t)
	ctx := context.Background()
	c.PutItem(ctx, &awsddb.PutItemInput{TableName: aws.String("t"), Item: stored()})
	out, err := c.PutItem(ctx, &awsddb.PutItemInput{TableName: aws.String("t"), Item: map[string]types.AttributeValue{"pk": s("k"), "v": n("2")},
		ReturnValues: types.ReturnValueAllOld})
	if err != nil || out.Attributes["name"].(*types.AttributeValueMemberS).Value != "drainpipe" {
		t.Fatalf("ALL_OLD: %v %v", out, err)
	}
	_, err = c.PutItem(ctx, &awsddb.PutItemInput{TableName: aws.String("t"), Item: map[string]types.AttributeValue{"pk": s("k")},
		ConditionExpression: aws.String("attribute_not_exists(pk)"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var failed *types.ConditionalCheckFailedException
	if !errors.As(err, &failed) || failed.Item["v"].(*types.AttributeValueMemberN).Value != "2" {
		t.Fatalf("failed condition: %v", err)
	}
	got, err := c.GetItem(ctx, &awsddb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("k")}, ConsistentRead: aws.Bool(true)})
	if err != nil || len(got.Item) != 2 {
		t.Fatalf("GetItem: %v %v", got.Item, err)
	}
	del, err := c.DeleteItem(ctx, &awsddb.DeleteItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("k")}, ReturnValues: types.ReturnValueAllOld})
	if err != nil || len(del.Attributes) != 2 || len(emu.Keys("t")) != 0 {
		t.Fatalf("DeleteItem: %v %v, left %v", del, err, emu.Keys("t"))
	}
}

// FuzzConditionExpression: any expression is either refused with a
// ValidationException or decides the put; never a failure of the double.
func FuzzConditionExpression(f *testing.F) {
	for _, e := range []string{
		"attribute_not_exists(#k) OR #e < :nows OR (#s = :delivering AND #u < :nowms)",
		"#o = :owner", "a.b[3].c BETWEEN :x AND :y", "NOT NOT (a IN (:x, :y))", "size(a) >= :x",
		"begins_with(a, :x) AND contains(b, :y)", "attribute_type(a, :x)", "((((a = :x))))", "a <> :x OR",
	} {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		emu := ddbemu.New()
		emu.CreateTable("t", "pk", "S")
		body, _ := json.Marshal(map[string]any{
			"TableName": "t", "Item": map[string]any{"pk": map[string]string{"S": "k"}, "a": map[string]string{"N": "1"}},
			"ConditionExpression":      expr,
			"ExpressionAttributeNames": map[string]string{"#k": "pk", "#e": "e", "#s": "s", "#u": "u", "#o": "o"},
			"ExpressionAttributeValues": map[string]any{":x": map[string]string{"N": "1"}, ":y": map[string]string{"S": "y"},
				":nows": map[string]string{"N": "1"}, ":nowms": map[string]string{"N": "1"}, ":delivering": map[string]string{"S": "d"},
				":owner": map[string]string{"S": "o"}},
		})
		for range 2 { // the second put meets the item of the first
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
			req.Header.Set("X-Amz-Target", "DynamoDB_20120810.PutItem")
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request")
			rec := httptest.NewRecorder()
			emu.ServeHTTP(rec, req)
			var out map[string]any
			if json.Unmarshal(rec.Body.Bytes(), &out) != nil {
				t.Fatalf("answer is not JSON: %q", rec.Body.String())
			}
			typ, _ := out["__type"].(string)
			switch {
			case rec.Code == http.StatusOK:
			case rec.Code == http.StatusBadRequest && (strings.HasSuffix(typ, "#ValidationException") || strings.HasSuffix(typ, "#ConditionalCheckFailedException")):
			default:
				t.Fatalf("%q: %d %s", expr, rec.Code, rec.Body.String())
			}
		}
	})
}

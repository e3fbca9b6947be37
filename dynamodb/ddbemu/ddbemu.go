// Package ddbemu is an in-process Amazon DynamoDB for tests: an http.Handler
// speaking the service's JSON protocol (POST /, X-Amz-Target
// DynamoDB_20120810.<Operation>, application/x-amz-json-1.0), so that the real
// aws-sdk-go-v2 DynamoDB client, pointed at it with BaseEndpoint or
// AWS_ENDPOINT_URL_DYNAMODB and static credentials, meets what AWS documents for
// the item operations drainpipe calls:
//
//   - PutItem, GetItem, DeleteItem on tables with a hash key (made with
//     CreateTable, the Go method); ResourceNotFoundException for a table that
//     does not exist.
//   - ConditionExpression with ExpressionAttributeNames and -Values: the
//     comparators, BETWEEN, IN, attribute_exists, attribute_not_exists,
//     attribute_type, begins_with, contains, size, NOT, AND, OR and parentheses,
//     over nested document paths; reserved words refused as names; unused or
//     undefined placeholders refused. ConditionalCheckFailedException, with the
//     item as it was when ReturnValuesOnConditionCheckFailure is ALL_OLD.
//   - AttributeValues with exactly one type, numbers of up to 38 digits, sets
//     without duplicates, the key's declared type, items up to 400 KB.
//   - ReturnValues ALL_OLD on PutItem and DeleteItem; ConsistentRead on GetItem
//     (every read is consistent here).
//
// Time to live is not applied: as in the service, where an expired item may
// stay readable for days, a client must check expiry itself. Other operations
// answer UnknownOperationException. Faults come from internal/awsemu.
//
// # Unconfirmed behaviour
//
//	item                              choice made here
//	--------------------------------  ----------------------------------------------------
//	reserved words                    reserved.go's 574, transcribed; the documentation counts 573
//	expression nesting                at most 50 levels; the service's limit is not documented
//	redundant parentheses             accepted (the service may refuse them)
//	size() of a string                its length in bytes
//	item size                         names plus value bytes, near the service's own count
//	error texts                       as quoted in the code, from AWS's documentation and SDK tests
package ddbemu

import (
	"fmt"
	"net/http"
	"sort"
	"sync"

	"github.com/drainpipe/drainpipe/internal/awsemu"
)

const maxItemBytes = 400 << 10

// Server is the DynamoDB double. Its methods are safe for concurrent use.
type Server struct {
	*awsemu.Server

	mu     sync.Mutex
	tables map[string]*table
}

type table struct {
	key, keyType string
	items        map[string]map[string]*value // by the key's text
}

// New returns a DynamoDB with no tables.
func New() *Server {
	s := &Server{tables: map[string]*table{}}
	s.Server = awsemu.New(awsemu.Options{Target: "DynamoDB_20120810.", ContentType: "application/x-amz-json-1.0",
		ErrorPrefix: "com.amazonaws.dynamodb.v20120810#", CRC32: true, MaxBody: 16 << 20, Handle: s.handle})
	return s
}

// CreateTable makes a table whose hash key is the attribute key of type
// keyType ("S", "N" or "B"), as the template's AWS::DynamoDB::Table does.
func (s *Server) CreateTable(name, key, keyType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables[name] = &table{key: key, keyType: keyType, items: map[string]map[string]*value{}}
}

// Item returns the item of table whose key is keyText, each attribute as text
// (strings and numbers as they are, other types as JSON).
func (s *Server) Item(tableName, keyText string) (map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[tableName]
	if !ok {
		return nil, false
	}
	item, ok := t.items[keyText]
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for k, v := range item {
		out[k] = v.text()
	}
	return out, true
}

// Keys returns the keys of a table's items, sorted.
func (s *Server) Keys(tableName string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if t, ok := s.tables[tableName]; ok {
		for k := range t.items {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (s *Server) handle(op string, body []byte) (any, *awsemu.Error) {
	var (
		out any
		err error
	)
	switch op {
	case "PutItem":
		var in putItemRequest
		if aerr := awsemu.Decode(body, &in); aerr != nil {
			return nil, aerr
		}
		out, err = s.putItem(&in)
	case "DeleteItem":
		var in deleteItemRequest
		if aerr := awsemu.Decode(body, &in); aerr != nil {
			return nil, aerr
		}
		out, err = s.deleteItem(&in)
	case "GetItem":
		var in getItemRequest
		if aerr := awsemu.Decode(body, &in); aerr != nil {
			return nil, aerr
		}
		out, err = s.getItem(&in)
	default:
		return nil, awsemu.ClientError("UnknownOperationException", "")
	}
	if err != nil {
		return nil, err.(*awsemu.Error)
	}
	return out, nil
}

// tableOf finds a table; s.mu is held.
func (s *Server) tableOf(name string) (*table, error) {
	if name == "" {
		return nil, validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	t, ok := s.tables[name]
	if !ok {
		return nil, awsemu.ClientError("ResourceNotFoundException", "Requested resource not found")
	}
	return t, nil
}

// keyOf returns the text of the key attribute of item, checking its type.
func (t *table) keyOf(item map[string]*value, what string) (string, error) {
	v, ok := item[t.key]
	if !ok {
		return "", validation(fmt.Sprintf("One or more parameter values were invalid: Missing the key %s in the %s", t.key, what))
	}
	k, err := v.kind()
	if err != nil {
		return "", err
	}
	if k != t.keyType {
		return "", validation(fmt.Sprintf("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", t.key, t.keyType, k))
	}
	if text := v.text(); text != "" {
		return text, nil
	}
	return "", validation(fmt.Sprintf("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", t.key))
}

func (s *Server) putItem(in *putItemRequest) (any, error) {
	if err := checkItem(in.Item); err != nil {
		return nil, err
	}
	cond, err := conditionOf(in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tableOf(in.TableName)
	if err != nil {
		return nil, err
	}
	key, err := t.keyOf(in.Item, "item")
	if err != nil {
		return nil, err
	}
	old := t.items[key]
	if err := checkCondition(cond, old, in.ReturnValuesOnConditionCheckFailure); err != nil {
		return nil, err
	}
	t.items[key] = copyItem(in.Item)
	return itemResponse{Attributes: returned(in.ReturnValues, old)}, nil
}

func (s *Server) deleteItem(in *deleteItemRequest) (any, error) {
	cond, err := conditionOf(in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, key, err := s.keyed(in.TableName, in.Key)
	if err != nil {
		return nil, err
	}
	old := t.items[key]
	if err := checkCondition(cond, old, in.ReturnValuesOnConditionCheckFailure); err != nil {
		return nil, err
	}
	delete(t.items, key)
	return itemResponse{Attributes: returned(in.ReturnValues, old)}, nil
}

func (s *Server) getItem(in *getItemRequest) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, key, err := s.keyed(in.TableName, in.Key)
	if err != nil {
		return nil, err
	}
	return getItemResponse{Item: t.items[key]}, nil
}

// keyed finds the table and the text of a request's Key; s.mu is held.
func (s *Server) keyed(tableName string, k map[string]*value) (*table, string, error) {
	t, err := s.tableOf(tableName)
	if err != nil {
		return nil, "", err
	}
	if len(k) != 1 {
		return nil, "", validation("The provided key element does not match the schema")
	}
	key, err := t.keyOf(k, "key")
	return t, key, err
}

// checkItem validates every attribute of an item and its size.
func checkItem(item map[string]*value) error {
	size := 0
	for name, v := range item {
		if name == "" {
			return validation("One or more parameter values were invalid: An AttributeName may not be empty")
		}
		if v == nil {
			return validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
		}
		if err := v.check(); err != nil {
			return err
		}
		size += len(name) + v.size()
	}
	if size > maxItemBytes {
		return validation("Item size has exceeded the maximum allowed size")
	}
	return nil
}

// conditionOf parses a request's condition and checks its placeholders.
func conditionOf(expr *string, names map[string]string, values map[string]*value) (condition, error) {
	if expr == nil {
		if len(names) > 0 || len(values) > 0 {
			return nil, validation("ExpressionAttributeNames and ExpressionAttributeValues can only be specified when using expressions")
		}
		return nil, nil
	}
	if *expr == "" {
		return nil, validation("Invalid ConditionExpression: The expression can not be empty;")
	}
	for k, v := range values {
		if v == nil {
			return nil, validation("ExpressionAttributeValues contains invalid value: Supplied AttributeValue is empty, must contain exactly one of the supported datatypes for key " + k)
		}
		if err := v.check(); err != nil {
			return nil, validation("ExpressionAttributeValues contains invalid value: " + err.(*awsemu.Error).Message + " for key " + k)
		}
	}
	c := &exprContext{names: names, values: values, usedNames: map[string]bool{}, usedVals: map[string]bool{}}
	cond, err := parseCondition(*expr, c)
	if err != nil {
		return nil, err
	}
	return cond, c.unused()
}

// checkCondition fails the write when the item as it is does not meet cond.
func checkCondition(cond condition, old map[string]*value, returnOld string) error {
	if cond == nil || cond.eval(old) {
		return nil
	}
	e := awsemu.ClientError("ConditionalCheckFailedException", "The conditional request failed")
	if returnOld == "ALL_OLD" && old != nil {
		e.Extra = map[string]any{"Item": old}
	}
	return e
}

func returned(mode string, old map[string]*value) map[string]*value {
	if mode == "ALL_OLD" {
		return old
	}
	return nil
}

func validation(msg string) *awsemu.Error {
	return &awsemu.Error{Status: http.StatusBadRequest, Code: "ValidationException", Message: msg}
}

package main

import (
	"context"

	"github.com/drainpipe/drainpipe/dynamodb"
	"github.com/drainpipe/drainpipe/lambda"
)

// openDedup is the DynamoDB table that recognises retried batches, when one is
// configured (--lambda-dedup-table, DRAINPIPE_LAMBDA_DEDUP_TABLE).
func openDedup(ctx context.Context, table string) (lambda.Dedup, error) {
	if table == "" {
		return nil, nil
	}
	client, err := dynamodb.NewClient(ctx)
	if err != nil {
		return nil, err
	}
	return dynamodb.New(client, table, nil), nil
}

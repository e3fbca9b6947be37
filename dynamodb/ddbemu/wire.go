package ddbemu

// The wire structs of the operations served, as AWS's API reference names
// their members (PutItem, DeleteItem, GetItem).

type putItemRequest struct {
	TableName                           string            `json:"TableName"`
	Item                                map[string]*value `json:"Item"`
	ConditionExpression                 *string           `json:"ConditionExpression"`
	ExpressionAttributeNames            map[string]string `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues           map[string]*value `json:"ExpressionAttributeValues"`
	ReturnValues                        string            `json:"ReturnValues"`
	ReturnValuesOnConditionCheckFailure string            `json:"ReturnValuesOnConditionCheckFailure"`
	ReturnConsumedCapacity              string            `json:"ReturnConsumedCapacity"`
}

type deleteItemRequest struct {
	TableName                           string            `json:"TableName"`
	Key                                 map[string]*value `json:"Key"`
	ConditionExpression                 *string           `json:"ConditionExpression"`
	ExpressionAttributeNames            map[string]string `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues           map[string]*value `json:"ExpressionAttributeValues"`
	ReturnValues                        string            `json:"ReturnValues"`
	ReturnValuesOnConditionCheckFailure string            `json:"ReturnValuesOnConditionCheckFailure"`
}

type getItemRequest struct {
	TableName      string            `json:"TableName"`
	Key            map[string]*value `json:"Key"`
	ConsistentRead bool              `json:"ConsistentRead"`
}

type itemResponse struct {
	Attributes map[string]*value `json:"Attributes,omitempty"`
}

type getItemResponse struct {
	Item map[string]*value `json:"Item,omitempty"`
}

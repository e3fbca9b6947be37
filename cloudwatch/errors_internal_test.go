package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func apiErr(status int, code, msg string) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: msg},
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		want    errKind
		outcome string
	}{
		{"missing group", apiErr(400, "ResourceNotFoundException", "The specified log group does not exist."), kindGroupMissing, "not_found"},
		{"missing stream", apiErr(400, "ResourceNotFoundException", "The specified log stream does not exist."), kindStreamMissing, "not_found"},
		{"unknown not-found text", apiErr(400, "ResourceNotFoundException", "gone"), kindGroupMissing, "not_found"},
		{"exists", apiErr(400, "ResourceAlreadyExistsException", "The specified log group already exists"), kindExists, "already_exists"},
		{"throttled", apiErr(400, "ThrottlingException", "Rate exceeded"), kindTransient, "throttled"},
		{"5xx", apiErr(500, "ServiceUnavailableException", "try later"), kindTransient, "server_error"},
		{"unknown 503", apiErr(503, "Whatever", ""), kindTransient, "server_error"},
		{"aborted", apiErr(400, "OperationAbortedException", "conflict"), kindTransient, "client_error"},
		{"network", fmt.Errorf("dial: %w", errors.New("connection refused")), kindTransient, "network"},
		{"log group quota", apiErr(400, "LimitExceededException", "Resource limit exceeded."), kindPermanent, "client_error"},
		{"access denied", apiErr(400, "AccessDeniedException", "no"), kindPermanent, "client_error"},
		{"bad credentials", apiErr(400, "UnrecognizedClientException", "The security token included in the request is invalid."), kindPermanent, "client_error"},
		{"bad name", apiErr(400, "InvalidParameterException", "1 validation error detected: Value 'a:b' at 'logStreamName' failed to satisfy constraint"), kindPermanent, "client_error"},
		{"kms", apiErr(400, "InvalidParameterException", "The specified KMS key does not exist or is not allowed"), kindPermanent, "client_error"},
		{"order", apiErr(400, "InvalidParameterException", "Log events in a single PutLogEvents request must be in chronological order."), kindInvalid, "client_error"},
		{"span", apiErr(400, "InvalidParameterException", "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."), kindInvalid, "client_error"},
		{"too large", apiErr(400, "InvalidParameterException", "Upload too large: 1049882 bytes exceeds limit of 1048576"), kindInvalid, "client_error"},
		{"canceled", context.Canceled, kindTransient, "network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := classify(tt.err); got != tt.want {
				t.Errorf("classify = %v, want %v", got, tt.want)
			}
			if got := outcome(tt.err); got != tt.outcome {
				t.Errorf("outcome = %q, want %q", got, tt.outcome)
			}
		})
	}
}

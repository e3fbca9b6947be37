package cloudwatch

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// errKind is what the sink does about an error from CloudWatch.
type errKind int

const (
	// kindTransient: wait and retry, for as long as it takes.
	kindTransient errKind = iota
	// kindGroupMissing and kindStreamMissing: create it, then retry.
	kindGroupMissing
	kindStreamMissing
	// kindExists: someone else created it first, which is success.
	kindExists
	// kindInvalid: the service refused the batch itself (order, size, span); split it.
	kindInvalid
	// kindPermanent: retrying cannot help until someone fixes something; park the group.
	kindPermanent
)

// transientCodes are error codes worth retrying whatever their HTTP status.
// LimitExceededException is not one: CloudWatch Logs sends it when the account
// holds as many resources as its quota allows (CreateLogGroup at the log-group
// quota), which lasts until someone deletes some or raises the quota; rates it
// answers with ThrottlingException. Retried in place, it held every other group's
// lines behind one app's; as a permanent error it parks the group.
var transientCodes = map[string]bool{
	"ThrottlingException": true, "Throttling": true, "ThrottledException": true,
	"TooManyRequestsException": true, "RequestLimitExceeded": true, "SlowDown": true,
	"OperationAbortedException": true, "ServiceUnavailableException": true, "ServiceUnavailable": true,
	"InternalFailure": true, "InternalServerError": true,
	"RequestTimeout": true, "RequestTimeoutException": true,
	"PriorRequestNotComplete": true, "ProvisionedThroughputExceededException": true,
	"EC2ThrottledException": true, "TransactionInProgressException": true,
}

// classify decides what to do about err.
func classify(err error) errKind {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return kindTransient // network, timeouts, credentials being fetched
	}
	code, msg := api.ErrorCode(), api.ErrorMessage()
	switch {
	case code == "ResourceNotFoundException" && strings.Contains(strings.ToLower(msg), "log stream"):
		return kindStreamMissing
	case code == "ResourceNotFoundException":
		return kindGroupMissing
	case code == "ResourceAlreadyExistsException":
		return kindExists
	case transientCodes[code] || httpStatus(err) >= 500 || httpStatus(err) == 429:
		return kindTransient
	case code == "InvalidParameterException" && aboutBatch(msg):
		return kindInvalid
	}
	return kindPermanent
}

// aboutBatch reports whether an InvalidParameterException blames the shape of the
// batch (order, span, size), which splitting it can fix. Anything else (a bad name,
// a KMS key) would fail for every event, so it parks the group rather than have
// every line counted invalid.
func aboutBatch(msg string) bool {
	m := strings.ToLower(msg)
	for _, s := range []string{"chronological", "24 hours", "too large", "exceeds limit"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// outcome is the label an API call's result is counted under.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return "network"
	}
	switch code := api.ErrorCode(); {
	case strings.Contains(code, "Throttl") || httpStatus(err) == 429:
		return "throttled"
	case code == "ResourceNotFoundException":
		return "not_found"
	case code == "ResourceAlreadyExistsException":
		return "already_exists"
	case httpStatus(err) >= 500:
		return "server_error"
	}
	return "client_error"
}

// describe is an error as a person reads it in a status: "Code: message".
func describe(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode() + ": " + api.ErrorMessage()
	}
	return err.Error()
}

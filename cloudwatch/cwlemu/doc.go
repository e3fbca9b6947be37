// Package cwlemu is an in-process CloudWatch Logs service for tests: an
// http.Handler speaking the service's JSON wire protocol (POST /, X-Amz-Target
// Logs_20140328.<Operation>, application/x-amz-json-1.1), so that the real
// aws-sdk-go-v2 client, pointed at it with BaseEndpoint and static credentials,
// meets the behaviour described in shared/reference/cloudwatch-logs.md: the same
// limits, the same error codes and texts, the same partial acceptance of batches.
//
// Beyond the service it offers what a test needs: inspection (Events, Groups,
// Calls), outside interference (DeleteGroup, FailGroup, RejectAccessKey,
// SetGroupQuota) and
// injected faults (SetFaults), plus Listen and Close to make the service
// unreachable and reachable again with its state intact.
//
// Supported operations: PutLogEvents, CreateLogGroup, CreateLogStream,
// PutRetentionPolicy, DeleteRetentionPolicy, TagResource, TagLogGroup,
// DescribeLogGroups, DescribeLogStreams, GetLogEvents, FilterLogEvents,
// DeleteLogGroup, DeleteLogStream. Others answer UnknownOperationException.
//
// Signatures are not verified; an Authorization header is required.
//
// # Unconfirmed behaviour
//
// The reference marks some facts unconfirmed, and the emulator has to choose
// where no public source says. Every such choice is listed here, so that a
// contract check against the live service can settle them:
//
//	item                                 choice made here
//	-----------------------------------  ------------------------------------------------------------
//	per-event size limit                 1,048,576 bytes counting message bytes + 26 (reference: unconfirmed)
//	per-event size error text            "Log event too large: N bytes exceeds limit of 1048576", N = bytes + 26
//	per-event vs batch size check order  per-event first (equal limits: the other order never reports it)
//	check order in PutLogEvents          names/count/empty → event size → batch size → order →
//	                                     group exists → stream exists → time windows → 24 h span
//	expiredLogEventEndIndex              exclusive end, like tooOldLogEventEndIndex (reference: unconfirmed)
//	too old vs expired                   older than 14 days is "too old"; else older than retention is
//	                                     "expired": events [tooOldEnd, expiredEnd) expired
//	time window boundaries               rejected when ts > now+2h, ts < now-14d, ts < now-retention days
//	24 h span                            rejected when last-first > 24 h over the stored (valid) events
//	validation error code                InvalidParameterException, "N validation errors detected: ..."
//	                                     joined by "; ", at most one constraint reported per member
//	empty message                        Value '' at 'logEvents.<i+1>.member.message' ... length >= 1
//	0 or > 10,000 events                 Value '[]' / '[N events]' at 'logEvents' ... length >= 1 / <= 10000
//	names in every operation             checked against the model's length and pattern everywhere
//	group name starting with "aws/"      CreateLogGroup only: InvalidParameterException
//	                                     "Log group names can't start with the string aws/"
//	more than 50 tags                    at create: validation form at 'tags'; TagResource/TagLogGroup
//	                                     past 50 in all: TooManyTagsException
//	                                     "A resource can have no more than 50 tags."
//	TagResource on a missing group       ResourceNotFoundException "The specified resource does not exist."
//	bad ARN for TagResource              InvalidParameterException "Invalid resource ARN: <arn>"
//	bad nextToken (any operation)        InvalidParameterException "The specified nextToken is invalid."
//	Describe* limit outside 1..50        validation form "Member must have value ... 1/50"
//	default page sizes                   Describe*: 50; GetLogEvents, FilterLogEvents: 10,000 (and 1 MB)
//	DescribeLogGroups logGroupNamePattern case-insensitive substring; with a prefix: InvalidParameterException
//	                                     "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
//	DescribeLogStreams consistency       immediately consistent (the service is only eventually so)
//	prefix with orderBy LastEventTime    InvalidParameterException
//	                                     "Cannot order by LastEventTime with a logStreamNamePrefix."
//	name and identifier both given       InvalidParameterException
//	                                     "LogGroup name and LogGroup identifier are mutually exclusive parameters."
//	FilterLogEvents names and prefix     InvalidParameterException
//	                                     "You cannot specify both logStreamNames and logStreamNamePrefix."
//	FilterLogEvents missing stream name  ignored (no error)
//	FilterLogEvents filterPattern        case-sensitive substring, surrounding quotes removed
//	GetLogEvents / FilterLogEvents order by timestamp, ties in stored order; tokens are positions,
//	                                     so events stored later with older timestamps shift them
//	GetLogEvents tokens                  "f/<56 digits>", "b/<56 digits>"; endTime exclusive
//	FilterLogEvents endTime              inclusive
//	response size                        pages stop at 1 MB counting message bytes + 26
//	unknown operation / missing target   UnknownOperationException, HTTP 400, empty message
//	malformed JSON                       SerializationException, HTTP 400
//	request body over 8 MiB              RequestEntityTooLargeException, HTTP 413
//	missing Authorization / rejected key UnrecognizedClientException (reference text), HTTP 400
//	server fault (injected)              ServiceUnavailableException, HTTP 500,
//	                                     "The service is unavailable. Please try again later."
//	Down                                 ServiceUnavailableException, HTTP 503, "Service Unavailable"
//	nextSequenceToken                    a fresh 56-digit number per accepted request
//	ARNs                                 region from the request's credential scope, account 123456789012
//	OperationAbortedException            never sent: requests are serialized
//	LimitExceededException               CreateLogGroup only, once SetGroupQuota's count of groups is
//	                                     held (checked after "already exists"): HTTP 400,
//	                                     "Resource limit exceeded." (the service's text for its other
//	                                     resource quotas; for log groups unconfirmed)
package cwlemu

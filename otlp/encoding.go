package otlp

import (
	"fmt"
	"mime"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Encoding is how an OTLP/HTTP body is written; the answer uses the request's.
type Encoding int

// The encodings of OTLP/HTTP.
const (
	// Protobuf is the binary protobuf encoding, application/x-protobuf.
	Protobuf Encoding = iota + 1
	// JSON is OTLP's JSON mapping of the protobuf messages, application/json.
	JSON
)

// ContentType is the media type of e.
func (e Encoding) ContentType() string {
	if e == JSON {
		return "application/json"
	}
	return "application/x-protobuf"
}

// ParseContentType returns the encoding of a request's Content-Type. A request
// without one is read as protobuf, the default of every OTLP exporter.
func ParseContentType(ct string) (Encoding, error) {
	if ct == "" {
		return Protobuf, nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return 0, fmt.Errorf("content type %q does not parse", ct)
	}
	switch mt {
	case "application/x-protobuf", "application/protobuf":
		return Protobuf, nil
	case "application/json":
		return JSON, nil
	}
	return 0, fmt.Errorf("content type %q: send application/x-protobuf or application/json", mt)
}

// DecodeLogs reads an ExportLogsServiceRequest; an error wraps ErrBadPayload.
func DecodeLogs(body []byte, enc Encoding) (plog.Logs, error) {
	req := plogotlp.NewExportRequest()
	if err := unmarshal(req, body, enc); err != nil {
		return plog.Logs{}, fmt.Errorf("%w: decode OTLP logs request: %w", ErrBadPayload, err)
	}
	return req.Logs(), nil
}

// DecodeMetrics reads an ExportMetricsServiceRequest; an error wraps ErrBadPayload.
func DecodeMetrics(body []byte, enc Encoding) (pmetric.Metrics, error) {
	req := pmetricotlp.NewExportRequest()
	if err := unmarshal(req, body, enc); err != nil {
		return pmetric.Metrics{}, fmt.Errorf("%w: decode OTLP metrics request: %w", ErrBadPayload, err)
	}
	return req.Metrics(), nil
}

// unmarshal reads body into req, in enc.
func unmarshal(req interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
}, body []byte, enc Encoding) error {
	if enc == JSON {
		return req.UnmarshalJSON(body)
	}
	return req.UnmarshalProto(body)
}

// LogsResponse is the answer to a logs export, with a partial success when records
// were rejected.
func LogsResponse(res Result) plogotlp.ExportResponse {
	resp := plogotlp.NewExportResponse()
	if res.Rejected > 0 {
		resp.PartialSuccess().SetRejectedLogRecords(res.Rejected)
		resp.PartialSuccess().SetErrorMessage(res.Message)
	}
	return resp
}

// MetricsResponse is the answer to a metrics export, with a partial success when
// data points were rejected.
func MetricsResponse(res Result) pmetricotlp.ExportResponse {
	resp := pmetricotlp.NewExportResponse()
	if res.Rejected > 0 {
		resp.PartialSuccess().SetRejectedDataPoints(res.Rejected)
		resp.PartialSuccess().SetErrorMessage(res.Message)
	}
	return resp
}

// EncodeResponse writes the answer to an export of signal in enc.
func EncodeResponse(signal Signal, res Result, enc Encoding) ([]byte, error) {
	type marshaler interface {
		MarshalProto() ([]byte, error)
		MarshalJSON() ([]byte, error)
	}
	var m marshaler = LogsResponse(res)
	if signal == Metrics {
		m = MetricsResponse(res)
	}
	if enc == JSON {
		return m.MarshalJSON()
	}
	return m.MarshalProto()
}

// EncodeStatus writes the google.rpc.Status that OTLP/HTTP answers a failed
// request with, in enc.
func EncodeStatus(code codes.Code, msg string, enc Encoding) []byte {
	st := status.New(code, msg).Proto()
	var b []byte
	var err error
	if enc == JSON {
		b, err = protojson.Marshal(st)
	} else {
		b, err = proto.Marshal(st)
	}
	if err != nil { // a Status of a code and a string always encodes
		return nil
	}
	return b
}

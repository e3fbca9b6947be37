// Package ssmemu is an in-process AWS Systems Manager Parameter Store for tests:
// an http.Handler speaking the service's JSON protocol (POST /, X-Amz-Target
// AmazonSSM.<Operation>, application/x-amz-json-1.1), so that the real
// aws-sdk-go-v2 SSM client, pointed at it with BaseEndpoint or
// AWS_ENDPOINT_URL_SSM and static credentials, meets what AWS documents for the
// two operations drainpipe calls:
//
//   - GetParameter: by name or by ARN; a SecureString comes back decrypted only
//     with WithDecryption (else as ciphertext); ParameterNotFound otherwise.
//   - PutParameter: types String, StringList and SecureString; names of letters,
//     digits and "_.-", in a hierarchy of at most 15 levels under "/", not
//     starting with "aws" or "ssm"; ParameterAlreadyExists unless Overwrite, and
//     tags only on a new parameter; values of at most 4 KB in the Standard tier
//     and 8 KB in the Advanced tier (Intelligent-Tiering picks the one that
//     fits); every change a new Version.
//
// Other operations answer InvalidAction. Faults (an outage, throttling, server
// errors, latency) come from internal/awsemu.
//
// # Unconfirmed behaviour
//
//	item                              choice made here
//	--------------------------------  ----------------------------------------------------
//	SecureString without decryption   the value comes back as base64 of a hash, never the text
//	error texts                       as quoted in the code, from AWS's documentation and SDK tests
//	ARN region and account            the Options' region, account 123456789012
package ssmemu

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/internal/awsemu"
)

const account = "123456789012"

// Options configures a Server.
type Options struct {
	// Region names the parameters' ARNs; default us-east-1.
	Region string
	// Now is the clock of LastModifiedDate; default time.Now.
	Now func() time.Time
}

// Parameter is a stored parameter, as the tests inspect it.
type Parameter struct {
	Name, Type, Value, Tier, KeyID string
	Version                        int64
	Modified                       time.Time
	Tags                           map[string]string
}

// Server is the Parameter Store double. Its methods are safe for concurrent use.
type Server struct {
	*awsemu.Server
	region string
	now    func() time.Time

	mu     sync.Mutex
	params map[string]*Parameter
}

// New returns an empty Parameter Store.
func New(opt Options) *Server {
	if opt.Region == "" {
		opt.Region = "us-east-1"
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Server{region: opt.Region, now: opt.Now, params: map[string]*Parameter{}}
	s.Server = awsemu.New(awsemu.Options{Target: "AmazonSSM.", ContentType: "application/x-amz-json-1.1",
		MaxBody: 1 << 20, Handle: s.handle})
	return s
}

// Parameter returns the stored parameter called name.
func (s *Server) Parameter(name string) (Parameter, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.params[name]
	if !ok {
		return Parameter{}, false
	}
	return *p, true
}

func (s *Server) handle(op string, body []byte) (any, *awsemu.Error) {
	switch op {
	case "GetParameter":
		var in getParameterRequest
		if err := awsemu.Decode(body, &in); err != nil {
			return nil, err
		}
		return s.getParameter(in)
	case "PutParameter":
		var in putParameterRequest
		if err := awsemu.Decode(body, &in); err != nil {
			return nil, err
		}
		return s.putParameter(in)
	}
	return nil, awsemu.ClientError("InvalidAction", fmt.Sprintf("The action or operation requested is invalid: %s", op))
}

func (s *Server) getParameter(in getParameterRequest) (any, *awsemu.Error) {
	if in.Name == nil || *in.Name == "" || len(*in.Name) > 2048 {
		return nil, validation("1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length between 1 and 2048")
	}
	name := s.nameOf(*in.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.params[name]
	if !ok {
		return nil, awsemu.ClientError("ParameterNotFound", "")
	}
	value := p.Value
	if p.Type == "SecureString" && !in.WithDecryption {
		sum := sha256.Sum256([]byte(p.Value))
		value = base64.StdEncoding.EncodeToString(sum[:])
	}
	return getParameterResponse{Parameter: parameterWire{
		ARN: s.arn(p.Name), DataType: "text", LastModifiedDate: float64(p.Modified.UnixMilli()) / 1000,
		Name: p.Name, Type: p.Type, Value: value, Version: p.Version,
	}}, nil
}

func (s *Server) putParameter(in putParameterRequest) (any, *awsemu.Error) {
	p, aerr := s.checkPut(in)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, exists := s.params[p.Name]
	switch {
	case exists && !in.Overwrite:
		return nil, awsemu.ClientError("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	case exists && len(in.Tags) > 0:
		return nil, validation("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	case exists && old.Tier == "Advanced" && p.Tier == "Standard":
		return nil, validation("This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.")
	}
	if exists {
		p.Version, p.Tags = old.Version+1, old.Tags
	} else {
		p.Version = 1
	}
	p.Modified = s.now()
	s.params[p.Name] = p
	return putParameterResponse{Version: p.Version, Tier: p.Tier}, nil
}

// nameRe is a path segment or a plain name: letters, digits and "_.-".
var nameRe = regexp.MustCompile(`^[a-zA-Z0-9_.\-]+$`)

// checkPut validates a PutParameter request and returns the parameter it makes.
func (s *Server) checkPut(in putParameterRequest) (*Parameter, *awsemu.Error) {
	if in.Name == nil || in.Value == nil {
		return nil, validation("1 validation error detected: Value null at 'name' or 'value' failed to satisfy constraint: Member must not be null")
	}
	if err := checkName(*in.Name); err != nil {
		return nil, err
	}
	switch in.Type {
	case "String", "StringList", "SecureString":
	case "":
		return nil, validation("A parameter type is required when you create a parameter.")
	default:
		return nil, validation(fmt.Sprintf("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", in.Type))
	}
	if *in.Value == "" {
		return nil, validation("1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	tier, aerr := tierOf(in.Tier, len(*in.Value))
	if aerr != nil {
		return nil, aerr
	}
	p := &Parameter{Name: *in.Name, Type: in.Type, Value: *in.Value, Tier: tier, KeyID: in.KeyID, Tags: map[string]string{}}
	if in.Type == "SecureString" && p.KeyID == "" {
		p.KeyID = "alias/aws/ssm"
	}
	for _, t := range in.Tags {
		p.Tags[t.Key] = t.Value
	}
	return p, nil
}

func checkName(name string) *awsemu.Error {
	bad := validation("Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_")
	if name == "" || len(name) > 1011 {
		return validation("1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length between 1 and 1011")
	}
	segs := []string{name}
	if strings.Contains(name, "/") {
		if !strings.HasPrefix(name, "/") {
			return validation("Parameter name must be a fully qualified name.")
		}
		segs = strings.Split(name[1:], "/")
		if len(segs) > 15 {
			return awsemu.ClientError("HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of 15 levels.")
		}
	}
	if l := strings.ToLower(segs[0]); strings.HasPrefix(l, "aws") || strings.HasPrefix(l, "ssm") {
		return bad
	}
	for _, seg := range segs {
		if !nameRe.MatchString(seg) {
			return bad
		}
	}
	return nil
}

// tierOf applies the tiers' value sizes.
func tierOf(tier string, size int) (string, *awsemu.Error) {
	switch tier {
	case "", "Standard":
		if size > 4096 {
			return "", validation("Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.")
		}
		return "Standard", nil
	case "Intelligent-Tiering":
		if size > 4096 {
			return tierOf("Advanced", size)
		}
		return "Standard", nil
	case "Advanced":
		if size > 8192 {
			return "", validation("Advanced tier parameters support a maximum parameter value of 8192 characters.")
		}
		return "Advanced", nil
	}
	return "", validation(fmt.Sprintf("1 validation error detected: Value '%s' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]", tier))
}

// nameOf turns an ARN into the name it addresses.
func (s *Server) nameOf(name string) string {
	if !strings.HasPrefix(name, "arn:") {
		return name
	}
	_, rest, ok := strings.Cut(name, ":parameter/")
	if !ok {
		return name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.params["/"+rest]; ok {
		return "/" + rest
	}
	return rest
}

func (s *Server) arn(name string) string {
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", s.region, account, strings.TrimPrefix(name, "/"))
}

func validation(msg string) *awsemu.Error {
	return &awsemu.Error{Status: http.StatusBadRequest, Code: "ValidationException", Message: msg}
}

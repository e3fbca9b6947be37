// Package ssm reads and writes one AWS Systems Manager Parameter Store parameter
// as a SecureString: where drainpipe's Lambda function can keep its drains (ids,
// secret hashes and apps) instead of in an environment variable. ssm/ssmemu is
// its double for tests.
package ssm

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// ErrNotFound means the parameter does not exist.
var ErrNotFound = errors.New("parameter not found")

// API is the part of the SSM API used; *awsssm.Client implements it.
type API interface {
	GetParameter(ctx context.Context, in *awsssm.GetParameterInput, optFns ...func(*awsssm.Options)) (*awsssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, in *awsssm.PutParameterInput, optFns ...func(*awsssm.Options)) (*awsssm.PutParameterOutput, error)
}

var _ API = (*awsssm.Client)(nil)

// NewClient builds an SSM client from the SDK's default chain (environment,
// AWS_PROFILE, AWS_ENDPOINT_URL_SSM, the function's role).
func NewClient(ctx context.Context, optFns ...func(*awsssm.Options)) (*awsssm.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	return awsssm.NewFromConfig(cfg, optFns...), nil
}

// Get returns the decrypted value of the parameter name (a name or an ARN).
func Get(ctx context.Context, api API, name string) (string, error) {
	out, err := api.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if errors.As(err, new(*types.ParameterNotFound)) {
		return "", fmt.Errorf("ssm parameter %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("ssm get parameter %s: %w", name, err)
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return "", fmt.Errorf("ssm get parameter %s: no value in the answer", name)
	}
	return *out.Parameter.Value, nil
}

// Put stores value as the SecureString name (encrypted with the account's
// aws/ssm key), replacing what is there. Intelligent-Tiering keeps it in the
// free Standard tier while it fits in 4 KB.
func Put(ctx context.Context, api API, name, value string) error {
	_, err := api.PutParameter(ctx, &awsssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: types.ParameterTypeSecureString,
		Overwrite: aws.Bool(true), Tier: types.ParameterTierIntelligentTiering,
	})
	if err != nil {
		return fmt.Errorf("ssm put parameter %s: %w", name, err)
	}
	return nil
}

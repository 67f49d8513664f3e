// Package awssecrets reads secrets from AWS Secrets Manager with the
// official client.
package awssecrets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"eventrelay.dev/eventrelay/shared/secrets"
)

// Source is a secrets.Source on Secrets Manager.
type Source struct {
	client *secretsmanager.Client
}

// New returns a Source using client.
func New(client *secretsmanager.Client) *Source { return &Source{client: client} }

// NewClient loads the default AWS configuration (environment, then the
// Lambda role) and sets endpoint when given. AWS_ENDPOINT_URL_SECRETS_MANAGER
// also works, through the SDK itself.
func NewClient(ctx context.Context, region, endpoint string) (*secretsmanager.Client, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// Get implements secrets.Source; name is a secret id or ARN.
func (s *Source) Get(ctx context.Context, name string) ([]byte, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return nil, fmt.Errorf("%s: %w", name, secrets.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("get secret %s: %w", name, err)
	case out.SecretString != nil:
		return []byte(*out.SecretString), nil
	case out.SecretBinary != nil:
		return out.SecretBinary, nil
	}
	return nil, fmt.Errorf("%s: the current version holds no value: %w", name, secrets.ErrNotFound)
}

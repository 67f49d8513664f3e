// Package awssecrets reads secrets from AWS Secrets Manager with the
// official client.
package awssecrets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
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

package awssecrets

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"eventrelay.dev/eventrelay/internal/fakesecrets"
	"eventrelay.dev/eventrelay/shared/secrets"
)

// The real Secrets Manager client (signing, JSON 1.1) against the local server.
func TestSecretsManager(t *testing.T) {
	fake := fakesecrets.StartAWS()
	defer fake.Close()
	client := secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(fake.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	src := New(client)
	ctx := context.Background()
	arn := "arn:aws:secretsmanager:us-east-1:100010001000:secret:eventrelay/mcm-api-key"
	fake.Set(arn, "key-v1")
	if v, err := src.Get(ctx, arn); err != nil || string(v) != "key-v1" {
		t.Fatalf("%q %v", v, err)
	}
	// A rotation written with the real client's PutSecretValue.
	if _, err := client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String("key-v2")}); err != nil {
		t.Fatal(err)
	}
	if v, err := src.Get(ctx, arn); err != nil || string(v) != "key-v2" {
		t.Fatalf("after rotation %q %v", v, err)
	}
	if _, err := src.Get(ctx, "missing"); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

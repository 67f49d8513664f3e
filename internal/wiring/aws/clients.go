package aws

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"eventrelay.dev/eventrelay/shared/settings"
)

// sdkClients shares one client per AWS service in a process: the ledger and
// the item catalog use one DynamoDB client, and the events publisher, the
// forwarder's visibility changes, its dead-letter publisher and the
// backfill's source one SQS client. Each service client builds its own
// connection pool, so ingest's first request, which reads the catalog and
// writes the ledger, opens one TLS connection to DynamoDB, not two; and the
// SDK's configuration (environment, shared files, the Lambda role's
// credentials) is loaded once. AWS clients hold nothing to close.
var sdkClients = struct {
	sync.Mutex
	config map[string]aws.Config // by sdkEnv
	byKind map[clientKey]any
}{config: map[string]aws.Config{}, byKind: map[clientKey]any{}}

type clientKey struct{ service, env string }

// sdkEnv keys what the SDK's configuration is loaded from: the region given
// and the process's AWS_* variables (endpoints, credentials, profile and
// file locations) and HOME (where the shared files are). Tests that start
// one emulator after another, with other endpoints, get clients of their own.
func sdkEnv(region string) string {
	vars := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=")
	})
	slices.Sort(vars)
	return region + "\x00" + strings.Join(vars, "\x00")
}

// sharedClient returns the process's client for service, made by newClient
// from the configuration for env's AWS_REGION on first use.
func sharedClient[C any](ctx context.Context, env *settings.Env, service string, newClient func(aws.Config) C) (C, error) {
	region := settings.AWSRegion.Get(env)
	key := clientKey{service, sdkEnv(region)}
	sdkClients.Lock()
	defer sdkClients.Unlock()
	if c, ok := sdkClients.byKind[key]; ok {
		return c.(C), nil
	}
	cfg, ok := sdkClients.config[key.env]
	if !ok {
		var opts []func(*awsconfig.LoadOptions) error
		if region != "" {
			opts = append(opts, awsconfig.WithRegion(region))
		}
		var err error
		if cfg, err = awsconfig.LoadDefaultConfig(ctx, opts...); err != nil {
			var zero C
			return zero, err
		}
		sdkClients.config[key.env] = cfg
	}
	c := newClient(cfg)
	sdkClients.byKind[key] = c
	return c, nil
}

func sqsClient(ctx context.Context, env *settings.Env) (*sqs.Client, error) {
	return sharedClient(ctx, env, "sqs", func(cfg aws.Config) *sqs.Client { return sqs.NewFromConfig(cfg) })
}

func snsClient(ctx context.Context, env *settings.Env) (*sns.Client, error) {
	return sharedClient(ctx, env, "sns", func(cfg aws.Config) *sns.Client { return sns.NewFromConfig(cfg) })
}

func dynamoClient(ctx context.Context, env *settings.Env) (*dynamodb.Client, error) {
	return sharedClient(ctx, env, "dynamodb", func(cfg aws.Config) *dynamodb.Client { return dynamodb.NewFromConfig(cfg) })
}

func secretsClient(ctx context.Context, env *settings.Env) (*secretsmanager.Client, error) {
	return sharedClient(ctx, env, "secretsmanager", func(cfg aws.Config) *secretsmanager.Client {
		return secretsmanager.NewFromConfig(cfg)
	})
}

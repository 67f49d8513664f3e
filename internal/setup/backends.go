package setup

import (
	"context"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"eventrelay.dev/eventrelay/shared/config"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/queue/pubsubqueue"
	"eventrelay.dev/eventrelay/shared/queue/sqsqueue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/secrets/awssecrets"
	"eventrelay.dev/eventrelay/shared/secrets/gcpsecrets"
)

// secretSource returns the cached secret store named by SECRETS_BACKEND.
// Problems are recorded on env; the caller checks env.Err().
func secretSource(ctx context.Context, env *config.Env, opt Options) (secrets.Source, func() error) {
	ttl := env.Duration("SECRETS_CACHE_TTL", time.Minute, time.Second, time.Hour)
	if opt.Secrets != nil {
		return opt.Secrets, noClose
	}
	switch env.OneOf("SECRETS_BACKEND", "", "gcp", "aws") {
	case "gcp":
		src, err := gcpsecrets.New(ctx)
		if err != nil {
			env.Fail("SECRETS_BACKEND", "cannot create the Secret Manager client: %v", err)
			return nil, noClose
		}
		return secrets.NewCached(src, ttl), src.Close
	case "aws":
		client, err := awssecrets.NewClient(ctx, env.String("AWS_REGION", ""), "")
		if err != nil {
			env.Fail("SECRETS_BACKEND", "cannot create the Secrets Manager client: %v", err)
			return nil, noClose
		}
		return secrets.NewCached(awssecrets.New(client), ttl), noClose
	}
	return nil, noClose
}

// publisher returns the queue named by QUEUE_BACKEND. The Pub/Sub client
// honours PUBSUB_EMULATOR_HOST and the SQS client AWS_ENDPOINT_URL_SQS, so
// the same code runs against the local emulators.
func publisher(ctx context.Context, env *config.Env, opt Options) (queue.Publisher, func() error) {
	if opt.Publisher != nil {
		return opt.Publisher, noClose
	}
	switch env.OneOf("QUEUE_BACKEND", "", "pubsub", "sqs") {
	case "pubsub":
		topic := env.Required("PUBSUB_TOPIC", "projects/<project>/topics/<topic>")
		project, ok := pubsubProject(topic)
		if !ok {
			if topic != "" {
				env.Fail("PUBSUB_TOPIC", "%q is not of the form projects/<project>/topics/<topic>", topic)
			}
			return nil, noClose
		}
		client, err := pubsub.NewClient(ctx, project)
		if err != nil {
			env.Fail("PUBSUB_TOPIC", "cannot create the Pub/Sub client: %v", err)
			return nil, noClose
		}
		p := pubsubqueue.New(client, topic)
		return p, func() error { p.Close(); return client.Close() }
	case "sqs":
		url := env.Required("SQS_QUEUE_URL", "the URL of the events queue")
		if url == "" {
			return nil, noClose
		}
		client, err := sqsqueue.NewClient(ctx, env.String("AWS_REGION", ""), "")
		if err != nil {
			env.Fail("SQS_QUEUE_URL", "cannot create the SQS client: %v", err)
			return nil, noClose
		}
		p := sqsqueue.New(client, url)
		return p, p.Close
	}
	return nil, noClose
}

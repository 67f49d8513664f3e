package setup

import (
	"context"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"eventrelay.dev/eventrelay/shared/config"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ledger/dynamoledger"
	"eventrelay.dev/eventrelay/shared/ledger/firestoreledger"
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
		src, err := gcpsecrets.New(ctx, secretManagerEmulator(env)...)
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

// secretManagerEmulator points the Secret Manager client at a local server
// when SECRETMANAGER_EMULATOR_HOST names one, as PUBSUB_EMULATOR_HOST does
// for Pub/Sub; Secret Manager has no official emulator, so this is how a
// function in its own process reads secrets on the local stack.
func secretManagerEmulator(env *config.Env) []option.ClientOption {
	host := env.String("SECRETMANAGER_EMULATOR_HOST", "")
	if host == "" {
		return nil
	}
	return []option.ClientOption{option.WithEndpoint(host), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))}
}

// publisher returns the events queue named by QUEUE_BACKEND. The Pub/Sub
// client honours PUBSUB_EMULATOR_HOST and the SQS client
// AWS_ENDPOINT_URL_SQS, so the same code runs against local emulators.
func publisher(ctx context.Context, env *config.Env, opt Options) (queue.Publisher, func() error) {
	if opt.Publisher != nil {
		return opt.Publisher, noClose
	}
	return openPublisher(ctx, env, "PUBSUB_TOPIC", "SQS_QUEUE_URL", "the events")
}

// deadLetterPublisher returns the dead-letter topic or queue.
func deadLetterPublisher(ctx context.Context, env *config.Env, opt Options) (queue.Publisher, func() error) {
	if opt.DeadLetter != nil {
		return opt.DeadLetter, noClose
	}
	return openPublisher(ctx, env, "DEADLETTER_TOPIC", "DEADLETTER_QUEUE_URL", "the dead-letter")
}

func openPublisher(ctx context.Context, env *config.Env, topicVar, urlVar, what string) (queue.Publisher, func() error) {
	switch env.OneOf("QUEUE_BACKEND", "", "pubsub", "sqs") {
	case "pubsub":
		topic := env.Required(topicVar, what+" topic: projects/<project>/topics/<topic>")
		project, ok := pubsubProject(topic)
		if !ok {
			if topic != "" {
				env.Fail(topicVar, "%q is not of the form projects/<project>/topics/<topic>", topic)
			}
			return nil, noClose
		}
		client, err := pubsub.NewClient(ctx, project)
		if err != nil {
			env.Fail(topicVar, "cannot create the Pub/Sub client: %v", err)
			return nil, noClose
		}
		p := pubsubqueue.New(client, topic)
		closeAll := func() error { p.Close(); return client.Close() }
		if !checkQueue(ctx, env, topicVar, p) {
			closeAll()
			return nil, noClose
		}
		return queue.WithSetting(p, topicVar), closeAll
	case "sqs":
		url := env.Required(urlVar, what+" queue URL")
		if url == "" {
			return nil, noClose
		}
		client, err := sqsqueue.NewClient(ctx, env.String("AWS_REGION", ""), "")
		if err != nil {
			env.Fail(urlVar, "cannot create the SQS client: %v", err)
			return nil, noClose
		}
		p := sqsqueue.New(client, url)
		if !checkQueue(ctx, env, urlVar, p) {
			return nil, noClose
		}
		return queue.WithSetting(p, urlVar), noClose
	}
	return nil, noClose
}

// queueCheckTimeout bounds the existence check at start.
const queueCheckTimeout = 10 * time.Second

// checkQueue asks the queue once whether the topic or queue that variable
// names exists and may be published to, and records a permanent failure on
// env, so that the start stops with one line naming the variable. A
// transient failure (the service did not answer in time) does not stop the
// start: publishes will answer 503 until it does.
func checkQueue(ctx context.Context, env *config.Env, variable string, c interface{ Check(context.Context) error }) bool {
	ctx, cancel := context.WithTimeout(ctx, queueCheckTimeout)
	defer cancel()
	if err := c.Check(ctx); err != nil && !queue.Transient(err) {
		env.Fail(variable, "the queue refuses it: %v", err)
		return false
	}
	return true
}

// ledgerStore returns the ledger named by LEDGER_BACKEND (none: nil).
func ledgerStore(ctx context.Context, env *config.Env, opt Options, def string) (ledger.Store, func() error) {
	if opt.Ledger != nil {
		return opt.Ledger, noClose
	}
	switch env.OneOf("LEDGER_BACKEND", def, "none", "firestore", "dynamodb") {
	case "firestore":
		project := env.Required("GOOGLE_CLOUD_PROJECT", "the project holding the Firestore database")
		database := env.String("LEDGER_FIRESTORE_DATABASE", "(default)")
		collection := env.String("LEDGER_FIRESTORE_COLLECTION", "eventrelay-ledger")
		if project == "" {
			return nil, noClose
		}
		client, err := firestore.NewClientWithDatabase(ctx, project, database)
		if err != nil {
			env.Fail("LEDGER_FIRESTORE_DATABASE", "cannot create the Firestore client: %v", err)
			return nil, noClose
		}
		return firestoreledger.New(client, collection), client.Close
	case "dynamodb":
		table := env.Required("LEDGER_DYNAMODB_TABLE", "the ledger table name")
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			env.Fail("LEDGER_DYNAMODB_TABLE", "cannot load the AWS configuration: %v", err)
			return nil, noClose
		}
		return dynamoledger.New(dynamodb.NewFromConfig(cfg), table), noClose
	}
	return nil, noClose
}

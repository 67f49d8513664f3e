// Package aws registers the AWS backends with internal/wiring: SQS
// (QUEUE_BACKEND=sqs), Secrets Manager (SECRETS_BACKEND=aws) and DynamoDB
// (LEDGER_BACKEND=dynamodb). Import it for its side effect in a binary that
// runs on AWS (or against its emulators).
package aws

import (
	"context"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/functions/backfill/sqssource"
	"eventrelay.dev/eventrelay/functions/forwarder"
	"eventrelay.dev/eventrelay/internal/wiring"
	"eventrelay.dev/eventrelay/shared/config"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ledger/dynamoledger"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/queue/sqsqueue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/secrets/awssecrets"
)

func init() {
	wiring.RegisterQueue(wiring.Queue{Name: "sqs", Publisher: openPublisher, BackfillSource: backfillSource,
		Visibility: visibility})
	wiring.RegisterSecrets(wiring.Secrets{Name: "aws", Open: secretSource})
	wiring.RegisterLedger(wiring.Ledger{Name: "dynamodb", Open: ledgerStore})
}

func secretSource(ctx context.Context, env *config.Env) (secrets.Source, wiring.Closer) {
	client, err := secretsClient(ctx, env)
	if err != nil {
		env.Fail("SECRETS_BACKEND", "cannot create the Secrets Manager client: %v", err)
		return nil, wiring.NoClose
	}
	return awssecrets.New(client), wiring.NoClose
}

// openPublisher opens an SQS queue. The client honours AWS_ENDPOINT_URL_SQS,
// so the same code runs against local emulators.
func openPublisher(ctx context.Context, env *config.Env, _, urlVar, what string) (queue.Publisher, wiring.Closer) {
	url := env.Required(urlVar, what+" queue URL")
	if url == "" {
		return nil, wiring.NoClose
	}
	client, err := sqsClient(ctx, env)
	if err != nil {
		env.Fail(urlVar, "cannot create the SQS client: %v", err)
		return nil, wiring.NoClose
	}
	p := sqsqueue.New(client, url)
	if !wiring.CheckQueue(ctx, env, urlVar, p) {
		return nil, wiring.NoClose
	}
	return queue.WithSetting(p, urlVar), wiring.NoClose
}

func ledgerStore(ctx context.Context, env *config.Env) (ledger.Store, wiring.Closer) {
	table := env.Required("LEDGER_DYNAMODB_TABLE", "the ledger table name")
	client, err := dynamoClient(ctx, env)
	if err != nil {
		env.Fail("LEDGER_DYNAMODB_TABLE", "cannot load the AWS configuration: %v", err)
		return nil, wiring.NoClose
	}
	return dynamoledger.New(client, table), wiring.NoClose
}

// visibility is the events queue's ChangeMessageVisibility, which the
// forwarder's backoff rides on.
func visibility(ctx context.Context, env *config.Env) forwarder.VisibilityChanger {
	url := env.Required("SQS_QUEUE_URL", "the events queue the forwarder reads")
	if url == "" {
		return nil
	}
	// Without this client the forwarder's backoff is lost: every retry
	// would come back after the queue's whole visibility timeout. Refuse
	// to start instead.
	client, err := sqsClient(ctx, env)
	if err != nil {
		env.Fail("SQS_QUEUE_URL", "cannot create the SQS client the backoff uses: %v", err)
		return nil
	}
	return sqsqueue.Visibility{Client: client, QueueURL: url}
}

// backfillSource opens the dead-letter queue the backfill drains; SQS
// cannot replay acknowledged messages, so there is no seeker.
func backfillSource(ctx context.Context, env *config.Env) (backfill.Source, backfill.Seeker, wiring.Closer) {
	if env.String("BACKFILL_REPLAY_SUBSCRIPTION", "") != "" {
		env.Fail("BACKFILL_REPLAY_SUBSCRIPTION", "is for QUEUE_BACKEND=pubsub only (SQS cannot replay acknowledged messages)")
	}
	url := env.Required("BACKFILL_QUEUE_URL", "the dead-letter queue URL the backfill drains")
	if url == "" {
		return nil, nil, wiring.NoClose
	}
	client, err := sqsClient(ctx, env)
	if err != nil {
		env.Fail("BACKFILL_QUEUE_URL", "cannot create the SQS client: %v", err)
		return nil, nil, wiring.NoClose
	}
	return sqssource.New(client, url), nil, wiring.NoClose
}

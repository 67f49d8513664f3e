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
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ledger/dynamoledger"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/queue/sqsqueue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/secrets/awssecrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

func init() {
	wiring.RegisterQueue(wiring.Queue{Name: "sqs", Publisher: openPublisher, BackfillSource: backfillSource,
		Visibility: visibility})
	wiring.RegisterSecrets(wiring.Secrets{Name: "aws", Open: secretSource})
	wiring.RegisterLedger(wiring.Ledger{Name: "dynamodb", Open: ledgerStore})
}

func secretSource(ctx context.Context, env *settings.Env) (secrets.Source, wiring.Closer) {
	client, err := secretsClient(ctx, env)
	if err != nil {
		env.Fail(settings.SecretsBackend, "cannot create the Secrets Manager client: %v", err)
		return nil, wiring.NoClose
	}
	return awssecrets.New(client), wiring.NoClose
}

// openPublisher opens an SQS queue. The client honours AWS_ENDPOINT_URL_SQS,
// so the same code runs against local emulators.
func openPublisher(ctx context.Context, env *settings.Env, _, urlSetting *settings.String) (queue.Publisher, wiring.Closer) {
	url := urlSetting.Require(env)
	if url == "" {
		return nil, wiring.NoClose
	}
	client, err := sqsClient(ctx, env)
	if err != nil {
		env.Fail(urlSetting, "cannot create the SQS client: %v", err)
		return nil, wiring.NoClose
	}
	p := sqsqueue.New(client, url)
	if !wiring.CheckQueue(ctx, env, urlSetting, p) {
		return nil, wiring.NoClose
	}
	return queue.WithSetting(p, urlSetting.Name), wiring.NoClose
}

func ledgerStore(ctx context.Context, env *settings.Env) (ledger.Store, wiring.Closer) {
	table := settings.LedgerDynamoDBTable.Require(env)
	client, err := dynamoClient(ctx, env)
	if err != nil {
		env.Fail(settings.LedgerDynamoDBTable, "cannot load the AWS configuration: %v", err)
		return nil, wiring.NoClose
	}
	return dynamoledger.New(client, table), wiring.NoClose
}

// visibility is the events queue's ChangeMessageVisibility, which the
// forwarder's backoff rides on.
func visibility(ctx context.Context, env *settings.Env) forwarder.VisibilityChanger {
	url := settings.SQSQueueURL.Require(env)
	if url == "" {
		return nil
	}
	// Without this client the forwarder's backoff is lost: every retry
	// would come back after the queue's whole visibility timeout. Refuse
	// to start instead.
	client, err := sqsClient(ctx, env)
	if err != nil {
		env.Fail(settings.SQSQueueURL, "cannot create the SQS client the backoff uses: %v", err)
		return nil
	}
	return sqsqueue.Visibility{Client: client, QueueURL: url}
}

// backfillSource opens the dead-letter queue the backfill drains; SQS
// cannot replay acknowledged messages, so there is no seeker.
func backfillSource(ctx context.Context, env *settings.Env) (backfill.Source, backfill.Seeker, wiring.Closer) {
	if settings.BackfillReplaySubscription.Get(env) != "" {
		env.Fail(settings.BackfillReplaySubscription, "is for QUEUE_BACKEND=pubsub only (SQS cannot replay acknowledged messages)")
	}
	url := settings.BackfillQueueURL.Require(env)
	if url == "" {
		return nil, nil, wiring.NoClose
	}
	client, err := sqsClient(ctx, env)
	if err != nil {
		env.Fail(settings.BackfillQueueURL, "cannot create the SQS client: %v", err)
		return nil, nil, wiring.NoClose
	}
	return sqssource.New(client, url), nil, wiring.NoClose
}

// Package aws registers the AWS backends with internal/wiring: SQS
// (QUEUE_BACKEND=sqs; ingest publishes to SNS when SNS_TOPIC_ARN is set), Secrets Manager (SECRETS_BACKEND=aws) and DynamoDB
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
	"eventrelay.dev/eventrelay/shared/queue/snsqueue"
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

// openPublisher opens an SQS queue or, for the events queue with the
// archive on (SNS_TOPIC_ARN set), the events topic that fans out to it. The
// clients honour AWS_ENDPOINT_URL_SQS and AWS_ENDPOINT_URL_SNS, so the same
// code runs against local emulators.
func openPublisher(ctx context.Context, env *settings.Env, _, urlSetting *settings.String) (queue.Publisher, wiring.Closer) {
	if urlSetting == settings.SQSQueueURL {
		if arn := settings.SNSTopicARN.Get(env); arn != "" {
			return openTopic(ctx, env, arn), wiring.NoClose
		}
	}
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

// openTopic opens the events topic (SNS_TOPIC_ARN): ingest publishes there
// instead of to SQS_QUEUE_URL, which the topic feeds with raw delivery.
func openTopic(ctx context.Context, env *settings.Env, arn string) queue.Publisher {
	if err := snsqueue.CheckARN(arn); err != nil {
		env.Fail(settings.SNSTopicARN, "%v", err)
		return nil
	}
	client, err := snsClient(ctx, env)
	if err != nil {
		env.Fail(settings.SNSTopicARN, "cannot create the SNS client: %v", err)
		return nil
	}
	p := snsqueue.New(client, arn)
	if !wiring.CheckQueue(ctx, env, settings.SNSTopicARN, p) {
		return nil
	}
	return queue.WithSetting(p, settings.SNSTopicARN.Name)
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

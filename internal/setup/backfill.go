package setup

import (
	"context"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/functions/backfill/pubsubsource"
	"eventrelay.dev/eventrelay/functions/backfill/sqssource"
	"eventrelay.dev/eventrelay/shared/config"
	"eventrelay.dev/eventrelay/shared/queue/sqsqueue"
)

// Backfill is the started backfill function: the core, and its HTTP
// handler (Handler) for Cloud Scheduler and operators.
type Backfill struct {
	*Function
	Core *backfill.Backfill
}

// NewBackfill builds the backfill function.
func NewBackfill(ctx context.Context, env *config.Env, opt Options) (*Backfill, error) {
	log, err := logger(env, opt)
	if err != nil {
		return nil, err
	}
	p := platformConfig(env)
	cfg := backfill.Config{
		// Keep BACKFILL_TIME_BUDGET + MCM_TIMEOUT + a few seconds below the
		// function timeout: sends in flight finish and the last acks go out.
		Budget:  env.Duration("BACKFILL_TIME_BUDGET", 240*time.Second, time.Second, 55*time.Minute),
		Reserve: p.timeout + 5*time.Second,
		Rate:    float64(env.Int("BACKFILL_RATE", 50, 1, 10000)),
		Batch:   env.Int("BACKFILL_BATCH", 100, 1, 1000),
	}
	src, closeSecrets := secretSource(ctx, env, opt)
	dlq, closeDLQ := deadLetterPublisher(ctx, env, opt)
	source, seeker, closeSource := backfillSource(ctx, env)
	if err := env.Err(); err != nil {
		closeAll(closeSecrets, closeDLQ, closeSource)
		return nil, err
	}
	f := &Function{closers: []func() error{closeSecrets, closeDLQ, closeSource}}
	client, invalidate, err := platformClient(p, src)
	if err != nil {
		f.Close()
		return nil, err
	}
	deps := backfill.Deps{Source: source, Sender: client, InvalidateKey: invalidate, DeadLetter: dlq,
		Logger: log.With("function", "backfill")}
	if seeker != nil { // a nil *Seeker in the interface would not read as nil
		deps.Replay = seeker
	}
	core, err := backfill.New(cfg, deps)
	if err != nil {
		f.Close()
		return nil, err
	}
	if f.Handler, err = whenConfigured(ctx, env, src, log.With("function", "backfill"), core.Handler(), p.keySecret); err != nil {
		f.Close()
		return nil, err
	}
	return &Backfill{Function: f, Core: core}, nil
}

// backfillSource opens the dead-letter subscription or queue the backfill
// drains and, on Pub/Sub, the live subscription replay_from seeks.
func backfillSource(ctx context.Context, env *config.Env) (backfill.Source, *pubsubsource.Seeker, func() error) {
	switch env.OneOf("QUEUE_BACKEND", "", "pubsub", "sqs") {
	case "pubsub":
		sub := subscriptionName(env, "BACKFILL_SUBSCRIPTION", true)
		replay := subscriptionName(env, "BACKFILL_REPLAY_SUBSCRIPTION", false)
		project, ok := pubsubProject(sub)
		if !ok {
			return nil, nil, noClose
		}
		client, err := pubsub.NewClient(ctx, project)
		if err != nil {
			env.Fail("BACKFILL_SUBSCRIPTION", "cannot create the Pub/Sub client: %v", err)
			return nil, nil, noClose
		}
		var seeker *pubsubsource.Seeker
		if replay != "" {
			seeker = pubsubsource.NewSeeker(client.SubscriptionAdminClient, replay)
		}
		return pubsubsource.New(client.SubscriptionAdminClient, sub), seeker, client.Close
	case "sqs":
		if env.String("BACKFILL_REPLAY_SUBSCRIPTION", "") != "" {
			env.Fail("BACKFILL_REPLAY_SUBSCRIPTION", "is for QUEUE_BACKEND=pubsub only (SQS cannot replay acknowledged messages)")
		}
		url := env.Required("BACKFILL_QUEUE_URL", "the dead-letter queue URL the backfill drains")
		if url == "" {
			return nil, nil, noClose
		}
		client, err := sqsqueue.NewClient(ctx, env.String("AWS_REGION", ""), "")
		if err != nil {
			env.Fail("BACKFILL_QUEUE_URL", "cannot create the SQS client: %v", err)
			return nil, nil, noClose
		}
		return sqssource.New(client, url), nil, noClose
	}
	return nil, nil, noClose
}

// subscriptionName reads and checks projects/<project>/subscriptions/<id>.
func subscriptionName(env *config.Env, name string, required bool) string {
	var v string
	if required {
		v = env.Required(name, "a pull subscription: projects/<project>/subscriptions/<subscription>")
	} else {
		v = env.String(name, "")
	}
	if v == "" {
		return ""
	}
	if _, ok := pubsubProject(v); !ok || !strings.Contains(v, "/subscriptions/") {
		env.Fail(name, "%q is not of the form projects/<project>/subscriptions/<subscription>", v)
		return ""
	}
	return v
}

// Package gcp registers the Google Cloud backends with internal/wiring:
// Pub/Sub (QUEUE_BACKEND=pubsub), Secret Manager (SECRETS_BACKEND=gcp) and
// Firestore (LEDGER_BACKEND=firestore), and Cloud Storage for
// BACKFILL_ARCHIVE=gs://… Import it for its side effect in a
// binary that runs on Google Cloud (or against its emulators).
package gcp

import (
	"context"
	"errors"
	"strings"

	"cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/functions/backfill/pubsubsource"
	"eventrelay.dev/eventrelay/internal/wiring"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ledger/firestoreledger"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/queue/pubsubqueue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/secrets/gcpsecrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

func init() {
	wiring.RegisterQueue(wiring.Queue{Name: "pubsub", Publisher: openPublisher, BackfillSource: backfillSource})
	wiring.RegisterSecrets(wiring.Secrets{Name: "gcp", Open: secretSource})
	wiring.RegisterLedger(wiring.Ledger{Name: "firestore", Open: ledgerStore})
}

func secretSource(ctx context.Context, env *settings.Env) (secrets.Source, wiring.Closer) {
	src, err := gcpsecrets.New(ctx, secretManagerEmulator(env)...)
	if err != nil {
		env.Fail(settings.SecretsBackend, "cannot create the Secret Manager client: %v", err)
		return nil, wiring.NoClose
	}
	return src, src.Close
}

// secretManagerEmulator points the Secret Manager client at a local server
// when SECRETMANAGER_EMULATOR_HOST names one, as PUBSUB_EMULATOR_HOST does
// for Pub/Sub; Secret Manager has no official emulator, so this is how a
// function in its own process reads secrets on the local stack.
func secretManagerEmulator(env *settings.Env) []option.ClientOption {
	host := settings.SecretManagerEmulatorHost.Get(env)
	if host == "" {
		return nil
	}
	return []option.ClientOption{option.WithEndpoint(host), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))}
}

// openPublisher opens a Pub/Sub topic. The client honours
// PUBSUB_EMULATOR_HOST, so the same code runs against the emulator.
func openPublisher(ctx context.Context, env *settings.Env, topicSetting, _ *settings.String) (queue.Publisher, wiring.Closer) {
	topic := topicSetting.Require(env)
	project, ok := pubsubProject(topic)
	if !ok {
		if topic != "" {
			env.Fail(topicSetting, "%q is not of the form projects/<project>/topics/<topic>", topic)
		}
		return nil, wiring.NoClose
	}
	client, err := pubsub.NewClient(ctx, project)
	if err != nil {
		env.Fail(topicSetting, "cannot create the Pub/Sub client: %v", err)
		return nil, wiring.NoClose
	}
	p := pubsubqueue.New(client, topic)
	closeAll := func() error { return errors.Join(p.Close(), client.Close()) }
	if !wiring.CheckQueue(ctx, env, topicSetting, p) {
		if err := closeAll(); err != nil {
			env.Fail(topicSetting, "closing the Pub/Sub client after the failed check: %v", err)
		}
		return nil, wiring.NoClose
	}
	return queue.WithSetting(p, topicSetting.Name), closeAll
}

func ledgerStore(ctx context.Context, env *settings.Env) (ledger.Store, wiring.Closer) {
	project := settings.GoogleCloudProject.Require(env)
	database := settings.LedgerFirestoreDatabase.Get(env)
	collection := settings.LedgerFirestoreCollection.Get(env)
	if project == "" {
		return nil, wiring.NoClose
	}
	client, closeClient, err := firestoreClient(ctx, project, database)
	if err != nil {
		env.Fail(settings.LedgerFirestoreDatabase, "cannot create the Firestore client: %v", err)
		return nil, wiring.NoClose
	}
	return firestoreledger.New(client, collection), closeClient
}

// backfillSource opens the dead-letter subscription the backfill drains
// and, when BACKFILL_REPLAY_SUBSCRIPTION names it, the live subscription
// replay_from seeks.
func backfillSource(ctx context.Context, env *settings.Env) (backfill.Source, backfill.Seeker, wiring.Closer) {
	sub := subscriptionName(env, settings.BackfillSubscription, true)
	replay := subscriptionName(env, settings.BackfillReplaySubscription, false)
	project, ok := pubsubProject(sub)
	if !ok {
		return nil, nil, wiring.NoClose
	}
	client, err := pubsub.NewClient(ctx, project)
	if err != nil {
		env.Fail(settings.BackfillSubscription, "cannot create the Pub/Sub client: %v", err)
		return nil, nil, wiring.NoClose
	}
	var seeker backfill.Seeker // a nil *Seeker in the interface would not read as nil
	if replay != "" {
		seeker = pubsubsource.NewSeeker(client.SubscriptionAdminClient, replay)
	}
	return pubsubsource.New(client.SubscriptionAdminClient, sub), seeker, client.Close
}

// subscriptionName reads and checks projects/<project>/subscriptions/<id>.
func subscriptionName(env *settings.Env, s *settings.String, required bool) string {
	var v string
	if required {
		v = s.Require(env)
	} else {
		v = s.Get(env)
	}
	if v == "" {
		return ""
	}
	if _, ok := pubsubProject(v); !ok || !strings.Contains(v, "/subscriptions/") {
		env.Fail(s, "%q is not of the form projects/<project>/subscriptions/<subscription>", v)
		return ""
	}
	return v
}

// pubsubProject reads the project out of projects/P/topics/T (or
// .../subscriptions/S).
func pubsubProject(name string) (string, bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "projects" || parts[1] == "" || parts[3] == "" ||
		(parts[2] != "topics" && parts[2] != "subscriptions") {
		return "", false
	}
	return parts[1], true
}

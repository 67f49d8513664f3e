package setup

import (
	"context"
	"eventrelay.dev/eventrelay/internal/testclose"
	"strings"
	"testing"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"

	"eventrelay.dev/eventrelay/internal/goaws"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// Issue 11 point 4: a topic or queue that does not exist stops the start
// with one line naming the variable, instead of answering 503 for ever.
func TestMissingQueueStopsTheStart(t *testing.T) {
	srv := pstest.NewServer()
	testclose.Cleanup(t, srv)
	t.Setenv("PUBSUB_EMULATOR_HOST", srv.Addr)
	ctx := context.Background()
	client, err := pubsub.NewClient(ctx, "proj-local")
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, client)
	if _, err := client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: "projects/proj-local/topics/deadletter"}); err != nil {
		t.Fatal(err)
	}
	opt := Options{Secrets: secrets.NewMemory(nil)}
	env := map[string]string{"QUEUE_BACKEND": "pubsub", "MCM_BASE_URL": "http://127.0.0.1:1", "MCM_PLATFORM_ID": "plat-local",
		"MCM_API_KEY_SECRET": "mcm-key", "DEADLETTER_TOPIC": "projects/proj-local/topics/deadletter"}
	fn, err := NewForwarder(ctx, settings.FromMap(env), opt)
	if err != nil {
		t.Fatalf("existing topic: %v", err)
	}
	if err := fn.Close(); err != nil {
		t.Fatal(err)
	}
	env["DEADLETTER_TOPIC"] = "projects/proj-local/topics/no-such-topic"
	if _, err := NewForwarder(ctx, settings.FromMap(env), opt); err == nil ||
		!strings.Contains(err.Error(), "DEADLETTER_TOPIC") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("missing topic: %v, want one line naming DEADLETTER_TOPIC", err)
	}

	endpoint := goaws.Start(t)
	url := goaws.CreateQueue(t, goaws.Client(endpoint), "eventrelay-deadletter-check", "", 0)
	t.Setenv("AWS_ENDPOINT_URL_SQS", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	sqsEnv := map[string]string{"QUEUE_BACKEND": "sqs", "AWS_REGION": "us-east-1", "MCM_BASE_URL": "http://127.0.0.1:1",
		"MCM_PLATFORM_ID": "plat-local", "MCM_API_KEY_SECRET": "mcm-key", "SQS_QUEUE_URL": url, "DEADLETTER_QUEUE_URL": url}
	fn, err = NewForwarder(ctx, settings.FromMap(sqsEnv), opt)
	if err != nil {
		t.Fatalf("existing queue: %v", err)
	}
	if err := fn.Close(); err != nil {
		t.Fatal(err)
	}
	sqsEnv["DEADLETTER_QUEUE_URL"] = strings.Replace(url, "eventrelay-deadletter-check", "eventrelay-no-such-queue", 1)
	if _, err := NewForwarder(ctx, settings.FromMap(sqsEnv), opt); err == nil ||
		!strings.Contains(err.Error(), "DEADLETTER_QUEUE_URL") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("missing queue: %v, want one line naming DEADLETTER_QUEUE_URL", err)
	}
}

// Issue 11 point 6: a failure to build the SQS client the forwarder's
// backoff rides on was swallowed, and the backoff silently turned off.
func TestSQSClientErrorStopsTheForwarder(t *testing.T) {
	t.Setenv("AWS_PROFILE", "no-such-profile") // the SDK refuses to load its configuration
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/config")
	opt := Options{Secrets: secrets.NewMemory(nil), DeadLetter: &queue.Memory{}}
	env := map[string]string{"QUEUE_BACKEND": "sqs", "AWS_REGION": "us-east-1", "MCM_BASE_URL": "http://127.0.0.1:1",
		"MCM_PLATFORM_ID": "plat-local", "MCM_API_KEY_SECRET": "mcm-key",
		"SQS_QUEUE_URL": "http://127.0.0.1:1/100010001000/events", "DEADLETTER_QUEUE_URL": "http://127.0.0.1:1/100010001000/dl"}
	if _, err := NewForwarder(context.Background(), settings.FromMap(env), opt); err == nil || !strings.Contains(err.Error(), "SQS_QUEUE_URL") {
		t.Fatalf("got %v, want the start refused naming SQS_QUEUE_URL", err)
	}
}

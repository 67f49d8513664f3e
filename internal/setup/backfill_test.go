package setup

import (
	"context"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// A bad backfill setting stops the start with one line naming it.
func TestBackfillSettings(t *testing.T) {
	t.Setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:1") // no credentials lookup; nothing is dialled
	base := map[string]string{"QUEUE_BACKEND": "pubsub", "MCM_BASE_URL": "http://127.0.0.1:1", "MCM_PLATFORM_ID": "plat-local",
		"MCM_API_KEY_SECRET": "mcm-key", "BACKFILL_SUBSCRIPTION": "projects/proj-local/subscriptions/deadletter-backfill"}
	opt := Options{Secrets: secrets.NewMemory(nil), DeadLetter: &queue.Memory{}}
	cases := []struct{ set, value, want string }{
		{"", "", ""},
		{"BACKFILL_SUBSCRIPTION", "", "BACKFILL_SUBSCRIPTION"},
		{"BACKFILL_SUBSCRIPTION", "projects/proj-local/topics/deadletter", "BACKFILL_SUBSCRIPTION"},
		{"BACKFILL_REPLAY_SUBSCRIPTION", "events-sub", "BACKFILL_REPLAY_SUBSCRIPTION"},
		{"BACKFILL_TIME_BUDGET", "4 minutes", "BACKFILL_TIME_BUDGET"},
		{"BACKFILL_RATE", "0", "BACKFILL_RATE"},
		{"BACKFILL_BATCH", "5000", "BACKFILL_BATCH"},
		{"MCM_TIMEOUT", "forever", "MCM_TIMEOUT"},
		{"QUEUE_BACKEND", "kafka", "QUEUE_BACKEND"},
	}
	for _, c := range cases {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		if c.set != "" {
			env[c.set] = c.value
		}
		fn, err := NewBackfill(context.Background(), settings.FromMap(env), opt)
		if c.want == "" {
			if err != nil {
				t.Fatalf("valid settings: %v", err)
			}
			if err := fn.Close(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%q: %v, want one line naming %s", c.set, c.value, err, c.want)
		}
	}
	// SQS: the queue URL is required, and replay is Pub/Sub only.
	sqsEnv := map[string]string{"QUEUE_BACKEND": "sqs", "AWS_REGION": "us-east-1", "MCM_BASE_URL": "http://127.0.0.1:1",
		"MCM_PLATFORM_ID": "plat-local", "MCM_API_KEY_SECRET": "mcm-key"}
	if _, err := NewBackfill(context.Background(), settings.FromMap(sqsEnv), opt); err == nil || !strings.Contains(err.Error(), "BACKFILL_QUEUE_URL") {
		t.Errorf("sqs without a queue URL: %v", err)
	}
	sqsEnv["BACKFILL_QUEUE_URL"] = "http://127.0.0.1:1/100010001000/deadletter"
	sqsEnv["BACKFILL_REPLAY_SUBSCRIPTION"] = "projects/p/subscriptions/s"
	if _, err := NewBackfill(context.Background(), settings.FromMap(sqsEnv), opt); err == nil || !strings.Contains(err.Error(), "BACKFILL_REPLAY_SUBSCRIPTION") {
		t.Errorf("sqs with a replay subscription: %v", err)
	}
}

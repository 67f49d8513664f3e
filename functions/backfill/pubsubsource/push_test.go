package pubsubsource_test

import (
	"bytes"
	"context"
	"encoding/json"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"eventrelay.dev/eventrelay/functions/forwarder"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/internal/emulator"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/queue/pubsubqueue"
)

// The forwarder's push handler behind a real push subscription of Google's
// Pub/Sub emulator (the soak's Pub/Sub path runs against the project's own
// push model instead; this is what the emulator can check). Its pushes are
// decoded and delivered; and, since it sends no deliveryAttempt (nor does
// an Eventarc trigger, or a subscription without a dead-letter policy), an
// event the platform keeps failing is dead-lettered by its age, with our
// reason, rather than pushed until the retention drops it (issue 28 points
// 3 and 6).
func TestPushFromGooglesEmulator(t *testing.T) {
	t.Setenv("PUBSUB_EMULATOR_HOST", emulator.GooglePubSub(t))
	ctx := context.Background()
	const pushSub = "projects/" + project + "/subscriptions/eventrelay-forwarder-push"
	client, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, client)
	sink := mcmsink.New(mcmsink.Config{PlatformID: "emu-platform", APIKey: "emu-key"})
	sinkSrv := httptest.NewServer(sink)
	defer sinkSrv.Close()
	mc, err := mcm.New(mcm.Config{BaseURL: sinkSrv.URL, PlatformID: "emu-platform",
		APIKey: func(context.Context) (string, error) { return "emu-key", nil }, HTTPClient: mcm.NewHTTPClient(2 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	dlq := pubsubqueue.New(client, dlTopic)
	testclose.Cleanup(t, dlq)
	fwd, err := forwarder.New(forwarder.Config{MaxAttempts: 3, FirstBackoff: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		BreakerThreshold: 1000, BreakerCooldown: time.Second, DeliveredWindow: time.Hour}, forwarder.Deps{Sender: mc, DeadLetter: dlq})
	if err != nil {
		t.Fatal(err)
	}
	// What the emulator pushes, as it pushes it.
	var mu sync.Mutex
	var pushes []map[string]any
	handler := fwd.PushHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("push body is not JSON: %v: %s", err, b)
		}
		mu.Lock()
		pushes = append(pushes, m)
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		handler.ServeHTTP(w, r)
	}))
	defer srv.Close()

	for _, name := range []string{topic, dlTopic} {
		if _, err := client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*pubsubpb.Subscription{
		{Name: pushSub, Topic: topic, AckDeadlineSeconds: 10, PushConfig: &pubsubpb.PushConfig{PushEndpoint: srv.URL}},
		{Name: dlSub, Topic: dlTopic, AckDeadlineSeconds: 30}} {
		if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	publish := func(id string) {
		t.Helper()
		body := fmt.Sprintf(`{"id":%q,"event_type":"HOME","timestamp":%d,"channel_type":"SITE","user_id":"u-1"}`, id, time.Now().Add(-time.Minute).UnixMilli())
		if err := pubsubqueue.New(client, topic).Publish(ctx, []queue.Message{{ID: id, Body: []byte(body),
			Attributes: map[string]string{queue.AttrEventID: id, queue.AttrEventType: "HOME", queue.AttrSource: "emu"}}})[0]; err != nil {
			t.Fatal(err)
		}
	}

	for i := range 5 {
		publish(fmt.Sprintf("pushed-%d", i))
	}
	e2e.WaitFor(t, "5 events pushed and delivered", 60*time.Second, func() bool { return sink.Stats().Accepted == 5 })
	mu.Lock()
	for _, p := range pushes {
		msg, _ := p["message"].(map[string]any)
		if _, has := p["deliveryAttempt"]; has || msg["publishTime"] == nil || msg["messageId"] == nil {
			t.Errorf("the emulator's push is not what the forwarder was built from: %v", p)
		}
	}
	mu.Unlock()

	sink.SetFaults(mcmsink.Faults{Down: true})
	publish("failing-1")
	got := map[string]string{}
	e2e.WaitFor(t, "the failing event dead-lettered", 90*time.Second, func() bool {
		resp, err := client.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: dlSub, MaxMessages: 10})
		if err != nil {
			return false
		}
		for _, m := range resp.ReceivedMessages {
			got = m.GetMessage().GetAttributes()
		}
		return len(got) > 0
	})
	if got[queue.AttrEventID] != "failing-1" || got[delivery.AttrDLClass] != delivery.ClassRetryable || got[delivery.AttrDLAttempts] != "3" {
		t.Fatalf("dead letter %v", got)
	}
	mu.Lock()
	t.Logf("%d pushes in all; the failing event dead-lettered with %v", len(pushes), got)
	mu.Unlock()
}

package pubsubsource_test

import (
	"bytes"
	"context"
	"encoding/json"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/functions/forwarder"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/internal/emulator"
	"eventrelay.dev/eventrelay/internal/setup"
	_ "eventrelay.dev/eventrelay/internal/wiring/gcp"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

const (
	project   = "eventrelay-seek"
	topic     = "projects/" + project + "/topics/eventrelay-events"
	eventsSub = "projects/" + project + "/subscriptions/eventrelay-forwarder"
	dlTopic   = "projects/" + project + "/topics/eventrelay-deadletter"
	dlSub     = "projects/" + project + "/subscriptions/eventrelay-deadletter-backfill"
)

// push delivers a subscription to a forwarder as a push subscription does,
// recording each delivery's message id and event id.
type push struct {
	mu     sync.Mutex
	target atomic.Value // string: the forwarder's URL
	seen   map[string][]string
	bodies map[string][]byte
}

func (p *push) run(ctx context.Context, sub *pubsub.Subscriber) error {
	return sub.Receive(ctx, func(ctx context.Context, m *pubsub.Message) {
		body, _ := json.Marshal(forwarder.MessagePublishedData{Subscription: eventsSub,
			Message: forwarder.PubsubMessage{Data: m.Data, Attributes: m.Attributes, MessageID: m.ID, PublishTime: m.PublishTime}})
		resp, err := http.Post(p.target.Load().(string), "application/json", bytes.NewReader(body))
		if err != nil {
			m.Nack()
			return
		}
		resp.Body.Close()
		p.mu.Lock()
		p.seen[m.ID] = append(p.seen[m.ID], m.Attributes[queue.AttrEventID])
		p.bodies[m.ID] = m.Data
		p.mu.Unlock()
		if resp.StatusCode/100 == 2 {
			m.Ack()
		} else {
			m.Nack()
		}
	})
}

// count is how many deliveries the forwarder has answered.
func (p *push) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, v := range p.seen {
		n += len(v)
	}
	return n
}

func (p *push) deliveries() map[string][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string][]string{}
	for k, v := range p.seen {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// A replay_from request seeks the live subscription (retain_acked_messages
// on): messages the forwarder acknowledged come back with the same message
// ids and event ids, and a forwarder instance that has not seen them sends
// them again, byte for byte.
func TestReplaySeeksTheLiveSubscription(t *testing.T) {
	// pstest cannot stand in here: its time Seek (v2.8.0) re-adds messages
	// without their body and from every topic, and the next pull panics.
	t.Setenv("PUBSUB_EMULATOR_HOST", emulator.GooglePubSub(t))
	ctx := context.Background()
	client, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, client)
	for _, name := range []string{topic, dlTopic} {
		if _, err := client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*pubsubpb.Subscription{{Name: eventsSub, Topic: topic, AckDeadlineSeconds: 30, RetainAckedMessages: true},
		{Name: dlSub, Topic: dlTopic, AckDeadlineSeconds: 30}} {
		if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}

	sink := mcmsink.New(mcmsink.Config{PlatformID: "local-platform", APIKey: "local-mcm-key"})
	sinkSrv := httptest.NewServer(sink)
	defer sinkSrv.Close()
	env := map[string]string{"QUEUE_BACKEND": "pubsub", "DEADLETTER_TOPIC": dlTopic, "MCM_BASE_URL": sinkSrv.URL,
		"MCM_PLATFORM_ID": "local-platform", "MCM_API_KEY_SECRET": "mcm-key",
		"BACKFILL_SUBSCRIPTION": dlSub, "BACKFILL_REPLAY_SUBSCRIPTION": eventsSub}
	opts := setup.Options{Secrets: secrets.NewMemory(map[string]string{"mcm-key": "local-mcm-key"}),
		Logger: slog.New(slog.DiscardHandler)}
	forwarderURL := func() string {
		fwd, err := setup.NewForwarder(ctx, settings.FromMap(env), opts)
		if err != nil {
			t.Fatal(err)
		}
		testclose.Cleanup(t, fwd)
		srv := httptest.NewServer(fwd.Handler)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	p := &push{seen: map[string][]string{}, bodies: map[string][]byte{}}
	p.target.Store(forwarderURL())
	pctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.run(pctx, client.Subscriber(eventsSub)) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	from := time.Now().Add(-time.Second).Truncate(time.Second)
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	const n = 5
	pub := client.Publisher(topic)
	defer pub.Stop()
	for i := range n {
		id := fmt.Sprintf("replay-%d", i)
		body := fmt.Sprintf(`{"id":%q,"event_type":"PAGE_VIEW","page_id":"home","timestamp":%d,"channel_type":"SITE","user_id":"u-%d"}`, id, at.UnixMilli(), i)
		if _, err := pub.Publish(ctx, &pubsub.Message{Data: []byte(body), Attributes: map[string]string{queue.AttrEventID: id}}).Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The stand-in counts a delivery when the forwarder sends it, the push
	// records it when the forwarder has answered: wait for both.
	waitFor(t, "the first deliveries", 30*time.Second, func() bool { return sink.Stats().Accepted == n && p.count() >= n })
	first := p.deliveries()
	if len(first) != n {
		t.Fatalf("pushed %v", first)
	}

	// The platform lost them: replay from before they were published, to a
	// forwarder instance that has not delivered them (a warm one would
	// take them for duplicates within FORWARDER_DEDUPE_WINDOW).
	p.target.Store(forwarderURL())
	bf, err := setup.NewBackfill(ctx, settings.FromMap(env), opts)
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, bf)
	s, err := bf.Core.Run(ctx, backfill.Params{ReplayFrom: from.Format(time.RFC3339)})
	if err != nil || s.StopReason != backfill.StopReplayed || s.ReplaySubscription != eventsSub {
		t.Fatalf("replay: %+v %v", s, err)
	}
	waitFor(t, "the replayed deliveries", 30*time.Second, func() bool { return sink.Stats().Accepted == 2*n && p.count() >= 2*n })
	again := p.deliveries()
	for msgID, ids := range first {
		if len(again[msgID]) != 2 || again[msgID][1] != ids[0] {
			t.Fatalf("message %s: deliveries %v, want the same event id twice", msgID, again[msgID])
		}
	}
	if len(again) != n {
		t.Fatalf("the replay delivered other messages too: %v", again)
	}
	counts := sink.CountByID()
	byID := map[string][]string{}
	for _, r := range sink.Accepted() {
		byID[r.ID] = append(byID[r.ID], string(r.Body))
	}
	for i := range n {
		id := fmt.Sprintf("replay-%d", i)
		if counts[id] != 2 || byID[id][0] != byID[id][1] {
			t.Fatalf("%s: sent %d times, bodies %v", id, counts[id], byID[id])
		}
	}
}

var waitFor = e2e.WaitFor

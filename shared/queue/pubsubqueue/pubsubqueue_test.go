package pubsubqueue

import (
	"context"
	"errors"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"eventrelay.dev/eventrelay/shared/queue"
)

const (
	project = "eventrelay-test"
	topic   = "projects/" + project + "/topics/eventrelay-events"
	sub     = "projects/" + project + "/subscriptions/eventrelay-forwarder"
)

// emulator starts pstest and returns a real client connected to it over
// a real gRPC connection on loopback.
func emulator(t *testing.T) (stop func(), client *pubsub.Client) {
	t.Helper()
	srv := pstest.NewServer()
	var once sync.Once
	stop = func() { // pstest panics on a second Close
		once.Do(func() {
			if err := srv.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	conn, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	client, err = pubsub.NewClient(context.Background(), project, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, client)
	return stop, client
}

func createTopic(t *testing.T, c *pubsub.Client) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: sub, Topic: topic}); err != nil {
		t.Fatal(err)
	}
}

func TestPublishAndReceive(t *testing.T) {
	_, client := emulator(t)
	createTopic(t, client)
	p := New(client, topic)
	testclose.Cleanup(t, p)
	msgs := make([]queue.Message, 250)
	for i := range msgs {
		id := fmt.Sprintf("evt-%03d", i)
		msgs[i] = queue.Message{ID: id, Body: []byte(`{"id":"` + id + `"}`),
			Attributes: map[string]string{queue.AttrEventID: id, queue.AttrEventType: "PURCHASE"}}
	}
	for i, err := range p.Publish(context.Background(), msgs) {
		if err != nil {
			t.Fatalf("slot %d: %v", i, err)
		}
	}
	got := map[string]string{}
	var mu sync.Mutex
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := client.Subscriber(sub).Receive(ctx, func(_ context.Context, m *pubsub.Message) {
		mu.Lock()
		defer mu.Unlock()
		id := m.Attributes[queue.AttrEventID]
		if m.Attributes[queue.AttrEventType] != "PURCHASE" || string(m.Data) != `{"id":"`+id+`"}` {
			t.Errorf("message %s arrived altered: %v %s", id, m.Attributes, m.Data)
		}
		got[id] = string(m.Data)
		m.Ack()
		if len(got) == len(msgs) {
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(msgs) {
		t.Fatalf("received %d of %d", len(got), len(msgs))
	}
}

func TestMissingTopicIsAnErrorPerSlot(t *testing.T) {
	_, client := emulator(t)
	p := New(client, "projects/"+project+"/topics/does-not-exist")
	testclose.Cleanup(t, p)
	errs := p.Publish(context.Background(), []queue.Message{{ID: "a", Body: []byte("{}")}, {ID: "b", Body: []byte("{}")}})
	for i, err := range errs {
		if err == nil {
			t.Fatalf("slot %d: published to a missing topic", i)
		}
		if queue.Transient(err) || !errors.Is(err, queue.ErrPermanent) {
			t.Fatalf("slot %d: a missing topic is permanent: %v", i, err)
		}
	}
}

// Issue 11 point 4: a wrong topic must stop the start, not answer "retry"
// to every request.
func TestCheck(t *testing.T) {
	_, client := emulator(t)
	createTopic(t, client)
	if err := New(client, topic).Check(context.Background()); err != nil {
		t.Fatalf("existing topic: %v", err)
	}
	err := New(client, "projects/"+project+"/topics/does-not-exist").Check(context.Background())
	if err == nil || queue.Transient(err) {
		t.Fatalf("missing topic: %v", err)
	}
}

func TestServerDownIsUnavailable(t *testing.T) {
	stop, client := emulator(t)
	createTopic(t, client)
	stop()
	p := New(client, topic)
	p.p.PublishSettings.Timeout = 2 * time.Second // so Close does not wait 10 s
	testclose.Cleanup(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	for i, err := range p.Publish(ctx, []queue.Message{{ID: "a", Body: []byte("{}")}}) {
		if !errors.Is(err, queue.ErrUnavailable) || !queue.Transient(err) {
			t.Fatalf("slot %d: want ErrUnavailable, got %v", i, err)
		}
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("did not give up at the deadline")
	}
}

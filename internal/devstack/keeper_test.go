package devstack

import (
	"context"
	"eventrelay.dev/eventrelay/internal/testclose"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
)

// Issue 28 point 5: pstest deletes a message 10 minutes after it was
// published; the local stack's dead letters must stay until a backfill
// takes them. On pstest's own clock: a dead letter published at t0 is
// still in the backfill's subscription at t0+12 min, body and attributes
// unchanged; without the renewal it is gone.
func TestDeadLettersOutlivePstestsTenMinutes(t *testing.T) {
	for _, renew := range []bool{true, false} {
		l, err := startPubSub("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		testclose.Cleanup(t, l)
		var mu sync.Mutex
		now := time.Now()
		l.ps.SetTimeNowFunc(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		advance := func(d time.Duration) time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(d); return now }
		ctx := context.Background()
		f := l.front
		if _, err := f.GServer.CreateTopic(ctx, &pubsubpb.Topic{Name: DeadLetterTopic}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.CreateSubscription(ctx, &pubsubpb.Subscription{Name: DeadLetterSub, Topic: DeadLetterTopic, AckDeadlineSeconds: 60}); err != nil {
			t.Fatal(err)
		}
		attrs := map[string]string{"event_id": "kept-1", "dl_class": "permanent", "dl_reason": "missing page_id"}
		if _, err := f.Publish(ctx, &pubsubpb.PublishRequest{Topic: DeadLetterTopic,
			Messages: []*pubsubpb.PubsubMessage{{Data: []byte(`{"id":"kept-1"}`), Attributes: attrs}}}); err != nil {
			t.Fatal(err)
		}
		if n := f.renewDeadLetters(ctx, advance(time.Minute)); n != 0 {
			t.Fatalf("renewed %d dead letters a minute old", n)
		}
		for range 11 { // the keeper's ticks, a minute apart
			at := advance(time.Minute)
			if renew {
				f.renewDeadLetters(ctx, at)
			}
		}
		resp, err := f.GServer.Pull(ctx, &pubsubpb.PullRequest{Subscription: DeadLetterSub, MaxMessages: 10, ReturnImmediately: true}) //nolint:staticcheck // pstest honours it: an empty pull answers at once
		if err != nil {
			t.Fatal(err)
		}
		switch got := resp.ReceivedMessages; {
		case !renew && len(got) != 0:
			t.Fatalf("pstest kept a dead letter 12 minutes without the renewal: the test shows nothing")
		case !renew:
		case len(got) != 1:
			t.Fatalf("%d dead letters after 12 minutes, want 1", len(got))
		case string(got[0].GetMessage().GetData()) != `{"id":"kept-1"}` || got[0].GetMessage().GetAttributes()["dl_reason"] != "missing page_id":
			t.Fatalf("the renewed dead letter changed: %v", got[0].GetMessage())
		}
	}
}

package devstack

import (
	"context"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
)

// pstest (v2.8.0) deletes a message that no receiver holds 10 minutes after
// it was published, whatever the subscription's retention says: a dead
// letter parked on the local stack would vanish before the backfill ran,
// while the counters still showed it. The front renews them: a dead letter
// the backfill's subscription (DeadLetterSub) has held for renewAfter is
// published to the dead-letter topic again, body and attributes unchanged
// (its reason, class, attempts and time), and the old message acknowledged.
// The copy has a new message id and publish time; every subscription of
// the topic receives it. A backfill pull at the moment of a renewal may
// miss the messages it holds; the next run finds them.
const (
	renewAfter = 5 * time.Minute
	renewEvery = 30 * time.Second
)

// renewDeadLetters renews what DeadLetterSub holds older than renewAfter
// at now, and returns how many it renewed.
func (f *pubsubFront) renewDeadLetters(ctx context.Context, now time.Time) int {
	if !f.holdsOld(now) {
		return 0
	}
	var old []*pubsubpb.ReceivedMessage
	var young []string
	for {
		// pstest honours ReturnImmediately (without it an empty pull waits
		// half a second); the real service's deprecation does not apply.
		resp, err := f.GServer.Pull(ctx, &pubsubpb.PullRequest{Subscription: DeadLetterSub, MaxMessages: 1000, ReturnImmediately: true}) //nolint:staticcheck // see above
		if err != nil || len(resp.ReceivedMessages) == 0 {
			break
		}
		for _, m := range resp.ReceivedMessages {
			if now.Sub(m.GetMessage().GetPublishTime().AsTime()) >= renewAfter {
				old = append(old, m)
			} else {
				young = append(young, m.GetAckId())
			}
		}
	}
	// The hand-backs and the acknowledgement are best effort: a message not
	// handed back comes back at its deadline anyway, and one published again
	// but not acknowledged is a second copy of a dead letter, which the
	// backfill resends once (the forwarder's de-duplication).
	if len(young) > 0 {
		_, _ = f.GServer.ModifyAckDeadline(ctx, &pubsubpb.ModifyAckDeadlineRequest{Subscription: DeadLetterSub, AckIds: young})
	}
	renewed := 0
	for _, m := range old {
		copy := &pubsubpb.PubsubMessage{Data: m.GetMessage().GetData(), Attributes: m.GetMessage().GetAttributes()}
		f.gate.RLock()
		_, err := f.GServer.Publish(ctx, &pubsubpb.PublishRequest{Topic: DeadLetterTopic, Messages: []*pubsubpb.PubsubMessage{copy}})
		f.gate.RUnlock()
		if err != nil { // kept as it is: pstest may still drop it, but it is not acknowledged unsent
			_, _ = f.GServer.ModifyAckDeadline(ctx, &pubsubpb.ModifyAckDeadlineRequest{Subscription: DeadLetterSub, AckIds: []string{m.GetAckId()}})
			continue
		}
		_, _ = f.GServer.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: DeadLetterSub, AckIds: []string{m.GetAckId()}})
		renewed++
	}
	return renewed
}

// holdsOld reports whether pstest keeps a dead-letter topic message
// published renewAfter or more before now: only then is a pull worth it
// (pstest keeps acknowledged messages too, until clearAcknowledged).
func (f *pubsubFront) holdsOld(now time.Time) bool {
	for _, m := range f.ps.Messages() {
		if m.Topic == DeadLetterTopic && now.Sub(m.PublishTime) >= renewAfter {
			return true
		}
	}
	return false
}

// keepDeadLetters runs renewDeadLetters every renewEvery until ctx ends.
func (f *pubsubFront) keepDeadLetters(ctx context.Context) {
	t := time.NewTicker(renewEvery)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			f.renewDeadLetters(ctx, now)
		case <-ctx.Done():
			return
		}
	}
}

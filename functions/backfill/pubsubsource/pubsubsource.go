// Package pubsubsource is the backfill's Pub/Sub side, on the official
// client's generated API (cloud.google.com/go/pubsub/v2/apiv1): synchronous
// Pull, Acknowledge and ModifyAckDeadline on the dead-letter subscription,
// and Seek on the live events subscription. Synchronous pull, unlike the
// streaming Subscriber, hands over exactly one bounded batch per call and
// holds nothing once the run stops.
package pubsubsource

import (
	"context"
	"errors"
	"fmt"
	"time"

	vkit "cloud.google.com/go/pubsub/v2/apiv1"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/functions/forwarder"
)

// maxAckDeadline is Pub/Sub's ceiling for an ack deadline.
const maxAckDeadline = 600 * time.Second

// Source is a backfill.Source over one pull subscription.
type Source struct {
	subs *vkit.SubscriptionAdminClient
	name string
	// PullWait bounds one Pull: the service may hold an empty pull open,
	// and an empty dead-letter queue should end the run, not wait.
	PullWait time.Duration
}

// New returns a Source for subscription (projects/P/subscriptions/S);
// subs is pubsub.Client.SubscriptionAdminClient.
func New(subs *vkit.SubscriptionAdminClient, subscription string) *Source {
	return &Source{subs: subs, name: subscription, PullWait: 5 * time.Second}
}

// MaxHold implements backfill.HoldLimiter: a run must end within the
// longest ack deadline, or what it holds is delivered again meanwhile.
func (s *Source) MaxHold() time.Duration { return maxAckDeadline }

// Receive implements backfill.Source.
func (s *Source) Receive(ctx context.Context, max int, hold time.Duration) ([]backfill.Item, error) {
	pctx, cancel := context.WithTimeout(ctx, s.PullWait)
	defer cancel()
	resp, err := s.subs.Pull(pctx, &pubsubpb.PullRequest{Subscription: s.name, MaxMessages: int32(max)})
	if err != nil {
		if ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded) {
			return nil, nil // nothing arrived within PullWait
		}
		return nil, fmt.Errorf("pull %s: %w", s.name, err)
	}
	items := make([]backfill.Item, 0, len(resp.ReceivedMessages))
	for _, rm := range resp.ReceivedMessages {
		m := forwarder.MessagePublishedData{Subscription: s.name, DeliveryAttempt: int(rm.DeliveryAttempt),
			Message: forwarder.PubsubMessage{Data: rm.GetMessage().GetData(), Attributes: rm.GetMessage().GetAttributes(),
				MessageID: rm.GetMessage().GetMessageId(), PublishTime: rm.GetMessage().GetPublishTime().AsTime()}}
		items = append(items, backfill.Item{Delivery: m.Delivery(), Handle: rm.AckId})
	}
	if len(items) > 0 && hold > 0 {
		if err := s.modify(ctx, items, min(hold, maxAckDeadline)); err != nil {
			// Without the longer hold they would come back mid-run: hand
			// them back now instead.
			return nil, errors.Join(err, s.Release(context.WithoutCancel(ctx), items))
		}
	}
	return items, nil
}

// Ack implements backfill.Source.
func (s *Source) Ack(ctx context.Context, items []backfill.Item) error {
	for chunk := range chunks(items) {
		if err := s.subs.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: s.name, AckIds: ackIDs(chunk)}); err != nil {
			return fmt.Errorf("acknowledge on %s: %w", s.name, err)
		}
	}
	return nil
}

// Release implements backfill.Source: an ack deadline of 0 is a nack.
func (s *Source) Release(ctx context.Context, items []backfill.Item) error {
	return s.modify(ctx, items, 0)
}

func (s *Source) modify(ctx context.Context, items []backfill.Item, d time.Duration) error {
	for chunk := range chunks(items) {
		if err := s.subs.ModifyAckDeadline(ctx, &pubsubpb.ModifyAckDeadlineRequest{Subscription: s.name,
			AckIds: ackIDs(chunk), AckDeadlineSeconds: int32(d / time.Second)}); err != nil {
			return fmt.Errorf("modify ack deadline on %s: %w", s.name, err)
		}
	}
	return nil
}

// chunks keeps each request well under Pub/Sub's 512 KB request limit.
func chunks(items []backfill.Item) func(func([]backfill.Item) bool) {
	return func(yield func([]backfill.Item) bool) {
		for len(items) > 0 {
			n := min(len(items), 1000)
			if !yield(items[:n]) {
				return
			}
			items = items[n:]
		}
	}
}

func ackIDs(items []backfill.Item) []string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.Handle
	}
	return ids
}

// Seeker rewinds the live events subscription: Pub/Sub then redelivers
// every message published since the time, acknowledged or not, with its
// original message id and body, as long as the subscription retains acked
// messages (retain_acked_messages) for that long.
type Seeker struct {
	subs *vkit.SubscriptionAdminClient
	name string
}

// NewSeeker returns a Seeker for subscription.
func NewSeeker(subs *vkit.SubscriptionAdminClient, subscription string) *Seeker {
	return &Seeker{subs: subs, name: subscription}
}

// Name implements backfill.Seeker.
func (s *Seeker) Name() string { return s.name }

// Seek implements backfill.Seeker.
func (s *Seeker) Seek(ctx context.Context, to time.Time) error {
	if _, err := s.subs.Seek(ctx, &pubsubpb.SeekRequest{Subscription: s.name,
		Target: &pubsubpb.SeekRequest_Time{Time: timestamppb.New(to)}}); err != nil {
		return fmt.Errorf("seek %s to %s: %w", s.name, to.Format(time.RFC3339), err)
	}
	return nil
}

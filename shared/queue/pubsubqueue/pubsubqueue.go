// Package pubsubqueue publishes events to a Google Cloud Pub/Sub topic with
// the official client (cloud.google.com/go/pubsub/v2).
package pubsubqueue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eventrelay.dev/eventrelay/shared/queue"
)

// Settings are the publish settings ingest uses, chosen for an HTTP handler
// that answers only after the queue acknowledged:
//   - DelayThreshold 1 ms (default 10 ms): a caller waits for the ack, so a
//     long bundling delay goes straight into its latency; 1 ms still lets
//     concurrent requests on one instance share a Publish RPC.
//   - CountThreshold 100 and ByteThreshold 1 MB (the defaults): a batch
//     request of 100 events becomes one RPC.
//   - Timeout 10 s (default 60 s): past it the caller gets a 503 and retries,
//     which beats holding its connection for a minute.
//   - Flow control blocks rather than ignoring at 10,000 outstanding messages,
//     so a slow queue pushes back instead of growing memory without bound.
func Settings() pubsub.PublishSettings {
	s := pubsub.DefaultPublishSettings
	s.DelayThreshold = time.Millisecond
	s.CountThreshold = 100
	s.ByteThreshold = 1e6
	s.Timeout = 10 * time.Second
	s.FlowControlSettings.MaxOutstandingMessages = 10000
	s.FlowControlSettings.MaxOutstandingBytes = 64 << 20
	s.FlowControlSettings.LimitExceededBehavior = pubsub.FlowControlBlock
	return s
}

// Publisher is a queue.Publisher over one topic.
type Publisher struct {
	p      *pubsub.Publisher
	client *pubsub.Client
	topic  string
}

// New returns a Publisher for topic (projects/P/topics/T or a topic id) on
// client, with Settings. One Publisher per instance: it owns bundling
// goroutines and should live as long as the process.
func New(client *pubsub.Client, topic string) *Publisher {
	p := client.Publisher(topic)
	p.PublishSettings = Settings()
	return &Publisher{p: p, client: client, topic: topic}
}

// Check asks Pub/Sub, once at start, whether the topic exists and this
// identity may publish to it, so a wrong setting stops the start instead of
// failing every request. TestIamPermissions needs no permission of its own
// (GetTopic would need pubsub.topics.get, which the publisher role lacks)
// and answers NOT_FOUND for a missing topic. The emulators do not serve the
// IAM API; there GetTopic stands in. A permanent problem is returned
// wrapping queue.ErrPermanent; a transient one wrapping
// queue.ErrUnavailable (the caller may start anyway).
func (p *Publisher) Check(ctx context.Context) error {
	const perm = "pubsub.topics.publish"
	resp, err := p.client.TopicAdminClient.TestIamPermissions(ctx,
		&iampb.TestIamPermissionsRequest{Resource: p.topic, Permissions: []string{perm}})
	if status.Code(err) == codes.Unimplemented {
		_, err = p.client.TopicAdminClient.GetTopic(ctx, &pubsubpb.GetTopicRequest{Topic: p.topic})
		if err == nil {
			return nil
		}
	}
	if err != nil {
		return classify("check of "+p.topic, err)
	}
	if !slices.Contains(resp.GetPermissions(), perm) {
		return fmt.Errorf("%s: %w: this identity lacks %s", p.topic, queue.ErrPermanent, perm)
	}
	return nil
}

// Publish implements queue.Publisher: it hands every message to the client
// at once (so they bundle) and then waits for each acknowledgement.
func (p *Publisher) Publish(ctx context.Context, msgs []queue.Message) []error {
	results := make([]*pubsub.PublishResult, len(msgs))
	for i, m := range msgs {
		results[i] = p.p.Publish(ctx, &pubsub.Message{Data: m.Body, Attributes: m.Attributes})
	}
	errs := make([]error, len(msgs))
	for i, r := range results {
		if _, err := r.Get(ctx); err != nil {
			errs[i] = classify("publish "+msgs[i].ID, err)
		}
	}
	return errs
}

// classify sorts a failure into the two kinds of shared/queue: a missing
// topic, a name or message the service refuses, or no permission is
// permanent; anything else (unavailable, deadline, throttled, an error with
// no gRPC status) is transient.
func classify(what string, err error) error {
	switch status.Code(err) {
	case codes.NotFound, codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated,
		codes.FailedPrecondition, codes.OutOfRange, codes.Unimplemented:
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("%s: %w: %w", what, queue.ErrPermanent, err)
		}
	}
	return fmt.Errorf("%s: %w: %w", what, queue.ErrUnavailable, err)
}

// Close flushes and stops the publisher; the client is the caller's.
func (p *Publisher) Close() error {
	p.p.Stop()
	return nil
}

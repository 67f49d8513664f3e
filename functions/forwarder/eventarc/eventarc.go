// Package eventarc is the forwarder's adapter for an Eventarc Pub/Sub
// trigger (a google.cloud.pubsub.topic.v1.messagePublished CloudEvent). The
// core (functions/forwarder) knows no CloudEvents type.
package eventarc

import (
	"context"
	"fmt"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"

	"eventrelay.dev/eventrelay/functions/forwarder"
)

// Handle serves an Eventarc Pub/Sub trigger with the forwarder f: nil acknowledges, an
// error nacks (redelivered when the trigger's retry policy is RETRY).
func Handle(ctx context.Context, f *forwarder.Forwarder, e cloudevents.Event) error {
	var m forwarder.MessagePublishedData
	if err := e.DataAs(&m); err != nil {
		// A malformed event will not improve with retries; acknowledge it
		// after logging, the only safe thing left.
		f.Logger().ErrorContext(ctx, "cloudevent is not a Pub/Sub message", "ce_id", e.ID(), "error", err.Error())
		return nil
	}
	d := f.Handle(ctx, m.Delivery())
	if d.Ack {
		return nil
	}
	return fmt.Errorf("message %s: %s, retry after %s", m.Message.MessageID, d.Outcome, d.RetryAfter)
}

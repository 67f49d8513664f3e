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

// Handle serves an Eventarc Pub/Sub trigger with the forwarder f: nil
// acknowledges, an error nacks (redelivered when the trigger's retry policy
// is RETRY).
func Handle(ctx context.Context, f *forwarder.Forwarder, e cloudevents.Event) error {
	var m forwarder.MessagePublishedData
	var d forwarder.Decision
	if err := e.DataAs(&m); err != nil {
		// A malformed event will not improve with retries: it goes to the
		// dead-letter topic as it came, with the reason, never dropped.
		raw := forwarder.Delivery{MessageID: e.ID(), Body: e.Data(),
			Attributes: map[string]string{"ce_id": e.ID(), "ce_type": e.Type(), "ce_source": e.Source()}}
		d = f.DeadLetterUndecodable(ctx, raw, "the CloudEvent is not a Pub/Sub message: "+err.Error())
	} else {
		d = f.Handle(ctx, m.Delivery())
	}
	if d.Ack {
		return nil
	}
	return fmt.Errorf("message %s (event %s): %s, retry after %s", m.Message.MessageID, e.ID(), d.Outcome, d.RetryAfter)
}

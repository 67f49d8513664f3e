// Package lambdasqs is the forwarder's adapter for an SQS-triggered Lambda:
// it turns the event source mapping's batch into the core's deliveries and
// the core's answers into batch item failures. The core
// (functions/forwarder) knows no Lambda type.
package lambdasqs

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"eventrelay.dev/eventrelay/functions/forwarder"
)

// maxVisibility is SQS's ceiling for a visibility timeout (12 h).
const maxVisibility = 12 * time.Hour

// Handle serves an SQS-triggered Lambda with the forwarder f. Records are sent concurrently
// (up to concurrency at once); each one that must be retried gets its
// visibility set to its backoff and is listed in BatchItemFailures, so its
// neighbours are deleted and it alone comes back. The event source mapping
// must enable ReportBatchItemFailures.
func Handle(ctx context.Context, f *forwarder.Forwarder, ev events.SQSEvent, vis forwarder.VisibilityChanger, concurrency int) (events.SQSEventResponse, error) {
	if concurrency <= 0 {
		concurrency = 128 // as setup's FORWARDER_CONCURRENCY default
	}
	var mu sync.Mutex
	var resp events.SQSEventResponse
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for _, rec := range ev.Records {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d := f.Handle(ctx, Delivery(rec))
			if d.Ack {
				return
			}
			if vis != nil {
				if err := vis.ChangeVisibility(ctx, rec.ReceiptHandle, min(d.RetryAfter, maxVisibility)); err != nil {
					// The message still comes back, after the queue's own
					// visibility timeout; nothing is lost.
					f.Logger().WarnContext(ctx, "change visibility failed", slog.String("message_id", rec.MessageId), slog.String("error", err.Error()))
				}
			}
			mu.Lock()
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			mu.Unlock()
		}()
	}
	wg.Wait()
	return resp, nil
}

// Delivery is an SQS record as the core takes it: string message
// attributes, and the receive count as the attempt.
func Delivery(rec events.SQSMessage) forwarder.Delivery {
	attrs := make(map[string]string, len(rec.MessageAttributes))
	for k, v := range rec.MessageAttributes {
		if v.StringValue != nil {
			attrs[k] = *v.StringValue
		}
	}
	attempt, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	var sent time.Time
	if ms, err := strconv.ParseInt(rec.Attributes["SentTimestamp"], 10, 64); err == nil {
		sent = time.UnixMilli(ms)
	}
	return forwarder.Delivery{MessageID: rec.MessageId, Body: []byte(rec.Body), Attributes: attrs, Attempt: attempt, PublishTime: sent}
}

// Package sqssource is the backfill's SQS side (aws-sdk-go-v2):
// ReceiveMessage with a short wait, DeleteMessageBatch to acknowledge, and
// ChangeMessageVisibility to hand a message back.
package sqssource

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/functions/forwarder/lambdasqs"
)

// SQS limits.
const (
	maxReceive    = 10 // messages per ReceiveMessage / entries per batch call
	maxVisibility = 12 * time.Hour
)

// Source is a backfill.Source over one queue.
type Source struct {
	client *sqs.Client
	url    string
	// WaitSeconds is the long-poll wait of one receive: short, so an empty
	// queue ends the run at once.
	WaitSeconds int32
}

// New returns a Source for queueURL.
func New(client *sqs.Client, queueURL string) *Source {
	return &Source{client: client, url: queueURL, WaitSeconds: 1}
}

// Receive implements backfill.Source. SQS hands over at most 10 messages a
// call, whatever max asks.
func (s *Source) Receive(ctx context.Context, max int, hold time.Duration) ([]backfill.Item, error) {
	in := &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.url), MaxNumberOfMessages: int32(min(max, maxReceive)),
		WaitTimeSeconds: s.WaitSeconds, MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}}
	if hold > 0 {
		in.VisibilityTimeout = int32(min(hold, maxVisibility).Round(time.Second) / time.Second)
	}
	out, err := s.client.ReceiveMessage(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", s.url, err)
	}
	items := make([]backfill.Item, len(out.Messages))
	for i, m := range out.Messages {
		items[i] = backfill.Item{Delivery: lambdasqs.Delivery(record(m)), Handle: aws.ToString(m.ReceiptHandle)}
	}
	return items, nil
}

// record is the message in the shape the forwarder decodes (a Lambda SQS
// record), so both read attributes the same way.
func record(m types.Message) events.SQSMessage {
	attrs := make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes))
	for k, v := range m.MessageAttributes {
		attrs[k] = events.SQSMessageAttribute{DataType: aws.ToString(v.DataType), StringValue: v.StringValue}
	}
	return events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
		Body: aws.ToString(m.Body), Attributes: m.Attributes, MessageAttributes: attrs}
}

// Ack implements backfill.Source with DeleteMessageBatch.
func (s *Source) Ack(ctx context.Context, items []backfill.Item) error {
	var errs []error
	for len(items) > 0 {
		n := min(len(items), maxReceive)
		entries := make([]types.DeleteMessageBatchRequestEntry, n)
		for i, it := range items[:n] {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(it.Handle)}
		}
		out, err := s.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.url), Entries: entries})
		if err != nil {
			errs = append(errs, fmt.Errorf("delete from %s: %w", s.url, err))
		} else {
			for _, f := range out.Failed {
				errs = append(errs, fmt.Errorf("delete from %s: entry %s: %s %s", s.url,
					aws.ToString(f.Id), aws.ToString(f.Code), aws.ToString(f.Message)))
			}
		}
		items = items[n:]
	}
	return errors.Join(errs...)
}

// Release implements backfill.Source: visibility 0 makes a message
// receivable again at once.
func (s *Source) Release(ctx context.Context, items []backfill.Item) error {
	var errs []error
	for _, it := range items {
		if _, err := s.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(s.url),
			ReceiptHandle: aws.String(it.Handle), VisibilityTimeout: 0}); err != nil {
			errs = append(errs, fmt.Errorf("release %s on %s: %w", it.MessageID, s.url, err))
		}
	}
	return errors.Join(errs...)
}

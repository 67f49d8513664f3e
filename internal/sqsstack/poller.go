package sqsstack

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Handler is an SQS-triggered Lambda handler, the function lambda.Start is
// given in cmd/bootstrap.
type Handler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// Poller drives a Handler the way a Lambda event source mapping with
// ReportBatchItemFailures does: it receives batches of up to 10 messages,
// invokes the handler with the SQSEvent Lambda would build, deletes every
// message the response does not list as failed, and leaves the failed ones
// to come back after their visibility timeout (which the handler may have
// changed). A handler error, or a failure entry naming no message of the
// batch, fails the whole batch: nothing is deleted.
type Poller struct {
	Client    *sqs.Client
	QueueURL  string
	QueueARN  string
	Handler   Handler
	BatchSize int           // messages per invocation, 1..10 (default 10)
	Pollers   int           // batches in flight at once (default 4)
	Wait      time.Duration // long-poll wait per ReceiveMessage (default 1 s)

	mu       sync.Mutex
	receives map[string]int // message id → receives seen
	stats    PollerStats
}

// PollerStats counts what the poller did.
type PollerStats struct {
	Invocations   int
	Deleted       int
	Failed        int // listed in batchItemFailures
	BatchFailures int // handler errors or invalid responses
}

// Stats returns the counts so far.
func (p *Poller) Stats() PollerStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	n := p.Pollers
	if n <= 0 {
		n = 4
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := p.PollOnce(ctx); err != nil && ctx.Err() == nil {
					time.Sleep(100 * time.Millisecond) // goaws hiccup: back off a little
				}
			}
		})
	}
	wg.Wait()
}

// PollOnce receives one batch and, if it is not empty, invokes the handler
// and settles the batch. It returns how many messages it received.
func (p *Poller) PollOnce(ctx context.Context) (int, error) {
	batch := p.BatchSize
	if batch <= 0 || batch > 10 {
		batch = 10
	}
	wait := p.Wait
	if wait <= 0 {
		wait = time.Second
	}
	out, err := p.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(p.QueueURL),
		MaxNumberOfMessages: int32(batch), WaitTimeSeconds: int32(max(wait/time.Second, 1)),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil {
		return 0, fmt.Errorf("receive: %w", err)
	}
	if len(out.Messages) == 0 {
		return 0, nil
	}
	ev := p.event(out.Messages)
	resp, herr := p.Handler(ctx, ev)
	failed, verr := failedIDs(ev, resp)
	p.mu.Lock()
	p.stats.Invocations++
	p.mu.Unlock()
	if herr != nil || verr != nil {
		// Lambda retries the whole batch after the visibility timeout.
		p.mu.Lock()
		p.stats.BatchFailures++
		p.mu.Unlock()
		return len(out.Messages), errors.Join(herr, verr)
	}
	var del []types.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		if failed[aws.ToString(m.MessageId)] {
			continue
		}
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	p.mu.Lock()
	p.stats.Failed += len(failed)
	p.mu.Unlock()
	if len(del) == 0 {
		return len(out.Messages), nil
	}
	// The deletion must happen even if ctx just ended: the handler's work
	// is done and a redelivery would only repeat it.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	dout, err := p.Client.DeleteMessageBatch(dctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: del})
	if err != nil {
		return len(out.Messages), fmt.Errorf("delete: %w", err)
	}
	if len(dout.Failed) > 0 {
		return len(out.Messages), fmt.Errorf("delete: %d entries failed, first: %s", len(dout.Failed), aws.ToString(dout.Failed[0].Message))
	}
	p.mu.Lock()
	p.stats.Deleted += len(dout.Successful)
	for _, e := range del {
		i, _ := strconv.Atoi(aws.ToString(e.Id))
		delete(p.receives, aws.ToString(out.Messages[i].MessageId))
	}
	p.mu.Unlock()
	return len(out.Messages), nil
}

// failedIDs checks the response as Lambda does: every identifier must name
// a message of the batch.
func failedIDs(ev events.SQSEvent, resp events.SQSEventResponse) (map[string]bool, error) {
	inBatch := make(map[string]bool, len(ev.Records))
	for _, r := range ev.Records {
		inBatch[r.MessageId] = true
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		if !inBatch[f.ItemIdentifier] {
			return nil, fmt.Errorf("batchItemFailures names %q, not a message of the batch", f.ItemIdentifier)
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, nil
}

// event builds the SQSEvent Lambda would deliver for msgs.
//
// goaws v0.5.4 reports ApproximateReceiveCount as 1 on every receive (it
// never counts receives), and the forwarder's attempt limit reads it. This
// poller sees every receive of its queue, so it counts them itself and
// reports the larger of the two counts. moto counts every receive,
// including ones made by other clients, so its count wins there.
func (p *Poller) event(msgs []types.Message) events.SQSEvent {
	p.mu.Lock()
	if p.receives == nil {
		p.receives = map[string]int{}
	}
	p.mu.Unlock()
	recs := make([]events.SQSMessage, len(msgs))
	for i, m := range msgs {
		id := aws.ToString(m.MessageId)
		p.mu.Lock()
		p.receives[id]++
		count := p.receives[id]
		p.mu.Unlock()
		attrs := make(map[string]string, len(m.Attributes)+1)
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		if reported, _ := strconv.Atoi(attrs[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); reported < count {
			attrs[string(types.MessageSystemAttributeNameApproximateReceiveCount)] = strconv.Itoa(count)
		}
		mattrs := make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes))
		for k, v := range m.MessageAttributes {
			mattrs[k] = events.SQSMessageAttribute{StringValue: v.StringValue, BinaryValue: v.BinaryValue,
				StringListValues: v.StringListValues, BinaryListValues: v.BinaryListValues, DataType: aws.ToString(v.DataType)}
		}
		recs[i] = events.SQSMessage{MessageId: id, ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Md5OfBody: aws.ToString(m.MD5OfBody), Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes: attrs, MessageAttributes: mattrs, EventSourceARN: p.QueueARN, EventSource: "aws:sqs", AWSRegion: Region}
	}
	return events.SQSEvent{Records: recs}
}

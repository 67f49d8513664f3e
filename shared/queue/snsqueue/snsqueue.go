// Package snsqueue publishes events to an Amazon SNS standard topic with the
// official client (aws-sdk-go-v2), using PublishBatch. It is ingest's
// publisher on AWS when the archive is on: the topic fans out to the events
// queue with raw message delivery (the forwarder receives the body and the
// message attributes exactly as if ingest had sent them to SQS) and to the
// archive's Firehose delivery stream.
package snsqueue

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/queue/sqsqueue"
)

// Publisher is a queue.Publisher over one topic.
type Publisher struct {
	client      *sns.Client
	arn         string
	concurrency int
}

// New returns a Publisher for topicARN. Up to 8 batch calls run at once,
// as for SQS.
func New(client *sns.Client, topicARN string) *Publisher {
	return &Publisher{client: client, arn: topicARN, concurrency: 8}
}

// CheckARN refuses what cannot be the events topic: not an SNS topic ARN,
// or a FIFO topic (ingest sends no group or de-duplication ids, and a FIFO
// topic cannot feed the standard events queue).
func CheckARN(arn string) error {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[3] == "" || parts[4] == "" || parts[5] == "" {
		return fmt.Errorf("%q is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)", arn)
	}
	if strings.HasSuffix(arn, ".fifo") {
		return fmt.Errorf("%q is a FIFO topic; the events topic is a standard one", arn)
	}
	return nil
}

// Close implements queue.Publisher; the client needs no closing.
func (p *Publisher) Close() error { return nil }

// Publish implements queue.Publisher. PublishBatch takes what
// SendMessageBatch takes (10 entries, 256 KiB of bodies and attributes
// summed), so the batches are SQS's.
func (p *Publisher) Publish(ctx context.Context, msgs []queue.Message) []error {
	errs := make([]error, len(msgs))
	batches := sqsqueue.Split(msgs, errs)
	sem := make(chan struct{}, p.concurrency)
	var wg sync.WaitGroup
	for _, b := range batches {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			p.send(ctx, msgs, b, errs)
		}()
	}
	wg.Wait()
	return errs
}

// send makes one PublishBatch call. As with SQS, the SDK's retry of a whole
// call after a transport error can publish a message twice; the forwarder
// de-duplicates by event id, and replay from the archive by (source, id).
func (p *Publisher) send(ctx context.Context, msgs []queue.Message, idx []int, errs []error) {
	entries := make([]types.PublishBatchRequestEntry, len(idx))
	for k, i := range idx {
		m := msgs[i]
		attrs := make(map[string]types.MessageAttributeValue, len(m.Attributes))
		for name, v := range m.Attributes {
			if v != "" { // SNS, like SQS, refuses an empty value
				attrs[name] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
			}
		}
		entries[k] = types.PublishBatchRequestEntry{Id: aws.String(strconv.Itoa(k)),
			Message: aws.String(string(m.Body)), MessageAttributes: attrs}
	}
	out, err := p.client.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(p.arn), PublishBatchRequestEntries: entries})
	if err != nil {
		for _, i := range idx {
			errs[i] = sqsqueue.Classify("publish "+msgs[i].ID, err)
		}
		return
	}
	ok := make([]string, len(out.Successful))
	for i, e := range out.Successful {
		ok[i] = aws.ToString(e.Id)
	}
	failed := make([]sqsqueue.BatchFailure, len(out.Failed))
	for i, f := range out.Failed {
		failed[i] = sqsqueue.BatchFailure{ID: aws.ToString(f.Id), Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault}
	}
	sqsqueue.Settle("SNS", msgs, idx, errs, ok, failed)
}

// Check asks SNS, once at start, whether the topic exists and this identity
// may read it (GetTopicAttributes, one cheap call), so a wrong ARN stops the
// start instead of failing every request.
func (p *Publisher) Check(ctx context.Context) error {
	if _, err := p.client.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(p.arn)}); err != nil {
		return sqsqueue.Classify("check of "+p.arn, err)
	}
	return nil
}

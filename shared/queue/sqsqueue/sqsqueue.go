// Package sqsqueue publishes events to an Amazon SQS queue with the official
// client (aws-sdk-go-v2), using SendMessageBatch.
package sqsqueue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"eventrelay.dev/eventrelay/shared/queue"
)

// SQS limits for one SendMessageBatch call (SNS's PublishBatch has the
// same two, so shared/queue/snsqueue splits with Split too).
const (
	maxBatchEntries = 10
	maxBatchBytes   = 256 << 10 // body + attribute names, types and values, summed
)

// Publisher is a queue.Publisher over one queue.
type Publisher struct {
	client      *sqs.Client
	url         string
	fifo        bool
	concurrency int
}

// New returns a Publisher for queueURL. Up to 8 batch calls run at once.
func New(client *sqs.Client, queueURL string) *Publisher {
	return &Publisher{client: client, url: queueURL, fifo: strings.HasSuffix(queueURL, ".fifo"), concurrency: 8}
}

// Close implements queue.Publisher; the client needs no closing.
func (p *Publisher) Close() error { return nil }

// Publish implements queue.Publisher.
func (p *Publisher) Publish(ctx context.Context, msgs []queue.Message) []error {
	errs := make([]error, len(msgs))
	batches := Split(msgs, errs)
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

// Split groups message indexes into batches within both SQS limits; a
// message too large on its own gets its error in errs and no batch.
func Split(msgs []queue.Message, errs []error) [][]int {
	var batches [][]int
	var cur []int
	size := 0
	for i, m := range msgs {
		n := messageSize(m)
		if n > maxBatchBytes {
			errs[i] = fmt.Errorf("publish %s: %d bytes is over the SQS and SNS limit of %d", m.ID, n, maxBatchBytes)
			continue
		}
		if len(cur) == maxBatchEntries || size+n > maxBatchBytes {
			batches = append(batches, cur)
			cur, size = nil, 0
		}
		cur = append(cur, i)
		size += n
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	return batches
}

// messageSize is what SQS (and SNS) count against the limit.
func messageSize(m queue.Message) int {
	n := len(m.Body)
	for k, v := range m.Attributes {
		if v != "" {
			n += len(k) + len("String") + len(v)
		}
	}
	return n
}

// send makes one SendMessageBatch call. The SDK's retryer may repeat the
// whole call after a transport error, which can enqueue a message twice;
// that is the at-least-once every queue consumer must handle anyway, and
// the forwarder de-duplicates by event id.
func (p *Publisher) send(ctx context.Context, msgs []queue.Message, idx []int, errs []error) {
	entries := make([]types.SendMessageBatchRequestEntry, len(idx))
	for k, i := range idx {
		m := msgs[i]
		attrs := make(map[string]types.MessageAttributeValue, len(m.Attributes))
		for name, v := range m.Attributes {
			if v != "" {
				attrs[name] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
			}
		}
		entries[k] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(k)),
			MessageBody: aws.String(string(m.Body)), MessageAttributes: attrs}
		if p.fifo {
			// One group per event, so unrelated events never wait for each
			// other; de-duplication by the whole message (dedupID).
			entries[k].MessageDeduplicationId = aws.String(dedupID(m))
			entries[k].MessageGroupId = aws.String(fifoID(m.ID))
		}
	}
	out, err := p.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(p.url), Entries: entries})
	if err != nil {
		for _, i := range idx {
			errs[i] = Classify("publish "+msgs[i].ID, err)
		}
		return
	}
	ok := make([]string, len(out.Successful))
	for i, e := range out.Successful {
		ok[i] = aws.ToString(e.Id)
	}
	failed := make([]BatchFailure, len(out.Failed))
	for i, f := range out.Failed {
		failed[i] = BatchFailure{ID: aws.ToString(f.Id), Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault}
	}
	Settle("SQS", msgs, idx, errs, ok, failed)
}

// BatchFailure is an entry an AWS batch call (SQS SendMessageBatch, SNS
// PublishBatch) reports as failed.
type BatchFailure struct {
	ID, Code, Message string
	SenderFault       bool
}

// Settle records in errs what a batch call answered for each entry (entry
// k is msgs[idx[k]], sent with Id strconv.Itoa(k)): a failed entry is
// permanent when the sender is at fault (trying it again changes nothing),
// retryable otherwise; an entry the answer lists neither way is never
// assumed sent.
func Settle(service string, msgs []queue.Message, idx []int, errs []error, successful []string, failed []BatchFailure) {
	entry := func(id string) (int, bool) {
		k, err := strconv.Atoi(id)
		return k, err == nil && k >= 0 && k < len(idx)
	}
	done := make([]bool, len(idx))
	for _, id := range successful {
		if k, ok := entry(id); ok {
			done[k] = true
		}
	}
	for _, f := range failed {
		k, ok := entry(f.ID)
		if !ok {
			continue
		}
		done[k] = true
		kind := queue.ErrUnavailable
		if f.SenderFault {
			kind = queue.ErrPermanent
		}
		errs[idx[k]] = fmt.Errorf("publish %s: %w: %s %s: %s", msgs[idx[k]].ID, kind, service, f.Code, f.Message)
	}
	for k, ok := range done {
		if !ok {
			errs[idx[k]] = fmt.Errorf("publish %s: %w: %s reported no outcome", msgs[idx[k]].ID, queue.ErrUnavailable, service)
		}
	}
}

// Classify sorts a failed SQS or SNS call into the two kinds of
// shared/queue: an error the service blames on the caller (a queue or topic
// that does not exist, a URL it refuses, access denied, bad credentials) is
// permanent unless it is throttling; everything else (no answer, 5xx,
// throttled) is transient.
func Classify(what string, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorFault() != smithy.FaultServer {
		if _, throttled := retry.DefaultThrottleErrorCodes[api.ErrorCode()]; !throttled && !moreThrottleCodes[api.ErrorCode()] &&
			!errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("%s: %w: %w", what, queue.ErrPermanent, err)
		}
	}
	return fmt.Errorf("%s: %w: %w", what, queue.ErrUnavailable, err)
}

// moreThrottleCodes are "slow down" answers the SDK's list lacks: SQS's
// OverLimit, SNS's Throttled, and the KMS throttling either passes on for
// an encrypted queue or topic.
var moreThrottleCodes = map[string]bool{"OverLimit": true, "Throttled": true, "KMSThrottling": true}

// Check asks SQS, once at start, whether the queue exists and this identity
// may read its attributes (GetQueueAttributes, one cheap call), so a wrong
// URL stops the start instead of failing every request.
func (p *Publisher) Check(ctx context.Context) error {
	_, err := p.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(p.url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		return Classify("check of "+p.url, err)
	}
	return nil
}

// dedupID is a FIFO queue's de-duplication id for m: the hash of its id
// and attributes. SQS drops, for 5 minutes, a message whose id it has seen,
// so the id must change whenever the message means something new: the same
// message again (a retried call) is dropped, but a dead letter re-parked
// with a new attempt count and time is not taken for the one it replaces
// (keyed by the event id alone, the re-park was answered as sent and lost,
// and backfill then deleted the original). The attributes carry the source,
// so two sources' events with one id are two messages.
func dedupID(m queue.Message) string {
	h := sha256.New()
	h.Write([]byte(m.ID))
	for _, k := range slices.Sorted(maps.Keys(m.Attributes)) {
		h.Write([]byte{0})
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(m.Attributes[k]))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fifoID fits an id into SQS's 128-character alphanumeric-and-punctuation
// rule; anything else is replaced by its hash.
func fifoID(id string) string {
	if len(id) > 0 && len(id) <= 128 && !strings.ContainsFunc(id, func(r rune) bool { return r < '!' || r > '~' }) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// Visibility delays a received message's next delivery; the forwarder's
// backoff rides on it.
type Visibility struct {
	Client   *sqs.Client
	QueueURL string
}

// ChangeVisibility sets the message's visibility timeout to after (SQS
// takes whole seconds, at most 12 h; a wait under a second is rounded up,
// never down to "visible at once", which would spend a receive for nothing).
func (v Visibility) ChangeVisibility(ctx context.Context, receiptHandle string, after time.Duration) error {
	secs := int32(min(max((after+time.Second-1)/time.Second*time.Second, 0), 12*time.Hour) / time.Second)
	_, err := v.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(v.QueueURL),
		ReceiptHandle: aws.String(receiptHandle), VisibilityTimeout: secs})
	if err != nil {
		return fmt.Errorf("change visibility: %w", err)
	}
	return nil
}

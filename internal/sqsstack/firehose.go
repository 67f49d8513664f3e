package sqsstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"

	"eventrelay.dev/eventrelay/internal/moto"
	"eventrelay.dev/eventrelay/shared/archive"
)

// Names of the archive on the stack (Config.Archive).
const (
	EventsTopic   = "eventrelay-events"
	ArchiveBucket = "eventrelay-archive"
	ArchiveStream = "eventrelay-archive"
	// archiveFeed is the queue the Firehose stand-in reads the topic from.
	archiveFeed = "eventrelay-archive-feed"
)

// Firehose stands in for the archive's delivery stream, because moto 5.2.1
// cannot be it: its SNS delivers nothing to a "firehose" subscription (only
// sqs, http(s) and lambda), and its Firehose writes each PutRecordBatch as
// one object, uncompressed, under <prefix>YYYY/MM/dd/HH/, with the custom
// prefix's expressions left as text and processors not run.
//
// The stand-in reads what the topic delivers to a feed queue and writes it
// as the stream writes an object, per AWS's documentation: each message's
// SNS envelope (archive.EnvelopeOf: the body as the JSON string Message, the
// message attributes, a message id, the publish time) as one line
// (archive.S3Processor), gzip'd (archive.S3Compression), named
// archive.FirehoseName(stream, 1, oldest record's time, uuid) under the
// S3Prefix's day folder of that time. The feed uses raw message delivery
// and the envelope is built here because moto builds its own (a
// subscription without raw delivery) with a fresh certificate and an RSA
// signature per message, and its SNS is already the slowest part of the
// stack (20 s for 1,000 publishes with one subscription, 98 s with two, at
// a load of 10). That moto's own envelope carries the body as Message and
// the attributes as MessageAttributes was read in its source
// (sns/models.py, get_post_data), not tested here; shared/archive's tests
// read AWS's documented example instead.
type Firehose struct {
	TopicARN string
	SQS      *sqs.Client
	FeedURL  string
	S3       *s3.Client
	Bucket   string
	// PerObject is how many records an object holds at most (the stream's
	// size hint): 1,000 by default.
	PerObject int
}

// Drain writes everything the topic has delivered to the feed so far, and
// returns the object keys written. The feed is read until three receives
// in a row come back empty.
func (f *Firehose) Drain(ctx context.Context) ([]string, error) {
	per := f.PerObject
	if per <= 0 {
		per = 1000
	}
	var keys []string
	var batch [][]byte
	var oldest time.Time
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var buf bytes.Buffer
		if err := archive.EncodeFirehose(&buf, batch); err != nil {
			return err
		}
		key := archive.FirehoseName(ArchiveStream, 1, oldest, uuid.NewString())
		if _, err := f.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(key),
			Body: bytes.NewReader(buf.Bytes())}); err != nil {
			return fmt.Errorf("firehose stand-in: put %s: %w", key, err)
		}
		keys = append(keys, key)
		batch, oldest = nil, time.Time{}
		return nil
	}
	for empty := 0; empty < 3; {
		out, err := f.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.FeedURL), MaxNumberOfMessages: 10,
			VisibilityTimeout: 60, MessageAttributeNames: []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameSentTimestamp}})
		if err != nil {
			return keys, fmt.Errorf("firehose stand-in: receive: %w", err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		empty = 0
		var done []types.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			sent, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64)
			if err != nil {
				return keys, fmt.Errorf("firehose stand-in: SentTimestamp: %w", err)
			}
			rec := archive.Record{Subscription: f.TopicARN, MessageID: uuid.NewString(), PublishTime: time.UnixMilli(sent).UTC(),
				Attributes: map[string]string{}, Data: []byte(aws.ToString(m.Body))}
			for k, v := range m.MessageAttributes {
				rec.Attributes[k] = aws.ToString(v.StringValue)
			}
			line, err := json.Marshal(archive.EnvelopeOf(rec))
			if err != nil {
				return keys, err
			}
			if len(batch) == 0 {
				oldest = rec.PublishTime
			}
			batch = append(batch, line)
			if len(batch) == per {
				if err := flush(); err != nil {
					return keys, err
				}
			}
			done = append(done, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if _, err := f.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(f.FeedURL), Entries: done}); err != nil {
			return keys, fmt.Errorf("firehose stand-in: delete: %w", err)
		}
	}
	return keys, flush()
}

// startArchive makes, on moto, the events topic (delivering to the events
// queue with raw message delivery, as the module configures it), the
// Firehose stand-in's feed and the archive bucket.
func (st *Stack) startArchive(t testing.TB) {
	t.Helper()
	topics := moto.SNS(st.Endpoint)
	st.TopicARN = moto.CreateTopic(t, topics, EventsTopic)
	moto.SubscribeQueue(t, topics, st.TopicARN, st.EventsARN, true)
	feedURL, feedARN := moto.CreateQueue(t, st.Client, archiveFeed, nil, "", 0)
	moto.SubscribeQueue(t, topics, st.TopicARN, feedARN, true)
	buckets := moto.S3(st.Endpoint)
	moto.CreateBucket(t, buckets, ArchiveBucket)
	st.Firehose = &Firehose{TopicARN: st.TopicARN, SQS: st.Client, FeedURL: feedURL, S3: buckets, Bucket: ArchiveBucket}
}

package snsqueue

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"eventrelay.dev/eventrelay/internal/moto"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/queue/sqsqueue"
)

func msg(id string, bodySize int) queue.Message {
	body := `{"id":"` + id + `","name":"Ünïcode ✓ \"quoted\"\n","pad":"` + strings.Repeat("x", max(0, bodySize-40)) + `"}`
	return queue.Message{ID: id, Body: []byte(body), Attributes: map[string]string{queue.AttrEventID: id,
		queue.AttrEventType: "PURCHASE", queue.AttrSource: "shop-web", "empty": ""}}
}

// received is what the forwarder gets from SQS: the body and every message
// attribute with its data type.
type received struct {
	body  string
	attrs map[string]string // name → "DataType=value"
}

func drain(t *testing.T, c *sqs.Client, url string, want int) map[string]received {
	t.Helper()
	got := map[string]received{}
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
			MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			attrs := map[string]string{}
			for k, v := range m.MessageAttributes {
				attrs[k] = aws.ToString(v.DataType) + "=" + aws.ToString(v.StringValue)
			}
			id := strings.TrimPrefix(attrs[queue.AttrEventID], "String=")
			if _, dup := got[id]; dup {
				t.Errorf("%s received twice", id)
			}
			got[id] = received{body: aws.ToString(m.Body), attrs: attrs}
			if _, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url),
				ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return got
}

// Through the topic and a raw-delivery subscription, the events queue gets
// what ingest's direct SendMessageBatch puts there: the same body, byte for
// byte, and the same message attributes with the same data types (moto
// 5.2.1's SNS→SQS raw delivery, which carries message attributes as AWS
// documents it does).
func TestTopicDeliversWhatSQSWouldAgainstMoto(t *testing.T) {
	endpoint := moto.Start(t)
	q, topics := moto.Client(endpoint), moto.SNS(endpoint)
	direct, _ := moto.CreateQueue(t, q, "eventrelay-events-direct", nil, "", 0)
	viaTopic, viaTopicARN := moto.CreateQueue(t, q, "eventrelay-events", nil, "", 0)
	topic := moto.CreateTopic(t, topics, "eventrelay-events")
	moto.SubscribeQueue(t, topics, topic, viaTopicARN, true)
	if err := CheckARN(topic); err != nil {
		t.Fatalf("moto's ARN: %v", err)
	}
	p := New(topics, topic)
	if err := p.Check(context.Background()); err != nil {
		t.Fatalf("check: %v", err)
	}

	var msgs []queue.Message
	for i := range 25 {
		msgs = append(msgs, msg(fmt.Sprintf("evt-%02d", i), 300))
	}
	msgs = append(msgs, msg("huge", 300<<10))
	for i, err := range p.Publish(context.Background(), msgs) {
		if (err != nil) != (msgs[i].ID == "huge") {
			t.Fatalf("slot %s: %v", msgs[i].ID, err)
		}
	}
	for i, err := range sqsqueue.New(q, direct).Publish(context.Background(), msgs) {
		if (err != nil) != (msgs[i].ID == "huge") {
			t.Fatalf("direct slot %s: %v", msgs[i].ID, err)
		}
	}
	fromTopic, fromSQS := drain(t, q, viaTopic, 25), drain(t, q, direct, 25)
	if len(fromTopic) != 25 || len(fromSQS) != 25 {
		t.Fatalf("received %d through the topic, %d directly; want 25 each", len(fromTopic), len(fromSQS))
	}
	for _, m := range msgs[:25] {
		a, b := fromTopic[m.ID], fromSQS[m.ID]
		if a.body != string(m.Body) || a.body != b.body {
			t.Fatalf("%s: body through the topic %q, direct %q, sent %q", m.ID, a.body, b.body, m.Body)
		}
		if !maps.Equal(a.attrs, b.attrs) || a.attrs[queue.AttrSource] != "String=shop-web" || len(a.attrs) != 3 {
			t.Fatalf("%s: attributes through the topic %v, direct %v", m.ID, a.attrs, b.attrs)
		}
	}
}

// A topic that does not exist is a wrong setting: the check at start and
// every publish say so as permanent, not "retry later" for ever.
func TestMissingTopicIsPermanent(t *testing.T) {
	c := moto.SNS(moto.Start(t))
	topic := moto.CreateTopic(t, c, "eventrelay-events-check")
	missing := strings.Replace(topic, "eventrelay-events-check", "eventrelay-no-such-topic", 1)
	if err := New(c, missing).Check(context.Background()); err == nil || queue.Transient(err) {
		t.Fatalf("check of a missing topic: %v", err)
	}
	for i, err := range New(c, missing).Publish(context.Background(), []queue.Message{msg("a", 10)}) {
		if !errors.Is(err, queue.ErrPermanent) {
			t.Fatalf("slot %d: publish to a missing topic: %v", i, err)
		}
	}
}

func TestUnreachableIsUnavailable(t *testing.T) {
	c := sns.New(sns.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		Retryer:     retry.AddWithMaxAttempts(retry.NewStandard(), 1)})
	for i, err := range New(c, "arn:aws:sns:us-east-1:123456789012:eventrelay-events").Publish(context.Background(),
		[]queue.Message{msg("a", 10), msg("b", 10)}) {
		if !errors.Is(err, queue.ErrUnavailable) {
			t.Fatalf("slot %d: %v", i, err)
		}
	}
}

func TestCheckARN(t *testing.T) {
	if err := CheckARN("arn:aws:sns:eu-west-1:123456789012:eventrelay-events"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "eventrelay-events", "https://sqs.eu-west-1.amazonaws.com/123456789012/eventrelay-events",
		"arn:aws:sqs:eu-west-1:123456789012:eventrelay-events", "arn:aws:sns:eu-west-1:123456789012:",
		"arn:aws:sns:eu-west-1:123456789012:eventrelay-events.fifo"} {
		if CheckARN(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

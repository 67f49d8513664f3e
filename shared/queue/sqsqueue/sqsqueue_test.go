package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"eventrelay.dev/eventrelay/internal/goaws"
	"eventrelay.dev/eventrelay/shared/queue"
)

func msg(id string, bodySize int) queue.Message {
	body := `{"id":"` + id + `","pad":"` + strings.Repeat("x", max(0, bodySize-20)) + `"}`
	return queue.Message{ID: id, Body: []byte(body),
		Attributes: map[string]string{queue.AttrEventID: id, queue.AttrEventType: "PURCHASE", "empty": ""}}
}

// receiveAll drains the queue and returns bodies by event id.
func receiveAll(t *testing.T, c *sqs.Client, url string, want int) map[string]string {
	t.Helper()
	got := map[string]string{}
	deadline := time.Now().Add(15 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
			MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			id := aws.ToString(m.MessageAttributes[queue.AttrEventID].StringValue)
			if typ := aws.ToString(m.MessageAttributes[queue.AttrEventType].StringValue); typ != "PURCHASE" {
				t.Errorf("%s: event_type attribute %q", id, typ)
			}
			if _, dup := got[id]; dup {
				t.Errorf("%s received twice", id)
			}
			got[id] = aws.ToString(m.Body)
			if _, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return got
}

// The real aws-sdk-go-v2 client against goaws.
func TestPublishAgainstGoaws(t *testing.T) {
	c := goaws.Client(goaws.Start(t))
	t.Run("25 messages in 3 batches", func(t *testing.T) {
		url := goaws.CreateQueue(t, c, "eventrelay-events-a", "", 0)
		var msgs []queue.Message
		for i := range 25 {
			msgs = append(msgs, msg(fmt.Sprintf("evt-%02d", i), 200))
		}
		for i, err := range New(c, url).Publish(context.Background(), msgs) {
			if err != nil {
				t.Fatalf("slot %d: %v", i, err)
			}
		}
		got := receiveAll(t, c, url, 25)
		for _, m := range msgs {
			if got[m.ID] != string(m.Body) {
				t.Fatalf("%s: body %q", m.ID, got[m.ID])
			}
		}
	})
	t.Run("large batch split by size, oversized refused alone", func(t *testing.T) {
		url := goaws.CreateQueue(t, c, "eventrelay-events-b", "", 0)
		msgs := []queue.Message{msg("big-1", 100<<10), msg("big-2", 100<<10), msg("big-3", 100<<10), msg("huge", 300<<10), msg("small", 50)}
		errs := New(c, url).Publish(context.Background(), msgs)
		for i, err := range errs {
			if (err != nil) != (msgs[i].ID == "huge") {
				t.Fatalf("slot %s: %v", msgs[i].ID, err)
			}
		}
		if got := receiveAll(t, c, url, 4); len(got) != 4 || got["huge"] != "" {
			t.Fatalf("received %d", len(got))
		}
	})
}

func TestUnreachableIsUnavailable(t *testing.T) {
	c := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		Retryer:     retry.AddWithMaxAttempts(retry.NewStandard(), 1)})
	start := time.Now()
	errs := New(c, "http://127.0.0.1:1/100010001000/q").Publish(context.Background(), []queue.Message{msg("a", 10), msg("b", 10)})
	for i, err := range errs {
		if !errors.Is(err, queue.ErrUnavailable) {
			t.Fatalf("slot %d: %v", i, err)
		}
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("slow to give up")
	}
}

func TestSplit(t *testing.T) {
	var msgs []queue.Message
	for i := range 23 {
		msgs = append(msgs, msg(fmt.Sprint(i), 100))
	}
	errs := make([]error, len(msgs))
	if b := Split(msgs, errs); len(b) != 3 || len(b[0]) != 10 || len(b[2]) != 3 {
		t.Fatalf("count split: %v", b)
	}
	big := []queue.Message{msg("a", 120<<10), msg("b", 120<<10), msg("c", 120<<10)}
	errs = make([]error, 3)
	if b := Split(big, errs); len(b) != 2 || len(b[0]) != 2 {
		t.Fatalf("size split: %v", b)
	}
	if fifoID("evt-1") != "evt-1" || len(fifoID(strings.Repeat("é", 100))) != 64 {
		t.Fatal("fifo ids")
	}
}

func BenchmarkPublish(b *testing.B) {
	c := goaws.Client(goaws.Start(b))
	url := goaws.CreateQueue(b, c, "eventrelay-bench", "", 0)
	p := New(c, url)
	msgs := make([]queue.Message, 100)
	for i := range msgs {
		msgs[i] = msg(fmt.Sprint(i), 600)
	}
	b.ResetTimer()
	for b.Loop() {
		for _, err := range p.Publish(context.Background(), msgs) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "events/s")
}

// Issue 11 point 4: a queue that does not exist is permanent (the start
// stops naming the variable), not "retry in 5 s" for ever.
func TestMissingQueueIsPermanent(t *testing.T) {
	c := goaws.Client(goaws.Start(t))
	url := goaws.CreateQueue(t, c, "eventrelay-events-check", "", 0)
	if err := New(c, url).Check(context.Background()); err != nil {
		t.Fatalf("existing queue: %v", err)
	}
	missing := strings.Replace(url, "eventrelay-events-check", "eventrelay-no-such-queue", 1)
	if err := New(c, missing).Check(context.Background()); err == nil || queue.Transient(err) {
		t.Fatalf("check of a missing queue: %v", err)
	}
	for i, err := range New(c, missing).Publish(context.Background(), []queue.Message{msg("a", 10)}) {
		if err == nil || queue.Transient(err) || !errors.Is(err, queue.ErrPermanent) {
			t.Fatalf("slot %d: publish to a missing queue: %v", i, err)
		}
	}
}

package sqssource_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/functions/backfill/sqssource"
	"eventrelay.dev/eventrelay/functions/forwarder"
	"eventrelay.dev/eventrelay/internal/moto"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/queue/sqsqueue"
	"eventrelay.dev/eventrelay/shared/settings"
)

// failing answers every send 503: the platform is still down.
type failing struct{}

func (failing) Send(context.Context, []byte) mcm.Result {
	return mcm.Result{Status: 503, Class: mcm.Retryable, Message: "unavailable"}
}

// Issue 28 point 2: a FIFO dead-letter queue (the only kind SQS allows for
// a FIFO events queue) drops, for 5 minutes, a message whose
// de-duplication id it has seen. A backfill run that re-parks a
// still-failing event right after the forwarder dead-lettered it must leave
// the re-parked message in the queue, not have it swallowed while the
// original is deleted. On moto_server, which keeps SQS's FIFO
// de-duplication.
func TestReparkOnFIFODeadLetterQueue(t *testing.T) {
	c := moto.Client(moto.Start(t))
	url, _ := moto.CreateQueue(t, c, "eventrelay-dead-letters.fifo", map[string]string{"FifoQueue": "true"}, "", 0)
	dlq := sqsqueue.New(c, url)

	// One attempt; the rest as deployed with nothing set.
	cfg := forwarder.Config{MaxAttempts: 1, FirstBackoff: settings.ForwarderFirstBackoff.Default,
		MaxBackoff: settings.ForwarderMaxBackoff.Default, BreakerThreshold: settings.ForwarderBreakerThreshold.Default,
		BreakerCooldown: settings.ForwarderBreakerCooldown.Default, DeliveredWindow: settings.ForwarderDedupeWindow.Default}
	fwd, err := forwarder.New(cfg, forwarder.Deps{Sender: failing{}, DeadLetter: dlq})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"id":"fifo-1","event_type":"HOME","timestamp":1795348700000,"channel_type":"SITE","user_id":"u"}`
	d := forwarder.Delivery{MessageID: "m-1", Body: []byte(body), Attempt: 1,
		Attributes: map[string]string{queue.AttrEventID: "fifo-1", queue.AttrEventType: "HOME", queue.AttrSource: "web"}}
	if dec := fwd.Handle(context.Background(), d); dec.Outcome != "dead_lettered" {
		t.Fatalf("forwarder: %+v", dec)
	}

	bf, err := backfill.New(backfill.Config{Budget: 3 * time.Second, Rate: 100, Batch: settings.BackfillBatch.Default},
		backfill.Deps{Source: sqssource.New(c, url), Sender: failing{}, DeadLetter: dlq})
	if err != nil {
		t.Fatal(err)
	}
	s, err := bf.Run(context.Background(), backfill.Params{})
	if err != nil || s.StillFailing[delivery.ClassRetryable] != 1 {
		t.Fatalf("backfill: %+v, %v", s, err)
	}
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
		MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("%d dead letters left after the re-park, want 1", len(out.Messages))
	}
	if a := aws.ToString(out.Messages[0].MessageAttributes[delivery.AttrDLAttempts].StringValue); a != "2" {
		t.Fatalf("the dead letter left has %s attempts, want the re-park's 2", a)
	}
}

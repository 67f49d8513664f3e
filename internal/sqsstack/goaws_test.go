package sqsstack

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func send(t *testing.T, st *Stack, body string) string {
	t.Helper()
	out, err := st.Client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(st.EventsURL), MessageBody: aws.String(body)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

func receive(t *testing.T, st *Stack, url string, visibility int32) []string {
	t.Helper()
	out, err := st.Client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
		MaxNumberOfMessages: 10, VisibilityTimeout: visibility, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	var handles []string
	for _, m := range out.Messages {
		handles = append(handles, aws.ToString(m.ReceiptHandle))
	}
	return handles
}

// goaws honours RedrivePolicy.maxReceiveCount: a message received that many
// times without being deleted moves to the dead-letter queue, whether it
// came back by ChangeMessageVisibility(0) or by its visibility expiring.
func TestGoawsRedrivesAfterMaxReceiveCount(t *testing.T) {
	st := Start(t, Config{MaxReceiveCount: 2, NoPoller: true})
	send(t, st, "redrive me")
	h := receive(t, st, st.EventsURL, 30)
	if len(h) != 1 {
		t.Fatalf("first receive: %d messages", len(h))
	}
	if _, err := st.Client.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(st.EventsURL), ReceiptHandle: aws.String(h[0]), VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	if h = receive(t, st, st.EventsURL, 1); len(h) != 1 {
		t.Fatalf("second receive: %d messages", len(h))
	}
	// Its second receive expires without a delete: redriven.
	deadline := time.Now().Add(5 * time.Second)
	var dls []DeadLetter
	for len(dls) == 0 && time.Now().Before(deadline) {
		got, err := st.TakeDeadLetters(context.Background(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		dls = got
	}
	if len(dls) != 1 || dls[0].Body != "redrive me" {
		t.Fatalf("dead-letter queue holds %v", dls)
	}
	if h = receive(t, st, st.EventsURL, 1); len(h) != 0 {
		t.Fatal("the redriven message is still on the events queue")
	}
}

// The poller settles batches as an event source mapping with
// ReportBatchItemFailures does, and reports the true receive count: its own
// on goaws, moto's on moto.
func TestPollerSettlesLikeAnEventSourceMapping(t *testing.T) {
	for _, server := range []string{ServerGoaws, ServerMoto} {
		t.Run(server, func(t *testing.T) { testPollerSettles(t, server) })
	}
}

func testPollerSettles(t *testing.T, server string) {
	st := Start(t, Config{MaxReceiveCount: 3, NoPoller: true, Server: server})
	var mu sync.Mutex
	counts := map[string][]int{} // body → ApproximateReceiveCount per delivery
	failBody := "fail"
	p := &Poller{Client: st.Client, QueueURL: st.EventsURL, QueueARN: st.EventsARN, Wait: time.Second,
		Handler: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			var resp events.SQSEventResponse
			for _, r := range ev.Records {
				if r.EventSource != "aws:sqs" || r.EventSourceARN != st.EventsARN || r.ReceiptHandle == "" || r.Md5OfBody == "" {
					return resp, errors.New("record not as Lambda builds it")
				}
				n, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
				mu.Lock()
				counts[r.Body] = append(counts[r.Body], n)
				mu.Unlock()
				if r.Body == failBody {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
					// As the forwarder does for a short backoff.
					if _, err := st.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(st.EventsURL),
						ReceiptHandle: aws.String(r.ReceiptHandle), VisibilityTimeout: 0}); err != nil {
						t.Error(err)
					}
				}
			}
			return resp, nil
		}}
	send(t, st, "ok-1")
	send(t, st, failBody)
	send(t, st, "ok-2")
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(counts[failBody])
		mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the failing message came back %d times, want 3", n)
		}
		if _, err := p.PollOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := counts[failBody]; got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("ApproximateReceiveCount per delivery %v, want [1 2 3]", got)
	}
	if len(counts["ok-1"]) != 1 || len(counts["ok-2"]) != 1 {
		t.Fatalf("good neighbours delivered %v", counts)
	}
	if s := p.Stats(); s.Deleted != 2 || s.Failed != 3 {
		t.Fatalf("stats %+v", s)
	}
	// After its third receive the redrive policy takes it (moto moves it
	// on the next receive from the events queue, which must find nothing).
	var dls []DeadLetter
	for len(dls) == 0 && time.Now().Before(deadline) {
		if n, err := p.PollOnce(ctx); n != 0 || err != nil {
			t.Fatalf("received %d more (%v), not redriven", n, err)
		}
		dls, _ = st.TakeDeadLetters(ctx, time.Second)
	}
	if len(dls) != 1 || dls[0].Body != failBody {
		t.Fatalf("dead letters %v", dls)
	}
}

// A handler error, or an identifier not in the batch, deletes nothing.
func TestPollerFailsWholeBatch(t *testing.T) {
	st := Start(t, Config{NoPoller: true, VisibilityTimeout: 1})
	for _, c := range []struct {
		name string
		resp events.SQSEventResponse
		err  error
	}{
		{"handler error", events.SQSEventResponse{}, errors.New("boom")},
		{"unknown identifier", events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "not-in-batch"}}}, nil},
		{"empty identifier", events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{}}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := send(t, st, c.name)
			p := &Poller{Client: st.Client, QueueURL: st.EventsURL, Handler: func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
				return c.resp, c.err
			}}
			if n, err := p.PollOnce(context.Background()); n != 1 || err == nil {
				t.Fatalf("PollOnce = %d, %v; want the batch failed", n, err)
			}
			// It comes back after the visibility timeout, not deleted.
			var got *string
			deadline := time.Now().Add(5 * time.Second)
			for got == nil && time.Now().Before(deadline) {
				out, err := st.Client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(st.EventsURL), WaitTimeSeconds: 1})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range out.Messages {
					got = m.MessageId
					if _, err := st.Client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(st.EventsURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if aws.ToString(got) != id {
				t.Fatalf("message %s did not come back (got %v)", id, aws.ToString(got))
			}
		})
	}
}

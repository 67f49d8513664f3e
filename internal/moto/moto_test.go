package moto

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// The semantics this package is used for, against moto itself: the receive
// count increments, ChangeMessageVisibility(0) returns a message at once,
// and the redrive policy (by the dead-letter queue's real ARN) moves it
// after maxReceiveCount receives.
func TestSQSReceiveCountAndRedrive(t *testing.T) {
	c := Client(Start(t))
	ctx := context.Background()
	dlq, dlqARN := CreateQueue(t, c, "dlq", nil, "", 0)
	q, qARN := CreateQueue(t, c, "events", map[string]string{"VisibilityTimeout": "30"}, dlq, 2)
	if dlqARN == "" || qARN == dlqARN {
		t.Fatalf("ARNs %q %q", qARN, dlqARN)
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String("m")}); err != nil {
		t.Fatal(err)
	}
	receive := func(url string) []types.Message {
		t.Helper()
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
	for want := 1; want <= 2; want++ {
		m := receive(q)
		if len(m) != 1 || m[0].Attributes["ApproximateReceiveCount"] != strconv.Itoa(want) {
			t.Fatalf("receive %d: %v", want, m)
		}
		if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q),
			ReceiptHandle: m[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	var moved []types.Message
	for len(moved) == 0 && time.Now().Before(deadline) {
		if m := receive(q); len(m) != 0 {
			t.Fatalf("received a third time, not redriven: %v", m)
		}
		moved = receive(dlq)
	}
	if len(moved) != 1 || aws.ToString(moved[0].Body) != "m" {
		t.Fatalf("dead-letter queue holds %v", moved)
	}
}

package aws

import (
	"context"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/moto"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/settings"
)

// With SNS_TOPIC_ARN set, ingest's events publisher is the topic (SQS_QUEUE_URL
// is not needed); the dead-letter queue stays SQS; a bad or missing topic
// stops the start naming SNS_TOPIC_ARN.
func TestEventsGoToTheTopicWhenSet(t *testing.T) {
	endpoint := moto.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_ENDPOINT_URL_SNS", endpoint)
	t.Setenv("AWS_ENDPOINT_URL_SQS", endpoint)
	topic := moto.CreateTopic(t, moto.SNS(endpoint), "eventrelay-events")
	ctx := context.Background()
	env := settings.FromMap(map[string]string{"AWS_REGION": moto.Region, "SNS_TOPIC_ARN": topic})
	p, _ := openPublisher(ctx, env, settings.PubSubTopic, settings.SQSQueueURL)
	if err := env.Err(); err != nil || p == nil {
		t.Fatalf("open: %v", err)
	}
	for _, err := range p.Publish(ctx, []queue.Message{{ID: "a", Body: []byte(`{"id":"a"}`)}}) {
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	if dl, _ := openPublisher(ctx, env, settings.DeadLetterTopic, settings.DeadLetterQueueURL); dl != nil || env.Err() == nil ||
		!strings.Contains(env.Err().Error(), "DEADLETTER_QUEUE_URL") {
		t.Fatalf("the dead-letter queue took the topic: %v", env.Err())
	}
	for _, bad := range []string{"eventrelay-events", topic + ".fifo", strings.Replace(topic, "eventrelay-events", "eventrelay-missing", 1)} {
		env := settings.FromMap(map[string]string{"AWS_REGION": moto.Region, "SNS_TOPIC_ARN": bad})
		if p, _ := openPublisher(ctx, env, settings.PubSubTopic, settings.SQSQueueURL); p != nil || env.Err() == nil ||
			!strings.Contains(env.Err().Error(), "SNS_TOPIC_ARN") {
			t.Errorf("%s: started (%v)", bad, env.Err())
		}
	}
}

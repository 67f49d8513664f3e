package sqsstack

import (
	"encoding/json"
	"fmt"
	"testing"

	"eventrelay.dev/eventrelay/internal/goaws"
	"eventrelay.dev/eventrelay/internal/moto"
)

// The SQS servers a stack can run on (Config.Server).
const (
	ServerGoaws = "goaws"
	ServerMoto  = "moto"
)

// startQueues starts the SQS server cfg names and makes the dead-letter
// queue and the events queue (with its redrive policy) on it.
func (st *Stack) startQueues(t testing.TB, cfg Config) {
	t.Helper()
	dlqAttrs := map[string]string{"VisibilityTimeout": "30"}
	eventsAttrs := map[string]string{"VisibilityTimeout": fmt.Sprint(cfg.VisibilityTimeout)}
	switch cfg.Server {
	case "", ServerGoaws:
		st.Endpoint = goaws.Start(t)
		st.Client = goaws.Client(st.Endpoint)
		st.DeadLetterURL = createQueue(t, st.Client, DeadLetterQueue, dlqAttrs)
		policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": ARN(DeadLetterQueue), "maxReceiveCount": cfg.MaxReceiveCount})
		eventsAttrs["RedrivePolicy"] = string(policy)
		st.EventsURL = createQueue(t, st.Client, EventsQueue, eventsAttrs)
		st.EventsARN = ARN(EventsQueue)
	case ServerMoto:
		st.Endpoint = moto.Start(t)
		st.Client = moto.Client(st.Endpoint)
		st.DeadLetterURL, _ = moto.CreateQueue(t, st.Client, DeadLetterQueue, dlqAttrs, "", 0)
		st.EventsURL, st.EventsARN = moto.CreateQueue(t, st.Client, EventsQueue, eventsAttrs, st.DeadLetterURL, cfg.MaxReceiveCount)
	default:
		t.Fatalf("sqsstack: unknown Config.Server %q (want %q or %q)", cfg.Server, ServerGoaws, ServerMoto)
	}
}

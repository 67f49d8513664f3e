package forwarder

import (
	"encoding/json"
	"net/http"
	"time"

	"eventrelay.dev/eventrelay/shared/jsonanswer"
)

// PubsubMessage is a Pub/Sub message as push deliveries and CloudEvents carry
// it (google-cloudevents-go ships no Go type for it).
type PubsubMessage struct {
	Data        []byte            `json:"data"` // base64 on the wire
	Attributes  map[string]string `json:"attributes"`
	MessageID   string            `json:"messageId"`
	PublishTime time.Time         `json:"publishTime"`
	OrderingKey string            `json:"orderingKey,omitempty"`
}

// MessagePublishedData is the body of a Pub/Sub push request and the data
// of a google.cloud.pubsub.topic.v1.messagePublished CloudEvent.
type MessagePublishedData struct {
	Message         PubsubMessage `json:"message"`
	Subscription    string        `json:"subscription"`
	DeliveryAttempt int           `json:"deliveryAttempt,omitempty"`
}

// Delivery is the message as the core takes it.
func (m MessagePublishedData) Delivery() Delivery {
	return Delivery{MessageID: m.Message.MessageID, Body: m.Message.Data,
		Attributes: m.Message.Attributes, Attempt: m.DeliveryAttempt, PublishTime: m.Message.PublishTime}
}

// PushHandler serves a Pub/Sub push subscription: 204 acknowledges, 503
// hands the message back, and the subscription's retry policy spaces the
// next delivery; 400 answers a body that is not a push request (a nack, so
// the subscription's dead-letter policy ends its retries), 405 a method
// other than POST; every answer but the 204 is JSON {"error","message"}, as
// on every other function (the status alone is what Pub/Sub reads). Pub/Sub authenticates itself to the function with an OIDC
// token that the platform checks before this code runs.
func (f *Forwarder) PushHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			jsonanswer.Write(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed", "message": "use POST"})
			return
		}
		var m MessagePublishedData
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 11<<20)).Decode(&m); err != nil {
			// Not a push request. If Pub/Sub did send it, the non-2xx is a
			// nack, and the subscription's dead-letter policy takes it after
			// its attempts; it is not dropped here.
			jsonanswer.Write(w, http.StatusBadRequest, map[string]string{"error": "bad_request", "message": "not a Pub/Sub push request: " + err.Error()})
			return
		}
		d := f.Handle(r.Context(), m.Delivery())
		if d.Ack {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Retry-After", jsonanswer.RetryAfter(d.RetryAfter))
		jsonanswer.Write(w, http.StatusServiceUnavailable, map[string]string{"error": d.Outcome, "message": handedBack[d.Outcome]})
	})
}

// handedBack is the message of each outcome that hands a message back.
var handedBack = map[string]string{
	"retry":        "the platform failed retryably; deliver again after Retry-After",
	"circuit_open": "the circuit breaker is open; deliver again after Retry-After",
}

package ingest

import (
	"fmt"
	"testing"

	"eventrelay.dev/eventrelay/shared/queue"
)

// Issue 11 point 4: a permanent queue error (a missing topic, a refused
// name, no permission) was answered "503, retry in 5 s" for ever.
func TestPermanentQueueErrorIs500(t *testing.T) {
	h := newHarness(t, nil)
	h.pub.FailWith(&queue.SettingError{Variable: "PUBSUB_TOPIC",
		Err: fmt.Errorf("publish: %w: rpc error: code = NotFound desc = Topic not found", queue.ErrPermanent)})
	rec, resp := h.post(t, purchase("evt-1"), nil)
	if rec.Code != 500 || rec.Header().Get("Retry-After") != "" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if len(resp.NotAccepted) != 1 || resp.NotAccepted[0].Reason != "queue_misconfigured" || len(resp.Accepted) != 0 {
		t.Fatalf("answer %+v", resp)
	}
	// A transient failure is still 503 with Retry-After.
	h.pub.FailWith(fmt.Errorf("publish: %w: deadline", queue.ErrUnavailable))
	rec, resp = h.post(t, purchase("evt-2"), nil)
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || resp.NotAccepted[0].Reason != "queue_unavailable" {
		t.Fatalf("transient: status %d %+v", rec.Code, resp)
	}
}

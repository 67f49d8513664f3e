package sqsqueue

import (
	"errors"
	"testing"

	"eventrelay.dev/eventrelay/shared/queue"
)

// TestSettle: what SendMessageBatch and PublishBatch answer per entry
// (Successful, Failed with SenderFault) becomes each message's outcome; an
// entry the answer leaves out, or an Id that names no entry, never counts
// as sent and never panics.
func TestSettle(t *testing.T) {
	msgs := []queue.Message{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}, {ID: "e"}}
	idx := []int{4, 3, 2, 1} // entry k is msgs[idx[k]]
	errs := make([]error, len(msgs))
	Settle("SQS", msgs, idx, errs, []string{"0", "7", "x"}, []BatchFailure{
		{ID: "1", Code: "InvalidParameterValue", Message: "too big", SenderFault: true},
		{ID: "2", Code: "InternalError"},
		{ID: "-1", Code: "InternalError"},
	})
	if errs[4] != nil {
		t.Errorf("e (entry 0, successful): %v", errs[4])
	}
	if !errors.Is(errs[3], queue.ErrPermanent) {
		t.Errorf("d (entry 1, the sender's fault): %v, want permanent", errs[3])
	}
	if !errors.Is(errs[2], queue.ErrUnavailable) {
		t.Errorf("c (entry 2, the service's fault): %v, want retryable", errs[2])
	}
	if !errors.Is(errs[1], queue.ErrUnavailable) {
		t.Errorf("b (entry 3, not in the answer): %v, want retryable", errs[1])
	}
	if errs[0] != nil {
		t.Errorf("a was not in this batch: %v", errs[0])
	}
}

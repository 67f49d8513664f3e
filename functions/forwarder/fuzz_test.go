package forwarder

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"eventrelay.dev/eventrelay/shared/mcm"
)

// FuzzPushHandler sends arbitrary push request bodies. The handler must
// never panic, and must acknowledge (2xx) a message only after the platform
// took it or the dead-letter topic holds it: an acknowledged message is gone
// from the subscription, so anything else would lose it.
func FuzzPushHandler(f *testing.F) {
	f.Add([]byte(`{"message":{"data":"eyJldmVudF90eXBlIjoiSE9NRSJ9","messageId":"1","attributes":{"event_id":"e"}},"subscription":"s","deliveryAttempt":3}`))
	f.Add([]byte(`{"message":{"data":"bm90IGpzb24="}}`))
	f.Add([]byte(`{"message":{"data":"!!"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		// The platform's answer is drawn from the input too, so every path runs.
		answers := []mcm.Result{{Status: 200, Class: mcm.Delivered}, {Status: 400, Class: mcm.Permanent}, {Status: 503, Class: mcm.Retryable}}
		fw, sender, dlq, _ := newForwarder(t, answers[len(body)%3])
		rec := httptest.NewRecorder()
		fw.PushHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		acked := rec.Code >= 200 && rec.Code < 300
		delivered := sender.calls > 0 && answers[len(body)%3].Class == mcm.Delivered
		if acked && !delivered && len(dlq.Messages()) == 0 {
			t.Fatalf("acknowledged with %d, but neither delivered nor dead-lettered: %q", rec.Code, body)
		}
	})
}

package jsonanswer

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, 422, map[string]string{"error": "bad_request"})
	if rec.Code != 422 {
		t.Errorf("status %d, want 422", rec.Code)
	}
	for name, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"} {
		if got := rec.Header().Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if got, want := rec.Body.String(), "{\"error\":\"bad_request\"}\n"; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
}

// TestRetryAfter: whole seconds, rounded up, never 0 (a caller told 0
// comes back at once).
func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "1", 300 * time.Millisecond: "1", time.Second: "1",
		1400 * time.Millisecond: "2", 5 * time.Second: "5", time.Hour: "3600"} {
		if got := RetryAfter(d); got != want {
			t.Errorf("RetryAfter(%s) = %s, want %s", d, got, want)
		}
	}
}

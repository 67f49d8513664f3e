package jsonanswer

import (
	"net/http/httptest"
	"testing"
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

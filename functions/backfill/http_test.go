package backfill

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcm"
)

// Issue 11 point 8: a GET ran the backfill (a prefetch or a crawler could
// resend and acknowledge dead letters), and an unknown event type or class
// silently matched nothing.
func TestHandlerRefusesGETAndUnknownNames(t *testing.T) {
	r := newRig(t, Config{}, many(4, delivery.ClassRetryable)...)
	h := apicontract.Wrap(t, apicontract.Backfill, r.b.Handler())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	// Issue 25: the refusal is JSON with a stable code, as every other
	// function's (it was the text "use POST").
	var refusal struct{ Error, Message string }
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost ||
		json.Unmarshal(rec.Body.Bytes(), &refusal) != nil || refusal.Error != "method_not_allowed" || refusal.Message == "" {
		t.Fatalf("GET: %d %s", rec.Code, rec.Body)
	}
	for _, c := range []struct{ query, body, names string }{
		{"?event_types=NOPE", "", `"NOPE"`},
		{"", `{"event_types":["PURCHASE","nope","BOGUS"]}`, `"NOPE", "BOGUS"`},
		{"?reasons=retryable,typo", "", `"typo"`},
		{"", `{"reasons":["undecodable"]}`, `"undecodable"`},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, runRequest("/"+c.query, c.body))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), strings.ReplaceAll(c.names, `"`, `\"`)) {
			t.Errorf("%s %s: %d %s, want 400 naming %s", c.query, c.body, rec.Code, rec.Body, c.names)
		}
	}
	// A body over the 64 KB limit is the caller's to correct too.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, runRequest("/", `{"reasons":["`+strings.Repeat("x", 70<<10)+`"]}`))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "bad_parameters") {
		t.Errorf("a 70 KB body: %d %.200s", rec.Code, rec.Body)
	}
	if len(r.sender.sent) != 0 || len(r.q.contents(t)) != 4 {
		t.Fatal("a refused request changed something")
	}
}

// runRequest is a run as Cloud Scheduler and the backfill command post it:
// a JSON body, when there is one, says so.
func runRequest(target, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

// A run the dead-letter queue stopped is answered 500 with its summary, so
// the scheduler records a failed run (and the answer is the contract's).
func TestHandlerQueueErrorIs500(t *testing.T) {
	r := newRig(t, Config{}, many(2, delivery.ClassRetryable)...)
	r.sender.answer = func(string) mcm.Result { return mcm.Result{Status: 503, Class: mcm.Retryable} }
	r.q.failPub = errors.New("dead-letter topic unavailable") // re-parking fails
	rec := httptest.NewRecorder()
	apicontract.Wrap(t, apicontract.Backfill, r.b.Handler()).ServeHTTP(rec, runRequest("/", `{}`))
	var s Summary
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil || rec.Code != http.StatusInternalServerError || s.StopReason != StopQueueError {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

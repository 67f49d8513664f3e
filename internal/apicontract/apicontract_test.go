package apicontract

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestContractIsValid: api/openapi.yaml loads, resolves and is a valid
// OpenAPI 3.0 document.
func TestContractIsValid(t *testing.T) {
	doc, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("%s: %v", File, err)
	}
	if n := len(doc.Paths.Map()); n < 10 {
		t.Fatalf("%s lists %d paths", File, n)
	}
}

// recorder is a testing.TB that keeps what Wrap reports.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Helper() {}

func exchange(t *testing.T, fn Function, h http.HandlerFunc, req *http.Request) []string {
	rec := &recorder{TB: t}
	w := httptest.NewRecorder()
	Wrap(rec, fn, h).ServeHTTP(w, req)
	return rec.errs
}

func eventRequest(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Api-Key", "id.secret")
	return r
}

func answer(status int, body string, hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(status)
		_, _ = fmt.Fprintln(w, body)
	}
}

// TestWrapCatches: Wrap passes an exchange the contract lists and reports
// each kind of departure from it.
func TestWrapCatches(t *testing.T) {
	accepted := `{"accepted":[{"index":0,"id":"e1"}],"duplicates":[],"rejected":[]}`
	event := `{"event_type":"HOME","timestamp":1795348700000,"channel_type":"SITE","user_id":"u"}`
	cases := []struct {
		name  string
		fn    Function
		h     http.HandlerFunc
		req   *http.Request
		wants string // "" : no report
	}{
		{"listed", Ingest, answer(202, accepted), eventRequest(event), ""},
		{"listed, in an envelope", Ingest, answer(202, accepted), eventRequest(`{"events":[` + event + `]}`), ""},
		{"accepted event off Event", Ingest, answer(202, accepted), eventRequest(`[{"event_type":"HOME","color":"red"}]`), "Event refuses"},
		{"status not listed", Ingest, answer(201, accepted), eventRequest(`{}`), "status is not supported"},
		{"body off schema", Ingest, answer(202, `{"accepted":[]}`), eventRequest(`{}`), "doesn't match schema"},
		{"error code not listed", Ingest, answer(413, `{"error":"too_big","message":"m"}`), eventRequest(`{}`), "doesn't match schema"},
		{"required header missing", Ingest, answer(503, `{"error":"keys_unavailable","message":"m"}`), eventRequest(`{}`), "Retry-After"},
		{"invalid request accepted", Ingest, answer(202, accepted), httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`)), "the handler accepted it"},
		{"invalid request refused", Ingest, answer(401, `{"error":"missing_credentials","message":"m"}`),
			func() *http.Request { r := eventRequest(`{}`); r.Header.Del("X-Api-Key"); return r }(), ""},
		{"other method, its 405", Ingest, answer(405, `{"error":"method_not_allowed","message":"m"}`, "Allow", "POST"), httptest.NewRequest(http.MethodGet, "/", nil), ""},
		{"other method, not a 405", Ingest, answer(200, `{}`), httptest.NewRequest(http.MethodGet, "/", nil), "status is not supported"},
		{"unlisted path", Ingest, answer(200, `{}`), httptest.NewRequest(http.MethodPost, "/nowhere/else", nil), "no operation"},
		{"verify on its root", Verify, answer(422, `{"result":"failure","reason":"unsigned"}`), httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`)), "doesn't match schema"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := exchange(t, c.fn, c.h, c.req)
			got := strings.Join(errs, "\n")
			switch {
			case c.wants == "" && len(errs) > 0:
				t.Fatalf("reported: %s", got)
			case c.wants != "" && !strings.Contains(got, c.wants):
				t.Fatalf("want a report containing %q, got %q", c.wants, got)
			}
		})
	}
}

// TestCodes reads the error codes of an operation's answers.
func TestCodes(t *testing.T) {
	codes := Codes(t, http.MethodPost, "/erase", "error")
	for code, status := range map[string]int{"bad_request": 400, "unauthorized": 401, "forbidden": 403, "unavailable": 503} {
		if got := codes[code]; len(got) != 1 || got[0] != status {
			t.Errorf("%s: %v, want [%d]", code, got, status)
		}
	}
}

package mcmsink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/mcm"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const valid = `{"id":"evt_7f3a","event_type":"PURCHASE","timestamp":1795348700000,"channel_type":"APP",
 "user_id":"u-1","device":{"os":"android","os_version":"14","persistent_id":"p-1","ip":"203.0.113.7"},
 "items":[{"id":"sku-1","price":{"currency":"KRW","amount":12000},"quantity":2,"seller_id":"s-9"}],
 "revenue":{"currency":"KRW","amount":24000},"page_id":"checkout"}`

func newSink() (*Sink, *httptest.Server) {
	s := New(Config{PlatformID: "shop", APIKey: "k-123", Now: func() time.Time { return now }})
	return s, httptest.NewServer(s)
}

func post(t *testing.T, url, key, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Message string }
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, e.Message
}

func edit(t *testing.T, patch string) string {
	var base, p map[string]any
	if err := json.Unmarshal([]byte(valid), &base); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(patch), &p); err != nil {
		t.Fatal(err)
	}
	for k, v := range p {
		if v == nil {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	b, _ := json.Marshal(base)
	return string(b)
}

func TestRules(t *testing.T) {
	s, srv := newSink()
	defer srv.Close()
	url := srv.URL + "/rmp/event/v1/platforms/shop/userevents"
	cases := []struct{ name, patch, msg string }{
		{"valid", `{}`, ""},
		{"timestamp as string", `{"timestamp":"1795348700000"}`, ""},
		{"unknown event type", `{"event_type":"UNKNOWN_EVENT_TYPE"}`, "invalid event_type"},
		{"no channel", `{"channel_type":null}`, "invalid channel_type"},
		{"seconds", `{"timestamp":1795348700}`, "milliseconds"},
		{"future", `{"timestamp":1795349000000}`, "in the future"},
		{"no timestamp", `{"timestamp":null}`, "invalid timestamp"},
		{"no identifier", `{"user_id":null,"device":{"os":"ios"}}`, "no available valid identifier"},
		{"user id undefined", `{"user_id":"undefined"}`, "must not be"},
		{"app without os", `{"device":{"persistent_id":"p"}}`, "device os must contain ios or android"},
		{"purchase without items", `{"items":[]}`, "items are required"},
		{"item without id", `{"items":[{"quantity":1}]}`, "id is required"},
		{"bare price", `{"items":[{"id":"a","price":12000}]}`, "money must be an object"},
		{"price without currency", `{"items":[{"id":"a","price":{"amount":1}}]}`, "invalid currency"},
		{"unknown currency", `{"revenue":{"currency":"UNKNOWN_CURRENCY","amount":1}}`, "invalid currency"},
		{"money without amount", `{"revenue":{"currency":"USD"}}`, "amount is required"},
		{"search without query", `{"event_type":"SEARCH","items":null}`, "missing search_query"},
		{"page view without page", `{"event_type":"PAGE_VIEW","page_id":null}`, "missing page_id"},
		{"zero adid", `{"device":{"os":"ios","advertising_id":"00000000-0000-0000-0000-000000000000","persistent_id":"p"}}`, "all zeros"},
		{"camelCase field", `{"eventType":"PURCHASE"}`, "unknown field"},
		{"long user id", `{"user_id":"` + strings.Repeat("u", 129) + `"}`, "at most 128"},
		{"device extra property allowed", `{"device":{"os":"ios","persistent_id":"p","carrier":"x"}}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, msg := post(t, url, "k-123", edit(t, c.patch))
			if c.msg == "" && status != 200 || c.msg != "" && (status != 400 || !strings.Contains(msg, c.msg)) {
				t.Fatalf("%d %q, want %q", status, msg, c.msg)
			}
		})
	}
	if st := s.Stats(); st.Accepted != 3 || st.Rejected4xx != len(cases)-3 {
		t.Fatalf("stats %+v", st)
	}
	if n := s.CountByID()["evt_7f3a"]; n != 3 {
		t.Fatalf("count %d", n)
	}
}

func TestAuthPathMethod(t *testing.T) {
	_, srv := newSink()
	defer srv.Close()
	url := srv.URL + "/rmp/event/v1/platforms/shop/userevents"
	if status, _ := post(t, url, "", valid); status != 401 {
		t.Errorf("no key: %d", status)
	}
	if status, _ := post(t, url, "wrong", valid); status != 401 {
		t.Errorf("wrong key: %d", status)
	}
	if status, _ := post(t, srv.URL+"/rmp/event/v1/platforms/other/userevents", "k-123", valid); status != 404 {
		t.Errorf("wrong platform: %d", status)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

func TestFaultRates(t *testing.T) {
	s, srv := newSink()
	defer srv.Close()
	s.SetFaults(Faults{Rate5xx: 0.3, Rate429: 0.05, RetryAfter: 2 * time.Second, Seed: 7})
	url := srv.URL + "/rmp/event/v1/platforms/shop/userevents"
	for i := range 2000 {
		post(t, url, "k-123", strings.Replace(valid, "evt_7f3a", fmt.Sprint("e", i), 1))
	}
	st := s.Stats()
	if st.Injected5xx < 520 || st.Injected5xx > 680 || st.Injected429 < 60 || st.Injected429 > 140 || st.Accepted != 2000-st.Injected5xx-st.Injected429 {
		t.Fatalf("rates off: %+v", st)
	}
	s.SetFaults(Faults{Down: true})
	if status, _ := post(t, url, "k-123", valid); status != 503 {
		t.Fatalf("down: %d", status)
	}
}

func TestAdminEndpoints(t *testing.T) {
	s, srv := newSink()
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/_sink/faults", "application/json", bytes.NewReader([]byte(`{"down":true}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	url := srv.URL + "/rmp/event/v1/platforms/shop/userevents"
	if status, _ := post(t, url, "k-123", valid); status != 503 {
		t.Fatal("faults not applied")
	}
	resp, err = http.Post(srv.URL+"/_sink/reset", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	post(t, url, "k-123", valid)
	resp, err = http.Get(srv.URL + "/_sink/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ev struct {
		Events    []Record       `json:"events"`
		CountByID map[string]int `json:"count_by_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Events) != 1 || ev.CountByID["evt_7f3a"] != 1 || s.Stats().Requests != 1 {
		t.Fatalf("%+v %+v", ev, s.Stats())
	}
}

// The project's MCM client against the stand-in, every class.
func TestWithClient(t *testing.T) {
	s, srv := newSink()
	defer srv.Close()
	key := "k-123"
	c, err := mcm.New(mcm.Config{BaseURL: srv.URL, PlatformID: "shop",
		APIKey: func(context.Context) (string, error) { return key, nil }, HTTPClient: mcm.NewHTTPClient(200 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if r := c.Send(ctx, []byte(valid)); r.Class != mcm.Delivered {
		t.Fatalf("valid: %+v", r)
	}
	if r := c.Send(ctx, []byte(edit(t, `{"items":[]}`))); r.Class != mcm.Permanent || !strings.Contains(r.Message, "items are required") {
		t.Fatalf("bad: %+v", r)
	}
	s.SetFaults(Faults{Rate429: 1, RetryAfter: 9 * time.Second})
	if r := c.Send(ctx, []byte(valid)); r.Class != mcm.Retryable || r.RetryAfter != 9*time.Second {
		t.Fatalf("429: %+v", r)
	}
	s.SetFaults(Faults{RateTimeout: 1})
	if r := c.Send(ctx, []byte(valid)); r.Class != mcm.Retryable || r.Status != 0 {
		t.Fatalf("timeout: %+v", r)
	}
	s.SetFaults(Faults{})
	key = "rotated-away"
	if r := c.Send(ctx, []byte(valid)); r.Class != mcm.AuthFailed {
		t.Fatalf("bad key: %+v", r)
	}
}

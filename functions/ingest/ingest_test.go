package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/pii"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const (
	apiKey = "shop-2026a.supersecretvalue"
	salt   = "pii-salt-for-tests-only"
)

func purchase(id string) string {
	idField := ""
	if id != "" {
		idField = `"id":"` + id + `",`
	}
	return `{` + idField + `"event_type":"PURCHASE","timestamp":1795348700000,"channel_type":"APP",
	"user_id":"alice@example.com","device":{"os":"android","persistent_id":"gaid-1","ip":"203.0.113.7"},
	"items":[{"id":"sku-1","price":{"currency":"KRW","amount":12000},"quantity":2}],
	"revenue":{"currency":"KRW","amount":24000}}`
}

type harness struct {
	svc *Service
	pub *queue.Memory
}

func newHarness(t *testing.T, mutate func(*Config)) *harness {
	t.Helper()
	stored := auth.HashAPIKey("shop-2026a", "shop", "supersecretvalue", []byte("0123456789abcdef"))
	keys, _ := json.Marshal(auth.APIKeyFile{Keys: []auth.APIKey{stored}})
	src := secrets.NewMemory(map[string]string{"keys": string(keys)})
	authn, err := auth.New(auth.Config{Tolerance: settings.IngestSignatureTolerance.Default, Secrets: src, APIKeysSecret: "keys", Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	anon, err := pii.New([]byte(salt), []string{pii.UserID, pii.PersistentID}, pii.IPTruncate)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Limits: Limits{MaxEventBytes: 32 << 10, MaxBodyBytes: 500 << 10, MaxEvents: 1000},
		FutureSkew: 10 * time.Second, DedupeWindow: 10 * time.Minute,
		PublishTimeout: settings.IngestPublishTimeout.Default, RetryAfter: settings.IngestRetryAfter.Default}
	if mutate != nil {
		mutate(&cfg)
	}
	pub := &queue.Memory{}
	svc, err := New(cfg, Deps{Auth: authn, Publisher: pub, Anonymiser: anon, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{svc: svc, pub: pub}
}

func (h *harness) post(t *testing.T, body string, hdr map[string]string) (*httptest.ResponseRecorder, Response) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", apiKey)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	apicontract.Wrap(t, apicontract.Ingest, h.svc).ServeHTTP(rec, req)
	var resp Response
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", rec.Code, err, rec.Body)
	}
	return rec, resp
}

func TestSingleEventAccepted(t *testing.T) {
	h := newHarness(t, nil)
	rec, resp := h.post(t, purchase("evt-1"), nil)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if len(resp.Accepted) != 1 || resp.Accepted[0].ID != "evt-1" || len(resp.Rejected) != 0 {
		t.Fatalf("response %+v", resp)
	}
	msgs := h.pub.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d published", len(msgs))
	}
	m := msgs[0]
	if m.Attributes[queue.AttrEventID] != "evt-1" || m.Attributes[queue.AttrEventType] != "PURCHASE" || m.Attributes[queue.AttrSource] != "shop" {
		t.Fatalf("attributes %v", m.Attributes)
	}
	// Raw personal data never leaves: identifiers hashed, IP truncated.
	body := string(m.Body)
	for _, raw := range []string{"alice@example.com", "gaid-1", "203.0.113.7"} {
		if strings.Contains(body, raw) {
			t.Fatalf("raw %q published: %s", raw, body)
		}
	}
	var e event.Event
	if err := json.Unmarshal(m.Body, &e); err != nil {
		t.Fatal(err)
	}
	anon, _ := pii.New([]byte(salt), []string{pii.UserID}, pii.IPKeep)
	if e.UserID != anon.Hash("alice@example.com") || e.Device.IP != "203.0.113.0" || e.Timestamp != 1795348700000 {
		t.Fatalf("published event %+v %+v", e, e.Device)
	}
}

func TestBatchMixedGoodAndBad(t *testing.T) {
	h := newHarness(t, nil)
	bad := strings.Replace(purchase("evt-bad"), `"channel_type":"APP"`, `"channel_type":"RADIO"`, 1)
	body := `[` + purchase("evt-1") + `,` + bad + `,` + purchase("evt-1") + `,42,` + purchase("") + `]`
	rec, resp := h.post(t, body, nil)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if len(resp.Accepted) != 2 || resp.Accepted[0].Index != 0 || resp.Accepted[1].Index != 4 {
		t.Fatalf("accepted %+v", resp.Accepted)
	}
	if !strings.HasPrefix(resp.Accepted[1].ID, "d-") {
		t.Fatalf("no derived id: %+v", resp.Accepted[1])
	}
	if len(resp.Duplicates) != 1 || resp.Duplicates[0] != (Duplicate{Index: 2, ID: "evt-1", Of: 0}) {
		t.Fatalf("duplicates %+v", resp.Duplicates)
	}
	if len(resp.Rejected) != 2 || resp.Rejected[0].Index != 1 || resp.Rejected[0].ID != "evt-bad" ||
		resp.Rejected[0].Errors[0].Field != "channel_type" || resp.Rejected[1].Index != 3 {
		t.Fatalf("rejected %+v", resp.Rejected)
	}
	if n := len(h.pub.Messages()); n != 2 {
		t.Fatalf("%d published, want 2", n)
	}
}

func TestEnvelopeAndErrorBodyShape(t *testing.T) {
	h := newHarness(t, nil)
	rec, _ := h.post(t, `{"events":[{"event_type":"NOPE"}]}`, nil)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("every event bad: status %d", rec.Code)
	}
	var generic map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &generic); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"accepted", "duplicates", "rejected"} {
		if _, ok := generic[k]; !ok {
			t.Fatalf("key %s missing from %s", k, rec.Body)
		}
	}
	rej := generic["rejected"].([]any)[0].(map[string]any)
	errs := rej["errors"].([]any)
	first := errs[0].(map[string]any)
	if rej["index"].(float64) != 0 || first["field"] == nil || first["reason"] == nil {
		t.Fatalf("rejection shape %s", rec.Body)
	}
}

func TestDerivedIDStableAcrossRetries(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.DedupeWindow = 0 })
	_, first := h.post(t, purchase(""), nil)
	_, second := h.post(t, "  \n"+purchase(""), nil)
	if first.Accepted[0].ID != second.Accepted[0].ID {
		t.Fatalf("ids differ: %s %s", first.Accepted[0].ID, second.Accepted[0].ID)
	}
}

func TestCrossRequestDedupe(t *testing.T) {
	h := newHarness(t, nil)
	h.post(t, purchase("evt-1"), nil)
	rec, resp := h.post(t, `[`+purchase("evt-1")+`,`+purchase("evt-2")+`]`, nil)
	if rec.Code != http.StatusAccepted || len(resp.Duplicates) != 1 || resp.Duplicates[0].Of != -1 {
		t.Fatalf("status %d, %+v", rec.Code, resp)
	}
	if n := len(h.pub.Messages()); n != 2 {
		t.Fatalf("%d published, want 2", n)
	}
}

func TestRequestErrors(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Limits = Limits{MaxEventBytes: 2048, MaxBodyBytes: 8192, MaxEvents: 3}
	})
	huge := strings.Replace(purchase("evt-huge"), `"user_id":"alice@example.com"`, `"page_id":"`+strings.Repeat("x", 3000)+`","user_id":"a"`, 1)
	cases := []struct {
		name   string
		body   string
		hdr    map[string]string
		status int
		code   string
	}{
		{"no content type", purchase("a"), map[string]string{"Content-Type": ""}, 415, "unsupported_media_type"},
		{"form content type", purchase("a"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"latin-1 charset", purchase("a"), map[string]string{"Content-Type": "application/json; charset=latin1"}, 415, "unsupported_media_type"},
		{"json with utf-8 charset", purchase("a"), map[string]string{"Content-Type": "application/json; charset=UTF-8"}, 202, ""},
		{"brotli", purchase("a"), map[string]string{"Content-Encoding": "br"}, 415, "unsupported_media_type"},
		{"body too large", `[` + strings.Repeat(purchase("a")+",", 30) + `1]`, nil, 413, "payload_too_large"},
		{"too many events", `[` + purchase("a") + `,` + purchase("b") + `,` + purchase("c") + `,` + purchase("d") + `]`, nil, 413, "too_many_events"},
		{"malformed json", `[{"event_type":`, nil, 400, "bad_request"},
		{"empty array", `[]`, nil, 400, "bad_request"},
		{"no credentials", purchase("a"), map[string]string{"X-Api-Key": ""}, 401, auth.ReasonMissing},
		{"wrong key", purchase("a"), map[string]string{"X-Api-Key": "shop-2026a.nope"}, 401, auth.ReasonInvalidKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, _ := h.post(t, c.body, c.hdr)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if c.code != "" {
				var eb ErrorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error != c.code || eb.Message == "" {
					t.Fatalf("error body %s, want code %s", rec.Body, c.code)
				}
			}
		})
	}
	t.Run("event over its own limit", func(t *testing.T) {
		rec, resp := h.post(t, `[`+huge+`,`+purchase("ok")+`]`, nil)
		if rec.Code != 202 || len(resp.Rejected) != 1 || !strings.Contains(resp.Rejected[0].Errors[0].Reason, "at most 2048") {
			t.Fatalf("status %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("GET", func(t *testing.T) {
		rec := httptest.NewRecorder()
		apicontract.Wrap(t, apicontract.Ingest, h.svc).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != 405 || rec.Header().Get("Allow") != "POST" {
			t.Fatalf("status %d", rec.Code)
		}
	})
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	// Writes into a bytes.Buffer cannot fail, so neither can the gzip
	// stream's.
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.String()
}

func TestGzip(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Limits.MaxBodyBytes = 64 << 10 })
	rec, resp := h.post(t, gz(`[`+purchase("g1")+`,`+purchase("g2")+`]`), map[string]string{"Content-Encoding": "gzip"})
	if rec.Code != 202 || len(resp.Accepted) != 2 {
		t.Fatalf("gzip batch: %d %s", rec.Code, rec.Body)
	}
	// 10 MB of spaces compresses to ~10 KB: the limit is on the expanded size.
	bomb := gz(`[` + strings.Repeat(" ", 10<<20) + purchase("g3") + `]`)
	rec, _ = h.post(t, bomb, map[string]string{"Content-Encoding": "gzip"})
	if rec.Code != 413 {
		t.Fatalf("gzip bomb: status %d", rec.Code)
	}
	rec, _ = h.post(t, "not gzip", map[string]string{"Content-Encoding": "gzip"})
	if rec.Code != 400 {
		t.Fatalf("bad gzip: status %d", rec.Code)
	}
}

// flaky fails the messages whose ids are listed and counts every publish.
type flaky struct {
	queue.Memory
	failIDs   map[string]bool
	published atomic.Int64
}

func (f *flaky) Publish(ctx context.Context, msgs []queue.Message) []error {
	errs := make([]error, len(msgs))
	var ok []queue.Message
	var okIdx []int
	for i, m := range msgs {
		f.published.Add(1)
		if f.failIDs[m.ID] {
			errs[i] = fmt.Errorf("publish %s: %w", m.ID, queue.ErrUnavailable)
			continue
		}
		ok = append(ok, m)
		okIdx = append(okIdx, i)
	}
	for k, err := range f.Memory.Publish(ctx, ok) {
		errs[okIdx[k]] = err
	}
	return errs
}

func TestPublishFailureAnswers503AndRetryPublishesNothingTwice(t *testing.T) {
	h := newHarness(t, nil)
	f := &flaky{failIDs: map[string]bool{"evt-2": true}}
	h.svc.pub = f
	body := `[` + purchase("evt-1") + `,` + purchase("evt-2") + `,` + purchase("evt-3") + `]`
	rec, resp := h.post(t, body, nil)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if len(resp.NotAccepted) != 1 || resp.NotAccepted[0] != (Failure{Index: 1, ID: "evt-2", Reason: "queue_unavailable"}) {
		t.Fatalf("not accepted %+v", resp.NotAccepted)
	}
	if len(resp.Accepted) != 2 {
		t.Fatalf("accepted %+v", resp.Accepted)
	}
	// The queue recovers and the caller retries the same request: only the
	// event that was not accepted is published again.
	f.failIDs = nil
	rec, resp = h.post(t, body, nil)
	if rec.Code != http.StatusAccepted || len(resp.Accepted) != 1 || resp.Accepted[0].ID != "evt-2" || len(resp.Duplicates) != 2 {
		t.Fatalf("retry: %d %+v", rec.Code, resp)
	}
	counts := map[string]int{}
	for _, m := range f.Messages() {
		counts[m.ID]++
	}
	if counts["evt-1"] != 1 || counts["evt-2"] != 1 || counts["evt-3"] != 1 || f.published.Load() != 4 {
		t.Fatalf("acknowledged %v after %d publish attempts", counts, f.published.Load())
	}
}

func TestQueueDownEntirely(t *testing.T) {
	h := newHarness(t, nil)
	h.pub.FailWith(errors.Join(queue.ErrUnavailable, errors.New("connection refused")))
	rec, resp := h.post(t, purchase("evt-1"), nil)
	if rec.Code != 503 || len(resp.Accepted) != 0 || len(resp.NotAccepted) != 1 {
		t.Fatalf("status %d %+v", rec.Code, resp)
	}
	if len(h.pub.Messages()) != 0 {
		t.Fatal("something published")
	}
}

type failingLedger struct{}

func (failingLedger) Record(context.Context, string, []*event.Event) error {
	return errors.New("ledger down")
}

func TestLedgerFailureIsNot2xx(t *testing.T) {
	h := newHarness(t, nil)
	h.svc.ledger = failingLedger{}
	rec, _ := h.post(t, purchase("evt-1"), nil)
	if rec.Code != 503 || len(h.pub.Messages()) != 0 {
		t.Fatalf("status %d, %d published", rec.Code, len(h.pub.Messages()))
	}
}

// The body is read by its Content-Length, but neither a body longer than
// declared (an adapter's request) is cut nor a shorter one taken as whole.
func TestContentLengthMismatch(t *testing.T) {
	body := "[" + purchase("evt-1") + "," + purchase("evt-2") + "]"
	for _, c := range []struct {
		declared int64
		status   int
	}{{int64(len(body)), http.StatusAccepted}, {10, http.StatusAccepted}, {int64(len(body)) + 10, http.StatusBadRequest}} {
		h := newHarness(t, nil)
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.ContentLength = c.declared
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", apiKey)
		rec := httptest.NewRecorder()
		apicontract.Wrap(t, apicontract.Ingest, h.svc).ServeHTTP(rec, req)
		if rec.Code != c.status {
			t.Fatalf("declared %d of %d bytes: status %d, want %d: %s", c.declared, len(body), rec.Code, c.status, rec.Body)
		}
		if c.status == http.StatusAccepted && len(h.pub.Messages()) != 2 {
			t.Fatalf("declared %d of %d bytes: %d published, want 2", c.declared, len(body), len(h.pub.Messages()))
		}
	}
}

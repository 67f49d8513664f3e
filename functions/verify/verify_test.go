package verify

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/shared/dfinery"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/pii"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const (
	hmacKey = "3f2b8c1e-6a4d-4e2b-9c1a-7d5e8f0a1b2c"
	adid    = "9f1c2d3e-aaaa-bbbb-cccc-123456789abc"
)

type staticKeys struct {
	keys  []string
	token string
	err   error
}

func (k staticKeys) HMACKeys(context.Context) ([][]byte, error) {
	out := make([][]byte, len(k.keys))
	for i, s := range k.keys {
		out[i] = []byte(s)
	}
	return out, k.err
}
func (k staticKeys) Token(context.Context) (string, error) { return k.token, nil }

type fixture struct {
	svc   *Service
	store *ledger.Memory
	anon  *pii.Anonymiser
	clock *time.Time
}

func newFixture(t testing.TB, mutate func(*Config), keys staticKeys) *fixture {
	t.Helper()
	clock := testNow
	anon, err := pii.New([]byte("pii-salt-for-tests-only"), []string{pii.UserID, pii.PersistentID, pii.AdvertisingID}, pii.IPKeep)
	if err != nil {
		t.Fatal(err)
	}
	store := ledger.NewMemory(func() time.Time { return clock })
	cfg := Config{EventTypes: map[string]string{"purchase": "PURCHASE", "abx:purchase": "PURCHASE", "sign_up": "LAND"},
		AmountTolerance: 0.005, LookupRetry: 200 * time.Millisecond, Fields: dfinery.DefaultFieldMap()}
	if mutate != nil {
		mutate(&cfg)
	}
	if keys.keys == nil {
		keys.keys = []string{hmacKey}
	}
	svc, err := New(withDefaults(cfg), Deps{Keys: keys, Ledger: store, Hasher: PIIHasher{anon}, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	svc.sleep = func(d time.Duration) { clock = clock.Add(d) }
	return &fixture{svc: svc, store: store, anon: anon, clock: &clock}
}

// record stores a purchase the way ingest would have.
func (f *fixture) record(t testing.TB, id string, at time.Time, amount float64) {
	t.Helper()
	if err := f.store.Put(context.Background(), []ledger.Entry{{EventID: id, Source: "shop", EventType: "PURCHASE", Time: at,
		UserID: f.anon.Hash("alice"), DeviceIDs: []string{f.anon.Hash(adid)}, Revenue: &amount, Currency: "KRW",
		ExpiresAt: testNow.Add(24 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
}

func callbackBody(order string, at time.Time, amount string) string {
	param := `{"abx:sales":` + amount + `,"abx:currency":"KRW"`
	if order != "" {
		param += `,"abx:order_id":"` + order + `"`
	}
	param += `}`
	v := url.Values{"adid": {adid}, "event_name": {"purchase"},
		"event_timestamp": {itoa(at.UnixMilli())}, "param_json": {param}}
	return v.Encode()
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func (f *fixture) call(t *testing.T, body string, hdr map[string]string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(dfinery.HeaderHash, dfinery.Hash([]byte(hmacKey), []byte(body)))
	req.RemoteAddr = "198.51.100.7:40000"
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	apicontract.Wrap(t, apicontract.Verify, f.svc).ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func reasonOf(body string) string {
	var v struct{ Result, Reason string }
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return "(not JSON: " + body + ")"
	}
	if v.Result == "success" {
		return ""
	}
	return v.Reason
}

func TestDecisions(t *testing.T) {
	evTime := testNow.Add(-2 * time.Minute)
	cases := []struct {
		name   string
		body   string
		hdr    map[string]string
		status int
		reason string
	}{
		{"confirmed by order id", callbackBody("ord-77", evTime, "24000"), nil, 200, ""},
		{"device and time alone: off by default", callbackBody("", evTime.Add(30*time.Second), "24000"), nil, 422, ReasonNoIdentifier},
		{"never sent", callbackBody("ord-404", evTime, "24000"), nil, 422, ReasonNotFound},
		{"different amount", callbackBody("ord-77", evTime, "99000"), nil, 422, ReasonAmount},
		{"amount within a rounding", callbackBody("ord-77", evTime, "24000.001"), nil, 200, ""},
		{"time far from ours", callbackBody("ord-77", evTime.Add(-90*time.Minute), "24000"), nil, 422, ReasonTime},
		{"stale callback", callbackBody("ord-77", testNow.Add(-25*time.Hour), "24000"), nil, 422, ReasonStale},
		{"from the future", callbackBody("ord-77", testNow.Add(time.Hour), "24000"), nil, 422, ReasonStale},
		{"unsigned", callbackBody("ord-77", evTime, "24000"), map[string]string{dfinery.HeaderHash: ""}, 401, ReasonUnsigned},
		{"forged", callbackBody("ord-77", evTime, "24000"), map[string]string{dfinery.HeaderHash: dfinery.Hash([]byte("wrong-key"), []byte("x"))}, 401, ReasonBadSignature},
		{"unknown event name", strings.Replace(callbackBody("ord-77", evTime, "24000"), "purchase", "level_up", 1), nil, 422, ReasonUnsupported},
		{"no time", "event_name=purchase&adid=" + adid, nil, 422, ReasonNoEventTime},
		{"not a form nor json", "%zz%%", map[string]string{"Content-Type": "text/plain"}, 422, ReasonMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, nil, staticKeys{})
			f.record(t, "ord-77", evTime, 24000)
			status, body := f.call(t, c.body, c.hdr)
			if status != c.status || reasonOf(body) != c.reason {
				t.Fatalf("got %d %s, want %d %q", status, body, c.status, c.reason)
			}
		})
	}
}

func TestDeviceMismatch(t *testing.T) {
	f := newFixture(t, nil, staticKeys{})
	evTime := testNow.Add(-time.Minute)
	f.record(t, "ord-77", evTime, 24000)
	body := strings.Replace(callbackBody("ord-77", evTime, "24000"), adid, "other-device-0000", 1)
	if status, resp := f.call(t, body, nil); status != 422 || reasonOf(resp) != ReasonDevice {
		t.Fatalf("%d %s", status, resp)
	}
}

// A DFINERY retry of the identical body gets the first answer, even after
// the entry was claimed by it; a different body for the same purchase
// does not.
func TestRetryGetsFirstVerdict(t *testing.T) {
	f := newFixture(t, nil, staticKeys{})
	evTime := testNow.Add(-time.Minute)
	f.record(t, "ord-77", evTime, 24000)
	body := callbackBody("ord-77", evTime, "24000")
	for i := range 3 {
		if status, resp := f.call(t, body, nil); status != 200 {
			t.Fatalf("call %d: %d %s", i, status, resp)
		}
	}
	other := callbackBody("ord-77", evTime.Add(time.Millisecond), "24000")
	if status, resp := f.call(t, other, nil); status != 422 || reasonOf(resp) != ReasonAlreadyConfirmed {
		t.Fatalf("second body: %d %s", status, resp)
	}
}

// An unmapped event name is logged at warning level with the name.
func TestUnsupportedEventIsLogged(t *testing.T) {
	var logs strings.Builder
	f := newFixture(t, nil, staticKeys{})
	f.svc.log = slog.New(slog.NewJSONHandler(&logs, nil))
	evTime := testNow.Add(-time.Minute)
	body := strings.Replace(callbackBody("ord-77", evTime, "24000"), "purchase", "abx%3Alevel_achieved", 1)
	if status, resp := f.call(t, body, nil); status != 422 || reasonOf(resp) != ReasonUnsupported {
		t.Fatalf("%d %s", status, resp)
	}
	if !strings.Contains(logs.String(), `"level":"WARN"`) || !strings.Contains(logs.String(), `"event_name":"abx:level_achieved"`) {
		t.Fatalf("no warning naming the event: %s", logs.String())
	}
	logs.Reset()
	f.svc.cfg.NotRecorded = map[string]string{"abx:add_to_cart": "ADD_TO_CART"}
	body = strings.Replace(callbackBody("ord-77", evTime, "24000"), "purchase", "abx%3Aadd_to_cart", 1)
	if status, resp := f.call(t, body, nil); status != 422 || reasonOf(resp) != ReasonUnsupported {
		t.Fatalf("%d %s", status, resp)
	}
	if !strings.Contains(logs.String(), "LEDGER_EVENT_TYPES") || !strings.Contains(logs.String(), `"event_type":"ADD_TO_CART"`) {
		t.Fatalf("the warning does not say the type is not recorded: %s", logs.String())
	}
}

func TestLateLedgerWriteIsWaitedFor(t *testing.T) {
	f := newFixture(t, nil, staticKeys{})
	evTime := testNow.Add(-time.Minute)
	calls := 0
	f.svc.sleep = func(d time.Duration) {
		*f.clock = f.clock.Add(d)
		calls++
		if calls == 2 {
			f.record(t, "ord-77", evTime, 24000) // lands while we wait
		}
	}
	if status, resp := f.call(t, callbackBody("ord-77", evTime, "24000"), nil); status != 200 {
		t.Fatalf("%d %s", status, resp)
	}
}

func TestRotatedKeysAndToken(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.TokenHeader = "X-Verify-Token" },
		staticKeys{keys: []string{"new-key-0000", hmacKey}, token: "static-token"})
	evTime := testNow.Add(-time.Minute)
	f.record(t, "ord-77", evTime, 24000)
	body := callbackBody("ord-77", evTime, "24000")
	if status, resp := f.call(t, body, map[string]string{"X-Verify-Token": "nope"}); status != 401 || reasonOf(resp) != ReasonBadToken {
		t.Fatalf("bad token: %d %s", status, resp)
	}
	if status, resp := f.call(t, body, map[string]string{"X-Verify-Token": "static-token"}); status != 200 {
		t.Fatalf("old key during rotation: %d %s", status, resp)
	}
}

func TestIPAllowList(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.AllowedNets = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")} }, staticKeys{})
	evTime := testNow.Add(-time.Minute)
	f.record(t, "ord-77", evTime, 24000)
	if status, resp := f.call(t, callbackBody("ord-77", evTime, "24000"), nil); status != 403 || reasonOf(resp) != ReasonIPNotAllowed {
		t.Fatalf("%d %s", status, resp)
	}
	f.svc.cfg.ClientIPHeader, f.svc.cfg.TrustedProxies = "X-Forwarded-For", 2
	// Two proxies of ours: the load balancer appended the client, the
	// next one the load balancer; the first entry is the caller's own.
	if status, resp := f.call(t, callbackBody("ord-77", evTime, "24000"), map[string]string{"X-Forwarded-For": "203.0.113.250, 203.0.113.9, 10.0.0.1"}); status != 200 {
		t.Fatalf("%d %s", status, resp)
	}
	if status, resp := f.call(t, callbackBody("ord-77", evTime.Add(time.Millisecond), "24000"), map[string]string{"X-Forwarded-For": "203.0.113.9, 198.51.100.1, 10.0.0.1"}); status != 403 {
		t.Fatalf("spoofed leftmost entry: %d %s", status, resp)
	}
	if status, resp := f.call(t, callbackBody("ord-77", evTime.Add(2*time.Millisecond), "24000"), map[string]string{"X-Forwarded-For": "10.0.0.1"}); status != 403 {
		t.Fatalf("fewer entries than trusted proxies: %d %s", status, resp)
	}
}

func TestLedgerDownIsRetryable(t *testing.T) {
	f := newFixture(t, nil, staticKeys{})
	evTime := testNow.Add(-time.Minute)
	f.record(t, "ord-77", evTime, 24000)
	f.store.FailWith(errors.New("ledger down"))
	body := callbackBody("ord-77", evTime, "24000")
	if status, _ := f.call(t, body, nil); status != 503 {
		t.Fatalf("status %d", status)
	}
	f.store.FailWith(nil)
	if status, resp := f.call(t, body, nil); status != 200 {
		t.Fatalf("the retry after our own failure is not a replay: %d %s", status, resp)
	}
}

func TestBodyLimit(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxBodyBytes = 1024 }, staticKeys{})
	if status, _ := f.call(t, strings.Repeat("a", 2048), nil); status != 413 {
		t.Fatalf("status %d", status)
	}
}

// A confirmation's line names the event it confirmed and its ingest source,
// so a callback can be followed to the event's own lines; a failure names
// only the callback's order id (a callback does not name a source).
func TestVerifyLineNamesTheConfirmedEvent(t *testing.T) {
	var logs strings.Builder
	f := newFixture(t, nil, staticKeys{})
	f.svc.log = slog.New(slog.NewJSONHandler(&logs, nil))
	evTime := testNow.Add(-time.Minute)
	f.record(t, "ord-9", evTime, 24000)
	line := func() map[string]any {
		t.Helper()
		var v map[string]any
		if err := json.Unmarshal([]byte(logs.String()), &v); err != nil {
			t.Fatalf("%v: %s", err, logs.String())
		}
		logs.Reset()
		return v
	}
	if status, resp := f.call(t, callbackBody("ord-9", evTime, "24000"), nil); status != 200 {
		t.Fatalf("%d %s", status, resp)
	}
	if v := line(); v["outcome"] != "confirmed" || v["event_id"] != "ord-9" || v["source"] != "shop" {
		t.Fatalf("confirmed line: %v", v)
	}
	if status, resp := f.call(t, callbackBody("ord-404", evTime, "24000"), nil); status != 422 || reasonOf(resp) != ReasonNotFound {
		t.Fatalf("%d %s", status, resp)
	}
	if v := line(); v["outcome"] != "failed" || v["event_id"] != "ord-404" || v["source"] != nil {
		t.Fatalf("failed line: %v", v)
	}
}

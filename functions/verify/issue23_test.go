package verify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/functions/ingest"
	"eventrelay.dev/eventrelay/shared/dfinery"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/ledger"
)

// One test per point of issue 23; each fails on the code before the fix.
// The ledger is written by ingest's own cleanse, validation, anonymiser and
// recorder, from the event a backend sends; the callbacks carry DFINERY's
// identity macros as DFINERY documents them (help.dfinery.io, Media
// Postback Macro: {req.common.identity.adid|gaid|idfa|idfv}).

const (
	zeroUUID = "00000000-0000-0000-0000-000000000000" // the advertising id without tracking consent
	iosIDFV  = "E621E1F8-C36C-495A-93FC-0C247A3E6E5F" // upper case, as iOS prints it
	iosIDFA  = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
	gaid     = "38400000-8cf0-11bd-b23e-10b96e40000d"
)

// ingestPurchase records a purchase as ingest would from the backend's
// event (refused events fail the test: the backend's event must be one
// ingest accepts).
func (f *fixture) ingestPurchase(t *testing.T, order, user string, device *event.Device, amount float64) {
	t.Helper()
	e := &event.Event{ID: order, EventType: "PURCHASE", ChannelType: "APP", UserID: user, Device: device,
		Timestamp: event.Millis(testNow.Add(-2 * time.Minute).UnixMilli()),
		Items:     []event.Item{{ID: "sku-1", Price: &event.Money{Currency: "KRW", Amount: &amount}}},
		Revenue:   &event.Money{Currency: "krw", Amount: &amount}}
	event.Cleanse(e)
	if errs := event.Validate(e, event.Rules{Now: testNow}); len(errs) > 0 {
		t.Fatalf("ingest refuses the backend's event: %v", errs)
	}
	f.anon.Apply(e)
	rec := &ingest.LedgerRecorder{Store: f.store, Types: map[string]bool{"PURCHASE": true}, TTL: 24 * time.Hour,
		Now: func() time.Time { return testNow }}
	if err := rec.Record(context.Background(), "shop", []*event.Event{e}); err != nil {
		t.Fatal(err)
	}
}

// dfineryForm is DFINERY's form callback for a purchase; fields maps the
// identity keys (adid, gaid, idfa, idfv, user_id) to their values.
func dfineryForm(order string, ids map[string]string, param string) string {
	v := url.Values{"event_name": {"abx:purchase"}, "event_timestamp": {itoa(testNow.Add(-2*time.Minute + 1500*time.Millisecond).UnixMilli())}}
	for k, val := range ids {
		v.Set(k, val)
	}
	if param == "" {
		param = `{"abx:order_id":"` + order + `","abx:order_sales":24000,"abx:currency":"KRW"}`
	}
	v.Set("param_json", param)
	return v.Encode()
}

func TestIssue23IOSWithoutATTMatchesTheIDFV(t *testing.T) {
	f := newFixture(t, nil, staticKeys{})
	// The backend has only the IDFV (the IDFA is the zero UUID, which
	// ingest refuses), in MCM's main device field.
	f.ingestPurchase(t, "ios-noatt", "", &event.Device{OS: "ios", PersistentID: iosIDFV}, 24000)
	body := dfineryForm("ios-noatt", map[string]string{"adid": zeroUUID, "idfa": zeroUUID, "idfv": iosIDFV}, "")
	if code, resp := f.call(t, body, nil); code != 200 {
		t.Fatalf("iOS purchase without ATT consent: %d %s, want 200 (the zero IDFA is no id; the IDFV matches)", code, resp)
	}
}

func TestIssue23IOSWithATTMatchesTheIDFVWhenTheBackendHasNoIDFA(t *testing.T) {
	f := newFixture(t, nil, staticKeys{})
	f.ingestPurchase(t, "ios-att", "", &event.Device{OS: "ios", PersistentID: iosIDFV}, 24000)
	body := dfineryForm("ios-att", map[string]string{"adid": iosIDFA, "idfa": iosIDFA, "idfv": iosIDFV}, "")
	if code, resp := f.call(t, body, nil); code != 200 {
		t.Fatalf("iOS purchase with ATT consent, backend recorded the IDFV: %d %s, want 200 (the IDFV matches)", code, resp)
	}
}

func TestIssue23AndroidBackendWithItsOwnInstallIDMatchesByUser(t *testing.T) {
	f := newFixture(t, nil, staticKeys{})
	f.ingestPurchase(t, "and-own", "member-4411", &event.Device{OS: "android", PersistentID: "install-7f3a9c"}, 24000)
	body := dfineryForm("and-own", map[string]string{"adid": gaid, "gaid": gaid, "user_id": "member-4411"}, "")
	if code, resp := f.call(t, body, nil); code != 200 {
		t.Fatalf("Android purchase, backend recorded its install id and the user: %d %s, want 200", code, resp)
	}
}

func TestIssue23GAIDAndIDFAKeysAreRead(t *testing.T) {
	for _, key := range []string{"gaid", "idfa", "req.common.identity.gaid", "req.common.identity.idfa"} {
		t.Run(key, func(t *testing.T) {
			f := newFixture(t, nil, staticKeys{})
			f.ingestPurchase(t, "ord-ad", "", &event.Device{OS: "android", PersistentID: "install-7f3a9c", AdvertisingID: gaid}, 24000)
			other := "11111111-2222-4333-8444-555555555555"
			if code, resp := f.call(t, dfineryForm("ord-ad", map[string]string{key: other}, ""), nil); code == 200 {
				t.Fatalf("a callback from another device (%s=%s) was confirmed: %s", key, other, resp)
			}
			if code, resp := f.call(t, dfineryForm("ord-ad", map[string]string{key: gaid}, ""), nil); code != 200 {
				t.Fatalf("%s of the buyer's device: %d %s, want 200", key, code, resp)
			}
		})
	}
}

// A spoof that knows only the order id (and perhaps the amount) neither
// passes nor claims the order: DFINERY's real callback, after it, is
// confirmed.
func TestIssue23SpoofFirstCannotBlockTheRealCallback(t *testing.T) {
	f := newFixture(t, nil, staticKeys{})
	f.ingestPurchase(t, "ord-leak", "", &event.Device{OS: "android", PersistentID: "install-7f3a9c", AdvertisingID: gaid}, 24000)
	spoofs := []string{
		dfineryForm("ord-leak", nil, `{"abx:order_id":"ord-leak"}`),
		dfineryForm("ord-leak", nil, ""),
		dfineryForm("ord-leak", map[string]string{"adid": gaid}, `{"abx:order_id":"ord-leak"}`),
		dfineryForm("ord-leak", map[string]string{"adid": gaid}, `{"abx:order_id":"ord-leak","abx:order_sales":24000}`),
		dfineryForm("ord-leak", map[string]string{"adid": zeroUUID}, ""),
	}
	for i, s := range spoofs {
		if code, resp := f.call(t, s, nil); code == 200 {
			t.Errorf("spoof %d confirmed: %s", i, resp)
		}
	}
	if code, resp := f.call(t, dfineryForm("ord-leak", map[string]string{"adid": gaid, "gaid": gaid}, ""), nil); code != 200 {
		t.Fatalf("the real callback after the spoofs: %d %s, want 200", code, resp)
	}
}

func TestIssue23NonFiniteAmountIsRefused(t *testing.T) {
	for _, amount := range []string{"NaN", `"nan"`, `"NaN"`, `"Inf"`, `"-infinity"`} {
		f := newFixture(t, nil, staticKeys{})
		f.ingestPurchase(t, "ord-nan", "", &event.Device{OS: "android", PersistentID: "install-7f3a9c", AdvertisingID: gaid}, 24000)
		param := `{"abx:order_id":"ord-nan","abx:order_sales":` + amount + `,"abx:currency":"KRW"}`
		code, resp := f.call(t, dfineryForm("ord-nan", map[string]string{"adid": gaid}, param), nil)
		if code == 200 || reasonOf(resp) != ReasonMalformed {
			t.Errorf("amount %s: %d %s, want the failure malformed", amount, code, resp)
		}
	}
}

// stalledStore is a ledger that does not answer: every call waits until
// its context ends, as a call to a paused Firestore or DynamoDB would.
type stalledStore struct{ ledger.VerifyStore }

func (stalledStore) Find(ctx context.Context, _ ledger.Query) ([]ledger.Entry, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (stalledStore) Verdict(ctx context.Context, _ string) (ledger.Verdict, bool, error) {
	<-ctx.Done()
	return ledger.Verdict{}, false, ctx.Err()
}

func TestIssue23StalledLedgerAnswersWithinTheDeadline(t *testing.T) {
	anonF := newFixture(t, nil, staticKeys{})
	svc, err := New(withDefaults(Config{EventTypes: map[string]string{"abx:purchase": "PURCHASE"}, Fields: dfinery.DefaultFieldMap(),
		LedgerDeadline: 300 * time.Millisecond}),
		Deps{Keys: staticKeys{keys: []string{hmacKey}}, Ledger: stalledStore{ledger.NewMemory(nil)}, Hasher: PIIHasher{anonF.anon},
			Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	body := dfineryForm("ord-stall", map[string]string{"adid": gaid}, "")
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(dfinery.HeaderHash, dfinery.Hash([]byte(hmacKey), []byte(body)))
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	start := time.Now()
	go func() { svc.ServeHTTP(rec, req); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no answer after 5 s with the ledger stalled")
	}
	took := time.Since(start)
	if rec.Code != http.StatusServiceUnavailable || reasonOf(rec.Body.String()) != ReasonUnavailable {
		t.Fatalf("stalled ledger: %d %s, want 503 unavailable", rec.Code, rec.Body.String())
	}
	if took > 2*time.Second {
		t.Fatalf("answered after %v with a 300 ms deadline", took)
	}
	t.Logf("stalled ledger: 503 unavailable after %v (deadline 300 ms)", took)
}

// A callback that beats the backend's ingest gets not_found, which is not
// stored: DFINERY's retry of the same body, after the ingest, is confirmed.
func TestIssue23NotFoundIsNotStored(t *testing.T) {
	f := newFixture(t, nil, staticKeys{})
	body := dfineryForm("ord-race", map[string]string{"adid": gaid}, "")
	if code, resp := f.call(t, body, nil); code == 200 || reasonOf(resp) != ReasonNotFound {
		t.Fatalf("before ingest: %d %s, want not_found", code, resp)
	}
	f.ingestPurchase(t, "ord-race", "", &event.Device{OS: "android", PersistentID: "install-7f3a9c", AdvertisingID: gaid}, 24000)
	if code, resp := f.call(t, body, nil); code != 200 {
		t.Fatalf("DFINERY's retry after the ingest: %d %s, want 200", code, resp)
	}
	if code, resp := f.call(t, body, nil); code != 200 {
		t.Fatalf("the retry again: %d %s, want the stored 200", code, resp)
	}
}

// VERIFY_IDENTITY=optional (LooseIdentity) confirms an order without a
// matching identifier, as documented, and still refuses a user id that
// differs and a wrong amount.
func TestLooseIdentityIsAnOptIn(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.LooseIdentity = true }, staticKeys{})
	f.ingestPurchase(t, "ord-loose", "member-1", &event.Device{OS: "android", PersistentID: "install-1"}, 24000)
	if code, resp := f.call(t, dfineryForm("ord-loose", map[string]string{"user_id": "member-2"}, ""), nil); reasonOf(resp) != ReasonUser {
		t.Fatalf("another user: %d %s, want mismatch:user", code, resp)
	}
	if code, resp := f.call(t, dfineryForm("ord-loose", nil, `{"abx:order_id":"ord-loose","abx:order_sales":1,"abx:currency":"KRW"}`), nil); reasonOf(resp) != ReasonAmount {
		t.Fatalf("wrong amount: %d %s, want mismatch:amount", code, resp)
	}
	if code, resp := f.call(t, dfineryForm("ord-loose", map[string]string{"adid": gaid}, ""), nil); code != 200 {
		t.Fatalf("no matching identifier, loose: %d %s, want 200", code, resp)
	}
}

// With VERIFY_MATCH_DEVICE_TIME, a callback is looked up by every form of
// every id it carries; a miss waits for ingest once (VERIFY_LOOKUP_RETRY),
// not once per id, and an iOS callback without ATT consent is found by
// its IDFV.
func TestMatchDeviceTimeLooksUpEveryIDOnce(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MatchDeviceTime = true }, staticKeys{})
	noOrder := `{"abx:order_sales":24000,"abx:currency":"KRW"}`
	ids := map[string]string{"adid": "11111111-2222-4333-8444-555555555555", "gaid": "11111111-2222-4333-8444-555555555556",
		"idfa": "11111111-2222-4333-8444-555555555557", "idfv": "11111111-2222-4333-8444-555555555558"}
	start := *f.clock
	if code, resp := f.call(t, dfineryForm("", ids, noOrder), nil); reasonOf(resp) != ReasonNotFound {
		t.Fatalf("unknown device: %d %s, want not_found", code, resp)
	}
	if waited := f.clock.Sub(start); waited > 200*time.Millisecond {
		t.Fatalf("a miss waited %v for ingest, LookupRetry is 200 ms", waited)
	}
	f.ingestPurchase(t, "ios-dt", "", &event.Device{OS: "ios", PersistentID: iosIDFV}, 24000)
	if code, resp := f.call(t, dfineryForm("", map[string]string{"adid": zeroUUID, "idfa": zeroUUID, "idfv": iosIDFV}, noOrder), nil); code != 200 {
		t.Fatalf("iOS without ATT, by device and time: %d %s, want 200", code, resp)
	}
}

package erase

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/pii"
	"eventrelay.dev/eventrelay/shared/suppress"
)

const adminKey = "erase-admin-key-for-tests"

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	svc   *Service
	store *ledger.Memory
	anon  *pii.Anonymiser
	logs  *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	// As setup's defaults: user and device ids hashed.
	anon, err := pii.New([]byte("salt-for-erase-tests"), []string{pii.UserID, pii.PersistentID, pii.AdvertisingID}, pii.IPTruncate)
	if err != nil {
		t.Fatal(err)
	}
	store := ledger.NewMemory(func() time.Time { return now })
	logs := &bytes.Buffer{}
	svc, err := New(Deps{Store: store, Anonymiser: anon, Retention: 30 * 24 * time.Hour, RetryAfter: 5 * time.Second,
		Keys:   func(context.Context) ([]string, error) { return []string{"another-key-0123456789", adminKey}, nil },
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, store: store, anon: anon, logs: logs}
}

func (f *fixture) post(t *testing.T, body, key string) (*httptest.ResponseRecorder, Response) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json") // as the erase command sends it
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	apicontract.Wrap(t, apicontract.Ingest, f.svc).ServeHTTP(rec, req)
	var resp Response
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", rec.Code, err, rec.Body)
	}
	return rec, resp
}

// recorded is an entry as ingest would record it for a raw event.
func (f *fixture) recorded(id, user, device string) ledger.Entry {
	e := event.Event{UserID: user, Device: &event.Device{PersistentID: device}}
	event.Cleanse(&e)
	f.anon.Apply(&e)
	entry := ledger.Entry{EventID: id, Source: "shop", EventType: "PURCHASE", Time: now.Add(-time.Hour),
		UserID: e.UserID, ExpiresAt: now.Add(time.Hour)}
	if e.Device != nil {
		entry.DeviceIDs = []string{e.Device.PersistentID}
	}
	return entry
}

func TestEraseUser(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// The stored form is the cleansed, hashed one: surrounding blanks do
	// not matter.
	if err := f.store.Put(ctx, []ledger.Entry{f.recorded("ord-1", "alice@example.com", "GAID-1"),
		f.recorded("ord-2", "bob@example.com", "gaid-2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Claim(ctx, ledger.Key{Source: "shop", EventID: "ord-1"}, "body-1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.SaveVerdict(ctx, "body-1", ledger.Verdict{Reason: ledger.ReasonConfirmed}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	rec, resp := f.post(t, `{"user_id":"  alice@example.com "}`, adminKey)
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if resp.Removed != (ledger.Erased{Entries: 1, Claims: 1, Verdicts: 1}) || resp.Suppressed != 1 ||
		!resp.SuppressedUntil.Equal(now.Add(30*24*time.Hour)) {
		t.Fatalf("%+v", resp)
	}
	if got, _ := f.store.Find(ctx, ledger.Query{EventID: "ord-1"}); len(got) != 0 {
		t.Fatalf("still there: %+v", got)
	}
	if got, _ := f.store.Find(ctx, ledger.Query{EventID: "ord-2"}); len(got) != 1 {
		t.Fatal("someone else's entry went")
	}
	// The suppression is the key of the hashed id: what ingest, the
	// forwarder and backfill compute from a published event.
	published := f.anon.Hash("alice@example.com")
	if sup, _ := f.store.Suppressed(ctx, []string{suppress.Key(published)}); !sup[suppress.Key(published)] {
		t.Fatal("no suppression for the hashed id")
	}
	// One audit line, without the raw id.
	lines := strings.Split(strings.TrimSpace(f.logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"msg":"erase"`) || strings.Contains(f.logs.String(), "alice") {
		t.Fatalf("audit: %s", f.logs)
	}
}

func TestEraseDevice(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A GAID is a UUID: its case carries no meaning (event.DeviceID).
	gaid := "3f2b6c1e-8d4a-4b7e-9c2f-1a5e7d9b0c4f"
	if err := f.store.Put(ctx, []ledger.Entry{f.recorded("ord-1", "alice@example.com", gaid)}); err != nil {
		t.Fatal(err)
	}
	rec, resp := f.post(t, `{"device_id":" `+strings.ToUpper(gaid)+`"}`, adminKey)
	if rec.Code != http.StatusOK || resp.Removed.Entries != 1 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	// unique_device_id is not hashed in this fixture: its raw form is a
	// second stored form, with its own suppression.
	if resp.Suppressed != 2 {
		t.Fatalf("%+v", resp)
	}
}

func TestEraseUnknownIDStillSuppresses(t *testing.T) {
	f := newFixture(t)
	rec, resp := f.post(t, `{"user_id":"nobody@example.com"}`, adminKey)
	if rec.Code != http.StatusOK || resp.Removed != (ledger.Erased{}) || resp.Suppressed != 1 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	key := suppress.Key(f.anon.Hash("nobody@example.com"))
	if sup, _ := f.store.Suppressed(context.Background(), []string{key}); !sup[key] {
		t.Fatal("not suppressed")
	}
}

func TestEraseRefused(t *testing.T) {
	cases := []struct {
		name, body, key, method string
		status                  int
	}{
		{"no credential", `{"user_id":"u-1"}`, "", http.MethodPost, http.StatusUnauthorized},
		{"wrong credential", `{"user_id":"u-1"}`, "erase-admin-key-for-test", http.MethodPost, http.StatusForbidden},
		{"GET", ``, adminKey, http.MethodGet, http.StatusMethodNotAllowed},
		{"no id", `{}`, adminKey, http.MethodPost, http.StatusBadRequest},
		{"null-like id", `{"user_id":"null"}`, adminKey, http.MethodPost, http.StatusBadRequest},
		{"unknown field", `{"email":"a@b.c"}`, adminKey, http.MethodPost, http.StatusBadRequest},
		{"not JSON", `user_id=u-1`, adminKey, http.MethodPost, http.StatusBadRequest},
		// encoding/json took these as user_id (the code before erased u-1).
		{"name in another case", `{"USER_ID":"u-1"}`, adminKey, http.MethodPost, http.StatusBadRequest},
		{"name twice", `{"user_id":"someone-else","user_id":"u-1"}`, adminKey, http.MethodPost, http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			req := httptest.NewRequest(c.method, Path, strings.NewReader(c.body))
			if c.key != "" {
				req.Header.Set("Authorization", "Bearer "+c.key)
			}
			rec := httptest.NewRecorder()
			apicontract.Wrap(t, apicontract.Ingest, f.svc).ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			key := suppress.Key(f.anon.Hash("u-1"))
			if sup, _ := f.store.Suppressed(context.Background(), []string{key}); sup[key] {
				t.Fatal("a refused request recorded a suppression")
			}
		})
	}
}

func TestEraseBackendDown(t *testing.T) {
	f := newFixture(t)
	f.store.FailWith(errors.New("down"))
	rec, _ := f.post(t, `{"user_id":"u-1"}`, adminKey)
	// Issue 25: a ledger outage is retryable, so the 503 says when to
	// send again, as ingest's 503s do (it had no Retry-After).
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" || !strings.Contains(rec.Body.String(), `"unavailable"`) {
		t.Fatalf("%d, Retry-After %q, %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
}

// Issue 25: erase keys that cannot be read are an outage too: 503 with
// Retry-After, and a message that does not blame the caller's key.
func TestEraseKeysUnreadable(t *testing.T) {
	f := newFixture(t)
	f.svc.keys = func(context.Context) ([]string, error) { return nil, errors.New("secret manager down") }
	rec, _ := f.post(t, `{"user_id":"u-1"}`, adminKey)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" ||
		strings.Contains(rec.Body.String(), "valid admin key") || strings.Contains(rec.Body.String(), "secret manager") {
		t.Fatalf("%d, Retry-After %q, %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
}

func TestParseKeys(t *testing.T) {
	keys, err := ParseKeys([]byte("# rotated 2026-12\nfirst-key-0123456789abcdef0123456\n\n  second-key-0123456789abcdef012345  \n"))
	if err != nil || len(keys) != 2 || keys[1] != "second-key-0123456789abcdef012345" {
		t.Fatalf("%v %v", keys, err)
	}
	// 16 characters passed before; 31 is still one short.
	for _, bad := range []string{"", "# none\n", "short", "sixteen-chars-ok", strings.Repeat("k", MinKeyLen-1)} {
		if _, err := ParseKeys([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestEraseRateLimited: past its budget an address is answered 429 before
// its key is looked at.
func TestEraseRateLimited(t *testing.T) {
	f := newFixture(t)
	asked := 0
	f.svc.allow = func(*http.Request) bool { asked++; return asked <= 2 }
	for i, want := range []int{http.StatusForbidden, http.StatusForbidden, http.StatusTooManyRequests} {
		rec, _ := f.post(t, `{"user_id":"u-1"}`, "a-guessed-key-0123456789abcdefgh")
		if rec.Code != want {
			t.Errorf("request %d: %d %s, want %d", i, rec.Code, rec.Body, want)
		}
	}
	if rec, _ := f.post(t, `{"user_id":"u-1"}`, adminKey); rec.Code != http.StatusTooManyRequests {
		t.Errorf("the right key past the budget: %d", rec.Code)
	}
}

package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/catalog"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/suppress"
)

func withConsent(body, consent string) string {
	return strings.Replace(body, `"event_type"`, `"consent":`+consent+`,"event_type"`, 1)
}

func TestConsent(t *testing.T) {
	cases := []struct {
		name    string
		policy  ConsentPolicy
		consent string // "" leaves the field out
		want    bool   // accepted
	}{
		{"silence is consent by default", ConsentPolicy{}, "", true},
		{"explicit yes", ConsentPolicy{DenyByDefault: true}, "true", true},
		{"explicit no wins over a granting default", ConsentPolicy{}, "false", false},
		{"silence refused when the default denies", ConsentPolicy{DenyByDefault: true}, "", false},
		{"the source's default wins over the policy's", ConsentPolicy{DenyByDefault: true, Sources: map[string]bool{"shop": true}}, "", true},
		{"a denying source default", ConsentPolicy{Sources: map[string]bool{"shop": false}}, "", false},
		{"another source's default does not apply", ConsentPolicy{DenyByDefault: true, Sources: map[string]bool{"app": true}}, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(cfg *Config) { cfg.Consent = c.policy })
			body := purchase("ord-1")
			if c.consent != "" {
				body = withConsent(body, c.consent)
			}
			rec, resp := h.post(t, body, nil)
			if rec.Code != http.StatusAccepted {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			msgs := h.pub.Messages()
			if !c.want {
				if len(msgs) != 0 || len(resp.Accepted) != 0 || len(resp.Refused) != 1 ||
					resp.Refused[0] != (Refusal{Index: 0, ID: "ord-1", Reason: RefusedNoConsent}) {
					t.Fatalf("queued %d, answer %+v", len(msgs), resp)
				}
				return
			}
			if len(msgs) != 1 || len(resp.Refused) != 0 {
				t.Fatalf("queued %d, answer %+v", len(msgs), resp)
			}
			if strings.Contains(string(msgs[0].Body), "consent") {
				t.Fatalf("the consent field reached the queue: %s", msgs[0].Body)
			}
		})
	}
}

func TestConsentMixedBatch(t *testing.T) {
	h := newHarness(t, nil)
	body := "[" + withConsent(purchase("ord-1"), "false") + "," + purchase("ord-2") + "," + withConsent(purchase("ord-3"), "true") + "]"
	rec, resp := h.post(t, body, nil)
	if rec.Code != http.StatusAccepted || len(resp.Accepted) != 2 || len(resp.Refused) != 1 || resp.Refused[0].Index != 0 {
		t.Fatalf("%d %+v", rec.Code, resp)
	}
	if n := len(h.pub.Messages()); n != 2 {
		t.Fatalf("queued %d", n)
	}
	// A consent that is not a boolean is a validation error, not a refusal.
	rec, resp = h.post(t, withConsent(purchase("ord-4"), `"yes"`), nil)
	if rec.Code != http.StatusBadRequest || len(resp.Rejected) != 1 || resp.Rejected[0].Errors[0].Field != "consent" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

// recordingLedger remembers what was recorded.
type recordingLedger struct{ ids []string }

func (r *recordingLedger) Record(_ context.Context, _ string, events []*event.Event) error {
	for _, e := range events {
		r.ids = append(r.ids, e.ID)
	}
	return nil
}

func TestErasedPersonRefused(t *testing.T) {
	h := newHarness(t, nil)
	store := ledger.NewMemory(nil)
	rec := &recordingLedger{}
	h.svc.supp = suppress.NewChecker(store, 0, nil)
	h.svc.ledger = rec
	// The key of alice's user id as published: hashed with the salt.
	key := suppress.Key(h.svc.anon.Hash("alice@example.com"))
	if _, err := store.Erase(context.Background(), nil, []string{key}, testNow.AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	bob := strings.Replace(purchase("ord-2"), "alice@example.com", "bob@example.com", 1)
	code, resp := h.post(t, "["+purchase("ord-1")+","+bob+"]", nil)
	if code.Code != http.StatusAccepted || len(resp.Accepted) != 1 || resp.Accepted[0].ID != "ord-2" ||
		len(resp.Refused) != 1 || resp.Refused[0] != (Refusal{Index: 0, ID: "ord-1", Reason: RefusedErased}) {
		t.Fatalf("%d %+v", code.Code, resp)
	}
	if msgs := h.pub.Messages(); len(msgs) != 1 || msgs[0].ID != "ord-2" {
		t.Fatalf("queued %+v", msgs)
	}
	if len(rec.ids) != 1 || rec.ids[0] != "ord-2" {
		t.Fatalf("recorded %v", rec.ids)
	}

	t.Run("by device id too", func(t *testing.T) {
		devKey := suppress.Key(h.svc.anon.Hash("gaid-9"))
		if _, err := store.Erase(context.Background(), nil, []string{devKey}, testNow.AddDate(1, 0, 0)); err != nil {
			t.Fatal(err)
		}
		carol := strings.Replace(strings.Replace(purchase("ord-3"), "alice@example.com", "carol@example.com", 1), "gaid-1", "gaid-9", 1)
		_, resp := h.post(t, carol, nil)
		if len(resp.Refused) != 1 || resp.Refused[0].Reason != RefusedErased {
			t.Fatalf("%+v", resp)
		}
	})
	t.Run("an unreadable list answers 503 and queues nothing", func(t *testing.T) {
		store.FailWith(errors.New("backend down"))
		defer store.FailWith(nil)
		before := len(h.pub.Messages())
		dave := strings.Replace(purchase("ord-5"), "alice@example.com", "dave@example.com", 1)
		rec, resp := h.post(t, dave, nil)
		if rec.Code != http.StatusServiceUnavailable || len(resp.NotAccepted) != 1 || resp.NotAccepted[0].Reason != "suppressions_unavailable" {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		if len(h.pub.Messages()) != before {
			t.Fatal("queued while the erasure list was unreadable")
		}
	})
}

func TestCatalogEnrichesBeforeValidation(t *testing.T) {
	h := newHarness(t, nil)
	f, err := catalog.ParseFile([]byte(`{"sku-1":{"price":12000,"currency":"KRW","item_group_id":"shoes"}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.svc.catalog = catalog.New(catalog.Config{Cache: time.Minute}, f, nil, nil)
	rec := &recordingLedger{}
	h.svc.ledger = rec
	// A purchase of a bare item id, without revenue: valid once enriched.
	bare := `{"id":"ord-1","event_type":"PURCHASE","timestamp":1795348700000,"channel_type":"SITE","user_id":"alice@example.com",
		"items":[{"id":"sku-1","quantity":2}]}`
	code, resp := h.post(t, bare, nil)
	if code.Code != http.StatusAccepted || len(resp.Accepted) != 1 {
		t.Fatalf("%d %s", code.Code, code.Body)
	}
	var queued event.Event
	if err := json.Unmarshal(h.pub.Messages()[0].Body, &queued); err != nil {
		t.Fatal(err)
	}
	if p := queued.Items[0].Price; p == nil || *p.Amount != 12000 || p.Currency != "KRW" || queued.Items[0].ItemGroupID != "shoes" ||
		queued.Revenue == nil || *queued.Revenue.Amount != 24000 || queued.Revenue.Currency != "KRW" {
		t.Fatalf("queued %s", h.pub.Messages()[0].Body)
	}
	// An item the catalog does not know: as it came, and a purchase that
	// still lacks revenue is refused as before.
	unknown := strings.Replace(strings.Replace(bare, "sku-1", "sku-404", 1), "ord-1", "ord-2", 1)
	code, resp = h.post(t, unknown, nil)
	if code.Code != http.StatusBadRequest || len(resp.Rejected) != 1 || resp.Rejected[0].Errors[0].Field != "revenue" {
		t.Fatalf("%d %s", code.Code, code.Body)
	}
}

// failingCatalog cannot read its store.
type failingCatalog struct{}

func (failingCatalog) Lookup(context.Context, []string) (map[string]catalog.Item, error) {
	return nil, errors.New("catalog store down")
}

// When the catalog cannot be read, a bare purchase (invalid without it) is
// answered not_accepted, to be sent again, not rejected; a complete event
// goes on unenriched.
func TestCatalogDownAsksForARetry(t *testing.T) {
	h := newHarness(t, nil)
	h.svc.catalog = catalog.New(catalog.Config{Cache: time.Minute}, failingCatalog{}, nil, nil)
	bare := `{"id":"ord-1","event_type":"PURCHASE","timestamp":1795348700000,"channel_type":"SITE","user_id":"alice@example.com",
		"items":[{"id":"sku-1","quantity":2}]}`
	rec, resp := h.post(t, "["+bare+","+purchase("ord-2")+"]", nil)
	if rec.Code != http.StatusServiceUnavailable || len(resp.NotAccepted) != 1 || resp.NotAccepted[0].Reason != "catalog_unavailable" ||
		resp.NotAccepted[0].Index != 0 || len(resp.Accepted) != 1 || len(resp.Rejected) != 0 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	rec, resp = h.post(t, strings.Replace(bare, "ord-1", "ord-3", 1), nil)
	if rec.Code != http.StatusServiceUnavailable || len(resp.NotAccepted) != 1 {
		t.Fatalf("alone: %d %s", rec.Code, rec.Body)
	}
	// An event that is invalid for another reason, with nothing to look
	// up, is still rejected.
	rec, _ = h.post(t, `{"event_type":"SEARCH","timestamp":1795348700000,"channel_type":"SITE","user_id":"u-1"}`, nil)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("unrelated invalid event: %d %s", rec.Code, rec.Body)
	}
}

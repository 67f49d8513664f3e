package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/event"
)

const file = `{
  "sku-1": {"price": 12000, "currency": "KRW", "item_group_id": "shoes", "seller_id": "s-1"},
  "sku-2": {"price": 500, "currency": "KRW"},
  "sku-usd": {"price": 9.5, "currency": "USD"},
  "sku-group": {"item_group_id": "hats"},
  "bad-currency": {"price": 1, "currency": "XXX"},
  "bad-negative": {"price": -1, "currency": "KRW"},
  "bad-type": {"price": "12000", "currency": "KRW"},
  "bad-field": {"cost": 1},
  "bad-no-currency": {"price": 1}
}`

// counting counts the lookups that reach the store.
type counting struct {
	Source
	mu    sync.Mutex
	calls int
	ids   int
	fail  error
}

func (c *counting) Lookup(ctx context.Context, ids []string) (map[string]Item, error) {
	c.mu.Lock()
	c.calls++
	c.ids += len(ids)
	fail := c.fail
	c.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	return c.Source.Lookup(ctx, ids)
}

func newEnricher(t *testing.T, cfg Config) (*Enricher, *counting, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{}
	f, err := ParseFile([]byte(file), slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	src := &counting{Source: f}
	return New(cfg, src, nil, nil), src, logs
}

func decode(t *testing.T, s string) *event.Event {
	t.Helper()
	e, ferr := event.Decode([]byte(s))
	if ferr != nil {
		t.Fatal(ferr)
	}
	event.Cleanse(&e)
	return &e
}

func encode(e *event.Event) string { b, _ := json.Marshal(e); return string(b) }

const head = `{"id":"o-1","event_type":"PURCHASE","timestamp":1795348700000,"channel_type":"SITE","user_id":"u",`

func TestMalformedEntriesLoggedAndSkipped(t *testing.T) {
	en, _, logs := newEnricher(t, Config{})
	for _, id := range []string{"bad-currency", "bad-negative", "bad-type", "bad-field", "bad-no-currency"} {
		if !strings.Contains(logs.String(), `"item_id":"`+id+`"`) {
			t.Errorf("%s not logged: %s", id, logs)
		}
	}
	// An event naming them goes on as it came.
	e := decode(t, head+`"items":[{"id":"bad-currency"},{"id":"bad-type","price":{"currency":"KRW","amount":3}}]}`)
	before := encode(e)
	en.Enrich(context.Background(), []*event.Event{e})
	if encode(e) != before {
		t.Fatalf("changed: %s", encode(e))
	}
	if _, err := ParseFile([]byte(`["sku-1"]`), nil); err == nil {
		t.Fatal("a file that is not an object was accepted")
	}
}

func TestEnrich(t *testing.T) {
	cases := []struct {
		name, items, revenue string
		wins                 bool
		wantItems            string // JSON of items after
		wantRevenue          string // JSON of revenue after, "" for none
	}{
		{"bare ids get prices, group, seller; revenue derived",
			`[{"id":"sku-1","quantity":2},{"id":"sku-2"}]`, "", false,
			`[{"id":"sku-1","price":{"currency":"KRW","amount":12000},"quantity":2,"item_group_id":"shoes","seller_id":"s-1"},{"id":"sku-2","price":{"currency":"KRW","amount":500}}]`,
			`{"currency":"KRW","amount":24500}`},
		{"the client's values win by default",
			`[{"id":"sku-1","price":{"currency":"KRW","amount":11000},"seller_id":"mine"}]`, "", false,
			`[{"id":"sku-1","price":{"currency":"KRW","amount":11000},"item_group_id":"shoes","seller_id":"mine"}]`,
			`{"currency":"KRW","amount":11000}`},
		{"the catalog wins when set",
			`[{"id":"sku-1","price":{"currency":"KRW","amount":11000},"seller_id":"mine"}]`, "", true,
			`[{"id":"sku-1","price":{"currency":"KRW","amount":12000},"item_group_id":"shoes","seller_id":"s-1"}]`,
			`{"currency":"KRW","amount":12000}`},
		{"the client's revenue is kept",
			`[{"id":"sku-1"}]`, `{"currency":"KRW","amount":1}`, true,
			`[{"id":"sku-1","price":{"currency":"KRW","amount":12000},"item_group_id":"shoes","seller_id":"s-1"}]`,
			`{"currency":"KRW","amount":1}`},
		{"a miss leaves the item as it came; no revenue without every price",
			`[{"id":"sku-1"},{"id":"sku-unknown"}]`, "", false,
			`[{"id":"sku-1","price":{"currency":"KRW","amount":12000},"item_group_id":"shoes","seller_id":"s-1"},{"id":"sku-unknown"}]`, ""},
		{"no revenue across currencies",
			`[{"id":"sku-1"},{"id":"sku-usd"}]`, "", false,
			`[{"id":"sku-1","price":{"currency":"KRW","amount":12000},"item_group_id":"shoes","seller_id":"s-1"},{"id":"sku-usd","price":{"currency":"USD","amount":9.5}}]`, ""},
		{"an entry without a price adds only what it has",
			`[{"id":"sku-group","price":{"currency":"USD","amount":2}}]`, "", true,
			`[{"id":"sku-group","price":{"currency":"USD","amount":2},"item_group_id":"hats"}]`,
			`{"currency":"USD","amount":2}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			en, _, _ := newEnricher(t, Config{CatalogWins: c.wins})
			body := head + `"items":` + c.items
			if c.revenue != "" {
				body += `,"revenue":` + c.revenue
			}
			e := decode(t, body+"}")
			en.Enrich(context.Background(), []*event.Event{e})
			if got, _ := json.Marshal(e.Items); string(got) != c.wantItems {
				t.Errorf("items\n got %s\nwant %s", got, c.wantItems)
			}
			got := ""
			if e.Revenue != nil {
				b, _ := json.Marshal(e.Revenue)
				got = string(b)
			}
			if got != c.wantRevenue {
				t.Errorf("revenue %s, want %s", got, c.wantRevenue)
			}
		})
	}
}

func TestOnlyPurchasesGetRevenue(t *testing.T) {
	en, _, _ := newEnricher(t, Config{})
	e := decode(t, strings.Replace(head, "PURCHASE", "ADD_TO_CART", 1)+`"items":[{"id":"sku-1"}]}`)
	en.Enrich(context.Background(), []*event.Event{e})
	if e.Revenue != nil || e.Items[0].Price == nil {
		t.Fatalf("%s", encode(e))
	}
}

func TestCache(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	logs := &bytes.Buffer{}
	f, _ := ParseFile([]byte(file), nil)
	src := &counting{Source: f}
	en := New(Config{Cache: time.Minute}, src, slog.New(slog.NewJSONHandler(logs, nil)), func() time.Time { return now })
	batch := func() []*event.Event {
		return []*event.Event{decode(t, head+`"items":[{"id":"sku-1"},{"id":"nope"}]}`), decode(t, head+`"items":[{"id":"sku-1"}]}`)}
	}
	en.Enrich(context.Background(), batch())
	if src.calls != 1 || src.ids != 2 {
		t.Fatalf("one look-up of each id once: %d calls, %d ids", src.calls, src.ids)
	}
	es := batch()
	en.Enrich(context.Background(), es)
	if src.calls != 1 || es[0].Items[0].Price == nil {
		t.Fatalf("warm: %d calls, %s", src.calls, encode(es[0]))
	}
	now = now.Add(61 * time.Second)
	en.Enrich(context.Background(), batch())
	if src.calls != 2 {
		t.Fatalf("expired: %d calls", src.calls)
	}
	// A failing store: the event goes on unenriched, the failure is
	// logged, nothing is cached.
	src.fail = errors.New("down")
	now = now.Add(61 * time.Second)
	e := decode(t, head+`"items":[{"id":"sku-1"}]}`)
	noItems := decode(t, strings.Replace(head, "PURCHASE", "HOME", 1)+`"page_id":"p"}`)
	marks := en.Enrich(context.Background(), []*event.Event{e, noItems})
	if e.Items[0].Price != nil || e.Revenue != nil || !strings.Contains(logs.String(), "catalog unavailable") {
		t.Fatalf("%s / %s", encode(e), logs)
	}
	if len(marks) != 2 || !marks[0] || marks[1] {
		t.Fatalf("unenriched marks %v, want the event with items only", marks)
	}
	src.fail = nil
	if marks := en.Enrich(context.Background(), []*event.Event{e}); marks != nil || e.Items[0].Price == nil {
		t.Fatalf("a failure was cached (marks %v)", marks)
	}
}

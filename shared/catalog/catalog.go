// Package catalog enriches events from the operator's own item catalog: a
// read-only store keyed by item id (a Firestore collection, a DynamoDB
// table, or a JSON file locally), read through a per-instance cache.
//
// Enrichment runs at ingest, before validation, so the queued event, the
// ledger and verify's amount check all see the same values. Per item: a
// price, item group or seller the client left out is filled in from the
// catalog; one the client sent is kept unless the catalog is set to win. A
// PURCHASE without revenue gets Σ price × quantity (quantity 1 when
// absent) when every item then has a price in one currency. An item the
// catalog does not hold, or holds malformed, is left as it came.
package catalog

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"eventrelay.dev/eventrelay/shared/event"
)

// Record is one catalog entry as stored, before it is checked. Every
// backend stores the same fields: price (a number), currency (ISO 4217),
// item_group_id, seller_id; all optional, but a price needs a currency.
type Record struct {
	Price       *float64 `json:"price,omitempty" firestore:"price"`
	Currency    string   `json:"currency,omitempty" firestore:"currency"`
	ItemGroupID string   `json:"item_group_id,omitempty" firestore:"item_group_id"`
	SellerID    string   `json:"seller_id,omitempty" firestore:"seller_id"`
}

// Item is a checked catalog entry.
type Item struct {
	Price       *event.Money
	ItemGroupID string
	SellerID    string
}

// Item checks r: a malformed entry is an error, to be logged and skipped.
func (r Record) Item() (Item, error) {
	it := Item{ItemGroupID: r.ItemGroupID, SellerID: r.SellerID}
	switch {
	case r.Price == nil && r.Currency != "":
		return Item{}, fmt.Errorf("currency %q without a price", r.Currency)
	case r.Price == nil:
	case math.IsNaN(*r.Price) || math.IsInf(*r.Price, 0) || *r.Price < 0:
		return Item{}, fmt.Errorf("price %v is not a finite number ≥ 0", *r.Price)
	default:
		if _, ok := event.Currencies[r.Currency]; !ok {
			return Item{}, fmt.Errorf("currency %q is not a supported ISO 4217 code", r.Currency)
		}
		amount := *r.Price
		it.Price = &event.Money{Currency: r.Currency, Amount: &amount}
	}
	return it, nil
}

// Source reads catalog entries by item id. Ids it does not hold, and
// malformed entries (which it logs), are absent from the answer.
type Source interface {
	Lookup(ctx context.Context, ids []string) (map[string]Item, error)
}

// Config tunes an Enricher.
type Config struct {
	// CatalogWins replaces the client's price, item group and seller with
	// the catalog's; by default the client's win and the catalog only
	// fills what is missing.
	CatalogWins bool
	// Cache is how long an answer (found or not) is kept per instance.
	Cache time.Duration
	// MaxCached bounds the cache; past it the cache starts over.
	MaxCached int
}

// Enricher is safe for concurrent use.
type Enricher struct {
	cfg Config
	src Source
	log *slog.Logger
	now func() time.Time

	mu    sync.RWMutex
	cache map[string]cached
}

type cached struct {
	item    Item
	found   bool
	expires time.Time
}

// New returns an Enricher on src; log and now may be nil.
func New(cfg Config, src Source, log *slog.Logger, now func() time.Time) *Enricher {
	if cfg.MaxCached <= 0 {
		cfg.MaxCached = 100_000
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Enricher{cfg: cfg, src: src, log: log, now: now, cache: map[string]cached{}}
}

// Enrich enriches events in place (cleansed, not yet validated). It never
// fails an event itself: when the store cannot be read the events go on as
// they came, the failure is logged, and the answer marks the events that
// had items to look up (nil when there was no failure), so the caller can
// ask for those to be sent again if they turn out invalid without the
// catalog. With every item cached it allocates nothing of its own: one
// read-locked pass over the items.
func (en *Enricher) Enrich(ctx context.Context, events []*event.Event) (unenriched []bool) {
	var missing []string
	var waiting []bool // events with an item to look up
	now := en.now()
	en.mu.RLock()
	for k, e := range events {
		for i := range e.Items {
			it := &e.Items[i]
			if it.ID == "" {
				continue
			}
			c, ok := en.cache[it.ID]
			switch {
			case !ok || !now.Before(c.expires):
				missing = append(missing, it.ID)
				if waiting == nil {
					waiting = make([]bool, len(events))
				}
				waiting[k] = true
			case c.found:
				en.apply(it, c.item)
			}
		}
	}
	en.mu.RUnlock()
	if len(missing) > 0 {
		slices.Sort(missing)
		missing = slices.Compact(missing)
		found, err := en.src.Lookup(ctx, missing)
		if err != nil {
			en.log.LogAttrs(ctx, slog.LevelWarn, "catalog unavailable; events go on unenriched",
				slog.Int("items", len(missing)), slog.String("error", err.Error()))
			unenriched = waiting
		} else {
			en.remember(missing, found)
			// An id is either cached or missing within one call, so no item
			// is enriched twice.
			for _, e := range events {
				for i := range e.Items {
					if c, ok := found[e.Items[i].ID]; ok {
						en.apply(&e.Items[i], c)
					}
				}
			}
		}
	}
	for _, e := range events {
		if e.EventType == "PURCHASE" && e.Revenue == nil {
			e.Revenue = Revenue(e.Items)
		}
	}
	return unenriched
}

func (en *Enricher) remember(ids []string, found map[string]Item) {
	if en.cfg.Cache <= 0 {
		return
	}
	expires := en.now().Add(en.cfg.Cache)
	en.mu.Lock()
	defer en.mu.Unlock()
	if len(en.cache)+len(ids) > en.cfg.MaxCached {
		en.cache = map[string]cached{}
	}
	for _, id := range ids {
		it, ok := found[id]
		en.cache[id] = cached{item: it, found: ok, expires: expires}
	}
}

// apply fills (or, when the catalog wins, replaces) one item's fields.
func (en *Enricher) apply(it *event.Item, c Item) {
	if c.Price != nil && (it.Price == nil || en.cfg.CatalogWins) {
		amount := *c.Price.Amount
		it.Price = &event.Money{Currency: c.Price.Currency, Amount: &amount}
	}
	if c.ItemGroupID != "" && (it.ItemGroupID == "" || en.cfg.CatalogWins) {
		it.ItemGroupID = c.ItemGroupID
	}
	if c.SellerID != "" && (it.SellerID == "" || en.cfg.CatalogWins) {
		it.SellerID = c.SellerID
	}
}

// Revenue is Σ price × quantity over items (quantity 1 when absent), or
// nil when an item has no price or the currencies differ: a derived
// revenue is never a guess.
func Revenue(items []event.Item) *event.Money {
	if len(items) == 0 {
		return nil
	}
	var sum float64
	currency := ""
	for _, it := range items {
		if it.Price == nil || it.Price.Amount == nil || it.Price.Currency == "" {
			return nil
		}
		if currency != "" && it.Price.Currency != currency {
			return nil
		}
		currency = it.Price.Currency
		q := int32(1)
		if it.Quantity != nil {
			q = *it.Quantity
		}
		sum += *it.Price.Amount * float64(q)
	}
	return &event.Money{Currency: currency, Amount: &sum}
}

package ingest

import (
	"context"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/catalog"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/suppress"
)

// BenchmarkIngestWarmCatalog is BenchmarkIngest with the catalog enricher
// in front of validation, its cache warm (every item looked up in memory,
// none in the store): the cost enrichment adds to every request.
func BenchmarkIngestWarmCatalog(b *testing.B) {
	benchIngest(b, func(h *harness) {
		f, err := catalog.ParseFile([]byte(`{"sku-1":{"price":12000,"currency":"KRW","item_group_id":"shoes"}}`), nil)
		if err != nil {
			b.Fatal(err)
		}
		en := catalog.New(catalog.Config{Cache: time.Hour}, f, nil, nil)
		en.Enrich(context.Background(), []*event.Event{{Items: []event.Item{{ID: "sku-1"}}}})
		h.svc.catalog = en
	})
}

// BenchmarkIngestGoverned adds the erasure-list check too (on the memory
// ledger, its miss cache warm after the first request), as a deployment
// with a ledger runs it.
func BenchmarkIngestGoverned(b *testing.B) {
	benchIngest(b, func(h *harness) {
		f, _ := catalog.ParseFile([]byte(`{"sku-1":{"price":12000,"currency":"KRW","item_group_id":"shoes"}}`), nil)
		h.svc.catalog = catalog.New(catalog.Config{Cache: time.Hour}, f, nil, nil)
		h.svc.supp = suppress.NewChecker(ledger.NewMemory(nil), time.Hour, nil)
	})
}

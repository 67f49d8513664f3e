package soak

import (
	"fmt"
	"time"
)

// eventTypes are sent in turn, so every mapping rule is exercised.
var eventTypes = []string{"PURCHASE", "SEARCH", "ADD_TO_CART", "PAGE_VIEW",
	"ITEM_PAGE_VIEW", "ADD_TO_WISHLIST", "HOME", "LAND"}

// defect spoils one field of a valid event; Field is what ingest must name.
type defect struct {
	Field string
	spoil func(e map[string]any)
}

var defects = []defect{
	{"user_id", func(e map[string]any) { delete(e, "user_id"); e["device"] = map[string]any{"os": "android"} }},
	{"revenue", func(e map[string]any) { e["event_type"], e["items"] = "PURCHASE", items(); delete(e, "revenue") }},
	{"items", func(e map[string]any) { e["event_type"], e["items"] = "ADD_TO_CART", []any{} }},
	{"timestamp", func(e map[string]any) { e["timestamp"] = 1700000000 }}, // seconds, not milliseconds
	{"device.os", func(e map[string]any) { e["device"] = map[string]any{"os": "windows", "persistent_id": "d"} }},
}

func items() []any {
	return []any{map[string]any{"id": "sku-1", "price": map[string]any{"currency": "USD", "amount": 9.5}, "quantity": 2}}
}

// refusedMarker is the page_id of the events the stand-in refuses with a
// 400 and a long multi-byte message: every refusedEvery-th event, all of
// them PAGE_VIEWs (eventTypes[3]), none malformed.
const (
	refusedMarker = "soak-refused-by-the-platform"
	refusedEvery  = 200
)

func refused(i int) bool { return i%refusedEvery == 3 }

// makeEvent returns event i of a run, valid unless malformed says which
// defect to give it (-1: none).
func makeEvent(run string, i int, at time.Time, malformed int) map[string]any {
	e := map[string]any{"id": fmt.Sprintf("%s-%07d", run, i), "timestamp": at.UnixMilli(), "channel_type": "APP",
		"user_id": fmt.Sprintf("user-%d@example.com", i%5000),
		"device":  map[string]any{"os": "android", "persistent_id": fmt.Sprintf("device-%d", i%7000)}}
	switch t := eventTypes[i%len(eventTypes)]; t {
	case "PURCHASE":
		e["items"], e["revenue"] = items(), map[string]any{"currency": "USD", "amount": 19}
	case "SEARCH":
		e["search_query"] = "running shoes"
	case "ADD_TO_CART", "ITEM_PAGE_VIEW", "ADD_TO_WISHLIST":
		e["items"] = items()
	case "PAGE_VIEW":
		e["page_id"] = "home"
		if refused(i) {
			e["page_id"] = refusedMarker
		}
	case "LAND":
		e["referrer_page_id"] = "campaign-1"
	}
	e["event_type"] = eventTypes[i%len(eventTypes)]
	if malformed >= 0 {
		defects[malformed%len(defects)].spoil(e)
	}
	return e
}

package mcmsink

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The rules below are written from the MCM spec (wire-formats A.2) on
// generic JSON, independently of the project's own validator in
// shared/event, so that a bug there is caught here rather than mirrored.

var (
	eventTypes = words("SEARCH ITEM_PAGE_VIEW ADD_TO_CART PURCHASE ADD_TO_WISHLIST HOME LAND PAGE_VIEW")
	channels   = words("APP SITE DESKTOP_SITE MOBILE_SITE")
	modes      = words("STANDARD METRIC_ONLY ID_LESS")
	currencies = words("USD KRW JPY EUR GBP SEK INR THB IDR CNY CAD RUB BRL SGD HKD AUD PLN DKK VND MYR PHP TRY VES AED CHF")
	needsItems = words("ADD_TO_CART ADD_TO_WISHLIST ITEM_PAGE_VIEW PURCHASE")
	topFields  = words("id event_type timestamp channel_type domain user_id device items revenue search_query page_id " +
		"referrer_page_id session_id custom_id shipping_charge decision_track_id personalization_mode")
	itemFields  = words("id price quantity item_group_id seller_id price_seller")
	moneyFields = words("currency amount")
	badUserIDs  = words("null undefined invalid nil")
)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// check returns the message the real API would give for the first problem
// in body, or "" when the event is acceptable.
func check(body []byte, now time.Time) string {
	var ev map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&ev); err != nil {
		return "invalid JSON body: " + err.Error()
	}
	for k := range ev {
		if !topFields[k] {
			return fmt.Sprintf("unknown field %q", k)
		}
	}
	et, _ := ev["event_type"].(string)
	if !eventTypes[et] {
		return fmt.Sprintf("invalid event_type %q", et)
	}
	ch, _ := ev["channel_type"].(string)
	if !channels[ch] {
		return fmt.Sprintf("invalid channel_type %q", ch)
	}
	if msg := checkTimestamp(ev["timestamp"], now); msg != "" {
		return msg
	}
	if pm, ok := ev["personalization_mode"]; ok && !modes[str(pm)] {
		return "invalid personalization_mode"
	}
	for _, f := range []string{"id", "user_id", "custom_id", "session_id"} {
		if v, ok := ev[f]; ok {
			s, isStr := v.(string)
			if !isStr || len(s) > 128 {
				return f + " must be a string of at most 128 characters"
			}
		}
	}
	if u, ok := ev["user_id"].(string); ok && badUserIDs[strings.ToLower(u)] {
		return "user_id must not be " + u
	}
	device, _ := ev["device"].(map[string]any)
	if _, ok := ev["device"]; ok && device == nil {
		return "device must be an object"
	}
	if msg := checkDevice(device, ch); msg != "" {
		return msg
	}
	if str(ev["user_id"]) == "" && str(device["persistent_id"]) == "" && str(ev["custom_id"]) == "" {
		return "no available valid identifier: set user_id, device.persistent_id or custom_id"
	}
	items, hasItems := ev["items"].([]any)
	if _, ok := ev["items"]; ok && !hasItems {
		return "items must be an array"
	}
	if needsItems[et] && len(items) == 0 {
		return "invalid item: items are required for " + et
	}
	for i, it := range items {
		if msg := checkItem(it); msg != "" {
			return fmt.Sprintf("invalid item %d: %s", i, msg)
		}
	}
	for _, f := range []string{"revenue", "shipping_charge"} {
		if v, ok := ev[f]; ok {
			if msg := checkMoney(v); msg != "" {
				return f + ": " + msg
			}
		}
	}
	switch et {
	case "SEARCH":
		if strings.TrimSpace(str(ev["search_query"])) == "" {
			return "missing search_query"
		}
	case "PAGE_VIEW":
		if strings.TrimSpace(str(ev["page_id"])) == "" {
			return "missing page_id"
		}
	}
	return ""
}

func str(v any) string { s, _ := v.(string); return s }

func checkTimestamp(v any, now time.Time) string {
	var ms int64
	switch t := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(t.String(), 10, 64)
		if err != nil {
			return "invalid timestamp: not an integer"
		}
		ms = n
	case string:
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return "invalid timestamp: not an integer"
		}
		ms = n
	default:
		return "invalid timestamp: missing"
	}
	switch {
	case ms < 1e12: // before Sep 2001 in ms: almost surely seconds
		return "invalid timestamp: milliseconds expected"
	case time.UnixMilli(ms).After(now.Add(time.Minute)):
		return "invalid timestamp: in the future"
	}
	return ""
}

func checkDevice(d map[string]any, channel string) string {
	if d == nil {
		if channel == "APP" {
			return "device os must contain ios or android"
		}
		return ""
	}
	os := strings.ToLower(str(d["os"]))
	if channel == "APP" && !strings.Contains(os, "ios") && !strings.Contains(os, "android") {
		return "device os must contain ios or android"
	}
	if p := str(d["persistent_id"]); len(p) > 128 {
		return "device.persistent_id is longer than 128 characters"
	}
	if a := str(d["advertising_id"]); a != "" && strings.Trim(a, "0-") == "" {
		return "invalid advertising_id: all zeros"
	}
	return ""
}

func checkItem(v any) string {
	it, ok := v.(map[string]any)
	if !ok {
		return "not an object"
	}
	for k := range it {
		if !itemFields[k] {
			return fmt.Sprintf("unknown field %q", k)
		}
	}
	if str(it["id"]) == "" {
		return "id is required"
	}
	for _, f := range []string{"price", "price_seller"} {
		if p, ok := it[f]; ok {
			if msg := checkMoney(p); msg != "" {
				return f + ": " + msg
			}
		}
	}
	if q, ok := it["quantity"]; ok {
		n, isNum := q.(json.Number)
		if !isNum {
			return "quantity must be a number"
		}
		if i, err := strconv.ParseInt(n.String(), 10, 32); err != nil || i < 0 {
			return "quantity must be an int32"
		}
	}
	return ""
}

func checkMoney(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return "money must be an object with currency and amount"
	}
	for k := range m {
		if !moneyFields[k] {
			return fmt.Sprintf("unknown field %q", k)
		}
	}
	if !currencies[str(m["currency"])] {
		return fmt.Sprintf("invalid currency %q", str(m["currency"]))
	}
	n, ok := m["amount"].(json.Number)
	if !ok {
		return "amount is required"
	}
	if f, err := n.Float64(); err != nil || math.IsInf(f, 0) {
		return "amount is not a number"
	}
	return ""
}

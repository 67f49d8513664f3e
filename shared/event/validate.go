package event

import (
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"eventrelay.dev/eventrelay/shared/clip"
)

const (
	maxIDLen = 128
	// minTimestamp (2000-01-01) catches epoch seconds sent where
	// milliseconds belong: 1736402704 s reads as a date in January 1970.
	minTimestamp = Millis(946684800000)
)

// Rules are the checks that depend on the moment and on configuration.
type Rules struct {
	Now time.Time
	// FutureSkew tolerates client clocks that run a little fast; MCM rejects
	// future timestamps, so anything beyond it is refused.
	FutureSkew time.Duration
	// MaxAge refuses events older than this; 0 accepts any age.
	MaxAge time.Duration
}

// Validate applies every rule of the MCM user event (wire-formats A.2) to a
// cleansed event and returns all problems found, not just the first.
func Validate(e *Event, r Rules) []FieldError {
	var v validator
	v.text("id", e.ID)
	v.maxLen("id", e.ID)
	if e.ID != "" && isPlaceholder(e.ID) {
		v.add("id", "is a constant placeholder; omit it and an id is derived from the event")
	}
	v.enum("event_type", e.EventType, EventTypes, true)
	v.enum("channel_type", e.ChannelType, ChannelTypes, true)
	v.enum("personalization_mode", e.PersonalizationMode, PersonalizationModes, false)
	v.timestamp(e.Timestamp, r)
	for _, f := range []struct{ name, value string }{
		{"user_id", e.UserID}, {"custom_id", e.CustomID}, {"session_id", e.SessionID},
	} {
		v.identifier(f.name, f.value)
	}
	for _, f := range []struct{ name, value string }{
		{"domain", e.Domain}, {"search_query", e.SearchQuery}, {"page_id", e.PageID},
		{"referrer_page_id", e.ReferrerPageID}, {"decision_track_id", e.DecisionTrackID},
	} {
		v.text(f.name, f.value)
	}
	v.device(e)
	if e.UserID == "" && e.CustomID == "" && (e.Device == nil || e.Device.PersistentID == "") {
		v.add("user_id", "no identifier: send at least one of user_id, device.persistent_id, custom_id")
	}
	switch e.EventType {
	case "SEARCH":
		v.required("search_query", e.SearchQuery, "is required for SEARCH")
	case "PAGE_VIEW":
		v.required("page_id", e.PageID, "is required for PAGE_VIEW")
	case "PURCHASE":
		if e.Revenue == nil {
			v.add("revenue", "is required for PURCHASE")
		}
	}
	if _, ok := typesNeedingItems[e.EventType]; ok && len(e.Items) == 0 {
		v.add("items", "must hold at least one item for "+e.EventType)
	}
	for i, it := range e.Items {
		// Checked under names relative to the item, which get their
		// items[i]. prefix only when wrong: a valid item builds no names.
		var iv validator
		iv.item(it)
		for _, fe := range iv.errs {
			v.add(fmt.Sprintf("items[%d].%s", i, fe.Field), fe.Reason)
		}
	}
	v.money("revenue", e.Revenue)
	v.money("shipping_charge", e.ShippingCharge)
	return v.errs
}

type validator struct{ errs []FieldError }

// item checks one item; field names are relative to it.
func (v *validator) item(it Item) {
	v.required("id", it.ID, "is required")
	v.maxLen("id", it.ID)
	v.text("id", it.ID)
	v.text("item_group_id", it.ItemGroupID)
	v.text("seller_id", it.SellerID)
	v.money("price", it.Price)
	v.money("price_seller", it.PriceSeller)
	if it.Quantity != nil && *it.Quantity <= 0 {
		v.add("quantity", "must be a positive whole number")
	}
}

func (v *validator) add(field, reason string) {
	v.errs = append(v.errs, FieldError{Field: field, Reason: reason})
}

func (v *validator) required(field, value, reason string) {
	if value == "" {
		v.add(field, reason)
	}
}

func (v *validator) maxLen(field, value string) {
	if len(value) > maxIDLen {
		v.add(field, fmt.Sprintf("is %d bytes; at most %d allowed", len(value), maxIDLen))
	}
}

// text refuses what no legitimate id or label carries and what makes logs,
// terminals and downstream systems misbehave: control characters (C0, DEL
// and C1; a C1 CSI starts an escape sequence in a terminal showing the log),
// the replacement character (a decoding upstream already went wrong), the
// line and paragraph separators (they end a line in JavaScript and in some
// log viewers) and the bidirectional embeddings, overrides and isolates
// (they reorder what a reader sees, so a spoofed id reads as another).
func (v *validator) text(field, value string) {
	if printableASCII(value) {
		return // nearly every value: one pass over the bytes, no rune decoding
	}
	if !utf8.ValidString(value) {
		v.add(field, "is not valid UTF-8")
		return
	}
	for _, r := range value {
		switch {
		case unicode.Is(unicode.Cc, r) || r == utf8.RuneError:
			v.add(field, "contains control or replacement characters")
			return
		case isSeparatorOrBidi(r):
			v.add(field, fmt.Sprintf("contains U+%04X, a line separator or bidirectional formatting character", r))
			return
		}
	}
}

// isSeparatorOrBidi reports U+2028, U+2029 and the bidirectional formatting
// characters that nest (LRE RLE PDF LRO RLO, LRI RLI FSI PDI). The marks
// (LRM, RLM, ALM) stay allowed: right-to-left text uses them in place.
func isSeparatorOrBidi(r rune) bool {
	return r == '\u2028' || r == '\u2029' || ('\u202A' <= r && r <= '\u202E') || ('\u2066' <= r && r <= '\u2069')
}

// printableASCII reports whether s is ASCII without control characters.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func (v *validator) identifier(field, value string) {
	v.maxLen(field, value)
	v.text(field, value)
	if isPlaceholder(value) {
		v.add(field, "is a constant placeholder shared by many users; omit the field instead")
	}
}

func (v *validator) enum(field, value string, allowed map[string]struct{}, required bool) {
	if value == "" {
		if required {
			v.add(field, "is required")
		}
		return
	}
	if _, ok := allowed[value]; !ok {
		v.add(field, fmt.Sprintf("%q is not one of %s", truncate(value, 40), listOf(allowed)))
	}
}

func (v *validator) timestamp(ts Millis, r Rules) {
	switch {
	case ts == 0:
		v.add("timestamp", "is required (epoch milliseconds or RFC 3339)")
	case ts < minTimestamp:
		v.add("timestamp", "is before 2000-01-01; epoch milliseconds are expected, not seconds")
	case ts.Time().After(r.Now.Add(r.FutureSkew)):
		v.add("timestamp", "is in the future")
	case r.MaxAge > 0 && ts.Time().Before(r.Now.Add(-r.MaxAge)):
		v.add("timestamp", fmt.Sprintf("is older than the accepted age of %s", r.MaxAge))
	}
}

func (v *validator) money(field string, m *Money) {
	if m == nil {
		return
	}
	if m.Currency == "" {
		v.add(field+".currency", "is required with an amount")
	} else if _, ok := Currencies[m.Currency]; !ok {
		v.add(field+".currency", fmt.Sprintf("%q is not a supported ISO 4217 code", truncate(m.Currency, 12)))
	}
	switch {
	case m.Amount == nil:
		v.add(field+".amount", "is required with a currency")
	case *m.Amount < 0 || math.IsInf(*m.Amount, 0) || math.IsNaN(*m.Amount):
		v.add(field+".amount", "must be a finite number ≥ 0")
	}
}

func (v *validator) device(e *Event) {
	d := e.Device
	if d == nil {
		if e.ChannelType == "APP" {
			v.add("device.os", `is required for channel APP and must contain "ios" or "android"`)
		}
		return
	}
	if e.ChannelType == "APP" && !strings.Contains(d.OS, "ios") && !strings.Contains(d.OS, "android") {
		v.add("device.os", `must contain "ios" or "android" for channel APP`)
	}
	for _, f := range []struct{ name, value string }{
		{"device.os", d.OS}, {"device.os_version", d.OSVersion}, {"device.model", d.Model},
		{"device.ua", d.UA}, {"device.language", d.Language},
	} {
		v.text(f.name, f.value)
	}
	v.identifier("device.persistent_id", d.PersistentID)
	v.identifier("device.advertising_id", d.AdvertisingID)
	v.identifier("device.unique_device_id", d.UniqueDeviceID)
	if d.IP != "" {
		if a, err := netip.ParseAddr(d.IP); err != nil || !a.Is4() {
			v.add("device.ip", "must be an IPv4 address")
		}
	}
}

// truncate shortens a value quoted in an error, on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return clip.String(s, n) + "…"
}

func listOf(set map[string]struct{}) string {
	// A sorted list keeps error texts stable.
	return strings.Join(slices.Sorted(maps.Keys(set)), ", ")
}

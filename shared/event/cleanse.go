package event

import (
	"strings"
)

// nullLike values mean "unknown" in many SDKs; they are dropped so the
// identity rule sees the truth instead of a string that only looks like data.
var nullLike = setOf("", "null", "undefined", "nil", "none", "(null)", "<null>", "n/a", "na", "invalid")

// placeholders are constant ids that many users share. MCM throttles per
// identifier, so a shared constant id throttles everyone who carries it.
var placeholders = setOf("unknown", "anonymous", "anon", "guest", "default", "user",
	"-1", "test", "device", "idfa", "gaid", "adid", "empty", "no_id", "noid")

// Cleanse trims and normalises an event in place: whitespace trimmed,
// enumerations and currencies upper-cased, os lower-cased, null-like
// identifiers dropped. It never rejects; Validate does that afterwards.
func Cleanse(e *Event) {
	e.ID = strings.TrimSpace(e.ID)
	e.EventType = strings.ToUpper(strings.TrimSpace(e.EventType))
	e.ChannelType = strings.ToUpper(strings.TrimSpace(e.ChannelType))
	e.PersonalizationMode = strings.ToUpper(strings.TrimSpace(e.PersonalizationMode))
	e.Domain = strings.ToLower(strings.TrimSpace(e.Domain))
	e.UserID = identifier(e.UserID)
	e.CustomID = identifier(e.CustomID)
	e.SessionID = identifier(e.SessionID)
	e.SearchQuery = strings.TrimSpace(e.SearchQuery)
	e.PageID = strings.TrimSpace(e.PageID)
	e.ReferrerPageID = strings.TrimSpace(e.ReferrerPageID)
	e.DecisionTrackID = strings.TrimSpace(e.DecisionTrackID)
	cleanseMoney(e.Revenue)
	cleanseMoney(e.ShippingCharge)
	for i := range e.Items {
		it := &e.Items[i]
		it.ID = strings.TrimSpace(it.ID)
		it.ItemGroupID = strings.TrimSpace(it.ItemGroupID)
		it.SellerID = strings.TrimSpace(it.SellerID)
		cleanseMoney(it.Price)
		cleanseMoney(it.PriceSeller)
	}
	if d := e.Device; d != nil {
		d.OS = strings.ToLower(strings.TrimSpace(d.OS))
		if d.OS == "ipados" {
			d.OS = "ios"
		}
		d.OSVersion = strings.TrimSpace(d.OSVersion)
		d.Model = strings.TrimSpace(d.Model)
		d.UA = strings.TrimSpace(d.UA)
		d.Language = strings.ToLower(strings.TrimSpace(d.Language))
		d.PersistentID = DeviceID(identifier(d.PersistentID))
		d.AdvertisingID = DeviceID(identifier(d.AdvertisingID))
		d.UniqueDeviceID = DeviceID(identifier(d.UniqueDeviceID))
		d.IP = strings.TrimSpace(d.IP)
		if *d == (Device{}) {
			e.Device = nil
		}
	}
}

func cleanseMoney(m *Money) {
	if m != nil {
		m.Currency = strings.ToUpper(strings.TrimSpace(m.Currency))
	}
}

func identifier(s string) string {
	s = strings.TrimSpace(s)
	if _, ok := nullLike[strings.ToLower(s)]; ok {
		return ""
	}
	return s
}

// AbsentID reports an identifier that identifies nobody: empty, a null-like
// word ("null", "(null)", ...) or a constant placeholder, the all-zero
// IDFA/GAID of a device without tracking consent included. Ingest refuses
// such a value (Validate); verify treats it, on a callback and in the
// ledger, as no identifier at all. One rule for both.
func AbsentID(s string) bool {
	s = identifier(s)
	return s == "" || isPlaceholder(s)
}

// isPlaceholder reports a constant id: a known placeholder word or a value
// made only of zeros and separators (the all-zero IDFA/GAID).
func isPlaceholder(s string) bool {
	if s == "" {
		return false
	}
	if len(s) <= 3*maxPlaceholderLen { // the Kelvin sign's 3 bytes lower-case to "k"
		if _, ok := placeholders[strings.ToLower(s)]; ok {
			return true
		}
	}
	return strings.Trim(s, "0-:_ ") == ""
}

// maxPlaceholderLen is the longest placeholder's length: an id over three
// times as long (a UUID, a hash) cannot lower-case to one, and is not
// lower-cased and looked up.
var maxPlaceholderLen = func() int {
	n := 0
	for p := range placeholders {
		n = max(n, len(p))
	}
	return n
}()

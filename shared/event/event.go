// Package event is the canonical user event: the shape ingest accepts, the
// queue carries and the forwarder sends. It maps 1:1 onto the Moloco MCM
// User Event API body (snake_case, empty fields omitted), so the forwarder's
// mapping is a straight copy and nothing is renamed on the way.
package event

// Enumerations accepted by the MCM User Event API (wire-formats A.2).
var (
	EventTypes = setOf("SEARCH", "ITEM_PAGE_VIEW", "ADD_TO_CART", "PURCHASE",
		"ADD_TO_WISHLIST", "HOME", "LAND", "PAGE_VIEW")
	ChannelTypes         = setOf("APP", "SITE", "DESKTOP_SITE", "MOBILE_SITE")
	PersonalizationModes = setOf("STANDARD", "METRIC_ONLY", "ID_LESS")
	Currencies           = setOf("USD", "KRW", "JPY", "EUR", "GBP", "SEK", "INR", "THB",
		"IDR", "CNY", "CAD", "RUB", "BRL", "SGD", "HKD", "AUD", "PLN", "DKK", "VND",
		"MYR", "PHP", "TRY", "VES", "AED", "CHF")
	// typesNeedingItems must carry a non-empty items array.
	typesNeedingItems = setOf("ADD_TO_CART", "ADD_TO_WISHLIST", "ITEM_PAGE_VIEW", "PURCHASE")
)

// Event is one user event. Pointers mark values whose zero is meaningful or
// whose absence must be told apart from zero.
type Event struct {
	ID                  string  `json:"id,omitempty"`
	EventType           string  `json:"event_type"`
	Timestamp           Millis  `json:"timestamp"`
	ChannelType         string  `json:"channel_type"`
	Domain              string  `json:"domain,omitempty"`
	UserID              string  `json:"user_id,omitempty"`
	Device              *Device `json:"device,omitempty"`
	Items               []Item  `json:"items,omitempty"`
	Revenue             *Money  `json:"revenue,omitempty"`
	SearchQuery         string  `json:"search_query,omitempty"`
	PageID              string  `json:"page_id,omitempty"`
	ReferrerPageID      string  `json:"referrer_page_id,omitempty"`
	SessionID           string  `json:"session_id,omitempty"`
	CustomID            string  `json:"custom_id,omitempty"`
	ShippingCharge      *Money  `json:"shipping_charge,omitempty"`
	DecisionTrackID     string  `json:"decision_track_id,omitempty"`
	PersonalizationMode string  `json:"personalization_mode,omitempty"`
	// Consent is ours, not MCM's: whether the user agreed to advertising
	// use of their events. Absent means the source's default (see the
	// docs/data-governance.md). Ingest refuses an event without consent and
	// removes the field from every event it queues, so it never reaches the
	// platform.
	Consent *bool `json:"consent,omitempty"`
}

// Device describes the device the event came from.
type Device struct {
	OS             string `json:"os,omitempty"`
	OSVersion      string `json:"os_version,omitempty"`
	Model          string `json:"model,omitempty"`
	UA             string `json:"ua,omitempty"`
	Language       string `json:"language,omitempty"`
	PersistentID   string `json:"persistent_id,omitempty"`
	AdvertisingID  string `json:"advertising_id,omitempty"`
	UniqueDeviceID string `json:"unique_device_id,omitempty"`
	IP             string `json:"ip,omitempty"`
}

// Item is one product in an event.
type Item struct {
	ID          string `json:"id"`
	Price       *Money `json:"price,omitempty"`
	Quantity    *int32 `json:"quantity,omitempty"`
	ItemGroupID string `json:"item_group_id,omitempty"`
	SellerID    string `json:"seller_id,omitempty"`
	PriceSeller *Money `json:"price_seller,omitempty"`
}

// Money is an amount in a currency; MCM requires both fields.
type Money struct {
	Currency string   `json:"currency"`
	Amount   *float64 `json:"amount"`
}

// FieldError names the field that is wrong and why, in the caller's terms.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func setOf(values ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(values))
	for _, v := range values {
		m[v] = struct{}{}
	}
	return m
}

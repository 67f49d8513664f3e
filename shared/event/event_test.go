package event

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const nowMs = "1795348800000" // testNow in epoch ms

var rules = Rules{Now: testNow, FutureSkew: 10 * time.Second}

// valid is a PURCHASE that passes every rule; cases edit it with a patch.
const valid = `{"id":"evt_7f3a","event_type":"PURCHASE","timestamp":` + nowMs + `,"channel_type":"APP",
 "user_id":"u-123","device":{"os":"android","os_version":"14","persistent_id":"p-1","ip":"203.0.113.7"},
 "items":[{"id":"sku-1","price":{"currency":"KRW","amount":12000},"quantity":2,"seller_id":"s-9"}],
 "revenue":{"currency":"KRW","amount":24000},"page_id":"checkout"}`

func check(t *testing.T, raw string) (Event, []FieldError) {
	t.Helper()
	e, ferr := Decode([]byte(raw))
	sameAsDecode(t, []byte(raw), e, ferr)
	if ferr != nil {
		return e, []FieldError{*ferr}
	}
	Cleanse(&e)
	return e, Validate(&e, rules)
}

// patch merges a JSON object into valid; a null value deletes the key.
func patch(t *testing.T, p string) string {
	t.Helper()
	var base, over map[string]any
	if err := json.Unmarshal([]byte(valid), &base); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(p), &over); err != nil {
		t.Fatalf("patch %s: %v", p, err)
	}
	for k, v := range over {
		if v == nil {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	b, _ := json.Marshal(base)
	return string(b)
}

func TestValidAccepted(t *testing.T) {
	e, errs := check(t, valid)
	if len(errs) != 0 {
		t.Fatalf("valid event rejected: %v", errs)
	}
	if e.Timestamp != 1795348800000 || e.Device.OS != "android" || *e.Items[0].Quantity != 2 {
		t.Fatalf("decoded wrongly: %+v", e)
	}
}

func TestRules(t *testing.T) {
	cases := []struct {
		name, patch, field, reason string // reason: a substring; "" means accepted
	}{
		// event_type
		{"event type missing", `{"event_type":null}`, "event_type", "is required"},
		{"event type unknown", `{"event_type":"CHECKOUT"}`, "event_type", "not one of"},
		{"event type proto default", `{"event_type":"UNKNOWN_EVENT_TYPE"}`, "event_type", "not one of"},
		{"event type lower case normalised", `{"event_type":"purchase"}`, "", ""},
		// channel_type
		{"channel missing", `{"channel_type":null}`, "channel_type", "is required"},
		{"channel unknown", `{"channel_type":"TV"}`, "channel_type", "not one of"},
		{"channel site needs no os", `{"channel_type":"SITE","device":{"persistent_id":"p"}}`, "", ""},
		// timestamp
		{"timestamp missing", `{"timestamp":null}`, "timestamp", "is required"},
		{"timestamp in seconds", `{"timestamp":1736402704}`, "timestamp", "not seconds"},
		{"timestamp in the future", `{"timestamp":1795348900000}`, "timestamp", "in the future"},
		{"timestamp within skew", `{"timestamp":1795348805000}`, "", ""},
		{"timestamp as numeric string", `{"timestamp":"1795348800000"}`, "", ""},
		{"timestamp as RFC 3339", `{"timestamp":"2026-11-22T11:59:59.5Z"}`, "", ""},
		{"timestamp as RFC 3339 with offset", `{"timestamp":"2026-11-22T20:59:00+09:00"}`, "", ""},
		{"timestamp garbage string", `{"timestamp":"yesterday"}`, "timestamp", "epoch milliseconds"},
		{"timestamp fractional", `{"timestamp":1795348800000.5}`, "timestamp", "epoch milliseconds"},
		{"timestamp exponent form", `{"timestamp":1.7953488e12}`, "", ""},
		{"timestamp bool", `{"timestamp":true}`, "timestamp", "epoch milliseconds"},
		// identity rule
		{"no identifier", `{"user_id":null,"device":{"os":"ios"}}`, "user_id", "no identifier"},
		{"only custom id", `{"user_id":null,"custom_id":"c-1","device":{"os":"ios"}}`, "", ""},
		{"only persistent id", `{"user_id":null,"device":{"os":"ios","persistent_id":"p-9"}}`, "", ""},
		{"null-like user id dropped", `{"user_id":"undefined","device":{"os":"ios"}}`, "user_id", "no identifier"},
		{"user id invalid word dropped", `{"user_id":"invalid","device":{"os":"ios"}}`, "user_id", "no identifier"},
		{"placeholder user id", `{"user_id":"anonymous"}`, "user_id", "placeholder"},
		{"zero advertising id", `{"device":{"os":"ios","persistent_id":"p","advertising_id":"00000000-0000-0000-0000-000000000000"}}`, "device.advertising_id", "placeholder"},
		{"user id too long", `{"user_id":"` + strings.Repeat("u", 129) + `"}`, "user_id", "at most 128"},
		{"custom id too long", `{"custom_id":"` + strings.Repeat("c", 129) + `"}`, "custom_id", "at most 128"},
		{"session id too long", `{"session_id":"` + strings.Repeat("s", 129) + `"}`, "session_id", "at most 128"},
		{"id too long", `{"id":"` + strings.Repeat("i", 129) + `"}`, "id", "at most 128"},
		{"persistent id too long", `{"device":{"os":"ios","persistent_id":"` + strings.Repeat("p", 129) + `"}}`, "device.persistent_id", "at most 128"},
		{"placeholder event id", `{"id":"0"}`, "id", "placeholder"},
		{"control character", `{"user_id":"a\u0001b"}`, "user_id", "control"},
		{"C1 control character", `{"page_id":"a\u009bb"}`, "page_id", "control"},
		{"bidirectional override", `{"id":"evt-\u202e1"}`, "id", "U+202E"},
		{"unicode user id fine", `{"user_id":"사용자-ü-😀"}`, "", ""},
		// device
		{"app without device", `{"device":null}`, "device.os", "required for channel APP"},
		{"app with other os", `{"device":{"os":"windows","persistent_id":"p"}}`, "device.os", "ios"},
		{"os normalised", `{"device":{"os":"  Android ","persistent_id":"p"}}`, "", ""},
		{"ipados means ios", `{"device":{"os":"iPadOS","persistent_id":"p"}}`, "", ""},
		{"ip v6 refused", `{"device":{"os":"ios","ip":"2001:db8::1"}}`, "device.ip", "IPv4"},
		{"ip garbage", `{"device":{"os":"ios","ip":"999.1.1.1"}}`, "device.ip", "IPv4"},
		{"device extra field", `{"device":{"os":"ios","gpu":"x"}}`, "device.gpu", "unknown field"},
		// items
		{"purchase without items", `{"items":null}`, "items", "at least one item"},
		{"purchase with empty items", `{"items":[]}`, "items", "at least one item"},
		{"add to cart without items", `{"event_type":"ADD_TO_CART","items":null,"revenue":null}`, "items", "ADD_TO_CART"},
		{"wishlist without items", `{"event_type":"ADD_TO_WISHLIST","items":null}`, "items", "ADD_TO_WISHLIST"},
		{"item page view without items", `{"event_type":"ITEM_PAGE_VIEW","items":null}`, "items", "ITEM_PAGE_VIEW"},
		{"home without items fine", `{"event_type":"HOME","items":null,"revenue":null}`, "", ""},
		{"item without id", `{"items":[{"quantity":1}]}`, "items[0].id", "is required"},
		{"item zero quantity", `{"items":[{"id":"a","quantity":0}]}`, "items[0].quantity", "positive"},
		{"item quantity overflow", `{"items":[{"id":"a","quantity":99999999999}]}`, "items.quantity", "number"},
		{"item quantity string", `{"items":[{"id":"a","quantity":"2"}]}`, "items.quantity", "must be a number"},
		{"item price without currency", `{"items":[{"id":"a","price":{"amount":1}}]}`, "items[0].price.currency", "is required"},
		{"item price without amount", `{"items":[{"id":"a","price":{"currency":"USD"}}]}`, "items[0].price.amount", "is required"},
		{"item price bad currency", `{"items":[{"id":"a","price":{"currency":"XXX","amount":1}}]}`, "items[0].price.currency", "ISO 4217"},
		{"item price as bare number", `{"items":[{"id":"a","price":12000}]}`, "items.price", "an object"},
		{"item unknown field", `{"items":[{"id":"a","colour":"red"}]}`, "items[0].colour", "unknown field"},
		// money
		{"purchase without revenue", `{"revenue":null}`, "revenue", "required for PURCHASE"},
		{"revenue negative", `{"revenue":{"currency":"USD","amount":-1}}`, "revenue.amount", "≥ 0"},
		{"revenue currency lower case normalised", `{"revenue":{"currency":"usd","amount":1}}`, "", ""},
		{"unknown currency enum value", `{"revenue":{"currency":"UNKNOWN_CURRENCY","amount":1}}`, "revenue.currency", "ISO 4217"},
		{"shipping charge checked", `{"shipping_charge":{"currency":"EUR"}}`, "shipping_charge.amount", "is required"},
		// per-type requirements
		{"search without query", `{"event_type":"SEARCH","items":null,"revenue":null}`, "search_query", "required for SEARCH"},
		{"search with blank query", `{"event_type":"SEARCH","search_query":"   "}`, "search_query", "required for SEARCH"},
		{"search with query", `{"event_type":"SEARCH","search_query":"shoes"}`, "", ""},
		{"page view without page id", `{"event_type":"PAGE_VIEW","page_id":null}`, "page_id", "required for PAGE_VIEW"},
		{"land fine", `{"event_type":"LAND","referrer_page_id":"ad"}`, "", ""},
		// other fields
		{"personalization mode", `{"personalization_mode":"ID_LESS"}`, "", ""},
		{"personalization mode unknown", `{"personalization_mode":"MAGIC"}`, "personalization_mode", "not one of"},
		{"unknown top-level field", `{"userId":"x"}`, "userId", "unknown field"},
		{"wrong type string field", `{"user_id":42}`, "user_id", "must be a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errs := check(t, patch(t, c.patch))
			if c.field == "" {
				if len(errs) != 0 {
					t.Fatalf("want accepted, got %v", errs)
				}
				return
			}
			for _, e := range errs {
				if e.Field == c.field && strings.Contains(e.Reason, c.reason) {
					return
				}
			}
			t.Fatalf("want error on %s containing %q, got %v", c.field, c.reason, errs)
		})
	}
}

func TestCleanseNormalises(t *testing.T) {
	e, errs := check(t, patch(t, `{"user_id":"  u-1 ","custom_id":"null","domain":" Shop.Example ",
		"revenue":{"currency":" krw","amount":5},"device":{"os":"IOS","language":"EN","persistent_id":"nil"}}`))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if e.UserID != "u-1" || e.CustomID != "" || e.Domain != "shop.example" || e.Revenue.Currency != "KRW" ||
		e.Device.OS != "ios" || e.Device.Language != "en" || e.Device.PersistentID != "" {
		t.Fatalf("not normalised: %+v %+v", e, e.Device)
	}
}

func TestAllErrorsReported(t *testing.T) {
	_, errs := check(t, `{"event_type":"NOPE","channel_type":"NOPE","timestamp":5}`)
	fields := map[string]bool{}
	for _, e := range errs {
		fields[e.Field] = true
	}
	for _, f := range []string{"event_type", "channel_type", "timestamp", "user_id"} {
		if !fields[f] {
			t.Errorf("no error for %s in %v", f, errs)
		}
	}
}

func TestSplit(t *testing.T) {
	cases := []struct {
		name, body string
		n          int
		err        string
	}{
		{"single object", `{"event_type":"HOME"}`, 1, ""},
		{"array", `[{"a":1},{"b":2},{}]`, 3, ""},
		{"envelope", `{"events":[{"a":1},{"b":2}]}`, 2, ""},
		{"envelope with other keys", `{"events":[{}],"x":1}`, 0, "no other keys"},
		{"envelope not array", `{"events":{"a":1}}`, 0, "must be an array"},
		{"envelope null", `{"events":null}`, 0, "must be an array"},
		{"empty array", `[]`, 0, "no events"},
		{"empty envelope", `{"events":[]}`, 0, "no events"},
		{"empty body", `   `, 0, "empty"},
		{"scalar", `42`, 0, "must be a JSON object"},
		{"truncated", `[{"a":1},{"b":`, 0, "malformed JSON"},
		{"trailing garbage", `[{"a":1}] x`, 0, "malformed JSON"},
		{"array of scalars splits", `[1,"x",null]`, 3, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raws, err := Split([]byte(c.body))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("want error containing %q, got %v", c.err, err)
				}
				return
			}
			if err != nil || len(raws) != c.n {
				t.Fatalf("want %d events, got %d (%v)", c.n, len(raws), err)
			}
		})
	}
}

func TestDecodeNonObject(t *testing.T) {
	for _, raw := range []string{`1`, `"x"`, `null`, `[]`} {
		if _, ferr := Decode([]byte(raw)); ferr == nil || !strings.Contains(ferr.Reason, "JSON object") {
			t.Errorf("%s: want object error, got %v", raw, ferr)
		}
	}
}

func TestDeriveIDStable(t *testing.T) {
	a, _ := check(t, patch(t, `{"id":null}`))
	b, _ := check(t, patch(t, `{"id":null,"user_id":"  u-123  "}`)) // same after cleansing
	c, _ := check(t, patch(t, `{"id":null,"user_id":"u-124"}`))
	ida, idb, idc := DeriveID("src", &a), DeriveID("src", &b), DeriveID("src", &c)
	if ida != idb {
		t.Errorf("same content, different ids: %s %s", ida, idb)
	}
	if ida == idc || ida == DeriveID("other-source", &a) {
		t.Errorf("different content or source, same id")
	}
	if len(ida) > maxIDLen || !strings.HasPrefix(ida, "d-") {
		t.Errorf("bad derived id %q", ida)
	}
}

func TestDeriveIDAndEncodeMatchesMarshal(t *testing.T) {
	for _, extra := range []string{`{"id":null}`, `{"id":null,"user_id":"<a&b>"}`, `{"id":null,"device":null,"items":null}`} {
		e, _ := check(t, patch(t, extra))
		id, body := DeriveIDAndEncode("src", &e)
		if e.ID != "" {
			t.Fatalf("e.ID changed to %q", e.ID)
		}
		if id != DeriveID("src", &e) {
			t.Errorf("ids differ: %s %s", id, DeriveID("src", &e))
		}
		e.ID = id
		want, _ := json.Marshal(e)
		if string(body) != string(want) {
			t.Errorf("body differs from json.Marshal:\n%s\n%s", body, want)
		}
	}
}

func TestMillisEncodesAsNumber(t *testing.T) {
	e, _ := check(t, patch(t, `{"timestamp":"2026-11-22T12:00:00Z"}`))
	b, _ := json.Marshal(e)
	if !strings.Contains(string(b), `"timestamp":`+nowMs) {
		t.Fatalf("timestamp not a number in %s", b)
	}
	if strings.Contains(string(b), `"domain"`) || strings.Contains(string(b), `"search_query"`) {
		t.Fatalf("empty fields not omitted: %s", b)
	}
}

// sameAsDecode checks that DecodeInto decodes raw to what Decode gave: the
// same event, or the same error with the same partial event.
func sameAsDecode(t *testing.T, raw []byte, want Event, wantErr *FieldError) {
	t.Helper()
	var got Event
	gotErr := DecodeInto(raw, &got)
	if !identical(got, want) || !reflect.DeepEqual(gotErr, wantErr) {
		t.Fatalf("DecodeInto differs from Decode on %s:\n got  %+v, %v\n want %+v, %v", raw, got, gotErr, want, wantErr)
	}
}

// TestDecoderSequence: DecodeInto through good events, bad ones, values
// with bytes after them and non-objects, in turn, answers as Decode.
func TestDecoderSequence(t *testing.T) {
	for _, raw := range []string{valid, `{"userId":"x"}`, valid, `{"user_id":42}`, `{"id":"a"} {"id":"b"}`,
		`{"id":"c"}`, `[1]`, ` {"id":"d"} `, `{"id":`, valid, `{"timestamp":"yesterday"}`, `{"id":"e"}`, `null`, ``} {
		e, ferr := Decode([]byte(raw))
		sameAsDecode(t, []byte(raw), e, ferr)
	}
}

func TestPlaceholders(t *testing.T) {
	for s, want := range map[string]bool{
		"unknown": true, "UNKNOWN": true, "Guest": true, "un\u212Anown": true, // the Kelvin sign lower-cases to k
		"0000-0000": true, "00000000-0000-0000-0000-000000000000": true, "__": true,
		"": false, "unknown-1": false, "3f8e2a41-6b1d-4a77-9c0e-000000000001": false, "user-1@example.com": false,
	} {
		if got := isPlaceholder(s); got != want {
			t.Errorf("isPlaceholder(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestTextRefusesControlCharacters(t *testing.T) {
	for s, want := range map[string]string{
		"Pixel 8": "", "café": "", "Mozilla/5.0 (Linux; Android 14)": "",
		"a\tb": "contains control or replacement characters", "a\x7fb": "contains control or replacement characters",
		"a\uFFFDb": "contains control or replacement characters",
		// C1 controls: NEL, and CSI, which a terminal reads as an escape.
		"a\u0085b": "contains control or replacement characters", "a\u009b31mb": "contains control or replacement characters",
		"id\u2028x":          "contains U+2028, a line separator or bidirectional formatting character",
		"user-\u202Egnp.exe": "contains U+202E, a line separator or bidirectional formatting character",
		"\u2066user\u2069":   "contains U+2066, a line separator or bidirectional formatting character",
		// Right-to-left text keeps its marks, and an emoji its joiner.
		"\u05E9\u05DC\u05D5\u05DD\u200F": "", "\U0001F469\u200D\U0001F4BB": "", "\u00A0x": "",
		"a\xffb": "is not valid UTF-8",
	} {
		var v validator
		v.text("f", s)
		got := ""
		if len(v.errs) > 0 {
			got = v.errs[0].Reason
		}
		if got != want {
			t.Errorf("text(%q): %q, want %q", s, got, want)
		}
	}
}

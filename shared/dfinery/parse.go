package dfinery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Callback is what a verification request says happened.
type Callback struct {
	EventName string
	EventTime time.Time // zero when the body carries none
	// DFINERY's identity macros, as sent ({req.common.identity.*}): ADID
	// is the GAID on Android and the IDFA on iOS; GAID and IDFA name the
	// platform's advertising id explicitly; IDFV is Apple's vendor id.
	// Without tracking consent the advertising ids are the all-zero UUID.
	ADID, GAID, IDFA, IDFV string
	UserID                 string
	OrderID                string
	Revenue                *float64
	Currency               string
	AppKey                 string
	// Fields is every key of the body, flattened ("req.common.identity.adid"
	// for nested JSON), with param_json's keys under "param.".
	Fields map[string]string
}

// FieldMap names, for each field, the body keys that may carry it, first
// match wins. The operator writes DFINERY's body template, so the keys are
// theirs to choose; the defaults accept the plain names and the macro names.
type FieldMap struct {
	EventName, EventTimestamp, EventDatetime []string
	ADID, GAID, IDFA, IDFV, UserID, AppKey   []string
	ParamJSON, UserPropertiesJSON            []string
	// Looked up among param_json's keys (as "param.<key>") and then the body.
	OrderID, Revenue, Currency []string
}

// DefaultFieldMap accepts the macro names of DFINERY's templates and the
// obvious short names.
func DefaultFieldMap() FieldMap {
	return FieldMap{
		EventName:          []string{"event_name", "req.evt.event_name", "evt.event_name"},
		EventTimestamp:     []string{"event_timestamp", "req.evt.event_timestamp", "evt.event_timestamp", "event_timestamp_d", "req.evt.event_timestamp_d"},
		EventDatetime:      []string{"event_datetime", "req.evt.event_datetime", "evt.event_datetime"},
		ADID:               []string{"adid", "req.common.identity.adid", "common.identity.adid"},
		GAID:               []string{"gaid", "req.common.identity.gaid", "common.identity.gaid"},
		IDFA:               []string{"idfa", "req.common.identity.idfa", "common.identity.idfa"},
		IDFV:               []string{"idfv", "req.common.identity.idfv", "common.identity.idfv"},
		UserID:             []string{"user_id", "userid", "req.common.identity.user_id", "param.user_id"},
		AppKey:             []string{"appkey", "app_key", "req.common.appkey", "common.appkey"},
		ParamJSON:          []string{"param_json", "req.evt.param_json", "evt.param_json"},
		UserPropertiesJSON: []string{"user_properties_json", "req.evt.user_properties_json"},
		OrderID:            OrderIDKeys(DefaultOrderIDKey),
		// abx:order_sales is the purchase's amount in DFINERY's SDK
		// (ABEventProperty.ORDER_SALES; "order_sales" in "Type information").
		Revenue: []string{"param.abx:order_sales", "param.order_sales", "param.abx:sales", "param.sales",
			"param.revenue", "param.amount", "revenue", "sales"},
		Currency: []string{"param.abx:currency", "param.currency", "currency"},
	}
}

// OrderIDKeys are the keys tried for the order id when key is the
// configured param_json key: key itself, then DFINERY's other spellings,
// then the body's own field.
func OrderIDKeys(key string) []string {
	out := []string{"param." + key}
	for _, k := range []string{DefaultOrderIDKey, "order_id", "df_order_id"} {
		if k != key {
			out = append(out, "param."+k)
		}
	}
	return append(out, key)
}

// Parse reads body according to contentType: form-encoded or JSON, and
// when the type is missing or something else, whichever parses. An
// event_datetime without an offset is read in zone (nil: UTC).
func Parse(contentType string, body []byte, fm FieldMap, zone *time.Location) (*Callback, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	var fields map[string]string
	var err error
	switch {
	case mt == "application/x-www-form-urlencoded":
		fields, err = parseForm(body)
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		fields, err = parseJSON(body)
	default:
		if fields, err = parseJSON(body); err != nil {
			fields, err = parseForm(body)
		}
	}
	if err != nil {
		return nil, err
	}
	for _, prefix := range []struct {
		keys []string
		as   string
	}{{fm.ParamJSON, "param."}, {fm.UserPropertiesJSON, "user_properties."}} {
		if raw, ok := first(fields, prefix.keys); ok && raw != "" {
			// The macro's usual form: a JSON string inside the body.
			nested, err := parseJSON([]byte(raw))
			if err != nil {
				return nil, fmt.Errorf("%s is not a JSON object: %w", prefix.keys[0], err)
			}
			for k, v := range nested {
				fields[prefix.as+k] = v
			}
			continue
		}
		// A JSON body may carry it as a nested object instead, which
		// flattening turned into "param_json.<key>".
		for _, key := range prefix.keys {
			for k, v := range fields {
				if rest, ok := strings.CutPrefix(k, key+"."); ok {
					fields[prefix.as+rest] = v
				}
			}
		}
	}
	cb := &Callback{Fields: fields}
	cb.EventName, _ = first(fields, fm.EventName)
	cb.ADID, _ = first(fields, fm.ADID)
	cb.GAID, _ = first(fields, fm.GAID)
	cb.IDFA, _ = first(fields, fm.IDFA)
	cb.IDFV, _ = first(fields, fm.IDFV)
	cb.UserID, _ = first(fields, fm.UserID)
	cb.AppKey, _ = first(fields, fm.AppKey)
	cb.OrderID, _ = first(fields, fm.OrderID)
	cb.Currency, _ = first(fields, fm.Currency)
	cb.Currency = strings.ToUpper(cb.Currency)
	if v, ok := first(fields, fm.Revenue); ok && v != "" {
		f, err := finite(v)
		if err != nil {
			return nil, fmt.Errorf("revenue %q is not a finite number", v)
		}
		cb.Revenue = &f
	}
	if v, ok := first(fields, fm.EventTimestamp); ok && v != "" {
		if cb.EventTime, err = parseEpoch(v); err != nil {
			return nil, err
		}
	} else if v, ok := first(fields, fm.EventDatetime); ok && v != "" {
		if cb.EventTime, err = parseDatetime(v, zone); err != nil {
			return nil, err
		}
	}
	return cb, nil
}

func first(fields map[string]string, keys []string) (string, bool) {
	for _, k := range keys {
		if v, ok := fields[k]; ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

func parseForm(body []byte) (map[string]string, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("form body: %w", err)
	}
	if len(vals) == 0 {
		return nil, errors.New("the body holds no fields")
	}
	out := make(map[string]string, len(vals))
	for k, v := range vals {
		out[k] = v[0]
	}
	return out, nil
}

func parseJSON(body []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("JSON body: %w", err)
	}
	if dec.More() {
		return nil, errors.New("JSON body: data after the object")
	}
	out := map[string]string{}
	flatten("", obj, out, 0)
	return out, nil
}

// flatten turns nested objects into dotted keys; depth is bounded so a
// hostile body cannot make it recurse without end. Keys are visited in
// order, so when two spellings flatten to one key ({"a.b":1,"a":{"b":2}})
// the same one wins every time.
func flatten(prefix string, v any, out map[string]string, depth int) {
	switch t := v.(type) {
	case map[string]any:
		if depth > 8 {
			return
		}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			child := t[k]
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flatten(key, child, out, depth+1)
		}
	case string:
		out[prefix] = t
	case json.Number:
		out[prefix] = t.String()
	case bool:
		out[prefix] = strconv.FormatBool(t)
	case nil:
		out[prefix] = ""
	default: // arrays keep their JSON text
		b, _ := json.Marshal(t)
		out[prefix] = string(b)
	}
}

// finite reads a decimal number: NaN and the infinities (which ParseFloat
// accepts, in any case) are no amount, and a NaN compares unequal to
// everything, so it would slip past a "differs by more than" check.
func finite(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("not finite")
	}
	return f, nil
}

// parseEpoch reads seconds or milliseconds, told apart by size.
func parseEpoch(v string) (time.Time, error) {
	f, err := finite(v)
	if err != nil || f <= 0 || f >= 1e15 {
		return time.Time{}, fmt.Errorf("event timestamp %q is not a Unix time", v)
	}
	if f > 1e11 { // milliseconds: 1e11 s is the year 5138
		return time.UnixMilli(int64(f)).UTC(), nil
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
}

// datetimeLayouts: with an offset first, then the zone-less forms
// templates use, read in the configured zone.
var datetimeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.000", "2006-01-02 15:04:05",
	"2006-01-02T15:04:05.999999999", "20060102150405"}

func parseDatetime(v string, zone *time.Location) (time.Time, error) {
	if zone == nil {
		zone = time.UTC
	}
	for _, l := range datetimeLayouts {
		if t, err := time.ParseInLocation(l, v, zone); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("event datetime %q is not a time this verifier reads", v)
}

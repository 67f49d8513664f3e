package dfinery

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Vectors computed with openssl, independently of this package:
//
//	printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$KEY" -binary | base64
const (
	key     = "3f2b8c1e-6a4d-4e2b-9c1a-7d5e8f0a1b2c" // DFINERY issues keys as UUID text
	oldKey  = "4a0e1c2d-0000-4111-8222-933344455566"
	form    = `adid=9f1c2d3e-aaaa-bbbb-cccc-123456789abc&event_name=purchase&event_timestamp=1795348700000&param_json=%7B%22abx%3Aorder_id%22%3A%22ord-77%22%2C%22abx%3Asales%22%3A24000%2C%22abx%3Acurrency%22%3A%22KRW%22%7D`
	formMAC = "x2UC+e7vun8HT80Tqe4ZHqrfQtJkkj7tilbX2i66Bt4="
	formOld = "aDMnhEhlbzubFYuJ8M+7vFYHGFMX4ZLPm0VULB935yU="
	jsonB   = `{"req":{"common":{"identity":{"adid":"9f1c2d3e-aaaa-bbbb-cccc-123456789abc"}},"evt":{"event_name":"purchase","event_timestamp":1795348700000,"param_json":"{\"abx:order_id\":\"ord-77\",\"abx:sales\":24000}"}}}`
	jsonMAC = "KVu74JPM0LMf8ndlWw67k0A/Fjtq4NKa71gJj3zJGjo="
	jsonURL = "KVu74JPM0LMf8ndlWw67k0A_Fjtq4NKa71gJj3zJGjo"
)

func TestVerifyHash(t *testing.T) {
	keys := [][]byte{[]byte(key), []byte(oldKey)}
	cases := []struct {
		name, header, body string
		want               error
		index              int
	}{
		{"form, standard base64", formMAC, form, nil, 0},
		{"json, standard base64", jsonMAC, jsonB, nil, 0},
		{"json, url-safe unpadded", jsonURL, jsonB, nil, 0},
		{"json, url-safe padded", jsonURL + "=", jsonB, nil, 0},
		{"json, standard unpadded", strings.TrimRight(jsonMAC, "="), jsonB, nil, 0},
		{"rotated: old key still active", formOld, form, nil, 1},
		{"missing", "", form, ErrUnsigned, -1},
		{"forged", "AAAA" + formMAC[4:], form, ErrBadSignature, -1},
		{"truncated body", formMAC, form[:len(form)-3], ErrBadSignature, -1},
		{"truncated signature", formMAC[:20], form, ErrBadSignature, -1},
		{"not base64", "!!!", form, ErrBadSignature, -1},
		{"hex instead of base64", strings.Repeat("ab", 32), form, ErrBadSignature, -1},
		{"signature of other body", jsonMAC, form, ErrBadSignature, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			i, err := VerifyHash(c.header, []byte(c.body), keys)
			if !errors.Is(err, c.want) || i != c.index {
				t.Fatalf("got (%d, %v), want (%d, %v)", i, err, c.index, c.want)
			}
		})
	}
	if _, err := VerifyHash(formOld, []byte(form), [][]byte{[]byte(key)}); !errors.Is(err, ErrBadSignature) {
		t.Fatal("a retired key must no longer verify")
	}
	if Hash([]byte(key), []byte(form)) != formMAC {
		t.Fatal("Hash disagrees with openssl")
	}
}

func TestParse(t *testing.T) {
	fm := DefaultFieldMap()
	want := time.UnixMilli(1795348700000).UTC()
	for _, c := range []struct{ name, ct, body string }{
		{"form", "application/x-www-form-urlencoded", form},
		{"json with macro names", "application/json", jsonB},
		{"form, no content type", "", form},
		{"json, wrong content type", "text/plain", jsonB},
	} {
		t.Run(c.name, func(t *testing.T) {
			cb, err := Parse(c.ct, []byte(c.body), fm, nil)
			if err != nil {
				t.Fatal(err)
			}
			if cb.EventName != "purchase" || cb.ADID != "9f1c2d3e-aaaa-bbbb-cccc-123456789abc" ||
				cb.OrderID != "ord-77" || cb.Revenue == nil || *cb.Revenue != 24000 || !cb.EventTime.Equal(want) {
				t.Fatalf("parsed %+v", cb)
			}
		})
	}
}

func TestParseTimes(t *testing.T) {
	fm := DefaultFieldMap()
	for body, want := range map[string]time.Time{
		"event_timestamp=1795348700":                       time.Unix(1795348700, 0),
		"event_timestamp=1795348700123":                    time.UnixMilli(1795348700123),
		"event_datetime=2026-11-22+11%3A58%3A20":           time.Date(2026, 11, 22, 11, 58, 20, 0, time.UTC),
		"event_datetime=2026-11-22T20%3A58%3A20%2B09%3A00": time.Date(2026, 11, 22, 11, 58, 20, 0, time.UTC),
	} {
		cb, err := Parse("application/x-www-form-urlencoded", []byte(body), fm, nil)
		if err != nil || !cb.EventTime.Equal(want) {
			t.Errorf("%s: %v %v", body, cb, err)
		}
	}
}

// The shapes DFINERY may send beyond the plain form: param_json as a
// nested object, a zone-less datetime in the configured zone, both time
// fields at once, the amount under DFINERY's purchase key.
func TestParseFormats(t *testing.T) {
	fm := DefaultFieldMap()
	seoul := time.FixedZone("KST", 9*3600)
	at := time.Date(2026, 11, 22, 11, 58, 20, 0, time.UTC)
	for _, c := range []struct {
		name, ct, body string
		zone           *time.Location
		order          string
		revenue        float64
		when           time.Time
	}{
		{"param_json nested object", "application/json",
			`{"event_name":"abx:purchase","event_timestamp":1795348700000,"param_json":{"abx:order_id":"ord-77","abx:order_sales":24000}}`,
			nil, "ord-77", 24000, time.UnixMilli(1795348700000)},
		{"macro names, param_json nested", "application/json",
			`{"req":{"evt":{"event_name":"abx:purchase","event_timestamp":"1795348700000","param_json":{"order_id":"ord-78","abx:order_sales":"10.5"}}}}`,
			nil, "ord-78", 10.5, time.UnixMilli(1795348700000)},
		{"zone-less datetime in Seoul", "application/x-www-form-urlencoded",
			"event_datetime=2026-11-22+20%3A58%3A20&param_json=%7B%22abx%3Aorder_id%22%3A%22ord-79%22%2C%22abx%3Aorder_sales%22%3A1%7D",
			seoul, "ord-79", 1, at},
		{"offset wins over the zone", "application/x-www-form-urlencoded",
			"event_datetime=2026-11-22T11%3A58%3A20Z&param_json=%7B%22abx%3Aorder_id%22%3A%22ord-80%22%2C%22abx%3Aorder_sales%22%3A1%7D",
			seoul, "ord-80", 1, at},
		{"timestamp wins over datetime", "application/json",
			`{"event_timestamp":"1795348700","event_datetime":"2020-01-01 00:00:00","param_json":"{\"df_order_id\":\"ord-81\",\"abx:order_sales\":2}"}`,
			seoul, "ord-81", 2, time.Unix(1795348700, 0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			cb, err := Parse(c.ct, []byte(c.body), fm, c.zone)
			if err != nil {
				t.Fatal(err)
			}
			if cb.OrderID != c.order || cb.Revenue == nil || *cb.Revenue != c.revenue || !cb.EventTime.Equal(c.when) {
				t.Fatalf("parsed order %q revenue %v time %v; want %q %v %v", cb.OrderID, cb.Revenue, cb.EventTime, c.order, c.revenue, c.when)
			}
		})
	}
	custom := fm
	custom.OrderID = OrderIDKeys("merchant_uid")
	cb, err := Parse("application/json", []byte(`{"param_json":{"merchant_uid":"m-1","abx:order_id":"ignored"}}`), custom, nil)
	if err != nil || cb.OrderID != "m-1" {
		t.Fatalf("configured order id key: %+v %v", cb, err)
	}
}

func TestParseErrors(t *testing.T) {
	fm := DefaultFieldMap()
	for _, c := range []struct{ name, ct, body string }{
		{"empty", "", ""},
		{"param_json not json", "application/x-www-form-urlencoded", "event_name=x&param_json=%7Bnope"},
		{"bad revenue", "application/x-www-form-urlencoded", "event_name=x&param_json=%7B%22abx%3Asales%22%3A%22lots%22%7D"},
		{"bad timestamp", "application/x-www-form-urlencoded", "event_timestamp=yesterday"},
		{"bad datetime", "application/x-www-form-urlencoded", "event_datetime=tomorrow"},
		{"json trailing data", "application/json", `{"a":1}{"b":2}`},
	} {
		if _, err := Parse(c.ct, []byte(c.body), fm, nil); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// FuzzCallback: the signature check and the parser never panic on any
// header or body, and a body signed with the key always verifies.
func FuzzCallback(f *testing.F) {
	f.Add(formMAC, []byte(form), "application/x-www-form-urlencoded")
	f.Add(jsonURL, []byte(jsonB), "application/json")
	f.Add("", []byte(`{"a":{"b":{"c":{"d":1}}}}`), "")
	f.Add("====", []byte("param_json=%7B%7D&event_timestamp=1e400"), "text/plain")
	f.Add("", []byte(`{"event_name":"abx:purchase","event_datetime":"2026-11-22 20:58:20","param_json":{"abx:order_id":"o-1","abx:order_sales":1.5}}`), "application/json")
	f.Add("", []byte(`{"req":{"evt":{"event_timestamp":"1795348700","event_datetime":"2026-11-22T20:58:20+09:00","param_json":{"x":{"y":[1,2]}}}}}`), "")
	f.Add("", []byte("event_datetime=20261122205820&param_json=%7B%22abx%3Aorder_id%22%3A7%7D"), "application/x-www-form-urlencoded")
	f.Add("", []byte(`{"param_json.abx:order_id":"a","param_json":{"abx:order_id":"b"},"req":{"evt":{"param_json":{"abx:order_id":"c"}}}}`), "application/json")
	keys := [][]byte{[]byte(key)}
	fm := DefaultFieldMap()
	seoul := time.FixedZone("KST", 9*3600)
	f.Fuzz(func(t *testing.T, header string, body []byte, ct string) {
		_, _ = VerifyHash(header, body, keys) // any header: refusing is fine, panicking is not
		if _, err := VerifyHash(Hash([]byte(key), body), body, keys); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		_, _ = Parse(ct, body, fm, nil) // any body: refusing is fine, panicking is not
		// The same bytes always read the same: verify stores its verdict by
		// the body's hash, so the reading must not depend on map order.
		a, errA := Parse(ct, body, fm, seoul)
		b, errB := Parse(ct, body, fm, seoul)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("parse errors differ: %v, %v", errA, errB)
		}
		if errA == nil && (a.EventName != b.EventName || a.OrderID != b.OrderID || a.ADID != b.ADID || a.UserID != b.UserID ||
			!a.EventTime.Equal(b.EventTime) || (a.Revenue == nil) != (b.Revenue == nil) || a.Revenue != nil && *a.Revenue != *b.Revenue) {
			t.Fatalf("two readings of one body differ: %+v, %+v", a, b)
		}
	})
}

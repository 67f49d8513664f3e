package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bodies through the whole parse path. It must
// never panic, DecodeInto must decode the events as Decode does (its fast
// path, encoding/json v2, is checked against encoding/json, the body taken
// as one event too, not only as Split cuts it), and every event it accepts
// must encode to JSON that decodes back to the same event (what the queue
// carries is what was checked). Its seeds include trickyEvents, the inputs
// on which the two JSON decoders could differ.
func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte(`[` + valid + `,{"event_type":"HOME"}]`))
	f.Add([]byte(`{"events":[{"timestamp":"2026-11-22T11:00:00Z"}]}`))
	f.Add([]byte(`{"device":{"os":"IOS","gpu":1},"items":[{"price":12}]}`))
	f.Add([]byte(`[1,null,"x",{"timestamp":1e400}]`))
	for _, raw := range trickyEvents {
		f.Add([]byte(raw))
		f.Add([]byte("[" + valid + "," + raw + "]"))
	}
	r := Rules{Now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), FutureSkew: time.Minute}
	f.Fuzz(func(t *testing.T, body []byte) {
		sameAsUnmarshal(t, body)
		sameAsSplitObject(t, body)
		sameAsDecodeBody(t, body)
		whole, ferr := Decode(body)
		sameAsDecode(t, body, whole, ferr)
		raws, err := Split(body)
		if err != nil {
			return
		}
		for _, raw := range raws {
			e, ferr := Decode(raw)
			sameAsDecode(t, raw, e, ferr)
			if ferr != nil {
				continue
			}
			Cleanse(&e)
			if len(Validate(&e, r)) > 0 {
				continue
			}
			id, spliced := DeriveIDAndEncode("fuzz", &e)
			e.ID = id
			out, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("accepted event does not encode: %v", err)
			}
			if string(spliced) != string(out) {
				t.Fatalf("DeriveIDAndEncode differs from json.Marshal:\n%s\n%s", spliced, out)
			}
			back, ferr := Decode(out)
			if ferr != nil {
				t.Fatalf("encoded event does not decode: %v\n%s", ferr, out)
			}
			again, _ := json.Marshal(back)
			if string(again) != string(out) {
				t.Fatalf("round trip changed the event:\n%s\n%s", out, again)
			}
		}
	})
}

// sameAsUnmarshal checks splitArray against json.Unmarshal into
// []json.RawMessage, which it replaces: the same elements, or the same
// error for the same bodies.
func sameAsUnmarshal(t *testing.T, body []byte) {
	t.Helper()
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) == 0 || b[0] != '[' {
		return
	}
	var want []json.RawMessage
	wantErr := json.Unmarshal(body, &want)
	got, err := splitArray(body)
	switch {
	case wantErr != nil:
		if err == nil {
			t.Fatalf("splitArray accepted what json.Unmarshal refuses (%v): %q", wantErr, body)
		}
		if err.Error() != describeSyntax(wantErr).Error() {
			t.Fatalf("error %q, want %q", err, describeSyntax(wantErr))
		}
	case len(want) == 0:
		if err != ErrNoEvents {
			t.Fatalf("empty array: got %v", err)
		}
	case err != nil:
		t.Fatalf("splitArray refused %q: %v", body, err)
	case len(got) != len(want):
		t.Fatalf("%d elements, want %d: %q", len(got), len(want), body)
	default:
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("element %d is %q, want %q", i, got[i], want[i])
			}
		}
	}
}

func TestSplitArrayMatchesUnmarshal(t *testing.T) {
	for _, body := range []string{`[]`, ` [ ] `, `[1]`, `[ {"a":"]}\\\"}"} , [1,[2,{}]], null, "x,y" ]`,
		`[` + valid + `,` + valid + `]`, `[{"a":1},]`, `[{"a":1}`, `[{"a":1}] x`, `[1,,2]`,
		"[\"\\u00e9\", {\"k\":[[],{}]}]", "[\n{\"a\":\"\\\\\"}\n,\t2 ]"} {
		sameAsUnmarshal(t, []byte(body))
	}
}

// sameAsSplitObject checks Split's shortcut for single-object bodies
// against splitObject, the full path: the same events or the same error.
func sameAsSplitObject(t *testing.T, body []byte) {
	t.Helper()
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) == 0 || b[0] != '{' {
		return
	}
	want, wantErr := splitObject(body)
	got, err := Split(body)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("Split(%q) = %q, %v; splitObject gives %q, %v", body, got, err, want, wantErr)
	}
}

func TestSplitObjectShortcut(t *testing.T) {
	for _, body := range []string{valid, ` {"event_type":"HOME"} `, `{"EVENTS":[{}]}`, `{"Events":[{}]}`,
		`{"\u0065vents":[{"a":1}]}`, `{"events":[{"a":1}]}`, `{"page_id":"events"}`, `{"a":1} x`, `{"a":`,
		`{"a":"\u00e9"}`, `{"a":1,"a":2}`, `{}`, `{"events":null}`} {
		sameAsSplitObject(t, []byte(body))
	}
}

// sameAsDecodeBody checks DecodeBody against the usual way, Split
// and then Decode of each event: when it takes a body, Split gives the same
// events, each within the limits and decoding cleanly to the same Event.
// Small limits too, so that a limit passed is seen to send the body the
// usual way. Calls share the pooled streams, as ingest's requests do.
func sameAsDecodeBody(t *testing.T, body []byte) {
	t.Helper()
	for _, lim := range [][2]int{{1000, 32 << 10}, {2, 64}} {
		raws, events, ok := DecodeBody(body, lim[0], lim[1])
		if !ok {
			if raws != nil || events != nil {
				t.Fatalf("DecodeBody(%q) refused but returned %q, %v", body, raws, events)
			}
			continue
		}
		want, err := Split(body)
		if err != nil {
			t.Fatalf("DecodeBody took %q, which Split refuses: %v", body, err)
		}
		if fmt.Sprintf("%q", raws) != fmt.Sprintf("%q", want) || len(events) != len(want) {
			t.Fatalf("DecodeBody(%q): %q and %d events, Split gives %q", body, raws, len(events), want)
		}
		if len(want) > lim[0] {
			t.Fatalf("DecodeBody took %d events, over the limit of %d: %q", len(want), lim[0], body)
		}
		for i, raw := range want {
			e, ferr := Decode(raw)
			if ferr != nil || len(raw) > lim[1] {
				t.Fatalf("DecodeBody took event %d of %q, which Decode refuses (%v) or is over %d bytes", i, body, ferr, lim[1])
			}
			if !identical(e, events[i]) {
				t.Fatalf("event %d of %q: DecodeBody gives %+v, Decode %+v", i, body, events[i], e)
			}
		}
	}
}

// identical reports whether a and b are the same Event, -0 told from 0
// (reflect.DeepEqual compares floats with ==): equal, and the same JSON.
func identical(a, b Event) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return reflect.DeepEqual(a, b) && bytes.Equal(ja, jb) && (erra == nil) == (errb == nil)
}

func TestDecodeBodyMatchesSplitAndDecode(t *testing.T) {
	two := `[` + valid + `,` + valid + `]`
	for _, body := range []string{valid, " " + valid + "\n", two, `[]`, `[null]`, `[` + valid + `,null]`,
		`[{}]`, `[{},]`, `[{}`, `[{}] x`, `[{"gpu":1}]`, `[` + valid + `,{"event_type":1}]`, `[1]`, `[,]`,
		`{"events":[` + valid + `]}`, `{"Events":[{}]}`, `{"page_id":"events"}`, `{"a":"\u00e9"}`,
		`{} {}`, "{}\v", `{"timestamp":"soon"}`, `[{"items":[{"id":"a","price":{"currency":"USD","amount":1}}]}]`} {
		sameAsDecodeBody(t, []byte(body))
	}
	// The bodies nearly every caller sends are taken, not sent the usual way.
	for _, body := range []string{valid, two} {
		if _, _, ok := DecodeBody([]byte(body), 1000, 32<<10); !ok {
			t.Errorf("DecodeBody refused %q", body)
		}
	}
	if _, _, ok := DecodeBody([]byte(two), 1, 32<<10); ok {
		t.Error("DecodeBody took two events with a limit of one")
	}
}

// trickyEvents are raw events on which encoding/json v2 (the fast path)
// and encoding/json could differ: numbers for each number field, null and
// empty values of each kind, string escapes and surrogates, invalid UTF-8,
// names in another case or repeated, white space JSON does not know, and
// bytes after the value. FuzzParse is seeded with each, alone and in an
// array.
var trickyEvents = []string{
	`{"items":[{"quantity":1e2}]}`, `{"items":[{"quantity":2.0}]}`, `{"items":[{"quantity":-0}]}`,
	`{"items":[{"quantity":2147483647}]}`, `{"items":[{"quantity":2147483648}]}`, `{"items":[{"quantity":-2147483648}]}`,
	`{"items":[{"quantity":-2147483649}]}`, `{"items":[{"quantity":"2"}]}`, `{"items":[{"quantity":null}]}`,
	`{"revenue":{"amount":-0}}`, `{"revenue":{"amount":1e400}}`, `{"revenue":{"amount":1e-400}}`, `{"revenue":{"amount":1E2}}`,
	`{"revenue":{"amount":0.000001}}`, `{"revenue":{"amount":1e21}}`, `{"revenue":{"amount":123456789012345678901234567890}}`,
	`{"revenue":{"amount":"1"}}`, `{"revenue":{"amount":null,"currency":null}}`, `{"revenue":null}`, `{"revenue":{}}`,
	`{"timestamp":null}`, `{"timestamp":"1"}`, `{"timestamp":"\u0031"}`, `{"timestamp":1.5}`, `{"timestamp":-0}`,
	`{"timestamp":1.7953488e12}`, `{"timestamp":1795348800000.0}`, `{"timestamp":"2026-11-22T11:00:00.123+09:00"}`,
	`{"timestamp":" 1"}`, `{"timestamp":""}`, `{"timestamp":true}`,
	`{"device":null}`, `{"device":{}}`, `{"device":{"os":null}}`, `{"device":[]}`,
	`{"items":[]}`, `{"items":null}`, `{"items":[null]}`, `{"items":[{}]}`, `{"items":[null,{}]}`, `{"items":{}}`,
	`{"items":[{"price":null,"price_seller":{}}]}`, `{"items":[{"id":1}]}`,
	`{"consent":null}`, `{"consent":false}`, `{"consent":true,"consent":false}`, `{"consent":"true"}`,
	`{"id":null}`, `{"id":"\ud800"}`, `{"id":"\ud83d\ude00"}`, `{"id":"\udc00\ud800"}`, `{"id":"\ud800\u0041"}`, `{"id":"\uDEAD"}`,
	`{"id":"\u00e9\/"}`, `{"id":"\u2028\u003c&"}`, `{"id":"\"\\\/\b\f\n\r\t"}`, `{"id":"a\u0000b"}`,
	"{\"id\":\"\xff\"}", "{\"id\":\"\xed\xa0\x80\"}", "{\"id\":\"\xc3\"}", "{\"\xff\":1}",
	`{"ID":"x"}`, `{"Device":{}}`, `{"event_TYPE":"x"}`, "{\"\u017fession_id\":\"x\"}", `{"\u0069d":"a"}`,
	`{"id":"a","id":"b"}`, `{"device":{"os":"a"},"device":{"model":"b"}}`, `{"x":1}`, `{"device":{"x":1}}`,
	"{}\v", "\v{}", "{\f}", "{}\u00a0", "{}\u0085", " {\"id\" : \"a\" ,\n\t\"event_type\":\"X\"\r} ",
	`{} x`, `{} {}`, `{}}`, `{},`, `{}]`, `{`, `{}`, `{ }`, `null`, `"x"`, `1`, `[]`, `[null]`,
}

// TestFastPathMatchesEncodingJSON runs the tricky events through the fast
// path (DecodeInto, and DecodeBody alone and in arrays) against encoding/json, and
// checks that the valid ones v2 decodes as encoding/json does are taken by
// the fast path, not sent the slow way.
func TestFastPathMatchesEncodingJSON(t *testing.T) {
	for _, raw := range trickyEvents {
		e, ferr := Decode([]byte(raw))
		sameAsDecode(t, []byte(raw), e, ferr)
		for _, body := range []string{raw, "[" + raw + "]", "[" + valid + "," + raw + "]", "[" + raw + ",null]"} {
			sameAsDecodeBody(t, []byte(body))
		}
	}
	for _, raw := range []string{`{"items":[{"quantity":-0}]}`, `{"items":[{"quantity":null}]}`, `{"revenue":{"amount":-0}}`,
		`{"revenue":{"amount":1e-400}}`, `{"revenue":{"amount":null,"currency":null}}`, `{"timestamp":null}`,
		`{"timestamp":"\u0031"}`, `{"device":{}}`, `{"items":[]}`, `{"items":[null]}`, `{"consent":false}`,
		`{"id":"\ud83d\ude00"}`, `{"id":"\u2028\u003c&"}`, `{"\u0069d":"a"}`, " {\"id\" : \"a\" ,\n\t\"event_type\":\"X\"\r} "} {
		var e Event
		if !decodeWhole([]byte(raw), &e) {
			t.Errorf("the fast path refused %s", raw)
		}
	}
}

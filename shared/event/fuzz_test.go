package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bodies through the whole parse path. It must
// never panic, one Decoder must decode the events as Decode does, and every
// event it accepts must encode to JSON that decodes back to the same event
// (what the queue carries is what was checked).
func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte(`[` + valid + `,{"event_type":"HOME"}]`))
	f.Add([]byte(`{"events":[{"timestamp":"2026-11-22T11:00:00Z"}]}`))
	f.Add([]byte(`{"device":{"os":"IOS","gpu":1},"items":[{"price":12}]}`))
	f.Add([]byte(`[1,null,"x",{"timestamp":1e400}]`))
	r := Rules{Now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), FutureSkew: time.Minute}
	f.Fuzz(func(t *testing.T, body []byte) {
		sameAsUnmarshal(t, body)
		sameAsSplitObject(t, body)
		raws, err := Split(body)
		if err != nil {
			return
		}
		var d Decoder
		for _, raw := range raws {
			e, ferr := Decode(raw)
			sameAsDecode(t, &d, raw, e, ferr)
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

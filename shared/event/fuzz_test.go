package event

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bodies through the whole parse path. It must
// never panic, and every event it accepts must encode to JSON that decodes
// back to the same event (what the queue carries is what was checked).
func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte(`[` + valid + `,{"event_type":"HOME"}]`))
	f.Add([]byte(`{"events":[{"timestamp":"2026-11-22T11:00:00Z"}]}`))
	f.Add([]byte(`{"device":{"os":"IOS","gpu":1},"items":[{"price":12}]}`))
	f.Add([]byte(`[1,null,"x",{"timestamp":1e400}]`))
	r := Rules{Now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), FutureSkew: time.Minute}
	f.Fuzz(func(t *testing.T, body []byte) {
		raws, err := Split(body)
		if err != nil {
			return
		}
		for _, raw := range raws {
			e, ferr := Decode(raw)
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

package event

import "testing"

// TestNamesExactAndOnce: a field given twice, or spelt in another case, is
// refused whichever way the event is decoded (the code before took
// {"consent":false,"Consent":true} as consented: encoding/json matches
// names case-insensitively and lets the last win).
func TestNamesExactAndOnce(t *testing.T) {
	base := `"id":"e1","event_type":"HOME","timestamp":1736402704121,"channel_type":"SITE","user_id":"u1"`
	for _, c := range []struct{ body, field, reason string }{
		{`{` + base + `,"consent":false,"Consent":true}`, "Consent", "unknown field"},
		{`{` + base + `,"consent":false,"consent":true}`, "consent", "given more than once"},
		{`{` + base + `,"USER_ID":"u2"}`, "USER_ID", "unknown field"},
		{`{` + base + `,"device":{"os":"ios","OS":"android"}}`, "device.OS", "unknown field"},
		{`{` + base + `,"device":{"os":"ios","os":"android"}}`, "device.os", "given more than once"},
	} {
		for name, decode := range map[string]func([]byte) *FieldError{
			"Decode":     func(b []byte) *FieldError { _, f := Decode(b); return f },
			"DecodeInto": func(b []byte) *FieldError { var e Event; return DecodeInto(b, &e) },
		} {
			f := decode([]byte(c.body))
			if f == nil || f.Field != c.field || f.Reason != c.reason {
				t.Errorf("%s %s: %+v, want %s: %s", name, c.body, f, c.field, c.reason)
			}
		}
	}
	if _, f := Decode([]byte(`{` + base + `,"consent":true}`)); f != nil {
		t.Errorf("a plain event refused: %+v", f)
	}
}

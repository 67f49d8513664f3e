package event

import (
	"encoding/json"
	"testing"
)

// TestMillisForms pins what each spelling of a timestamp decodes to, with
// and without escapes in the string (two paths in UnmarshalJSON).
func TestMillisForms(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Millis
		err  bool
	}{
		{`1795348800000`, 1795348800000, false},
		{`"1795348800000"`, 1795348800000, false},
		{`"\u0031795348800000"`, 1795348800000, false},
		{`"1.7953488e12"`, 1795348800000, false},
		{`"2026-11-22T12:00:00Z"`, 1795348800000, false},
		{`"2026-11-22T12:00:00.5Z"`, 1795348800500, false},
		{`"2026-11-22T21:00:00+09:00"`, 1795348800000, false},
		{`"2026-11-22T12:00:00\u005a"`, 1795348800000, false},
		{`""`, 0, false},
		{`null`, 0, false},
		{`"12:00"`, 0, true},
		{`"yesterday"`, 0, true},
		{`"1795348800000.5"`, 0, true},
		{`"\u00ff"`, 0, true},
	} {
		var m Millis
		err := json.Unmarshal([]byte(c.in), &m)
		if (err != nil) != c.err || m != c.want {
			t.Errorf("%s: got %d, %v; want %d, error %v", c.in, m, err, c.want, c.err)
		}
	}
}

package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// Millis is an instant in Unix epoch milliseconds, the unit MCM expects.
// It decodes from a JSON number, a string holding an integer (the OpenAPI
// types it as a string-encoded int64), or an RFC 3339 time, and always
// encodes as a JSON number.
type Millis int64

var errTimestampType = errors.New("must be epoch milliseconds (number or numeric string) or an RFC 3339 time")

// UnmarshalJSON accepts 1736402704121, "1736402704121" and "2025-01-09T06:05:04.121Z".
func (m *Millis) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*m = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		if len(b) >= 2 && bytes.IndexByte(b, '\\') < 0 {
			// No escapes: the text between the quotes is the string (the
			// decoder has checked the literal); skips a nested Unmarshal.
			return m.parseString(string(b[1 : len(b)-1]))
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return errTimestampType
		}
		return m.parseString(s)
	}
	return m.parseNumber(string(b))
}

func (m *Millis) parseString(s string) error {
	if s == "" {
		*m = 0
		return nil
	}
	// A ':' rules out a number (and every RFC 3339 time has one), which
	// spares the two failed number parses and their errors.
	if s[0] >= '0' && s[0] <= '9' && len(s) <= 20 && !strings.Contains(s, ":") {
		if err := m.parseNumber(s); err == nil {
			return nil
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return errTimestampType
	}
	*m = Millis(t.UnixMilli())
	return nil
}

func (m *Millis) parseNumber(s string) error {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*m = Millis(n)
		return nil
	}
	// 1.736402704121e12 is a legal JSON spelling of an integer.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
		return errTimestampType
	}
	*m = Millis(int64(f))
	return nil
}

// Time converts to time.Time.
func (m Millis) Time() time.Time { return time.UnixMilli(int64(m)) }

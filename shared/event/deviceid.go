package event

import "strings"

// DeviceID is the one normal form of a device identifier, applied by ingest
// before hashing and by verify to a callback's ADID/IDFV before looking it
// up, so both hash the same bytes: trimmed, and lower-cased when it is a
// UUID (GAID, IDFA and IDFV are UUIDs, and their case carries no meaning:
// iOS prints them upper case, Android lower case). Other ids keep their
// case, which may be significant to the app that made them.
func DeviceID(s string) string {
	s = strings.TrimSpace(s)
	if isUUID(s) {
		return strings.ToLower(s)
	}
	return s
}

// isUUID reports the 8-4-4-4-12 hexadecimal form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

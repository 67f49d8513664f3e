package verify

import (
	"strings"

	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/pii"
)

// PIIHasher puts a callback's identifiers in the form ingest stored them:
// hashed with the same salt when ingest hashes that kind of field.
type PIIHasher struct{ A *pii.Anonymiser }

// LedgerForm implements Hasher. field is "device" or "user_id". A device
// id gets ingest's normal form first (event.DeviceID), so an upper-case
// IDFA finds the id ingest stored.
func (h PIIHasher) LedgerForm(field, value string) string {
	value = strings.TrimSpace(value)
	hashed := false
	switch field {
	case "device":
		value = event.DeviceID(value)
		hashed = h.A.Hashes(pii.PersistentID) || h.A.Hashes(pii.AdvertisingID) || h.A.Hashes(pii.UniqueDeviceID)
	case "user_id":
		hashed = h.A.Hashes(pii.UserID)
	}
	if hashed {
		return h.A.Hash(value)
	}
	return value
}

package verify

import (
	"slices"
	"strings"

	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/pii"
)

// PIIHasher puts a callback's identifiers in the forms ingest may have
// stored them: hashed with the same salt for each kind of field ingest
// hashes, as sent for each kind it does not.
type PIIHasher struct{ A *pii.Anonymiser }

// deviceFields are the ingest fields a device id of a callback may have
// been recorded under: the backend chooses which (see the per-platform
// table in the verify docs), so verify compares with all three.
var deviceFields = []string{pii.PersistentID, pii.AdvertisingID, pii.UniqueDeviceID}

// LedgerForms implements Hasher. field is "device" or "user_id". A device
// id gets ingest's normal form first (event.DeviceID), so an upper-case
// IDFA finds the id ingest stored. With PII_HASH_FIELDS hashing some device
// fields and not others, a device id has two forms (hashed and as sent).
func (h PIIHasher) LedgerForms(field, value string) []string {
	value = strings.TrimSpace(value)
	switch field {
	case "device":
		value = event.DeviceID(value)
		var out []string
		hashed := ""
		for _, f := range deviceFields {
			form := value
			if h.A.Hashes(f) {
				if hashed == "" {
					hashed = h.A.Hash(value)
				}
				form = hashed
			}
			if !slices.Contains(out, form) {
				out = append(out, form)
			}
		}
		return out
	case "user_id":
		if h.A.Hashes(pii.UserID) {
			return []string{h.A.Hash(value)}
		}
	}
	return []string{value}
}

package event

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// DeriveID gives an event without a caller id a stable one, derived from its
// cleansed content and its source, so a retried request publishes the same
// id and the platform and our dedupe see one event, not two.
func DeriveID(source string, e *Event) string {
	saved := e.ID
	e.ID = ""
	body, _ := json.Marshal(e) // an Event always marshals
	e.ID = saved
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write(body)
	var sum [sha256.Size]byte
	return "d-" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

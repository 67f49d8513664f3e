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
	id, _ := DeriveIDAndEncode(source, e)
	return id
}

// DeriveIDAndEncode returns DeriveID's id and the event's JSON with that id
// set (what json.Marshal gives once e.ID is the id), from one encoding: the
// id is hashed from the encoding without it, and spliced in as the first
// field, where encoding/json puts it. e is left as it came.
func DeriveIDAndEncode(source string, e *Event) (string, []byte) {
	saved := e.ID
	e.ID = ""
	body, _ := Encode(e) // an Event always marshals
	e.ID = saved
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write(body)
	var sum [sha256.Size]byte
	id := "d-" + hex.EncodeToString(h.Sum(sum[:0])[:16])
	// body is {"event_type":...}: event_type is always encoded, so the id
	// is followed by a comma; the id is hex and needs no escaping.
	out := make([]byte, 0, len(body)+len(id)+8)
	out = append(out, `{"id":"`...)
	out = append(out, id...)
	out = append(out, `",`...)
	out = append(out, body[1:]...)
	return id, out
}

// Encode is the event's JSON as the queue carries it: encoding/json's, byte
// for byte, on purpose. A derived id is the SHA-256 of these bytes, and
// instances of two versions run side by side during a deploy, so the bytes
// must not change with a new encoder (encoding/json v2 escapes, formats
// numbers and omits empty fields its own way unless told otherwise, and was
// measured slower than encoding/json at encoding an Event, where it is the
// faster decoder).
func Encode(e *Event) ([]byte, error) { return json.Marshal(e) }

// Key is an event's identity in the pipeline: its ingest source and its id
// together, as ingest's de-duplication, the forwarder's delivered ids,
// backfill's run and the ledger (ledger.Key) all take it. Two sources may
// use the same ids; their events are two events everywhere here.
//
// The platform (Moloco MCM) receives the id as the caller gave it (or as
// DeriveID made it, which is per source already) and says it
// de-duplicates by id, across every source of the platform id and over a
// window it does not document: ids that two sources share may reach it as
// one event. Callers keep ids unique across their sources (a source prefix,
// or no id at all); the docs say so.
func Key(source, id string) string { return source + "\x00" + id }

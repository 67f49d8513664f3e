// Package pii anonymises identifiers before an event leaves ingest, so raw
// personal data never reaches the queue, the ledger or the ad platform.
//
// Identifiers are replaced by HMAC-SHA256(salt, value) in lower-case hex: a
// keyed hash, so nobody without the salt can confirm a guessed e-mail or
// phone number, yet the same person always maps to the same value, which is
// what the platform's matching and our own ledger look-ups need.
package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net/netip"
	"strings"
	"sync"

	"eventrelay.dev/eventrelay/shared/event"
)

// Fields that may be hashed, by their wire names.
const (
	UserID         = "user_id"
	CustomID       = "custom_id"
	SessionID      = "session_id"
	PersistentID   = "device.persistent_id"
	AdvertisingID  = "device.advertising_id"
	UniqueDeviceID = "device.unique_device_id"
)

var hashable = map[string]bool{UserID: true, CustomID: true, SessionID: true,
	PersistentID: true, AdvertisingID: true, UniqueDeviceID: true}

// IPPolicy says what becomes of device.ip.
type IPPolicy string

const (
	IPKeep     IPPolicy = "keep"
	IPTruncate IPPolicy = "truncate" // last octet zeroed: keeps geo, drops the host
	IPDrop     IPPolicy = "drop"
)

// Anonymiser hashes the configured fields of an event in place.
type Anonymiser struct {
	fields map[string]bool
	ip     IPPolicy
	pool   sync.Pool
}

// New returns an Anonymiser for the given fields (wire names) and IP policy.
// An empty field list with IPKeep anonymises nothing.
func New(salt []byte, fields []string, ip IPPolicy) (*Anonymiser, error) {
	a := &Anonymiser{fields: map[string]bool{}, ip: ip}
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !hashable[f] {
			return nil, fmt.Errorf("field %q cannot be hashed (choose from user_id, custom_id, session_id, device.persistent_id, device.advertising_id, device.unique_device_id)", f)
		}
		a.fields[f] = true
	}
	switch ip {
	case IPKeep, IPTruncate, IPDrop:
	default:
		return nil, fmt.Errorf("ip policy %q is not one of keep, truncate, drop", ip)
	}
	if len(a.fields) > 0 && len(salt) < 16 {
		return nil, fmt.Errorf("the hashing salt must be at least 16 bytes")
	}
	key := append([]byte(nil), salt...)
	a.pool.New = func() any { return &hasher{mac: hmac.New(sha256.New, key)} }
	return a, nil
}

// hasher is one pooled HMAC with scratch space for its input and sum, which
// would otherwise be allocated on every call (they escape through the
// hash.Hash interface).
type hasher struct {
	mac hash.Hash
	in  []byte
	sum [sha256.Size]byte
}

// Hashes reports whether field is hashed.
func (a *Anonymiser) Hashes(field string) bool { return a.fields[field] }

// Hash returns the keyed hash of one normalised identifier value, the same
// value Apply writes; the verifier uses it to look callbacks up.
func (a *Anonymiser) Hash(value string) string {
	h := a.pool.Get().(*hasher)
	h.mac.Reset()
	h.in = append(h.in[:0], value...)
	h.mac.Write(h.in)
	out := hex.EncodeToString(h.mac.Sum(h.sum[:0]))
	a.pool.Put(h)
	return out
}

// Apply anonymises e in place.
func (a *Anonymiser) Apply(e *event.Event) {
	a.field(UserID, &e.UserID)
	a.field(CustomID, &e.CustomID)
	a.field(SessionID, &e.SessionID)
	d := e.Device
	if d == nil {
		return
	}
	a.field(PersistentID, &d.PersistentID)
	a.field(AdvertisingID, &d.AdvertisingID)
	a.field(UniqueDeviceID, &d.UniqueDeviceID)
	switch a.ip {
	case IPDrop:
		d.IP = ""
	case IPTruncate:
		if addr, err := netip.ParseAddr(d.IP); err == nil && addr.Is4() {
			b := addr.As4()
			b[3] = 0
			d.IP = netip.AddrFrom4(b).String()
		}
	}
}

func (a *Anonymiser) field(name string, v *string) {
	if *v != "" && a.fields[name] {
		*v = a.Hash(*v)
	}
}

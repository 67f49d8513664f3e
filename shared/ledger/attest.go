package ledger

import (
	"context"
	"errors"
	"time"
)

// AttestStore keeps the attestation exchange's state, shared by every
// instance: one-time challenges, and App Attest keys with their counters.
// Every record carries an expiry (the backends' TTL), so nothing grows
// without bound: a challenge lives minutes, a key as long as it keeps
// being used (each assertion extends it).
type AttestStore interface {
	// PutChallenge stores a new one-time challenge.
	PutChallenge(ctx context.Context, c Challenge) error
	// TakeChallenge removes the challenge and returns it, atomically: of
	// concurrent takes exactly one succeeds. ErrNotFound when it was never
	// issued, has expired or was already taken.
	TakeChallenge(ctx context.Context, value string) (Challenge, error)
	// CreateKey stores a newly attested key; ErrExists when the key id is
	// already stored (App Attest attests a key once).
	CreateKey(ctx context.Context, k AttestedKey) error
	// GetKey returns a stored key; ErrNotFound when absent or expired.
	GetKey(ctx context.Context, keyID string) (AttestedKey, error)
	// AdvanceCounter stores counter n for the key only if the stored counter
	// is lower, in one conditional write, and extends the key's expiry;
	// ErrCounter when it is not lower (a replay or a race lost).
	AdvanceCounter(ctx context.Context, keyID string, n uint32, expires time.Time) error
}

// Challenge is a one-time value the exchange issued to an app of Source.
type Challenge struct {
	Value     string
	Source    string
	ExpiresAt time.Time
}

// AttestedKey is an App Attest key as verified at attestation.
type AttestedKey struct {
	KeyID     string // hex of the 32-byte key id
	Source    string
	AppID     string // "<team id>.<bundle id>"
	Env       string // production or development
	PublicKey []byte // PKIX DER
	Counter   uint32
	Created   time.Time
	ExpiresAt time.Time
}

// Errors of an AttestStore.
var (
	ErrNotFound = errors.New("ledger: not found")
	ErrExists   = errors.New("ledger: already exists")
	ErrCounter  = errors.New("ledger: counter is not above the stored one")
)

package ledger

import (
	"context"
	"errors"
	"time"
)

// AttestStore keeps the attestation exchange's state, shared by every
// instance: the challenges already spent, App Attest keys with their
// counters, and the daily budgets of platform calls. Every record carries
// an expiry (the backends' TTL), so nothing grows without bound: a spent
// challenge lives minutes, a budget two days, a key as long as it keeps
// being used (each assertion extends it). Issuing a challenge writes
// nothing: challenges are signed (functions/attest), so an anonymous
// caller asking for them costs no write.
type AttestStore interface {
	// SpendChallenge records that a challenge was used, atomically: of
	// concurrent spends of one value exactly one succeeds, the others and
	// every later one until expires get ErrExists.
	SpendChallenge(ctx context.Context, value string, expires time.Time) error
	// TakeBudget adds n to the named counter if the total stays within
	// limit, in one atomic write, and returns the new total; ErrBudget
	// (total 0) when it would not. The counter is forgotten after expires.
	TakeBudget(ctx context.Context, name string, n, limit int64, expires time.Time) (int64, error)
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
	ErrBudget   = errors.New("ledger: the budget is spent")
)

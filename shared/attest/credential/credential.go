// Package credential mints and checks the short-lived ingest credentials the
// attestation exchange hands out once an app instance proved itself genuine.
//
// A credential reads "er1.<key id>.<payload>.<mac>": payload is the
// base64url (unpadded) JSON of Claims, mac the base64url HMAC-SHA256 under the
// named key of everything before the last dot. The keys live in a secret,
// like the API keys, as
//
//	{"credential_keys":[{"id":"2026-12","secret":"<≥32 random characters>","expires":"..."}]}
//
// The first key that has not expired signs; every listed key that has not
// expired verifies. Rotating is: put a new key first, keep the old one for at
// least the credential lifetime, then drop it.
//
// The app never sees a long-lived secret: it holds one credential at a time
// and goes back to the exchange when it expires.
package credential

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"eventrelay.dev/eventrelay/shared/secrets"
)

// Prefix starts every credential, so a log reader or the ingest
// authenticator can tell one from an API key at a glance.
const Prefix = "er1."

// MaxLen bounds a credential; anything longer is refused before any work.
const MaxLen = 1024

// Claims is what a credential says.
type Claims struct {
	Source  string `json:"src"`
	Subject string `json:"sub"` // hex SHA-256 of the attested app and device identity
	Via     string `json:"via"` // "apple_attest", "apple_assert", "play_integrity"
	Issued  int64  `json:"iat"` // unix seconds
	Expires int64  `json:"exp"` // unix seconds
}

// Reasons a credential is refused; ErrUnavailable means our key store could
// not be read (the caller did nothing wrong).
var (
	ErrMalformed   = errors.New("credential is malformed")
	ErrUnknownKey  = errors.New("credential is signed with a key that is not (or no longer) listed")
	ErrBadMAC      = errors.New("credential signature does not match")
	ErrExpired     = errors.New("credential has expired")
	ErrUnavailable = errors.New("credential keys cannot be read")
)

// Key is one signing key as stored in the secret.
type Key struct {
	ID      string    `json:"id"`
	Secret  string    `json:"secret"`
	Expires time.Time `json:"expires,omitzero"`
}

// KeyFile is the JSON stored in the credential keys secret.
type KeyFile struct {
	Keys []Key `json:"credential_keys"`
}

// Keys reads the signing keys from a secret, re-parsing only when the
// secret's bytes changed (the Source caches and refreshes them).
type Keys struct {
	src  secrets.Source
	name string
	now  func() time.Time

	mu   sync.Mutex
	raw  []byte
	keys []Key
	gen  uint64 // bumped whenever the keys change

	// verified remembers credentials already checked under keys of
	// generation gen, so a credential used for many requests pays its MAC
	// and JSON decode once per instance. A rotation clears it.
	verified   sync.Map // credential → verified
	nVerified  int
	verifiedAt uint64
}

// verified is a cached check: the claims, and when the key that signed
// them expires (a key may expire without the secret changing).
type verified struct {
	claims     Claims
	keyExpires time.Time
}

// maxVerified bounds the cache; past it the cache starts over.
const maxVerified = 1 << 16

// NewKeys returns Keys reading the secret name from src; now may be nil.
func NewKeys(src secrets.Source, name string, now func() time.Time) *Keys {
	if now == nil {
		now = time.Now
	}
	return &Keys{src: src, name: name, now: now}
}

func (k *Keys) load(ctx context.Context) ([]Key, uint64, error) {
	raw, err := k.src.Get(ctx, k.name)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys != nil && bytes.Equal(raw, k.raw) {
		return k.keys, k.gen, nil
	}
	keys, err := ParseKeys(raw)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	k.raw, k.keys = raw, keys
	k.gen++
	return keys, k.gen, nil
}

// remember caches claims verified under generation gen.
func (k *Keys) remember(cred string, v verified, gen uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if gen != k.gen {
		return
	}
	if k.verifiedAt != gen || k.nVerified >= maxVerified {
		k.verified.Clear()
		k.verifiedAt, k.nVerified = gen, 0
	}
	k.verified.Store(cred, v)
	k.nVerified++
}

func (k *Keys) cached(cred string, gen uint64) (verified, bool) {
	k.mu.Lock()
	current := k.verifiedAt == gen
	k.mu.Unlock()
	if !current {
		return verified{}, false
	}
	v, ok := k.verified.Load(cred)
	if !ok {
		return verified{}, false
	}
	return v.(verified), true
}

// ParseKeys reads and checks a credential keys secret.
func ParseKeys(raw []byte) ([]Key, error) {
	var f KeyFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("credential keys secret: %w", err)
	}
	if len(f.Keys) == 0 {
		return nil, errors.New("credential keys secret: no keys")
	}
	seen := map[string]bool{}
	for i, k := range f.Keys {
		switch {
		case k.ID == "" || len(k.ID) > 64 || strings.ContainsAny(k.ID, ". "):
			return nil, fmt.Errorf("credential keys secret: key %d: id must be 1-64 characters without '.' or spaces", i)
		case len(k.Secret) < 32:
			return nil, fmt.Errorf("credential keys secret: key %s: secret must be at least 32 characters", k.ID)
		case seen[k.ID]:
			return nil, fmt.Errorf("credential keys secret: key id %s appears twice", k.ID)
		}
		seen[k.ID] = true
	}
	return f.Keys, nil
}

func (k Key) active(now time.Time) bool { return k.Expires.IsZero() || now.Before(k.Expires) }

// Check reads the keys and makes sure one can sign: a start-up check.
func (k *Keys) Check(ctx context.Context) error {
	keys, _, err := k.load(ctx)
	if err != nil {
		return err
	}
	for _, key := range keys {
		if key.active(k.now()) {
			return nil
		}
	}
	return fmt.Errorf("%w: every key has expired", ErrUnavailable)
}

// Mint signs claims with the first active key.
func (k *Keys) Mint(ctx context.Context, c Claims) (string, error) {
	keys, _, err := k.load(ctx)
	if err != nil {
		return "", err
	}
	now := k.now()
	for _, key := range keys {
		if key.active(now) {
			payload, err := json.Marshal(c)
			if err != nil {
				return "", err
			}
			head := Prefix + key.ID + "." + base64.RawURLEncoding.EncodeToString(payload)
			return head + "." + base64.RawURLEncoding.EncodeToString(mac(key.Secret, head)), nil
		}
	}
	return "", fmt.Errorf("%w: every key has expired", ErrUnavailable)
}

// Verify checks a credential and returns its claims. The claims come back
// with ErrExpired too, so the caller can tell which source it was for.
func (k *Keys) Verify(ctx context.Context, cred string) (Claims, error) {
	if len(cred) > MaxLen || !strings.HasPrefix(cred, Prefix) {
		return Claims{}, ErrMalformed
	}
	rest := cred[len(Prefix):]
	dot := strings.LastIndexByte(rest, '.')
	idEnd := strings.IndexByte(rest, '.')
	if dot < 0 || idEnd <= 0 || idEnd == dot {
		return Claims{}, ErrMalformed
	}
	id, payloadB64, macB64 := rest[:idEnd], rest[idEnd+1:dot], rest[dot+1:]
	var got [sha256.Size]byte
	// Strict: a MAC has one spelling, so a credential has one too.
	// The length first: Decode panics on a destination too small.
	if len(macB64) != 43 {
		return Claims{}, ErrMalformed
	}
	if n, err := base64.RawURLEncoding.Strict().Decode(got[:], []byte(macB64)); err != nil || n != sha256.Size {
		return Claims{}, ErrMalformed
	}
	keys, gen, err := k.load(ctx)
	if err != nil {
		return Claims{}, err
	}
	now := k.now()
	if v, ok := k.cached(cred, gen); ok {
		switch {
		case !v.keyExpires.IsZero() && !now.Before(v.keyExpires):
			return Claims{}, ErrUnknownKey
		case now.Unix() >= v.claims.Expires:
			return v.claims, ErrExpired
		}
		return v.claims, nil
	}
	var key *Key
	for i := range keys {
		if keys[i].ID == id && keys[i].active(now) {
			key = &keys[i]
			break
		}
	}
	if key == nil {
		return Claims{}, ErrUnknownKey
	}
	if !hmac.Equal(mac(key.Secret, cred[:len(Prefix)+dot]), got[:]) {
		return Claims{}, ErrBadMAC
	}
	payload, err := base64.RawURLEncoding.DecodeString(payloadB64)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil || c.Source == "" || c.Expires == 0 {
		return Claims{}, ErrMalformed
	}
	if now.Unix() >= c.Expires {
		return c, ErrExpired
	}
	k.remember(cred, verified{claims: c, keyExpires: key.Expires}, gen)
	return c, nil
}

func mac(secret, head string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(head))
	return m.Sum(nil)
}

// Subject hashes the parts of an attested identity into a credential
// subject, so neither the credential nor a log line carries a device key id.
func Subject(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		_, _ = fmt.Fprintf(h, "%d:%s|", len(p), p) // a hash's Write never fails
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

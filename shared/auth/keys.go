// Package auth authenticates ingest callers, by API key or by a signed
// request, against key material read from a secret.
//
// API keys are presented as "<id>.<secret>". Only a salted SHA-256 of the
// secret is stored. A fast hash is right here: the secrets are 256-bit random
// values, not passwords, so there is nothing to brute-force, and a slow hash
// would cap ingest throughput. Several keys may be active per source, which is
// how keys rotate without downtime.
//
// Signed requests carry "X-Eventrelay-Source: <source>" and
// "X-Eventrelay-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]" where each v1 is
// HMAC-SHA256(secret, "<t>.<raw body>"). Several v1 values let a sender sign
// with the old and the new secret during a rotation.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// APIKey is one stored key: never the secret itself.
type APIKey struct {
	ID      string    `json:"id"`
	Source  string    `json:"source"`
	Salt    string    `json:"salt"`   // hex
	SHA256  string    `json:"sha256"` // hex of SHA-256(salt || secret)
	Expires time.Time `json:"expires,omitzero"`
}

// SigningKey is one shared secret for signed requests from a source.
type SigningKey struct {
	Source  string    `json:"source"`
	Secret  string    `json:"secret"`
	Expires time.Time `json:"expires,omitzero"`
}

// APIKeyFile is the JSON stored in the API keys secret.
type APIKeyFile struct {
	Keys []APIKey `json:"api_keys"`
}

// SigningKeyFile is the JSON stored in the signing keys secret.
type SigningKeyFile struct {
	Keys []SigningKey `json:"signing_keys"`
}

type storedKey struct {
	source  string
	salt    []byte
	sum     []byte
	expires time.Time
}

type keyring struct {
	apiKeys map[string]storedKey    // by key id
	signing map[string][]SigningKey // by source
}

func parseAPIKeys(raw []byte) (map[string]storedKey, error) {
	var f APIKeyFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("api keys secret: %w", err)
	}
	out := make(map[string]storedKey, len(f.Keys))
	for i, k := range f.Keys {
		salt, err1 := hex.DecodeString(k.Salt)
		sum, err2 := hex.DecodeString(k.SHA256)
		switch {
		case !validKeyID(k.ID):
			return nil, fmt.Errorf("api keys secret: key %d: id %q must be 1-64 letters, digits, '-' or '_'", i, k.ID)
		case k.Source == "":
			return nil, fmt.Errorf("api keys secret: key %s: source is empty", k.ID)
		case err1 != nil || len(salt) < 16:
			return nil, fmt.Errorf("api keys secret: key %s: salt must be ≥16 bytes of hex", k.ID)
		case err2 != nil || len(sum) != sha256.Size:
			return nil, fmt.Errorf("api keys secret: key %s: sha256 must be 64 hex characters", k.ID)
		}
		if _, dup := out[k.ID]; dup {
			return nil, fmt.Errorf("api keys secret: key id %s appears twice", k.ID)
		}
		out[k.ID] = storedKey{source: k.Source, salt: salt, sum: sum, expires: k.Expires}
	}
	return out, nil
}

func parseSigningKeys(raw []byte) (map[string][]SigningKey, error) {
	var f SigningKeyFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("signing keys secret: %w", err)
	}
	out := map[string][]SigningKey{}
	for i, k := range f.Keys {
		if k.Source == "" || len(k.Secret) < 16 {
			return nil, fmt.Errorf("signing keys secret: key %d: needs a source and a secret of ≥16 characters", i)
		}
		out[k.Source] = append(out[k.Source], k)
	}
	return out, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// newHash is the hash of API key sums and request MACs; a test counts
// the bytes it is given, to show a request costs the same work whatever
// the keys behind it.
var newHash = sha256.New

func keySum(salt []byte, secret string) []byte {
	h := newHash()
	h.Write(salt)
	h.Write([]byte(secret))
	return h.Sum(nil)
}

// NewAPIKey makes a fresh key for source: the value to hand to the caller
// (shown once) and the entry to add to the API keys secret.
func NewAPIKey(id, source string) (presented string, stored APIKey, err error) {
	if !validKeyID(id) {
		return "", APIKey{}, fmt.Errorf("key id %q must be 1-64 letters, digits, '-' or '_'", id)
	}
	if source == "" {
		return "", APIKey{}, errors.New("source is empty")
	}
	secretBytes := make([]byte, 32)
	salt := make([]byte, 16)
	rand.Read(secretBytes)
	rand.Read(salt)
	secret := base64.RawURLEncoding.EncodeToString(secretBytes)
	return id + "." + secret, HashAPIKey(id, source, secret, salt), nil
}

// HashAPIKey builds the stored entry for a known secret and salt.
func HashAPIKey(id, source, secret string, salt []byte) APIKey {
	return APIKey{ID: id, Source: source, Salt: hex.EncodeToString(salt),
		SHA256: hex.EncodeToString(keySum(salt, secret))}
}

// splitPresented splits "<id>.<secret>".
func splitPresented(v string) (id, secret string, ok bool) {
	id, secret, ok = strings.Cut(v, ".")
	return id, secret, ok && validKeyID(id) && secret != ""
}

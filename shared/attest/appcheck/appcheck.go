// Package appcheck verifies Firebase App Check tokens as Firebase documents
// for a custom backend: an RS256 JWT signed by a key of App Check's
// published JWKS (cached), issued by
// https://firebaseappcheck.googleapis.com/<project number>, with
// "projects/<project number>" among its audiences, not expired, and whose
// subject is one of the source's Firebase app ids.
//
// App Check tokens are not bound to a challenge: one may be exchanged again
// until it expires, so the exchange never hands out a credential that
// outlives the token.
package appcheck

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"eventrelay.dev/eventrelay/shared/attest/refusal"
)

// Google's published endpoints.
const (
	JWKSURL      = "https://firebaseappcheck.googleapis.com/v1/jwks"
	IssuerPrefix = "https://firebaseappcheck.googleapis.com/"
)

// Reasons, one per check; safe to return to the caller.
const (
	ReasonMalformed    = "token_malformed"
	ReasonWrongIssuer  = "wrong_issuer"
	ReasonWrongProject = "token_other_project" // no audience of our project
	ReasonExpired      = "token_expired"
	ReasonWrongApp     = "wrong_app"
	ReasonBadSignature = "bad_signature"
	ReasonUnavailable  = "jwks_unavailable"
)

// MaxTokenBytes bounds a token; genuine ones are under 1 KB.
const MaxTokenBytes = 4 << 10

// Error is a failed check; Retryable when the key set could not be read.
type Error = refusal.Error

func fail(reason, format string, args ...any) error {
	return refusal.New("app check", reason, format, args...)
}

// Policy is what one source accepts.
type Policy struct {
	ProjectNumber string
	AppIDs        []string // Firebase app ids, e.g. 1:123456789012:ios:0a1b2c3d
}

// Token is what a passing token says.
type Token struct {
	AppID   string
	Expires time.Time
}

// Verifier checks tokens against the key set at URL, cached for CacheFor
// and fetched again early (at most once a minute) for an unknown key id,
// which is how a key rotation arrives.
type Verifier struct {
	URL      string // default JWKSURL
	HTTP     *http.Client
	Now      func() time.Time
	CacheFor time.Duration // default 6 hours, as Firebase advises

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

type header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

type claims struct {
	Iss string   `json:"iss"`
	Sub string   `json:"sub"`
	Aud []string `json:"aud"`
	Exp int64    `json:"exp"`
}

// Verify checks token for pol. The checks that need no key come first, so
// a token for another project costs no key set fetch.
func (v *Verifier) Verify(ctx context.Context, token string, pol Policy) (*Token, error) {
	if token == "" || len(token) > MaxTokenBytes {
		return nil, fail(ReasonMalformed, "token is %d bytes; want 1 to %d", len(token), MaxTokenBytes)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fail(ReasonMalformed, "not a JWT of three parts")
	}
	var h header
	var c claims
	if err := decodePart(parts[0], &h); err != nil {
		return nil, fail(ReasonMalformed, "header: %v", err)
	}
	if err := decodePart(parts[1], &c); err != nil {
		return nil, fail(ReasonMalformed, "payload: %v", err)
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	switch {
	case err != nil:
		return nil, fail(ReasonMalformed, "signature is not base64url")
	case h.Alg != "RS256" || h.Typ != "JWT" || h.Kid == "":
		return nil, fail(ReasonMalformed, "header alg %q typ %q kid %q; want RS256, JWT and a key id", h.Alg, h.Typ, h.Kid)
	case c.Iss != IssuerPrefix+pol.ProjectNumber:
		return nil, fail(ReasonWrongIssuer, "issuer %q", c.Iss)
	case !slices.Contains(c.Aud, "projects/"+pol.ProjectNumber):
		return nil, fail(ReasonWrongProject, "audiences %v", c.Aud)
	case !v.now().Before(time.Unix(c.Exp, 0)):
		return nil, fail(ReasonExpired, "expired %s", time.Unix(c.Exp, 0).UTC().Format(time.RFC3339))
	case !slices.Contains(pol.AppIDs, c.Sub):
		return nil, fail(ReasonWrongApp, "app %q is not configured for this source", c.Sub)
	}
	key, err := v.key(ctx, h.Kid)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig) != nil {
		return nil, fail(ReasonBadSignature, "signature does not verify with key %s", h.Kid)
	}
	return &Token{AppID: c.Sub, Expires: time.Unix(c.Exp, 0)}, nil
}

func decodePart(p string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return errors.New("not base64url")
	}
	return json.Unmarshal(b, v)
}

func (v *Verifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

// key returns the key kid, fetching the set when the cache is stale or,
// at most once a minute, when kid is unknown.
func (v *Verifier) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	cacheFor := v.CacheFor
	if cacheFor <= 0 {
		cacheFor = 6 * time.Hour
	}
	now := v.now()
	k, ok := v.keys[kid]
	stale := now.Sub(v.fetched) >= cacheFor
	if ok && !stale {
		return k, nil
	}
	if stale || now.Sub(v.fetched) >= time.Minute {
		keys, err := v.fetch(ctx)
		if err != nil {
			if ok { // serve the old key set while Google is unreachable
				return k, nil
			}
			return nil, refusal.Unavailable("app check", ReasonUnavailable, "%v", err)
		}
		v.keys, v.fetched = keys, now
		if k, ok = keys[kid]; ok {
			return k, nil
		}
	}
	return nil, fail(ReasonBadSignature, "key id %q is not in App Check's key set", kid)
}

type jwks struct {
	Keys []struct {
		Kty string `json:"kty"`
		Kid string `json:"kid"`
		N   string `json:"n"`
		E   string `json:"e"`
	} `json:"keys"`
}

func (v *Verifier) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	url := v.URL
	if url == "" {
		url = JWKSURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	hc := v.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch key set: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch key set: status %d", resp.StatusCode)
	}
	var set jwks
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	out := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if k.Kty != "RSA" || k.Kid == "" || err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			continue
		}
		out[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	if len(out) == 0 {
		return nil, errors.New("key set holds no RSA key")
	}
	return out, nil
}

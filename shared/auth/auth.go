package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/ttlset"
)

// Header names for signed requests.
const (
	HeaderSignature = "X-Eventrelay-Signature"
	HeaderSource    = "X-Eventrelay-Source"
)

// Reasons are machine-readable and safe to return to the caller: none of them
// tells a key id that exists from one that does not.
const (
	ReasonMissing      = "missing_credentials"
	ReasonInvalidKey   = "invalid_key"
	ReasonExpiredKey   = "expired_key"
	ReasonBadSignature = "bad_signature"
	ReasonStale        = "stale_signature"
	ReasonReplayed     = "replayed"
	ReasonUnavailable  = "keys_unavailable"
	// No key secret has a value yet: the deploy is not finished.
	ReasonNotConfigured = "not_configured"
)

// Error is an authentication failure.
type Error struct {
	Reason string
	err    error // internal detail for logs; never shown to the caller
}

func (e *Error) Error() string {
	if e.err != nil {
		return e.Reason + ": " + e.err.Error()
	}
	return e.Reason
}

func (e *Error) Unwrap() error { return e.err }

// Status is the HTTP status for the failure: 503 when our own key store could
// not be read (the caller did nothing wrong), 401 otherwise.
func (e *Error) Status() int {
	if e.Reason == ReasonUnavailable || e.Reason == ReasonNotConfigured {
		return http.StatusServiceUnavailable
	}
	return http.StatusUnauthorized
}

// Principal is an authenticated caller.
type Principal struct {
	Source string
	KeyID  string // API key id, or "" for a signed request
	Method string // "api_key", "signature" or "attestation"
	// Attestation is the verdict on the attestation credential (valid,
	// missing, expired, invalid), or "" when the source's policy is off.
	Attestation string
	Subject     string // the credential's hashed app/device identity, when valid
	replay      string
}

// Config configures an Authenticator.
type Config struct {
	Secrets           secrets.Source
	APIKeysSecret     string // may be empty: API keys disabled
	SigningKeysSecret string // may be empty: signed requests disabled
	Tolerance         time.Duration
	Now               func() time.Time
	// Attestation, when set, checks attestation credentials against each
	// source's policy; nil: credentials are not accepted.
	Attestation *Attestation
}

// Authenticator checks a request's credentials against keys read from
// secrets (cached by the Source), re-parsing them only when they change.
type Authenticator struct {
	cfg    Config
	replay *ttlset.Set

	mu         sync.Mutex
	rawAPI     []byte
	rawSigning []byte
	ring       keyring
}

// New returns an Authenticator.
func New(cfg Config) (*Authenticator, error) {
	if cfg.APIKeysSecret == "" && cfg.SigningKeysSecret == "" && cfg.Attestation == nil {
		return nil, errors.New("auth: neither an API keys secret nor a signing keys secret nor attestation is configured")
	}
	if cfg.Tolerance <= 0 {
		// INGEST_SIGNATURE_TOLERANCE comes complete from the settings
		// registry; a zero is a caller that skipped it.
		return nil, errors.New("auth: Tolerance (INGEST_SIGNATURE_TOLERANCE) must be positive")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// A signature is refused once stale, so remembering it for the whole
	// tolerance on both sides of now is enough to refuse every replay.
	// The replay set is per instance and bounded (16 MB a generation, some
	// 120,000 signatures): past that, within one window, the oldest
	// generation goes early rather than the instance running out of memory.
	return &Authenticator{cfg: cfg, replay: ttlset.New(2*cfg.Tolerance, 16<<20, cfg.Now)}, nil
}

// Authenticate checks the credentials of a request whose raw body is body,
// then the source's attestation policy.
func (a *Authenticator) Authenticate(ctx context.Context, h http.Header, body []byte) (Principal, error) {
	if a.cfg.Attestation == nil {
		return a.keyOrSignature(ctx, h, body)
	}
	cred := h.Get(HeaderAttestation)
	if cred != "" && !hasOtherCredentials(h) {
		return a.credentialOnly(ctx, cred)
	}
	p, err := a.keyOrSignature(ctx, h, body)
	if err != nil {
		return p, err
	}
	q, err := a.attestation(ctx, p, cred)
	if err != nil {
		a.Release(p) // the same signed request may come back with a credential
		return Principal{}, err
	}
	return q, nil
}

func (a *Authenticator) keyOrSignature(ctx context.Context, h http.Header, body []byte) (Principal, error) {
	if sig := h.Get(HeaderSignature); sig != "" {
		return a.signed(ctx, h.Get(HeaderSource), sig, body)
	}
	presented := h.Get("X-Api-Key")
	if presented == "" {
		presented, _ = bearer(h)
	}
	if presented == "" {
		return Principal{}, &Error{Reason: ReasonMissing}
	}
	return a.apiKey(ctx, presented)
}

// bearer is the token of an Authorization header of the Bearer scheme,
// whose name is case-insensitive (RFC 9110, 11.1): "bearer x" is "Bearer x".
func bearer(h http.Header) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// Release forgets a signed request's signature, so that the caller may retry
// the same signed request after we failed it (for example with a 503).
func (a *Authenticator) Release(p Principal) {
	if p.replay != "" {
		a.replay.Remove(p.replay)
	}
}

func (a *Authenticator) apiKey(ctx context.Context, presented string) (Principal, error) {
	if a.cfg.APIKeysSecret == "" {
		return Principal{}, &Error{Reason: ReasonInvalidKey, err: errors.New("API keys are not enabled")}
	}
	id, secret, ok := splitPresented(presented)
	if !ok {
		return Principal{}, &Error{Reason: ReasonInvalidKey, err: errors.New("not of the form <id>.<secret>")}
	}
	ring, err := a.keyring(ctx)
	if err != nil {
		return Principal{}, err
	}
	k, found := ring.apiKeys[id]
	if !found {
		// Hash anyway so an unknown id costs the same time as a known one.
		subtle.ConstantTimeCompare(keySum(make([]byte, 16), secret), make([]byte, sha256.Size))
		return Principal{}, &Error{Reason: ReasonInvalidKey, err: fmt.Errorf("unknown key id %s", id)}
	}
	if subtle.ConstantTimeCompare(keySum(k.salt, secret), k.sum) != 1 {
		return Principal{}, &Error{Reason: ReasonInvalidKey, err: fmt.Errorf("wrong secret for key id %s", id)}
	}
	if !k.expires.IsZero() && a.cfg.Now().After(k.expires) {
		return Principal{}, &Error{Reason: ReasonExpiredKey, err: fmt.Errorf("key id %s expired %s", id, k.expires.Format(time.RFC3339))}
	}
	return Principal{Source: k.source, KeyID: id, Method: "api_key"}, nil
}

func (a *Authenticator) signed(ctx context.Context, source, header string, body []byte) (Principal, error) {
	if a.cfg.SigningKeysSecret == "" {
		return Principal{}, &Error{Reason: ReasonBadSignature, err: errors.New("signed requests are not enabled")}
	}
	if source == "" {
		return Principal{}, &Error{Reason: ReasonMissing, err: errors.New(HeaderSource + " is missing")}
	}
	ts, sigs, err := parseSignatureHeader(header)
	if err != nil {
		return Principal{}, &Error{Reason: ReasonBadSignature, err: err}
	}
	now := a.cfg.Now()
	if d := now.Sub(time.Unix(ts, 0)); d > a.cfg.Tolerance || d < -a.cfg.Tolerance {
		return Principal{}, &Error{Reason: ReasonStale, err: fmt.Errorf("signed %s ago, tolerance %s", d.Round(time.Second), a.cfg.Tolerance)}
	}
	ring, err := a.keyring(ctx)
	if err != nil {
		return Principal{}, err
	}
	keys := ring.signing[source]
	tsText := strconv.FormatInt(ts, 10)
	macs := 0
	for _, k := range keys {
		if !k.Expires.IsZero() && now.After(k.Expires) {
			continue
		}
		macs++
		want := signature(k.Secret, tsText, body)
		for _, got := range sigs {
			if hmac.Equal(want, got) {
				// The request is remembered, not the MAC that matched: a
				// request signed with two secrets during a rotation
				// ("v1=<old>,v1=<new>") is the same request with either.
				sum := sha256.Sum256(body)
				replayKey := source + "|" + tsText + "|" + hex.EncodeToString(sum[:])
				if !a.replay.Add(replayKey) {
					return Principal{}, &Error{Reason: ReasonReplayed, err: fmt.Errorf("request from %s at t=%s seen before", source, tsText)}
				}
				return Principal{Source: source, Method: "signature", replay: replayKey}, nil
			}
		}
	}
	if macs == 0 {
		// A source without an active key costs the MAC a known one does,
		// so the time taken does not tell which sources sign.
		signature(unknownSourceSecret, tsText, body)
	}
	return Principal{}, &Error{Reason: ReasonBadSignature, err: fmt.Errorf("no v1 matches an active key of source %q", source)}
}

// unknownSourceSecret keys the MAC computed for a source without keys.
const unknownSourceSecret = "eventrelay: no key for this source"

// signature is the v1 MAC: HMAC-SHA256 over "<t>.<body>".
func signature(secret, ts string, body []byte) []byte {
	mac := hmac.New(newHash, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// parseSignatureHeader reads "t=<unix>,v1=<hex>[,v1=<hex>...]"; unknown
// schemes are ignored so a future v2 can be added alongside v1.
func parseSignatureHeader(h string) (int64, [][]byte, error) {
	var ts int64 = -1
	var sigs [][]byte
	for part := range strings.SplitSeq(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return 0, nil, fmt.Errorf("signature header part %q is not key=value", part)
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return 0, nil, fmt.Errorf("t=%q is not a unix time in seconds", v)
			}
			ts = n
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return 0, nil, errors.New("a v1 value is not 64 hex characters")
			}
			if len(sigs) < 8 {
				sigs = append(sigs, b)
			}
		}
	}
	if ts < 0 || len(sigs) == 0 {
		return 0, nil, errors.New("signature header needs t= and at least one v1=")
	}
	return ts, sigs, nil
}

// Sign computes the signature header value for body at time t with each of
// secrets, as a sender does (the CLI and tests use it).
func Sign(t time.Time, body []byte, secrets ...string) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + ts)
	for _, s := range secrets {
		b.WriteString(",v1=" + hex.EncodeToString(signature(s, ts, body)))
	}
	return b.String()
}

// keyring returns the parsed keys, re-parsing only when a secret's bytes
// changed (the Source caches and refreshes them).
func (a *Authenticator) keyring(ctx context.Context) (keyring, error) {
	var rawAPI, rawSigning []byte
	var err error
	// A key secret without a value holds no keys: a deployment that uses
	// API keys only never fills the signing keys secret. With no value in
	// either, the deploy is not finished.
	if a.cfg.APIKeysSecret != "" {
		if rawAPI, err = a.cfg.Secrets.Get(ctx, a.cfg.APIKeysSecret); err != nil && !errors.Is(err, secrets.ErrNotFound) {
			return keyring{}, &Error{Reason: ReasonUnavailable, err: fmt.Errorf("read api keys: %w", err)}
		}
	}
	if a.cfg.SigningKeysSecret != "" {
		if rawSigning, err = a.cfg.Secrets.Get(ctx, a.cfg.SigningKeysSecret); err != nil && !errors.Is(err, secrets.ErrNotFound) {
			return keyring{}, &Error{Reason: ReasonUnavailable, err: fmt.Errorf("read signing keys: %w", err)}
		}
	}
	if rawAPI == nil && rawSigning == nil {
		return keyring{}, &Error{Reason: ReasonNotConfigured,
			err: fmt.Errorf("no key secret has a value (%s)", strings.Trim(a.cfg.APIKeysSecret+", "+a.cfg.SigningKeysSecret, ", "))}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ring.apiKeys != nil && bytes.Equal(rawAPI, a.rawAPI) && bytes.Equal(rawSigning, a.rawSigning) {
		return a.ring, nil
	}
	ring := keyring{apiKeys: map[string]storedKey{}, signing: map[string][]SigningKey{}}
	if rawAPI != nil {
		if ring.apiKeys, err = parseAPIKeys(rawAPI); err != nil {
			return keyring{}, &Error{Reason: ReasonUnavailable, err: err}
		}
	}
	if rawSigning != nil {
		if ring.signing, err = parseSigningKeys(rawSigning); err != nil {
			return keyring{}, &Error{Reason: ReasonUnavailable, err: err}
		}
	}
	a.rawAPI, a.rawSigning, a.ring = rawAPI, rawSigning, ring
	return ring, nil
}

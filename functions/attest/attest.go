// Package attest is the attestation exchange, served on ingest's URL under
// /attest/v1/: an app proves with Apple App Attest or Google Play Integrity
// (or, as a third way in, a Firebase App Check token) that it is a genuine
// binary on a genuine device, and gets a short-lived ingest credential for
// its source in return (shared/attest/credential). Attestation is slow and
// rate-limited at the platforms, so it happens once per credential
// lifetime, not per request.
//
//	POST /attest/v1/challenge     {"source"}                                    → {"challenge","expires_at"}
//	POST /attest/v1/apple/attest  {"source","key_id","attestation","challenge"} → credential (first time per key)
//	POST /attest/v1/apple/assert  {"source","key_id","assertion","challenge"}   → credential (afterwards)
//	POST /attest/v1/android       {"source","package_name","token","challenge"} → credential
//	POST /attest/v1/firebase      {"source","token"}                            → credential (Firebase App Check)
//
// Challenges are single-use and short-lived, kept in the ledger backends
// with the App Attest keys and counters, so every instance agrees.
package attest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"eventrelay.dev/eventrelay/shared/attest/appattest"
	"eventrelay.dev/eventrelay/shared/attest/appcheck"
	"eventrelay.dev/eventrelay/shared/attest/credential"
	"eventrelay.dev/eventrelay/shared/attest/playintegrity"
	"eventrelay.dev/eventrelay/shared/attest/refusal"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/ledger"
)

// PathPrefix is where the exchange is mounted on ingest's URL.
const PathPrefix = "/attest/"

// Apple is a source's iOS app identity.
type Apple struct {
	AppIDs []string // "<team id>.<bundle id>"
	Env    appattest.Environment
}

// Source is what one source accepts. A nil platform is not offered.
type Source struct {
	Apple    *Apple
	Android  *playintegrity.Policy
	Firebase *appcheck.Policy
}

// Config is the exchange's settings.
type Config struct {
	Sources       map[string]Source
	ChallengeTTL  time.Duration // default 5 minutes
	CredentialTTL time.Duration // default 30 minutes
	KeyTTL        time.Duration // an App Attest key unused this long is forgotten; default 180 days
	RetryAfter    time.Duration
	// ChallengeRate bounds the challenges one instance issues per second
	// (burst twice that): they are unauthenticated writes to the state
	// store. Per instance, so the bound across a deployment grows with
	// its instances. 0: 50.
	ChallengeRate float64
}

// PlayVerifier is what the exchange needs from shared/attest/playintegrity.
type PlayVerifier interface {
	Verify(ctx context.Context, packageName, token, challenge string, pol playintegrity.Policy) (*playintegrity.Verdict, error)
}

// Deps are the exchange's collaborators; Play may be nil when no source
// offers Android, Apple nil for Apple's real root, AppCheck nil for
// Firebase's published key set.
type Deps struct {
	State    ledger.AttestStore
	Keys     *credential.Keys
	Apple    *appattest.Verifier
	Play     PlayVerifier
	AppCheck *appcheck.Verifier
	Logger   *slog.Logger
	Now      func() time.Time
}

// Service is the exchange handler.
type Service struct {
	cfg     Config
	d       Deps
	issuing *rate.Limiter
}

// New returns a Service.
func New(cfg Config, d Deps) (*Service, error) {
	switch {
	case d.State == nil:
		return nil, errors.New("attest: no state store")
	case d.Keys == nil:
		return nil, errors.New("attest: no credential keys")
	}
	for name, s := range cfg.Sources {
		if s.Android != nil && d.Play == nil {
			return nil, fmt.Errorf("attest: source %s offers Android but there is no Play Integrity client", name)
		}
	}
	if d.Apple == nil {
		d.Apple = &appattest.Verifier{}
	}
	if d.AppCheck == nil {
		d.AppCheck = &appcheck.Verifier{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Apple.Now == nil {
		d.Apple.Now = d.Now
	}
	if d.AppCheck.Now == nil {
		d.AppCheck.Now = d.Now
	}
	def := func(v *time.Duration, x time.Duration) {
		if *v <= 0 {
			*v = x
		}
	}
	def(&cfg.ChallengeTTL, 5*time.Minute)
	def(&cfg.CredentialTTL, 30*time.Minute)
	def(&cfg.KeyTTL, 180*24*time.Hour)
	def(&cfg.RetryAfter, 5*time.Second)
	if cfg.ChallengeRate <= 0 {
		cfg.ChallengeRate = 50
	}
	return &Service{cfg: cfg, d: d, issuing: rate.NewLimiter(rate.Limit(cfg.ChallengeRate), int(2*cfg.ChallengeRate)+1)}, nil
}

// Request is every exchange request's body; each route reads its fields.
type Request struct {
	Source      string `json:"source"`
	Challenge   string `json:"challenge,omitempty"`
	KeyID       string `json:"key_id,omitempty"`      // base64, as DCAppAttestService returns it
	Attestation string `json:"attestation,omitempty"` // base64 CBOR
	Assertion   string `json:"assertion,omitempty"`   // base64 CBOR
	PackageName string `json:"package_name,omitempty"`
	Token       string `json:"token,omitempty"` // the Play Integrity or App Check token
}

// ChallengeResponse answers /challenge.
type ChallengeResponse struct {
	Challenge string    `json:"challenge"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CredentialResponse answers a successful exchange.
type CredentialResponse struct {
	Credential string    `json:"credential"`
	ExpiresAt  time.Time `json:"expires_at"`
	Header     string    `json:"header"` // where ingest expects it
}

// ErrorBody is the answer to a refused exchange; Error is the reason.
type ErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// Reasons the exchange itself gives (the verifiers give the others).
const (
	ReasonBadRequest       = "bad_request"
	ReasonUnknownSource    = "unknown_source"
	ReasonPlatformOff      = "platform_not_offered"
	ReasonChallengeInvalid = "challenge_invalid" // never issued, expired or already used
	ReasonChallengeSource  = "challenge_other_source"
	ReasonKeyUnknown       = "key_unknown"
	ReasonKeyExists        = "key_already_attested"
	ReasonCounter          = appattest.ReasonCounterReplay
	ReasonUnavailable      = "unavailable"
	ReasonBusy             = "too_many_challenges"
)

// failure is a refusal with its status.
type failure struct {
	status int
	reason string
	msg    string
}

// reasonStatus is the HTTP status of each reason the exchange gives (the
// docs/attestation.md's table). The verifiers' own reasons are not listed: they answer
// 401, or 503 when the platform could not be asked (verifierFailure); and a
// body over the limit is a bad_request answered 413.
var reasonStatus = map[string]int{
	reasonNotFound:         http.StatusNotFound,
	reasonMethod:           http.StatusMethodNotAllowed,
	ReasonBadRequest:       http.StatusBadRequest,
	ReasonUnknownSource:    http.StatusBadRequest,
	ReasonPlatformOff:      http.StatusBadRequest,
	ReasonChallengeInvalid: http.StatusUnauthorized,
	ReasonChallengeSource:  http.StatusUnauthorized,
	ReasonKeyUnknown:       http.StatusUnauthorized,
	ReasonKeyExists:        http.StatusUnauthorized,
	ReasonCounter:          http.StatusUnauthorized,
	ReasonBusy:             http.StatusTooManyRequests,
	ReasonUnavailable:      http.StatusServiceUnavailable,
}

const (
	reasonNotFound = "not_found" // no such route
	reasonMethod   = "method_not_allowed"
)

// refuse is a refusal with reason's status.
func refuse(reason, format string, args ...any) *failure {
	return refuseWith(reasonStatus[reason], reason, format, args...)
}

func refuseWith(status int, reason, format string, args ...any) *failure {
	return &failure{status: status, reason: reason, msg: fmt.Sprintf(format, args...)}
}

// maxBody bounds a request: an attestation is about 6 KB, 8 KB in base64.
const maxBody = 64 << 10

var routes = map[string]bool{"challenge": true, "apple/attest": true, "apple/assert": true, "android": true, "firebase": true}

// ServeHTTP routes one exchange request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.d.Now()
	route := strings.TrimPrefix(r.URL.Path, PathPrefix+"v1/")
	var resp any
	var fail *failure
	var req Request
	switch {
	case !routes[route]:
		fail = refuse(reasonNotFound, "no exchange route %s", r.URL.Path)
		route = "unknown" // the log line's route is a metric label: keep it to the known ones
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		fail = refuse(reasonMethod, "use POST")
	default:
		req, fail = decode(w, r)
		if fail == nil {
			resp, fail = s.route(r.Context(), route, req)
		}
	}
	outcome, reason := "exchanged", "ok"
	if fail != nil {
		outcome, reason = "exchange_refused", fail.reason
		if fail.status == http.StatusServiceUnavailable || fail.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter/time.Second)))
		}
		writeJSON(w, fail.status, ErrorBody{Error: fail.reason, Message: fail.msg})
	} else {
		writeJSON(w, http.StatusOK, resp)
	}
	attrs := []slog.Attr{slog.String("outcome", outcome), slog.String("route", route), slog.String("source", req.Source),
		slog.String("reason", reason),
		slog.Int64("duration_us", s.d.Now().Sub(start).Microseconds())}
	if fail != nil && fail.status != http.StatusNotFound {
		attrs = append(attrs, slog.String("detail", fail.msg))
	}
	level := slog.LevelInfo
	if fail != nil && fail.status >= 500 {
		level = slog.LevelWarn
	}
	s.d.Logger.LogAttrs(r.Context(), level, "attest exchange", attrs...)
}

func decode(w http.ResponseWriter, r *http.Request) (Request, *failure) {
	var req Request
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return req, refuseWith(http.StatusRequestEntityTooLarge, ReasonBadRequest, "body larger than %d bytes", maxBody)
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, refuse(ReasonBadRequest, "body is not the JSON object expected: %v", err)
	}
	if req.Source == "" || len(req.Source) > 128 {
		return Request{}, refuse(ReasonBadRequest, "source is missing or longer than 128 bytes")
	}
	return req, nil
}

func (s *Service) route(ctx context.Context, route string, req Request) (any, *failure) {
	src, ok := s.cfg.Sources[req.Source]
	if !ok {
		return nil, refuse(ReasonUnknownSource, "source %q does not take attestations", req.Source)
	}
	switch route {
	case "challenge":
		return s.challenge(ctx, req.Source)
	case "apple/attest", "apple/assert":
		if src.Apple == nil {
			return nil, refuse(ReasonPlatformOff, "source %q has no iOS app configured", req.Source)
		}
		if route == "apple/attest" {
			return s.appleAttest(ctx, req, src.Apple)
		}
		return s.appleAssert(ctx, req)
	case "firebase":
		if src.Firebase == nil {
			return nil, refuse(ReasonPlatformOff, "source %q has no Firebase app configured", req.Source)
		}
		return s.firebase(ctx, req, *src.Firebase)
	default:
		if src.Android == nil {
			return nil, refuse(ReasonPlatformOff, "source %q has no Android app configured", req.Source)
		}
		return s.android(ctx, req, *src.Android)
	}
}

func (s *Service) challenge(ctx context.Context, source string) (any, *failure) {
	if !s.issuing.Allow() {
		return nil, refuse(ReasonBusy, "too many challenges from this instance; retry later")
	}
	b := make([]byte, 32)
	rand.Read(b)
	c := ledger.Challenge{Value: base64.RawURLEncoding.EncodeToString(b), Source: source, ExpiresAt: s.d.Now().Add(s.cfg.ChallengeTTL)}
	if err := s.d.State.PutChallenge(ctx, c); err != nil {
		return nil, refuse(ReasonUnavailable, "challenge store: %v", err)
	}
	return ChallengeResponse{Challenge: c.Value, ExpiresAt: c.ExpiresAt.UTC()}, nil
}

// take spends the request's challenge, which must be this source's.
func (s *Service) take(ctx context.Context, req Request) *failure {
	if req.Challenge == "" || len(req.Challenge) > 128 {
		return refuse(ReasonBadRequest, "challenge is missing or too long")
	}
	c, err := s.d.State.TakeChallenge(ctx, req.Challenge)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		return refuse(ReasonChallengeInvalid, "the challenge was never issued, has expired or was already used")
	case err != nil:
		return refuse(ReasonUnavailable, "challenge store: %v", err)
	case c.Source != req.Source:
		return refuse(ReasonChallengeSource, "the challenge was issued for another source")
	}
	return nil
}

func decodeKeyID(v string) ([]byte, *failure) {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) != 32 {
		return nil, refuse(ReasonBadRequest, "key_id must be the base64 of 32 bytes, as generateKey returns it")
	}
	return b, nil
}

func decodeBlob(name, v string, limit int) ([]byte, *failure) {
	if v == "" || base64.StdEncoding.DecodedLen(len(v)) > limit+3 {
		return nil, refuse(ReasonBadRequest, "%s is missing or larger than %d bytes", name, limit)
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, refuse(ReasonBadRequest, "%s is not base64", name)
	}
	return b, nil
}

// appleRequest reads an App Attest request's key id and object (named
// field, at most limit bytes), then spends its challenge.
func (s *Service) appleRequest(ctx context.Context, req Request, field, value string, limit int) (keyID, obj []byte, f *failure) {
	if keyID, f = decodeKeyID(req.KeyID); f != nil {
		return nil, nil, f
	}
	if obj, f = decodeBlob(field, value, limit); f != nil {
		return nil, nil, f
	}
	if f = s.take(ctx, req); f != nil {
		return nil, nil, f
	}
	return keyID, obj, nil
}

func (s *Service) appleAttest(ctx context.Context, req Request, app *Apple) (any, *failure) {
	keyID, obj, f := s.appleRequest(ctx, req, "attestation", req.Attestation, appattest.MaxAttestationBytes)
	if f != nil {
		return nil, f
	}
	att, err := s.d.Apple.Attest(obj, appattest.ClientDataHash([]byte(req.Challenge)), keyID, app.AppIDs, app.Env)
	if err != nil {
		return nil, verifierFailure(err)
	}
	now := s.d.Now()
	id := hex.EncodeToString(keyID)
	err = s.d.State.CreateKey(ctx, ledger.AttestedKey{KeyID: id, Source: req.Source, AppID: att.AppID, Env: string(att.Env),
		PublicKey: att.PublicKey, Created: now, ExpiresAt: now.Add(s.cfg.KeyTTL)})
	switch {
	case errors.Is(err, ledger.ErrExists):
		return nil, refuse(ReasonKeyExists, "this key was attested before; send assertions")
	case err != nil:
		return nil, refuse(ReasonUnavailable, "key store: %v", err)
	}
	return s.mint(ctx, req.Source, "apple_attest", credential.Subject("apple", att.AppID, id))
}

// appleAssert checks an assertion over the challenge (the client data is
// the challenge's bytes) and stores its counter, only if higher.
func (s *Service) appleAssert(ctx context.Context, req Request) (any, *failure) {
	keyID, a, f := s.appleRequest(ctx, req, "assertion", req.Assertion, appattest.MaxAssertionBytes)
	if f != nil {
		return nil, f
	}
	id := hex.EncodeToString(keyID)
	key, err := s.d.State.GetKey(ctx, id)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		return nil, refuse(ReasonKeyUnknown, "no attested key with this id (attest it first)")
	case err != nil:
		return nil, refuse(ReasonUnavailable, "key store: %v", err)
	case key.Source != req.Source:
		return nil, refuse(ReasonKeyUnknown, "the key was attested for another source")
	}
	n, err := appattest.Assert(a, []byte(req.Challenge), key.PublicKey, key.AppID, key.Counter)
	if err != nil {
		return nil, verifierFailure(err)
	}
	err = s.d.State.AdvanceCounter(ctx, id, n, s.d.Now().Add(s.cfg.KeyTTL))
	switch {
	case errors.Is(err, ledger.ErrCounter):
		return nil, refuse(ReasonCounter, "another exchange stored a counter as high first")
	case errors.Is(err, ledger.ErrNotFound):
		return nil, refuse(ReasonKeyUnknown, "the key expired meanwhile")
	case err != nil:
		return nil, refuse(ReasonUnavailable, "key store: %v", err)
	}
	return s.mint(ctx, req.Source, "apple_assert", credential.Subject("apple", key.AppID, id))
}

func (s *Service) android(ctx context.Context, req Request, pol playintegrity.Policy) (any, *failure) {
	if req.PackageName == "" || req.Token == "" {
		return nil, refuse(ReasonBadRequest, "package_name and token are required")
	}
	if f := s.take(ctx, req); f != nil {
		return nil, f
	}
	v, err := s.d.Play.Verify(ctx, req.PackageName, req.Token, req.Challenge, pol)
	if err != nil {
		return nil, verifierFailure(err)
	}
	// Play Integrity names no device; the subject is the app and this
	// exchange.
	return s.mint(ctx, req.Source, "play_integrity", credential.Subject("android", v.PackageName, req.Challenge))
}

// firebase exchanges an App Check token. It carries no challenge of ours
// and may be presented again until it expires, so the credential expires
// no later than the token.
func (s *Service) firebase(ctx context.Context, req Request, pol appcheck.Policy) (any, *failure) {
	if req.Token == "" {
		return nil, refuse(ReasonBadRequest, "token is required")
	}
	tok, err := s.d.AppCheck.Verify(ctx, req.Token, pol)
	if err != nil {
		return nil, verifierFailure(err)
	}
	return s.mintUntil(ctx, req.Source, "app_check", credential.Subject("firebase", tok.AppID), tok.Expires)
}

func (s *Service) mint(ctx context.Context, source, via, subject string) (any, *failure) {
	return s.mintUntil(ctx, source, via, subject, time.Time{})
}

// mintUntil mints a credential for the configured lifetime, or until
// notAfter when that comes first.
func (s *Service) mintUntil(ctx context.Context, source, via, subject string, notAfter time.Time) (any, *failure) {
	now := s.d.Now()
	exp := now.Add(s.cfg.CredentialTTL)
	if !notAfter.IsZero() && notAfter.Before(exp) {
		exp = notAfter
	}
	cred, err := s.d.Keys.Mint(ctx, credential.Claims{Source: source, Subject: subject, Via: via, Issued: now.Unix(), Expires: exp.Unix()})
	if err != nil {
		return nil, refuse(ReasonUnavailable, "credential keys: %v", err)
	}
	return CredentialResponse{Credential: cred, ExpiresAt: time.Unix(exp.Unix(), 0).UTC(), Header: auth.HeaderAttestation}, nil
}

// verifierFailure turns a verifier's refusal into the answer: 401 with the
// reason, or 503 when the platform could not be asked.
func verifierFailure(err error) *failure {
	var r *refusal.Error
	switch {
	case errors.As(err, &r) && r.Retryable:
		return refuseWith(http.StatusServiceUnavailable, r.Reason, "%s", r.Detail)
	case errors.As(err, &r):
		return refuseWith(http.StatusUnauthorized, r.Reason, "%s", r.Detail)
	}
	return refuse(ReasonUnavailable, "%v", err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Mount serves the exchange under PathPrefix and everything else with next
// (ingest).
func Mount(exchange, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, PathPrefix) {
			exchange.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

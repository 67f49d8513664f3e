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
// Challenges are signed, short-lived and bound to the source and the
// client's address (challenge.go); each is spent once in the ledger
// backends, with the App Attest keys and counters and the day's Play
// Integrity decode budget, so every instance agrees. Each client address
// has its own request budget (ClientRate), so a flood from a few addresses
// closes the exchange for those addresses only; and every check that costs
// nothing comes before anything that does (a state store write, a Play
// Integrity decode call).
package attest

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"eventrelay.dev/eventrelay/shared/attest/appattest"
	"eventrelay.dev/eventrelay/shared/attest/appcheck"
	"eventrelay.dev/eventrelay/shared/attest/credential"
	"eventrelay.dev/eventrelay/shared/attest/playintegrity"
	"eventrelay.dev/eventrelay/shared/attest/refusal"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/clientip"
	"eventrelay.dev/eventrelay/shared/jsonanswer"
	"eventrelay.dev/eventrelay/shared/keyedlimit"
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
	ChallengeTTL  time.Duration
	CredentialTTL time.Duration
	KeyTTL        time.Duration // an App Attest key unused this long is forgotten
	RetryAfter    time.Duration
	// ClientRate bounds the exchange requests of one client address (an
	// IPv4 address or an IPv6 /64) a minute, every route together, in
	// bursts of as many; per instance (shared/keyedlimit). A genuine
	// exchange is two requests every CredentialTTL.
	ClientRate float64
	// ClientIP finds a request's client address.
	ClientIP clientip.Resolver
	// PlayDailyBudget bounds the Play Integrity decode calls of a UTC day
	// across every instance (Google's default quota is 10,000).
	// A warning is logged past 80% of it.
	PlayDailyBudget int64
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
	cfg       Config
	d         Deps
	perClient *keyedlimit.Limiter
	budget    *decodeBudget
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
	// The values come complete from the settings registry; a zero is a
	// caller that skipped it, not a wish for some default.
	if cfg.ChallengeTTL <= 0 || cfg.CredentialTTL <= 0 || cfg.KeyTTL <= 0 || cfg.RetryAfter <= 0 ||
		cfg.ClientRate <= 0 || cfg.PlayDailyBudget <= 0 {
		return nil, errors.New("attest: ChallengeTTL, CredentialTTL, KeyTTL, RetryAfter, ClientRate and PlayDailyBudget " +
			"(ATTEST_CHALLENGE_TTL, ATTEST_CREDENTIAL_TTL, ATTEST_KEY_TTL, INGEST_RETRY_AFTER, ATTEST_CLIENT_RATE, ATTEST_PLAY_DAILY_BUDGET) must be positive")
	}
	burst := max(int(cfg.ClientRate), 1)
	return &Service{cfg: cfg, d: d,
		perClient: keyedlimit.New(cfg.ClientRate, burst, maxClients, d.Now),
		budget: &decodeBudget{state: d.State, limit: cfg.PlayDailyBudget, block: max(cfg.PlayDailyBudget/200, 1),
			warnAt: cfg.PlayDailyBudget * 8 / 10, now: d.Now, log: d.Logger},
	}, nil
}

// maxClients bounds the client addresses an instance keeps a request
// budget for (some 100 bytes each).
const maxClients = 100_000

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
	ReasonChallengeClient  = "challenge_other_client"
	ReasonKeyUnknown       = "key_unknown"
	ReasonKeyExists        = "key_already_attested"
	ReasonCounter          = appattest.ReasonCounterReplay
	ReasonUnavailable      = "unavailable"
	ReasonBusy             = "too_many_requests" // this client address's budget is spent for now
	ReasonBudget           = "decode_budget_spent"
)

// failure is a refusal with its status. msg is the caller's; detail, when
// set, is for the log only (our own errors: the caller did nothing wrong
// and learns nothing of our insides).
type failure struct {
	status     int
	reason     string
	msg        string
	detail     string
	retryAfter time.Duration // 0: Config.RetryAfter
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
	ReasonChallengeClient:  http.StatusUnauthorized,
	ReasonKeyUnknown:       http.StatusUnauthorized,
	ReasonKeyExists:        http.StatusUnauthorized,
	ReasonCounter:          http.StatusUnauthorized,
	ReasonBusy:             http.StatusTooManyRequests,
	ReasonUnavailable:      http.StatusServiceUnavailable,
	ReasonBudget:           http.StatusServiceUnavailable,
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

// unavailable is a 503 for a failure of ours: the detail goes to the log,
// the caller reads only that it may retry.
func unavailable(format string, args ...any) *failure {
	return &failure{status: http.StatusServiceUnavailable, reason: ReasonUnavailable,
		msg: "the exchange cannot answer now; retry later", detail: fmt.Sprintf(format, args...)}
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
	client := s.cfg.ClientIP.Key(r)
	switch {
	case !routes[route]:
		fail = refuse(reasonNotFound, "no exchange route %s", r.URL.Path)
		route = "unknown" // the log line's route is a metric label: keep it to the known ones
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		fail = refuse(reasonMethod, "use POST")
	case !s.perClient.Allow(client):
		fail = refuse(ReasonBusy, "too many exchange requests from this address; retry later")
	default:
		req, fail = decode(w, r)
		if fail == nil {
			resp, fail = s.route(r.Context(), route, req, client)
		}
	}
	outcome, reason := "exchanged", "ok"
	if fail != nil {
		outcome, reason = "exchange_refused", fail.reason
		if fail.status == http.StatusServiceUnavailable || fail.status == http.StatusTooManyRequests {
			after := fail.retryAfter
			if after <= 0 {
				after = s.cfg.RetryAfter
			}
			w.Header().Set("Retry-After", strconv.Itoa(int((after+time.Second-1)/time.Second)))
		}
		jsonanswer.Write(w, fail.status, ErrorBody{Error: fail.reason, Message: fail.msg})
	} else {
		jsonanswer.Write(w, http.StatusOK, resp)
	}
	attrs := []slog.Attr{slog.String("outcome", outcome), slog.String("route", route), slog.String("source", s.sourceLabel(req.Source)),
		slog.String("reason", reason),
		slog.Int64("duration_us", s.d.Now().Sub(start).Microseconds())}
	if fail != nil && fail.status != http.StatusNotFound {
		detail := fail.msg
		if fail.detail != "" {
			detail = fail.detail
		}
		attrs = append(attrs, slog.String("detail", detail))
	}
	level := slog.LevelInfo
	if fail != nil && fail.status >= 500 {
		level = slog.LevelWarn
	}
	s.d.Logger.LogAttrs(r.Context(), level, "attest exchange", attrs...)
}

// sourceLabel is the log line's source, a metric label: a configured
// source, "unknown" for any other text a caller sent, "" for none.
func (s *Service) sourceLabel(source string) string {
	if _, ok := s.cfg.Sources[source]; ok || source == "" {
		return source
	}
	return "unknown"
}

func decode(w http.ResponseWriter, r *http.Request) (Request, *failure) {
	var req Request
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return req, refuseWith(http.StatusRequestEntityTooLarge, ReasonBadRequest, "body larger than %d bytes", maxBody)
	}
	// v2's defaults: names exactly as declared, none given twice (with
	// encoding/json, {"source":"a","Source":"b"} would be b).
	if err := jsonv2.Unmarshal(body, &req); err != nil {
		return req, refuse(ReasonBadRequest, "body is not the JSON object expected: %v", err)
	}
	if req.Source == "" || len(req.Source) > 128 {
		return Request{}, refuse(ReasonBadRequest, "source is missing or longer than 128 bytes")
	}
	return req, nil
}

func (s *Service) route(ctx context.Context, route string, req Request, client string) (any, *failure) {
	src, ok := s.cfg.Sources[req.Source]
	if !ok {
		return nil, refuse(ReasonUnknownSource, "source %q does not take attestations", req.Source)
	}
	switch route {
	case "challenge":
		return s.challenge(ctx, req.Source, client)
	case "apple/attest", "apple/assert":
		if src.Apple == nil {
			return nil, refuse(ReasonPlatformOff, "source %q has no iOS app configured", req.Source)
		}
		if route == "apple/attest" {
			return s.appleAttest(ctx, req, src.Apple, client)
		}
		return s.appleAssert(ctx, req, src.Apple, client)
	case "firebase":
		if src.Firebase == nil {
			return nil, refuse(ReasonPlatformOff, "source %q has no Firebase app configured", req.Source)
		}
		return s.firebase(ctx, req, *src.Firebase)
	default:
		if src.Android == nil {
			return nil, refuse(ReasonPlatformOff, "source %q has no Android app configured", req.Source)
		}
		return s.android(ctx, req, *src.Android, client)
	}
}

func (s *Service) challenge(ctx context.Context, source, client string) (any, *failure) {
	value, exp, err := s.issueChallenge(ctx, source, client)
	if err != nil {
		return nil, unavailable("credential keys: %v", err)
	}
	return ChallengeResponse{Challenge: value, ExpiresAt: exp.UTC()}, nil
}

// challengeOf checks the request's challenge (challenge.go) without
// spending it.
func (s *Service) challengeOf(ctx context.Context, req Request, client string) (time.Time, *failure) {
	if req.Challenge == "" || len(req.Challenge) > 128 {
		return time.Time{}, refuse(ReasonBadRequest, "challenge is missing or too long")
	}
	return s.openChallenge(ctx, req.Challenge, req.Source, client)
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
// field, at most limit bytes) and checks its challenge, which the caller
// spends once the object verified.
func (s *Service) appleRequest(ctx context.Context, req Request, field, value string, limit int, client string) (keyID, obj []byte, exp time.Time, f *failure) {
	if keyID, f = decodeKeyID(req.KeyID); f != nil {
		return nil, nil, exp, f
	}
	if obj, f = decodeBlob(field, value, limit); f != nil {
		return nil, nil, exp, f
	}
	if exp, f = s.challengeOf(ctx, req, client); f != nil {
		return nil, nil, exp, f
	}
	return keyID, obj, exp, nil
}

func (s *Service) appleAttest(ctx context.Context, req Request, app *Apple, client string) (any, *failure) {
	keyID, obj, exp, f := s.appleRequest(ctx, req, "attestation", req.Attestation, appattest.MaxAttestationBytes, client)
	if f != nil {
		return nil, f
	}
	att, err := s.d.Apple.Attest(obj, appattest.ClientDataHash([]byte(req.Challenge)), keyID, app.AppIDs, app.Env)
	if err != nil {
		return nil, verifierFailure(err)
	}
	if f := s.spendChallenge(ctx, req.Challenge, exp); f != nil {
		return nil, f
	}
	now := s.d.Now()
	id := hex.EncodeToString(keyID)
	err = s.d.State.CreateKey(ctx, ledger.AttestedKey{KeyID: id, Source: req.Source, AppID: att.AppID, Env: string(att.Env),
		PublicKey: att.PublicKey, Created: now, ExpiresAt: now.Add(s.cfg.KeyTTL)})
	switch {
	case errors.Is(err, ledger.ErrExists):
		return nil, refuse(ReasonKeyExists, "this key was attested before; send assertions")
	case err != nil:
		return nil, unavailable("key store: %v", err)
	}
	return s.mint(ctx, req.Source, "apple_attest", credential.Subject("apple", att.AppID, id))
}

// appleAssert checks an assertion over the challenge (the client data is
// the challenge's bytes) and stores its counter, only if higher. The key
// must still belong to the source's configuration as it is now: an app id
// removed, or the environment changed, retires the keys attested under it.
func (s *Service) appleAssert(ctx context.Context, req Request, app *Apple, client string) (any, *failure) {
	keyID, a, exp, f := s.appleRequest(ctx, req, "assertion", req.Assertion, appattest.MaxAssertionBytes, client)
	if f != nil {
		return nil, f
	}
	id := hex.EncodeToString(keyID)
	key, err := s.d.State.GetKey(ctx, id)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		return nil, refuse(ReasonKeyUnknown, "no attested key with this id (attest it first)")
	case err != nil:
		return nil, unavailable("key store: %v", err)
	case key.Source != req.Source:
		return nil, refuse(ReasonKeyUnknown, "the key was attested for another source")
	case !slices.Contains(app.AppIDs, key.AppID) || key.Env != string(app.Env):
		return nil, refuse(ReasonKeyUnknown, "the key was attested for an app id or environment this source no longer accepts; attest a new key")
	}
	n, err := appattest.Assert(a, []byte(req.Challenge), key.PublicKey, key.AppID, key.Counter)
	if err != nil {
		return nil, verifierFailure(err)
	}
	if f := s.spendChallenge(ctx, req.Challenge, exp); f != nil {
		return nil, f
	}
	err = s.d.State.AdvanceCounter(ctx, id, n, s.d.Now().Add(s.cfg.KeyTTL))
	switch {
	case errors.Is(err, ledger.ErrCounter):
		return nil, refuse(ReasonCounter, "another exchange stored a counter as high first")
	case errors.Is(err, ledger.ErrNotFound):
		return nil, refuse(ReasonKeyUnknown, "the key expired meanwhile")
	case err != nil:
		return nil, unavailable("key store: %v", err)
	}
	return s.mint(ctx, req.Source, "apple_assert", credential.Subject("apple", key.AppID, id))
}

// android checks what costs nothing (the token's shape and package, the
// challenge's signature, source and client), spends the challenge, then
// one call of the day's decode budget, and only then asks Google.
func (s *Service) android(ctx context.Context, req Request, pol playintegrity.Policy, client string) (any, *failure) {
	if req.PackageName == "" || req.Token == "" {
		return nil, refuse(ReasonBadRequest, "package_name and token are required")
	}
	if err := playintegrity.CheckToken(req.PackageName, req.Token, pol); err != nil {
		return nil, verifierFailure(err)
	}
	exp, f := s.challengeOf(ctx, req, client)
	if f != nil {
		return nil, f
	}
	if f := s.spendChallenge(ctx, req.Challenge, exp); f != nil {
		return nil, f
	}
	if f := s.budget.take(ctx); f != nil {
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
		return nil, unavailable("credential keys: %v", err)
	}
	return CredentialResponse{Credential: cred, ExpiresAt: time.Unix(exp.Unix(), 0).UTC(), Header: auth.HeaderAttestation}, nil
}

// verifierFailure turns a verifier's refusal into the answer: 401 with the
// reason, or 503 when the platform could not be asked.
func verifierFailure(err error) *failure {
	var r *refusal.Error
	switch {
	case errors.As(err, &r) && r.Retryable:
		// The detail is the platform's or its transport's error text: the
		// log's, not the anonymous caller's.
		return &failure{status: http.StatusServiceUnavailable, reason: r.Reason,
			msg: "the platform's attestation service could not be asked; retry later", detail: r.Detail}
	case errors.As(err, &r):
		return refuseWith(http.StatusUnauthorized, r.Reason, "%s", r.Detail)
	}
	return unavailable("%v", err)
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

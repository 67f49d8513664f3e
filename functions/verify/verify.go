// Package verify is the platform-neutral core of the verify function: it
// answers DFINERY Fraud Kill-Chain server-to-server verification callbacks.
// A callback is refused unless it is signed with an active ABX-HASH key, and
// confirmed only when our own ledger shows the event really happened, at
// that time, for that device or user, for that amount: no check is skipped
// because the callback leaves its field out. Each recorded event confirms
// one callback (a claim in the ledger, made only by a callback that passed
// every check, so a spoof cannot block the real one), and the identical
// body again gets the first verdict (stored in the ledger by the body's
// hash), on every instance. Two answers are never stored, so DFINERY's
// retry is judged afresh: not_found (the backend's ingest may still be on
// its way) and unavailable (our ledger did not answer within
// LedgerDeadline).
package verify

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"eventrelay.dev/eventrelay/shared/clientip"
	"eventrelay.dev/eventrelay/shared/dfinery"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/ledger"
)

// Reasons, machine-readable, returned to DFINERY and logged.
const (
	ReasonUnsigned     = "unsigned"
	ReasonBadSignature = "bad_signature"
	ReasonBadToken     = "bad_token"
	ReasonIPNotAllowed = "ip_not_allowed"
	ReasonTooLarge     = "too_large"
	ReasonMalformed    = "malformed"
	ReasonNoEventTime  = "no_event_time"
	ReasonStale        = "stale"
	ReasonUnsupported  = "unsupported_event"
	ReasonNoIdentifier = "no_identifier"
	// ReasonNoIdentity: the callback carries no identifier (device or
	// user) that the recorded event also carries, so nothing ties the
	// callback to the buyer; see the per-platform table in the docs.
	ReasonNoIdentity       = "missing:identity"
	ReasonNoAmount         = "missing:amount"
	ReasonNoCurrency       = "missing:currency"
	ReasonNotFound         = "not_found"
	ReasonAlreadyConfirmed = "already_confirmed"
	ReasonTime             = "mismatch:time"
	ReasonAmount           = "mismatch:amount"
	ReasonCurrency         = "mismatch:currency"
	ReasonDevice           = "mismatch:device"
	ReasonUser             = "mismatch:user"
	ReasonUnavailable      = "unavailable"
)

// Answer is a configured reply.
type Answer struct {
	Status int
	Body   string // may contain {reason}
}

// Config tunes the verifier.
type Config struct {
	MaxBodyBytes int64
	// Freshness: a callback whose event time is further than this from now
	// is refused as stale (DFINERY's signature covers no time of its own).
	Freshness time.Duration
	// TimeTolerance: how far the callback's event time may be from the time
	// we recorded.
	TimeTolerance time.Duration
	// AmountTolerance: absolute difference allowed between amounts.
	AmountTolerance float64
	// EventTypes maps DFINERY event names, lower case, to our event types.
	EventTypes map[string]string
	// NotRecorded are DFINERY's standard names left out of EventTypes
	// because the ledger does not record their type; only for the warning.
	NotRecorded map[string]string
	// Sources limits look-ups to the entries of these ingest sources;
	// empty: every source.
	Sources []string
	// LooseIdentity confirms a callback that names a recorded order with
	// its amount and currency even when no identifier of it matches the
	// event's (a user id that differs still refuses). Off by default: with
	// it, whoever learns an order id and its amount gets a spoof confirmed,
	// and DFINERY's real callback for that order then gets
	// already_confirmed. Only for a backend that cannot send ingest any id
	// DFINERY also has.
	LooseIdentity bool
	// LedgerDeadline bounds the secrets and ledger calls of one callback
	// together, well inside DFINERY's timeout: past it the answer is
	// unavailable (503), not stored, so a retry is judged afresh.
	LedgerDeadline time.Duration
	// MatchDeviceTime lets a callback without an order id (purchases) or
	// user id (other types) be confirmed by its device id and a recorded
	// event of the type within TimeTolerance. Off by default: whoever knows
	// one real device id can then get any event near its real ones
	// confirmed (each real event still confirms only one callback).
	MatchDeviceTime bool
	// Zone reads an event_datetime that carries no offset; nil is UTC.
	Zone *time.Location
	// VerdictTTL keeps verdicts (and claims of entries without an expiry);
	// the ledger's TTL.
	VerdictTTL time.Duration
	// LookupRetry bounds the wait for an event still on its way to the
	// ledger (a callback can beat ingest's write by a moment).
	LookupRetry    time.Duration
	Success        Answer
	Failure        Answer
	AllowedNets    []netip.Prefix // empty: any
	ClientIPHeader string         // e.g. X-Forwarded-For; empty: the connection's address
	// TrustedProxies is how many proxies in front of verify append to
	// ClientIPHeader; the client is the entry that many places from the
	// right (everything left of it is whatever the caller wrote).
	TrustedProxies int
	TokenHeader    string // header carrying the static token, when one is set
	Fields         dfinery.FieldMap
}

// Keys supplies the active HMAC keys and the optional static token.
type Keys interface {
	HMACKeys(ctx context.Context) ([][]byte, error)
	Token(ctx context.Context) (string, error) // "" when none is configured
}

// Hasher turns a raw identifier into the forms the ledger may store it
// in (field "device" or "user_id").
type Hasher interface {
	LedgerForms(field, value string) []string
}

// Service answers callbacks. It is safe for concurrent use, and keeps no
// state of its own: verdicts and claims live in the ledger, so every
// instance sharing it answers alike.
type Service struct {
	cfg   Config
	keys  Keys
	store ledger.VerifyStore
	hash  Hasher
	log   *slog.Logger
	now   func() time.Time
	sleep func(time.Duration)
}

// Deps are the Service's collaborators.
type Deps struct {
	Keys   Keys
	Ledger ledger.VerifyStore
	Hasher Hasher
	Logger *slog.Logger
	Now    func() time.Time
}

// check refuses an incomplete configuration: the values come complete from
// the settings registry (shared/settings, where the defaults and their
// reasons live), and a zero here is a caller that skipped it.
func (c Config) check() error {
	switch {
	case c.MaxBodyBytes <= 0:
		return fmt.Errorf("verify: MaxBodyBytes (VERIFY_MAX_BODY_BYTES) must be positive, got %d", c.MaxBodyBytes)
	case c.Freshness <= 0:
		return fmt.Errorf("verify: Freshness (VERIFY_FRESHNESS) must be positive, got %s", c.Freshness)
	case c.TimeTolerance <= 0:
		return fmt.Errorf("verify: TimeTolerance (VERIFY_TIME_TOLERANCE) must be positive, got %s", c.TimeTolerance)
	case c.LedgerDeadline <= 0:
		return fmt.Errorf("verify: LedgerDeadline (VERIFY_LEDGER_DEADLINE) must be positive, got %s", c.LedgerDeadline)
	case c.VerdictTTL <= 0:
		return fmt.Errorf("verify: VerdictTTL (LEDGER_TTL) must be positive, got %s", c.VerdictTTL)
	case c.Success.Status == 0 || c.Failure.Status == 0:
		return fmt.Errorf("verify: the success and failure answers (VERIFY_SUCCESS_STATUS, VERIFY_FAILURE_STATUS) need a status")
	}
	return nil
}

// New returns a Service.
func New(cfg Config, d Deps) (*Service, error) {
	if d.Keys == nil || d.Ledger == nil || d.Hasher == nil {
		return nil, errors.New("verify: keys, ledger and hasher are required")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{cfg: cfg, keys: d.Keys, store: d.Ledger, hash: d.Hasher,
		log: d.Logger, now: d.Now, sleep: time.Sleep}, nil
}

// decision is the outcome of one callback.
type decision struct {
	reason  string // "" for confirmed
	eventID string // the callback's order id, or the event it confirmed
	source  string // the ingest source of the event it confirmed
	keyIdx  int
	repeat  bool // the verdict stored for an identical body
}

// ServeHTTP answers one callback.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	d := s.decide(r)
	attrs := []slog.Attr{slog.String("reason", d.reason), slog.Int64("duration_us", s.now().Sub(start).Microseconds())}
	if d.eventID != "" {
		attrs = append(attrs, slog.String("event_id", d.eventID))
	}
	if d.source != "" {
		attrs = append(attrs, slog.String("source", d.source))
	}
	if d.keyIdx >= 0 {
		attrs = append(attrs, slog.Int("key_index", d.keyIdx))
	}
	if d.repeat {
		attrs = append(attrs, slog.Bool("repeat", true))
	}
	w.Header().Set("Cache-Control", "no-store")
	if d.reason == "" {
		attrs[0] = slog.String("reason", "confirmed")
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "verify", append(attrs, slog.Bool("confirmed", true), slog.String("outcome", "confirmed"))...)
		writeAnswer(w, s.cfg.Success, "")
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "verify", append(attrs, slog.Bool("confirmed", false), slog.String("outcome", "failed"))...)
	a := s.cfg.Failure
	if status, ok := reasonStatus[d.reason]; ok {
		a.Status = status
	}
	writeAnswer(w, a, d.reason)
}

// reasonStatus is the HTTP status of the reasons answered before a callback
// is known to be DFINERY's own, and of our own outage (503: DFINERY may try
// again). Every other reason is DFINERY's verdict, answered with the
// configured failure (VERIFY_FAILURE_STATUS, 422 by default).
var reasonStatus = map[string]int{
	ReasonIPNotAllowed: http.StatusForbidden,
	ReasonTooLarge:     http.StatusRequestEntityTooLarge,
	ReasonBadToken:     http.StatusUnauthorized,
	ReasonUnsigned:     http.StatusUnauthorized,
	ReasonBadSignature: http.StatusUnauthorized,
	ReasonUnavailable:  http.StatusServiceUnavailable,
}

// Write sends the answer with reason in place of {reason}.
func (a Answer) Write(w http.ResponseWriter, reason string) { writeAnswer(w, a, reason) }

func writeAnswer(w http.ResponseWriter, a Answer, reason string) {
	body := strings.ReplaceAll(a.Body, "{reason}", reason)
	if json.Valid([]byte(body)) {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(a.Status)
	io.WriteString(w, body)
}

func (s *Service) decide(r *http.Request) decision {
	d := decision{keyIdx: -1}
	if len(s.cfg.AllowedNets) > 0 && !s.allowed(r) {
		d.reason = ReasonIPNotAllowed
		return d
	}
	body, err := s.readBody(r)
	if err != nil {
		d.reason = ReasonTooLarge
		return d
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.LedgerDeadline)
	defer cancel()
	if s.cfg.TokenHeader != "" {
		want, err := s.keys.Token(ctx)
		if err == nil && want == "" {
			// A token is configured but its secret holds only blanks: that
			// is a broken deployment, not a check turned off.
			err = errors.New("the static token's secret is blank")
		}
		if err != nil {
			s.log.ErrorContext(ctx, "cannot read the static token", "error", err.Error())
			return decision{reason: ReasonUnavailable, keyIdx: -1}
		}
		// Compared as SHA-256 digests, so the time taken tells nothing of
		// the token's length either (ConstantTimeCompare returns at once
		// on a length difference).
		got, exp := sha256.Sum256([]byte(r.Header.Get(s.cfg.TokenHeader))), sha256.Sum256([]byte(want))
		if !tokenEqual(got[:], exp[:]) {
			d.reason = ReasonBadToken
			return d
		}
	}
	keys, err := s.keys.HMACKeys(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "cannot read DFINERY keys", "error", err.Error())
		return decision{reason: ReasonUnavailable, keyIdx: -1}
	}
	if d.keyIdx, err = dfinery.VerifyHash(r.Header.Get(dfinery.HeaderHash), body, keys); err != nil {
		d.reason = ReasonBadSignature
		if errors.Is(err, dfinery.ErrUnsigned) {
			d.reason = ReasonUnsigned
		}
		return d
	}
	// From here the request is DFINERY's own: answer with the configured
	// failure, whose reason it shows on its dashboard. The same body again
	// (DFINERY retrying after a lost answer) gets the first verdict.
	sum := sha256.Sum256(body)
	bodyHash := hex.EncodeToString(sum[:])
	if v, ok, err := s.store.Verdict(ctx, bodyHash); err != nil {
		s.log.ErrorContext(ctx, "verdict lookup failed", "error", err.Error())
		return decision{reason: ReasonUnavailable, keyIdx: d.keyIdx}
	} else if ok {
		d.reason, d.repeat = fromStored(v), true
		return d
	}
	var matched ledger.Key
	d.reason, d.eventID, matched = s.evaluate(ctx, r.Header.Get("Content-Type"), body, bodyHash)
	if d.reason == ReasonUnavailable || d.reason == ReasonNotFound {
		// Our failure, not the callback's, or an event whose ingest may
		// still be on its way: nothing stored, so DFINERY's retry is
		// judged afresh.
		return d
	}
	// Two identical bodies answered in parallel both get the verdict stored
	// first.
	v, err := s.store.SaveVerdict(ctx, bodyHash, toStored(d.reason), s.now().Add(s.cfg.VerdictTTL))
	if err != nil {
		s.log.ErrorContext(ctx, "verdict write failed", "error", err.Error())
		return decision{reason: ReasonUnavailable, keyIdx: d.keyIdx, eventID: d.eventID}
	}
	if d.reason = fromStored(v); d.reason == "" && matched.EventID != "" {
		d.eventID, d.source = matched.EventID, matched.Source
	}
	return d
}

func toStored(reason string) ledger.Verdict {
	if reason == "" {
		return ledger.Verdict{Reason: ledger.ReasonConfirmed}
	}
	return ledger.Verdict{Reason: reason}
}

func fromStored(v ledger.Verdict) string {
	if v.Reason == ledger.ReasonConfirmed {
		return ""
	}
	return v.Reason
}

// evaluate decides a signed body seen for the first time; it returns the
// reason ("" confirmed), the order id it named and the entry it confirmed.
func (s *Service) evaluate(ctx context.Context, contentType string, body []byte, bodyHash string) (string, string, ledger.Key) {
	cb, err := dfinery.Parse(contentType, body, s.cfg.Fields, s.cfg.Zone)
	if err != nil {
		return ReasonMalformed, "", ledger.Key{}
	}
	if cb.EventTime.IsZero() {
		return ReasonNoEventTime, cb.OrderID, ledger.Key{}
	}
	if age := s.now().Sub(cb.EventTime); age > s.cfg.Freshness || age < -s.cfg.TimeTolerance {
		return ReasonStale, cb.OrderID, ledger.Key{}
	}
	reason, matched := s.confirm(ctx, cb, bodyHash)
	return reason, cb.OrderID, matched
}

// confirm looks the callback's event up in the ledger, compares, and claims
// the entry it matches; a confirmation comes with that entry's key.
func (s *Service) confirm(ctx context.Context, cb *dfinery.Callback, bodyHash string) (string, ledger.Key) {
	eventType, ok := s.cfg.EventTypes[strings.ToLower(cb.EventName)]
	if !ok {
		// A target event configured in DFINERY's console that verify cannot
		// confirm: say so at once, with the name, rather than in a failure
		// rate.
		name := truncate(cb.EventName, 100)
		if typ, known := s.cfg.NotRecorded[strings.ToLower(cb.EventName)]; known {
			s.log.WarnContext(ctx, "verify: DFINERY event of a type ingest does not record (add it to LEDGER_EVENT_TYPES)",
				"event_name", name, "event_type", typ)
		} else {
			s.log.WarnContext(ctx, "verify: DFINERY event name not in the event map (add it to VERIFY_EVENT_MAP)", "event_name", name)
		}
		return ReasonUnsupported, ledger.Key{}
	}
	id := s.identityOf(cb)
	q := ledger.Query{EventType: eventType, Sources: s.cfg.Sources}
	window := func() {
		q.From, q.To = cb.EventTime.Add(-s.cfg.TimeTolerance), cb.EventTime.Add(s.cfg.TimeTolerance)
	}
	switch {
	case cb.OrderID != "":
		// Purchases (and any event whose callback names our event id).
		q.EventID = cb.OrderID
	case eventType != purchase && id.user != "":
		// Sign-up, login and the other non-purchase events: the user.
		q.UserID = id.user
		window()
	case s.cfg.MatchDeviceTime && len(id.devices) > 0:
		window()
	case s.cfg.MatchDeviceTime && id.user != "":
		q.UserID = id.user
		window()
	default:
		return ReasonNoIdentifier, ledger.Key{}
	}
	var devices []string
	if q.EventID == "" && q.UserID == "" {
		devices = id.devices
	}
	entries, err := s.find(ctx, q, devices)
	if err != nil {
		s.log.ErrorContext(ctx, "ledger lookup failed", "error", err.Error())
		return ReasonUnavailable, ledger.Key{}
	}
	if len(entries) == 0 {
		return ReasonNotFound, ledger.Key{}
	}
	// The closest in time first, so the answer does not depend on the
	// backend's order. Any full match that this body can claim confirms;
	// full matches all claimed by other bodies are already_confirmed;
	// otherwise the mismatch of the closest candidate.
	slices.SortStableFunc(entries, func(a, b ledger.Entry) int {
		return cmp.Compare(absDuration(a.Time.Sub(cb.EventTime)), absDuration(b.Time.Sub(cb.EventTime)))
	})
	best := ReasonNotFound
	for _, e := range entries {
		reason := s.compare(e, cb, id)
		if reason == "" {
			expires := e.ExpiresAt
			if expires.IsZero() {
				expires = s.now().Add(s.cfg.VerdictTTL)
			}
			mine, err := s.store.Claim(ctx, e.Key(), bodyHash, expires)
			if err != nil {
				s.log.ErrorContext(ctx, "ledger claim failed", "error", err.Error())
				return ReasonUnavailable, ledger.Key{}
			}
			if mine {
				return "", e.Key()
			}
			reason = ReasonAlreadyConfirmed
		}
		if rank(reason) < rank(best) {
			best = reason
		}
	}
	return best, ledger.Key{}
}

const purchase = "PURCHASE"

// identity is a callback's identifiers in their ledger forms; absent ones
// (empty, null-like, the all-zero advertising id) are left out.
type identity struct {
	devices []string
	user    string
}

func (s *Service) identityOf(cb *dfinery.Callback) identity {
	var id identity
	for _, raw := range []string{cb.ADID, cb.GAID, cb.IDFA, cb.IDFV} {
		if event.AbsentID(raw) {
			continue
		}
		for _, form := range s.hash.LedgerForms("device", raw) {
			if !slices.Contains(id.devices, form) {
				id.devices = append(id.devices, form)
			}
		}
	}
	if !event.AbsentID(cb.UserID) {
		id.user = s.hash.LedgerForms("user_id", cb.UserID)[0]
	}
	return id
}

// compare checks the callback against a recorded event: the time, the
// identity, and the amount and currency whenever the event has them; a
// field the callback leaves out fails its check rather than skipping it.
func (s *Service) compare(e ledger.Entry, cb *dfinery.Callback, id identity) string {
	if d := e.Time.Sub(cb.EventTime); d > s.cfg.TimeTolerance || d < -s.cfg.TimeTolerance {
		return ReasonTime
	}
	if reason := s.compareIdentity(e, id); reason != "" {
		return reason
	}
	switch {
	case e.Revenue != nil && cb.Revenue == nil:
		return ReasonNoAmount
	case e.Revenue == nil && cb.Revenue != nil,
		e.Revenue != nil && !(math.Abs(*e.Revenue-*cb.Revenue) <= s.cfg.AmountTolerance):
		return ReasonAmount
	}
	switch {
	case e.Currency != "" && cb.Currency == "":
		return ReasonNoCurrency
	case e.Currency != "" && cb.Currency != e.Currency:
		return ReasonCurrency
	}
	return ""
}

// compareIdentity: a user id on both sides must be the same; then at least
// one identifier of the callback must be one the event carries. Device ids
// of the two sides that differ are no proof of fraud by themselves (the
// backend may record its own install id, DFINERY the advertising id), so
// they refuse only when nothing else matches.
func (s *Service) compareIdentity(e ledger.Entry, id identity) string {
	entryUser := e.UserID
	if event.AbsentID(entryUser) {
		entryUser = ""
	}
	if id.user != "" && entryUser != "" && id.user != entryUser {
		return ReasonUser
	}
	if id.user != "" && id.user == entryUser {
		return ""
	}
	entryHasDevice := false
	for _, d := range e.DeviceIDs {
		if event.AbsentID(d) {
			continue
		}
		entryHasDevice = true
		if slices.Contains(id.devices, d) {
			return ""
		}
	}
	switch {
	case s.cfg.LooseIdentity:
		return ""
	case len(id.devices) > 0 && entryHasDevice:
		return ReasonDevice
	}
	return ReasonNoIdentity
}

// rank orders reasons from the most telling to the least: a claimed match
// first (the event is real, the callback is a second one), then the
// mismatches.
func rank(reason string) int {
	switch reason {
	case ReasonAlreadyConfirmed:
		return 0
	case ReasonAmount:
		return 1
	case ReasonCurrency:
		return 2
	case ReasonNoAmount:
		return 3
	case ReasonNoCurrency:
		return 4
	case ReasonDevice:
		return 5
	case ReasonUser:
		return 6
	case ReasonNoIdentity:
		return 7
	case ReasonTime:
		return 8
	}
	return 9
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// find retries a miss briefly: the callback may arrive a moment before
// ingest's ledger write is visible. (A longer race is DFINERY's retry's:
// not_found is not stored.)
func (s *Service) find(ctx context.Context, q ledger.Query, devices []string) ([]ledger.Entry, error) {
	deadline := s.now().Add(s.cfg.LookupRetry)
	wait := 25 * time.Millisecond
	for {
		entries, err := s.lookup(ctx, q, devices)
		if err != nil || len(entries) > 0 || !s.now().Add(wait).Before(deadline) {
			return entries, err
		}
		s.sleep(wait)
		wait *= 2
	}
}

// lookup is one look-up: q as it is, or with devices, by each ledger form
// of each device id, the answers joined once per entry.
func (s *Service) lookup(ctx context.Context, q ledger.Query, devices []string) ([]ledger.Entry, error) {
	if len(devices) == 0 {
		return s.store.Find(ctx, q)
	}
	var out []ledger.Entry
	seen := map[ledger.Key]bool{}
	for _, d := range devices {
		q.DeviceID = d
		entries, err := s.store.Find(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !seen[e.Key()] {
				seen[e.Key()] = true
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func (s *Service) readBody(r *http.Request) ([]byte, error) {
	if r.Method == http.MethodGet {
		// A GET callback has no body; its signed content is the raw query.
		return []byte(r.URL.RawQuery), nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxBodyBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > s.cfg.MaxBodyBytes {
		return nil, fmt.Errorf("body over %d bytes", s.cfg.MaxBodyBytes)
	}
	return b, nil
}

func (s *Service) allowed(r *http.Request) bool {
	addr, ok := s.clientAddr(r)
	if !ok {
		return false
	}
	for _, p := range s.cfg.AllowedNets {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// clientAddr is the caller's address (shared/clientip).
func (s *Service) clientAddr(r *http.Request) (netip.Addr, bool) {
	return clientip.Resolver{Header: s.cfg.ClientIPHeader, TrustedProxies: s.cfg.TrustedProxies}.Addr(r)
}

// tokenEqual compares the presented static token with the configured one
// in time that depends only on their lengths, which the callers make equal
// (SHA-256 digests); a test sees what it is given.
var tokenEqual = func(got, want []byte) bool { return subtle.ConstantTimeCompare(got, want) == 1 }

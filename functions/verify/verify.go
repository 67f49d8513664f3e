// Package verify is the platform-neutral core of the verify function: it
// answers DFINERY Fraud Kill-Chain server-to-server verification callbacks.
// A callback is refused unless it is signed with an active ABX-HASH key, and
// confirmed only when our own ledger shows the event really happened, at
// that time, for that device or user, for that amount.
package verify

import (
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
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"eventrelay.dev/eventrelay/shared/dfinery"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ttlset"
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
	ReasonReplayed     = "replayed"
	ReasonUnsupported  = "unsupported_event"
	ReasonNoIdentifier = "no_identifier"
	ReasonNotFound     = "not_found"
	ReasonTime         = "mismatch:time"
	ReasonAmount       = "mismatch:amount"
	ReasonCurrency     = "mismatch:currency"
	ReasonDevice       = "mismatch:device"
	ReasonUser         = "mismatch:user"
	ReasonUnavailable  = "unavailable"
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
	// EventTypes maps DFINERY event names to our event types.
	EventTypes map[string]string
	// LookupRetry bounds the wait for an event still on its way to the
	// ledger (a callback can beat ingest's write by a moment).
	LookupRetry    time.Duration
	Success        Answer
	Failure        Answer
	AllowedNets    []netip.Prefix // empty: any
	ClientIPHeader string         // e.g. X-Forwarded-For; empty: the connection's address
	TokenHeader    string         // header carrying the static token, when one is set
	Fields         dfinery.FieldMap
}

// Keys supplies the active HMAC keys and the optional static token.
type Keys interface {
	HMACKeys(ctx context.Context) ([][]byte, error)
	Token(ctx context.Context) (string, error) // "" when none is configured
}

// Hasher turns a raw identifier into the form the ledger stores.
type Hasher interface {
	LedgerForm(field, value string) string
}

// Service answers callbacks. It is safe for concurrent use.
type Service struct {
	cfg    Config
	keys   Keys
	store  ledger.Store
	hash   Hasher
	replay *ttlset.Set
	log    *slog.Logger
	now    func() time.Time
	sleep  func(time.Duration)
}

// Deps are the Service's collaborators.
type Deps struct {
	Keys   Keys
	Ledger ledger.Store
	Hasher Hasher
	Logger *slog.Logger
	Now    func() time.Time
}

// New returns a Service.
func New(cfg Config, d Deps) (*Service, error) {
	if d.Keys == nil || d.Ledger == nil || d.Hasher == nil {
		return nil, errors.New("verify: keys, ledger and hasher are required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.Freshness <= 0 {
		cfg.Freshness = 6 * time.Hour
	}
	if cfg.TimeTolerance <= 0 {
		cfg.TimeTolerance = 10 * time.Minute
	}
	if cfg.Success.Status == 0 {
		cfg.Success = Answer{Status: http.StatusOK, Body: `{"result":"success"}`}
	}
	if cfg.Failure.Status == 0 {
		cfg.Failure = Answer{Status: http.StatusUnprocessableEntity, Body: `{"result":"failure","reason":"{reason}"}`}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{cfg: cfg, keys: d.Keys, store: d.Ledger, hash: d.Hasher,
		replay: ttlset.New(2*cfg.Freshness, 1<<20, d.Now), log: d.Logger, now: d.Now, sleep: time.Sleep}, nil
}

// decision is the outcome of one callback.
type decision struct {
	reason  string // "" for confirmed
	status  int    // overrides the configured failure status (401, 403, 413)
	eventID string
	keyIdx  int
}

// ServeHTTP answers one callback.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	d := s.decide(r)
	attrs := []slog.Attr{slog.String("reason", d.reason), slog.Int64("duration_us", s.now().Sub(start).Microseconds())}
	if d.eventID != "" {
		attrs = append(attrs, slog.String("event_id", d.eventID))
	}
	if d.keyIdx >= 0 {
		attrs = append(attrs, slog.Int("key_index", d.keyIdx))
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
	if d.status != 0 {
		a.Status = d.status
	}
	writeAnswer(w, a, d.reason)
}

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
		d.reason, d.status = ReasonIPNotAllowed, http.StatusForbidden
		return d
	}
	body, err := s.readBody(r)
	if err != nil {
		d.reason, d.status = ReasonTooLarge, http.StatusRequestEntityTooLarge
		return d
	}
	ctx := r.Context()
	if s.cfg.TokenHeader != "" {
		want, err := s.keys.Token(ctx)
		if err != nil {
			return decision{reason: ReasonUnavailable, status: http.StatusServiceUnavailable, keyIdx: -1}
		}
		got := r.Header.Get(s.cfg.TokenHeader)
		if want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			d.reason, d.status = ReasonBadToken, http.StatusUnauthorized
			return d
		}
	}
	keys, err := s.keys.HMACKeys(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "cannot read DFINERY keys", "error", err.Error())
		return decision{reason: ReasonUnavailable, status: http.StatusServiceUnavailable, keyIdx: -1}
	}
	if d.keyIdx, err = dfinery.VerifyHash(r.Header.Get(dfinery.HeaderHash), body, keys); err != nil {
		d.reason, d.status = ReasonBadSignature, http.StatusUnauthorized
		if errors.Is(err, dfinery.ErrUnsigned) {
			d.reason = ReasonUnsigned
		}
		return d
	}
	// From here the request is DFINERY's own: answer with the configured
	// failure, whose reason it shows on its dashboard.
	cb, err := dfinery.Parse(r.Header.Get("Content-Type"), body, s.cfg.Fields)
	if err != nil {
		d.reason = ReasonMalformed
		return d
	}
	d.eventID = cb.OrderID
	if cb.EventTime.IsZero() {
		d.reason = ReasonNoEventTime
		return d
	}
	if age := s.now().Sub(cb.EventTime); age > s.cfg.Freshness || age < -s.cfg.TimeTolerance {
		d.reason = ReasonStale
		return d
	}
	sum := sha256.Sum256(body)
	if !s.replay.Add(hex.EncodeToString(sum[:])) {
		d.reason = ReasonReplayed
		return d
	}
	d.reason = s.confirm(ctx, cb)
	if d.reason == ReasonUnavailable {
		// Our failure, not the callback's: let DFINERY try again.
		s.replay.Remove(hex.EncodeToString(sum[:]))
		d.status = http.StatusServiceUnavailable
	}
	return d
}

// confirm looks the callback's event up in the ledger and compares.
func (s *Service) confirm(ctx context.Context, cb *dfinery.Callback) string {
	eventType, ok := s.cfg.EventTypes[strings.ToLower(cb.EventName)]
	if !ok {
		return ReasonUnsupported
	}
	device := ""
	if cb.ADID != "" {
		device = s.hash.LedgerForm("device", cb.ADID)
	} else if cb.IDFV != "" {
		device = s.hash.LedgerForm("device", cb.IDFV)
	}
	user := ""
	if cb.UserID != "" {
		user = s.hash.LedgerForm("user_id", cb.UserID)
	}
	q := ledger.Query{EventID: cb.OrderID, EventType: eventType}
	if q.EventID == "" {
		if device == "" && user == "" {
			return ReasonNoIdentifier
		}
		q.DeviceID, q.UserID = device, user
		if device != "" {
			q.UserID = "" // one index at a time; the user is compared below
		}
		q.From, q.To = cb.EventTime.Add(-s.cfg.TimeTolerance), cb.EventTime.Add(s.cfg.TimeTolerance)
	}
	entries, err := s.find(ctx, q)
	if err != nil {
		s.log.ErrorContext(ctx, "ledger lookup failed", "error", err.Error())
		return ReasonUnavailable
	}
	if len(entries) == 0 {
		return ReasonNotFound
	}
	// With several candidates, the best reason wins: any full match
	// confirms; otherwise report the mismatch of the closest one.
	best := ReasonNotFound
	for _, e := range entries {
		reason := s.compare(e, cb, device, user)
		if reason == "" {
			return ""
		}
		if rank(reason) < rank(best) {
			best = reason
		}
	}
	return best
}

func (s *Service) compare(e ledger.Entry, cb *dfinery.Callback, device, user string) string {
	if d := e.Time.Sub(cb.EventTime); d > s.cfg.TimeTolerance || d < -s.cfg.TimeTolerance {
		return ReasonTime
	}
	if device != "" && len(e.DeviceIDs) > 0 && !contains(e.DeviceIDs, device) {
		return ReasonDevice
	}
	if user != "" && e.UserID != "" && e.UserID != user {
		return ReasonUser
	}
	if cb.Revenue != nil {
		if e.Revenue == nil || math.Abs(*e.Revenue-*cb.Revenue) > s.cfg.AmountTolerance {
			return ReasonAmount
		}
		if cb.Currency != "" && e.Currency != "" && cb.Currency != e.Currency {
			return ReasonCurrency
		}
	}
	return ""
}

// rank orders mismatch reasons from most to least specific.
func rank(reason string) int {
	switch reason {
	case ReasonAmount:
		return 0
	case ReasonCurrency:
		return 1
	case ReasonDevice:
		return 2
	case ReasonUser:
		return 3
	case ReasonTime:
		return 4
	}
	return 5
}

// find retries a miss briefly: the callback may arrive a moment before
// ingest's ledger write is visible.
func (s *Service) find(ctx context.Context, q ledger.Query) ([]ledger.Entry, error) {
	deadline := s.now().Add(s.cfg.LookupRetry)
	wait := 25 * time.Millisecond
	for {
		entries, err := s.store.Find(ctx, q)
		if err != nil || len(entries) > 0 || !s.now().Add(wait).Before(deadline) {
			return entries, err
		}
		s.sleep(wait)
		wait *= 2
	}
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
	ip := ""
	if s.cfg.ClientIPHeader != "" {
		ip, _, _ = strings.Cut(r.Header.Get(s.cfg.ClientIPHeader), ",")
		ip = strings.TrimSpace(ip)
	} else {
		ip, _, _ = net.SplitHostPort(r.RemoteAddr)
		if ip == "" {
			ip = r.RemoteAddr
		}
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range s.cfg.AllowedNets {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Package erase is the erasure operation: an operator names a person by a
// user id or a device id, and everything the backend holds of them goes
// (ledger entries, verify's claims and verdicts on them), while a
// suppression entry stops their events from flowing again: ingest refuses
// them, the forwarder and backfill drop them unsent.
//
// The id is cleansed and hashed exactly as ingest does (shared/event's
// Cleanse, shared/pii's Anonymiser with the same salt), so it meets the
// ledger's stored form; the raw id is never stored or logged. It is served
// as an admin route of ingest (POST /erase), behind its own credential.
package erase

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/jsonanswer"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/pii"
	"eventrelay.dev/eventrelay/shared/suppress"
)

// Path is the admin route on ingest.
const Path = "/erase"

// Request names the person: at least one of the two ids.
type Request struct {
	UserID   string `json:"user_id,omitempty"`
	DeviceID string `json:"device_id,omitempty"`
}

// Response is what an erasure did.
type Response struct {
	Removed ledger.Erased `json:"removed"`
	// Suppressed is the number of suppression keys recorded (one per
	// stored form of each id), live until SuppressedUntil.
	Suppressed      int       `json:"suppressed"`
	SuppressedUntil time.Time `json:"suppressed_until"`
	// Subjects are the suppression keys, for the operator's records; they
	// are hashes, not the ids.
	Subjects []string `json:"subjects"`
}

// Keys returns the valid credentials (plain tokens); read from the secret
// store on every request through its cache, so a rotated key takes effect
// without a redeploy.
type Keys func(ctx context.Context) ([]string, error)

// Service serves erasure requests.
type Service struct {
	store     ledger.Eraser
	anon      *pii.Anonymiser
	keys      Keys
	retention time.Duration
	local     *suppress.Checker // this instance's cache, told at once; may be nil
	allow     func(*http.Request) bool
	retry     string // Retry-After of a 503, whole seconds
	log       *slog.Logger
	now       func() time.Time
}

// Deps are the Service's collaborators.
type Deps struct {
	Store      ledger.Eraser
	Anonymiser *pii.Anonymiser
	Keys       Keys
	// Retention is how long a suppression lives.
	Retention time.Duration
	Local     *suppress.Checker
	// Allow, when set, is asked first for every request: false answers 429
	// before the key is looked at (a per-address budget: the route is on
	// ingest's public URL, and guessing keys should cost the guesser).
	Allow func(*http.Request) bool
	// RetryAfter is advised with a 503 (the keys or the ledger could not
	// be read): ingest's INGEST_RETRY_AFTER, as the route is ingest's and
	// its other 503s (a ledger or queue outage) advise the same wait.
	RetryAfter time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// New returns a Service.
func New(d Deps) (*Service, error) {
	if d.Store == nil || d.Anonymiser == nil || d.Keys == nil || d.Retention <= 0 || d.RetryAfter <= 0 {
		return nil, errors.New("erase: a store, an anonymiser, keys, a positive retention and a positive RetryAfter are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{store: d.Store, anon: d.Anonymiser, keys: d.Keys, retention: d.Retention,
		local: d.Local, allow: d.Allow, log: d.Logger, now: d.Now,
		retry: jsonanswer.RetryAfter(d.RetryAfter)}, nil
}

// Forms returns the ids as the ledger stores them (cleansed, then hashed
// where ingest hashes that field) and their suppression keys. A device id
// may sit in any of the three device fields, each hashed or not by its own
// setting, so it may have two stored forms.
func (s *Service) Forms(r Request) (ids, keys []string) {
	e := event.Event{UserID: r.UserID}
	if r.DeviceID != "" {
		e.Device = &event.Device{PersistentID: r.DeviceID, AdvertisingID: r.DeviceID, UniqueDeviceID: r.DeviceID}
	}
	event.Cleanse(&e)
	s.anon.Apply(&e)
	add := func(id string) {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
			keys = append(keys, suppress.Key(id))
		}
	}
	add(e.UserID)
	if d := e.Device; d != nil {
		add(d.PersistentID)
		add(d.AdvertisingID)
		add(d.UniqueDeviceID)
	}
	return ids, keys
}

// ServeHTTP handles POST /erase with a JSON Request and
// "Authorization: Bearer <key>".
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, attrs := s.serve(w, r)
	// The audit line: one per request, never the raw id.
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	} else if status >= 400 {
		level = slog.LevelWarn
	}
	s.log.LogAttrs(r.Context(), level, "erase", append([]slog.Attr{slog.Int("status", status),
		slog.String("remote", r.RemoteAddr)}, attrs...)...)
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) (int, []slog.Attr) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return fail(w, codeMethod, "use POST")
	}
	if s.allow != nil && !s.allow(r) {
		w.Header().Set("Retry-After", "60")
		return fail(w, codeTooMany, "too many erasure requests from this address; retry in a minute")
	}
	if code := s.authorize(r); code != "" {
		if code == codeUnavailable {
			w.Header().Set("Retry-After", s.retry)
			return fail(w, code, "the erase keys could not be read; send the same request again")
		}
		return fail(w, code, "erasure needs a valid admin key: Authorization: Bearer <key>")
	}
	var req Request
	// Names exactly as declared, none twice, nothing unknown (encoding/json
	// would take USER_ID for user_id, and the last of two).
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<10))
	if err == nil {
		err = jsonv2.Unmarshal(body, &req, jsonv2.RejectUnknownMembers(true))
	}
	if err != nil {
		return fail(w, codeBadRequest, `the body must be {"user_id": "..."} or {"device_id": "..."}: `+err.Error())
	}
	ids, keys := s.Forms(req)
	if len(ids) == 0 {
		return fail(w, codeBadRequest, "give a user_id or a device_id (a null-like value such as \"null\" names nobody)")
	}
	until := s.now().Add(s.retention).UTC().Truncate(time.Second)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
	defer cancel()
	removed, err := s.store.Erase(ctx, ids, keys, until)
	attrs := []slog.Attr{slog.Bool("by_user_id", req.UserID != ""), slog.Bool("by_device_id", req.DeviceID != ""),
		slog.Any("subjects", keys), slog.Int("entries", removed.Entries), slog.Int("claims", removed.Claims),
		slog.Int("verdicts", removed.Verdicts), slog.Time("suppressed_until", until)}
	if err != nil {
		// The suppressions are written first; an erasure that failed after
		// them is completed by sending the same request again.
		w.Header().Set("Retry-After", s.retry)
		status, a := fail(w, codeUnavailable, "the erasure did not complete; send the same request again")
		return status, append(append(attrs, slog.String("error", err.Error())), a...)
	}
	if s.local != nil {
		s.local.Remember(keys)
	}
	jsonanswer.Write(w, http.StatusOK, Response{Removed: removed, Suppressed: len(keys), SuppressedUntil: until, Subjects: keys})
	return http.StatusOK, attrs
}

// authorize checks the bearer key against every valid key in constant
// time (over hashes, so lengths leak nothing). It answers the error code,
// "" when allowed.
func (s *Service) authorize(r *http.Request) string {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return codeUnauthorized
	}
	valid, err := s.keys(r.Context())
	if err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "erase keys unreadable", slog.String("error", err.Error()))
		return codeUnavailable
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match := 0
	for _, k := range valid {
		want := sha256.Sum256([]byte(k))
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	if match != 1 {
		return codeForbidden
	}
	return ""
}

// ParseKeys reads the admin key secret: one key per line, blank lines and
// lines starting with # ignored. Keys shorter than MinKeyLen characters
// are refused, so a placeholder or a guessable word never guards erasure.
func ParseKeys(b []byte) ([]string, error) {
	var keys []string
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) < MinKeyLen {
			return nil, fmt.Errorf("an erase key must be at least %d characters", MinKeyLen)
		}
		keys = append(keys, line)
	}
	if len(keys) == 0 {
		return nil, errors.New("the erase key secret holds no key")
	}
	return keys, nil
}

// MinKeyLen is the shortest erase key accepted: 32 characters, as
// `openssl rand -hex 16` prints.
const MinKeyLen = 32

// ErrorBody is the answer to a refused request.
type ErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// Error codes of a refused request, and their statuses.
const (
	codeMethod       = "method_not_allowed"
	codeUnauthorized = "unauthorized" // no bearer key
	codeForbidden    = "forbidden"    // a key, but not a valid one
	codeBadRequest   = "bad_request"
	codeTooMany      = "too_many_requests" // this address's budget is spent for now
	codeUnavailable  = "unavailable"       // the keys or the ledger could not be reached: send it again
)

var errorStatus = map[string]int{
	codeMethod:       http.StatusMethodNotAllowed,
	codeUnauthorized: http.StatusUnauthorized,
	codeForbidden:    http.StatusForbidden,
	codeBadRequest:   http.StatusBadRequest,
	codeTooMany:      http.StatusTooManyRequests,
	codeUnavailable:  http.StatusServiceUnavailable,
}

func fail(w http.ResponseWriter, code, msg string) (int, []slog.Attr) {
	status := errorStatus[code]
	jsonanswer.Write(w, status, ErrorBody{Error: code, Message: msg})
	return status, []slog.Attr{slog.String("error_code", code)}
}

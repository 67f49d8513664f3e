// Package ingest is the platform-neutral core of the ingest function: it
// authenticates the caller, reads and checks a batch of events, cleanses,
// anonymises and de-duplicates them, and answers only once the queue has
// acknowledged every event it reports as accepted.
package ingest

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/jsonanswer"
	"eventrelay.dev/eventrelay/shared/logging"
	"eventrelay.dev/eventrelay/shared/pii"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/ttlset"
)

// Limits bound what one request may cost.
type Limits struct {
	MaxEventBytes int // one event's JSON
	MaxBodyBytes  int // the whole (decompressed) body
	MaxEvents     int // events in one request
}

// Config is everything the core needs; the adapters build it from the
// environment.
type Config struct {
	Limits         Limits
	FutureSkew     time.Duration // client clocks may run this far ahead
	MaxAge         time.Duration // 0: any age
	PublishTimeout time.Duration // how long to wait for the queue's ack
	RetryAfter     time.Duration // advised to callers on 503
	DedupeWindow   time.Duration // 0: only in-request de-duplication
	Consent        ConsentPolicy // for events that carry no consent field
}

// Authenticator is what the core needs from shared/auth.
type Authenticator interface {
	Authenticate(ctx context.Context, h http.Header, body []byte) (auth.Principal, error)
	Release(p auth.Principal)
}

// Recorder receives the accepted events, before they are published, so that
// verify can later confirm them (the ledger). It may be nil.
type Recorder interface {
	Record(ctx context.Context, source string, events []*event.Event) error
}

// Service is the ingest handler. It is safe for concurrent use.
type Service struct {
	cfg     Config
	auth    Authenticator
	pub     queue.Publisher
	anon    *pii.Anonymiser
	ledger  Recorder
	supp    Suppressions
	catalog Catalog
	seen    *ttlset.Set // ids acknowledged by the queue, per instance
	log     *slog.Logger
	now     func() time.Time
}

// Deps are the Service's collaborators.
type Deps struct {
	Auth       Authenticator
	Publisher  queue.Publisher
	Anonymiser *pii.Anonymiser
	Ledger     Recorder
	Suppressed Suppressions // nil: no erasure list
	Catalog    Catalog      // nil: no enrichment
	Logger     *slog.Logger
	Now        func() time.Time
}

// New returns a Service.
func New(cfg Config, d Deps) (*Service, error) {
	switch {
	case d.Auth == nil:
		return nil, errors.New("ingest: no authenticator")
	case d.Publisher == nil:
		return nil, errors.New("ingest: no publisher")
	case d.Anonymiser == nil:
		return nil, errors.New("ingest: no anonymiser")
	case cfg.Limits.MaxEventBytes <= 0 || cfg.Limits.MaxBodyBytes <= 0 || cfg.Limits.MaxEvents <= 0:
		return nil, errors.New("ingest: limits must be positive")
	// The values come complete from the settings registry; a zero is a
	// caller that skipped it, not a wish for some default.
	case cfg.PublishTimeout <= 0 || cfg.RetryAfter <= 0:
		return nil, errors.New("ingest: PublishTimeout (INGEST_PUBLISH_TIMEOUT) and RetryAfter (INGEST_RETRY_AFTER) must be positive")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Service{cfg: cfg, auth: d.Auth, pub: d.Publisher, anon: d.Anonymiser,
		ledger: d.Ledger, supp: d.Suppressed, catalog: d.Catalog, log: d.Logger, now: d.Now}
	if cfg.DedupeWindow > 0 {
		s.seen = ttlset.New(cfg.DedupeWindow, dedupeBytes, d.Now)
	}
	return s, nil
}

// dedupeBytes bounds one generation of the de-duplication set (so the set
// at twice it, 24 MB, about 270,000 ids of 40 bytes): a busy instance
// remembers its ids for less than DedupeWindow rather than outgrow the
// GOMEMLIMIT of a 256 MB function (a million ids a generation was some 160
// MB at two generations).
const dedupeBytes = 12 << 20

// Response is the body of every answer to a request that carried events.
type Response struct {
	Accepted    []Ref       `json:"accepted"`
	Duplicates  []Duplicate `json:"duplicates"`
	Rejected    []Rejection `json:"rejected"`
	Refused     []Refusal   `json:"refused,omitempty"` // by consent or erasure
	NotAccepted []Failure   `json:"not_accepted,omitempty"`
}

// Ref points at one event of the request.
type Ref struct {
	Index int    `json:"index"`
	ID    string `json:"id"`
}

// Duplicate is an event dropped because its id was already taken.
type Duplicate struct {
	Index int    `json:"index"`
	ID    string `json:"id"`
	// Of is the index of the first event with this id in the same request,
	// or -1 when an earlier request already delivered it to the queue.
	Of int `json:"of"`
}

// Rejection is an event refused for the reasons given.
type Rejection struct {
	Index  int                `json:"index"`
	ID     string             `json:"id,omitempty"`
	Errors []event.FieldError `json:"errors"`
	class  string             // RejectTooLarge, ...: the log line's bounded class
}

// Rejection classes, the "class" of an "ingest event" line: few and fixed,
// so a metric can carry them as a label (the reasons are free text).
const (
	RejectTooLarge    = "too_large"   // the event alone is over the size limit
	RejectMalformed   = "malformed"   // not an event object, or an unknown field
	RejectInvalid     = "invalid"     // a field fails validation
	RejectUnencodable = "unencodable" // cannot be encoded for the queue
)

// Failure is an event the queue did not acknowledge; send it again later.
type Failure struct {
	Index  int    `json:"index"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// ErrorBody is the answer to a request refused as a whole.
type ErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// ServeHTTP handles one ingest request. Its log lines (the request's, and
// one per event it did not queue) are written together when it ends, even
// if it panics: one write instead of one per line, and a request's lines
// stay together.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	ctx, lines := logging.WithBuffer(r.Context())
	// A log write that fails has nowhere left to be reported.
	defer func() { _ = lines.Flush() }()
	r = r.WithContext(ctx)
	status, source, resp := s.serve(w, r)
	if resp != nil {
		s.logEvents(r.Context(), source, resp)
	}
	attrs := []slog.Attr{
		slog.String("outcome", "answered"),
		slog.Int("status", status),
		slog.String("source", source),
		slog.Int64("duration_us", s.now().Sub(start).Microseconds()),
	}
	if resp != nil {
		// The counts per outcome, each only when not 0 (most requests
		// have one outcome): the log-based metrics sum accepted and
		// duplicates from here.
		for _, c := range [...]struct {
			name string
			n    int
		}{{"accepted", len(resp.Accepted)}, {"duplicates", len(resp.Duplicates)}, {"rejected", len(resp.Rejected)},
			{"not_accepted", len(resp.NotAccepted)}, {"refused", len(resp.Refused)}} {
			if c.n > 0 {
				attrs = append(attrs, slog.Int(c.name, c.n))
			}
		}
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelWarn
	}
	s.log.LogAttrs(r.Context(), level, "ingest request", attrs...)
}

// logEvents writes an "ingest event" line, with its id, source, outcome
// and class, for each event of the answer that was not queued: rejected,
// not accepted, refused. Accepted and duplicate events, the routine ones,
// are counted by the request's line; their own lines are written only at
// debug level (LOG_LEVEL=debug), so a batch of 100 costs one line at the
// deployed level instead of 101 (docs/operations.md: one event's path).
func (s *Service) logEvents(ctx context.Context, source string, resp *Response) {
	line := func(level slog.Level, outcome, id, class string) {
		attrs := [4]slog.Attr{slog.String("outcome", outcome), slog.String("event_id", id), slog.String("source", source)}
		n := 3
		if class != "" {
			attrs[3], n = slog.String("class", class), 4
		}
		s.log.LogAttrs(ctx, level, "ingest event", attrs[:n]...)
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		for _, a := range resp.Accepted {
			line(slog.LevelDebug, "accepted", a.ID, "")
		}
		for _, d := range resp.Duplicates {
			class := "in_request"
			if d.Of < 0 {
				class = "earlier_request"
			}
			line(slog.LevelDebug, "duplicate", d.ID, class)
		}
	}
	for _, r := range resp.Rejected {
		line(slog.LevelInfo, "rejected", r.ID, r.class)
	}
	for _, f := range resp.NotAccepted {
		line(slog.LevelWarn, "not_accepted", f.ID, f.Reason)
	}
	for _, r := range resp.Refused {
		line(slog.LevelInfo, "refused", r.ID, r.Reason) // class no_consent or erased
	}
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) (int, string, *Response) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return s.fail(w, "", codeMethod, "use POST")
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return s.fail(w, "", codeMediaType, err.Error())
	}
	// An API key or a credential does not cover the body: check it before
	// reading (and inflating) a byte, so an anonymous caller's body costs
	// nothing. A signature covers the body, which is read first, bounded
	// by MaxBodyBytes after inflation.
	signed := r.Header.Get(auth.HeaderSignature) != ""
	var p auth.Principal
	var err error
	if !signed {
		if p, err = s.auth.Authenticate(r.Context(), r.Header, nil); err != nil {
			return s.authFailed(w, r, err)
		}
	}
	body, code, err := s.readBody(w, r)
	if err != nil {
		return s.fail(w, p.Source, code, err.Error())
	}
	if signed {
		if p, err = s.auth.Authenticate(r.Context(), r.Header, body); err != nil {
			return s.authFailed(w, r, err)
		}
	}
	// Most bodies decode cleanly in one pass; any other takes Split and a
	// decode per event, which give the answers and errors.
	raws, decodedEvents, ok := event.DecodeBody(body, s.cfg.Limits.MaxEvents, s.cfg.Limits.MaxEventBytes)
	if !ok {
		if raws, err = event.Split(body); err != nil {
			s.auth.Release(p)
			return s.fail(w, p.Source, codeBadRequest, err.Error())
		}
		if len(raws) > s.cfg.Limits.MaxEvents {
			s.auth.Release(p)
			return s.fail(w, p.Source, codeTooManyEvents,
				fmt.Sprintf("%d events in one request; at most %d", len(raws), s.cfg.Limits.MaxEvents))
		}
	}
	resp, status := s.process(r.Context(), p.Source, raws, decodedEvents)
	if status == http.StatusServiceUnavailable || status == http.StatusInternalServerError {
		// Let the caller retry the same signed request.
		s.auth.Release(p)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", s.retryAfter())
	}
	jsonanswer.Write(w, status, resp)
	return status, p.Source, resp
}

// authFailed answers a request whose credentials were refused.
func (s *Service) authFailed(w http.ResponseWriter, r *http.Request, err error) (int, string, *Response) {
	var ae *auth.Error
	if errors.As(err, &ae) {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "authentication failed", slog.String("outcome", "auth_failed"),
			slog.String("reason", ae.Reason), slog.String("detail", ae.Error()))
		if ae.Status() == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", s.retryAfter())
		}
		return s.reply(w, "", ae.Status(), ae.Reason, "authentication failed: "+ae.Reason)
	}
	s.log.LogAttrs(r.Context(), slog.LevelError, "authentication error", slog.String("error", err.Error()))
	return s.fail(w, "", codeInternal, "authentication could not be checked")
}

// process turns raw events into acknowledged messages and the answer.
// clean, when not nil, are raws already decoded cleanly (DecodeBody).
func (s *Service) process(ctx context.Context, source string, raws []json.RawMessage, clean []event.Event) (*Response, int) {
	resp := &Response{Accepted: []Ref{}, Duplicates: []Duplicate{}, Rejected: []Rejection{}}
	rules := event.Rules{Now: s.now(), FutureSkew: s.cfg.FutureSkew, MaxAge: s.cfg.MaxAge}
	firstIndex := make(map[string]int, len(raws))
	decoded := s.decodeAll(ctx, raws, clean)
	events := make([]*event.Event, 0, len(raws))
	indexes := make([]int, 0, len(raws))
	bodies := make([][]byte, 0, len(raws))
	for i, d := range decoded {
		e, errs, class := s.check(d, rules)
		if len(errs) > 0 && d.unenriched {
			resp.NotAccepted = append(resp.NotAccepted, Failure{Index: i, ID: e.ID, Reason: "catalog_unavailable"})
			continue
		}
		if len(errs) > 0 {
			resp.Rejected = append(resp.Rejected, Rejection{Index: i, ID: e.ID, Errors: errs, class: class})
			continue
		}
		if !s.cfg.Consent.Given(source, e) {
			resp.Refused = append(resp.Refused, Refusal{Index: i, ID: e.ID, Reason: RefusedNoConsent})
			continue
		}
		e.Consent = nil // ours alone: never queued, never sent
		var body []byte
		if e.ID == "" {
			// One encoding serves both the derived id and the message body.
			e.ID, body = event.DeriveIDAndEncode(source, e)
		}
		if first, dup := firstIndex[e.ID]; dup {
			resp.Duplicates = append(resp.Duplicates, Duplicate{Index: i, ID: e.ID, Of: first})
			continue
		}
		firstIndex[e.ID] = i
		if s.seen != nil && s.seen.Contains(event.Key(source, e.ID)) {
			resp.Duplicates = append(resp.Duplicates, Duplicate{Index: i, ID: e.ID, Of: -1})
			continue
		}
		if body == nil {
			var err error
			if body, err = event.Encode(e); err != nil {
				resp.Rejected = append(resp.Rejected, Rejection{Index: i, ID: e.ID,
					Errors: []event.FieldError{{Reason: "cannot be encoded: " + err.Error()}}, class: RejectUnencodable})
				continue
			}
		}
		bodies = append(bodies, body)
		events = append(events, e)
		indexes = append(indexes, i)
	}
	if s.supp != nil && len(events) > 0 {
		var ok bool
		if events, indexes, bodies, ok = s.dropErased(ctx, resp, events, indexes, bodies); !ok {
			return resp, http.StatusServiceUnavailable
		}
	}
	if len(events) == 0 {
		if len(resp.NotAccepted) > 0 { // the catalog could not be read: send again
			return resp, http.StatusServiceUnavailable
		}
		if len(resp.Rejected) > 0 {
			return resp, http.StatusBadRequest
		}
		return resp, http.StatusAccepted // every event was a duplicate: an idempotent retry
	}
	// Neither the caller hanging up nor its deadline may cut a publish in
	// half: we wait for the queue's answer on our own clock.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.PublishTimeout)
	defer cancel()
	if s.ledger != nil {
		if err := s.ledger.Record(pctx, source, events); err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "ledger write failed", slog.String("error", err.Error()))
			for k, e := range events {
				resp.NotAccepted = append(resp.NotAccepted, Failure{Index: indexes[k], ID: e.ID, Reason: "ledger_unavailable"})
			}
			return resp, http.StatusServiceUnavailable
		}
	}
	msgs := make([]queue.Message, len(events))
	for k, e := range events {
		msgs[k] = queue.Message{ID: e.ID, Body: bodies[k], Attributes: map[string]string{
			queue.AttrEventID: e.ID, queue.AttrEventType: e.EventType, queue.AttrSource: source,
		}}
	}
	errs := s.pub.Publish(pctx, msgs)
	resp.Accepted = make([]Ref, 0, len(events))
	misconfigured := false
	for k, e := range events {
		if err := errs[k]; err != nil {
			if !queue.Transient(err) {
				// No retry helps: a wrong topic or queue, or no permission.
				misconfigured = true
				resp.NotAccepted = append(resp.NotAccepted, Failure{Index: indexes[k], ID: e.ID, Reason: "queue_misconfigured"})
				variable, _ := queue.Setting(err)
				s.log.LogAttrs(ctx, slog.LevelError, "publish refused by the queue; check the setting", slog.String("variable", variable),
					slog.String("event_id", e.ID), slog.String("source", source), slog.String("error", err.Error()))
				continue
			}
			resp.NotAccepted = append(resp.NotAccepted, Failure{Index: indexes[k], ID: e.ID, Reason: "queue_unavailable"})
			s.log.LogAttrs(ctx, slog.LevelWarn, "publish failed", slog.String("event_id", e.ID), slog.String("source", source),
				slog.String("error", err.Error()))
			continue
		}
		resp.Accepted = append(resp.Accepted, Ref{Index: indexes[k], ID: e.ID})
		if s.seen != nil {
			s.seen.Add(event.Key(source, e.ID))
		}
	}
	if misconfigured {
		return resp, http.StatusInternalServerError
	}
	if len(resp.NotAccepted) > 0 {
		return resp, http.StatusServiceUnavailable
	}
	return resp, http.StatusAccepted
}

// decoded is one raw event decoded and cleansed, or why it could not be
// (with its rejection class).
type decoded struct {
	e          *event.Event
	err        *event.FieldError
	class      string
	unenriched bool // the catalog could not be read for its items
}

// decodeAll decodes (unless events holds them decoded) and cleanses every
// raw event, then enriches the good ones from the catalog in one look-up,
// before anything is validated.
func (s *Service) decodeAll(ctx context.Context, raws []json.RawMessage, events []event.Event) []decoded {
	out := make([]decoded, len(raws))
	var good []*event.Event // only what the catalog enriches
	var at []int            // good[k] is out[at[k]]
	if s.catalog != nil {
		good, at = make([]*event.Event, 0, len(raws)), make([]int, 0, len(raws))
	}
	predecoded := events != nil // then within the limits, and clean
	if !predecoded {
		events = make([]event.Event, len(raws)) // one allocation for the request's events
	}
	for i, raw := range raws {
		e := &events[i]
		switch {
		case predecoded:
		case len(raw) > s.cfg.Limits.MaxEventBytes:
			out[i] = decoded{e: e, err: &event.FieldError{Field: "", Reason: fmt.Sprintf(
				"the event is %d bytes; at most %d allowed", len(raw), s.cfg.Limits.MaxEventBytes)}, class: RejectTooLarge}
			continue
		default:
			if ferr := event.DecodeInto(raw, e); ferr != nil {
				e.ID = "" // a half-decoded id is not worth echoing
				out[i] = decoded{e: e, err: ferr, class: RejectMalformed}
				continue
			}
		}
		event.Cleanse(e)
		out[i] = decoded{e: e}
		if s.catalog != nil {
			good, at = append(good, e), append(at, i)
		}
	}
	if s.catalog != nil && len(good) > 0 {
		for k, failed := range s.catalog.Enrich(ctx, good) {
			out[at[k]].unenriched = failed
		}
	}
	return out
}

// check validates and anonymises one decoded event; a refused event comes
// with its rejection class.
func (s *Service) check(d decoded, rules event.Rules) (*event.Event, []event.FieldError, string) {
	if d.err != nil {
		return d.e, []event.FieldError{*d.err}, d.class
	}
	if errs := event.Validate(d.e, rules); len(errs) > 0 {
		return d.e, errs, RejectInvalid
	}
	s.anon.Apply(d.e)
	return d.e, nil, ""
}

// readBody returns the body, or the error code (errorStatus) and why not.
func (s *Service) readBody(w http.ResponseWriter, r *http.Request) ([]byte, string, error) {
	limit := int64(s.cfg.Limits.MaxBodyBytes)
	if r.ContentLength > limit {
		return nil, codeTooLarge, fmt.Errorf("the body is %d bytes; at most %d allowed", r.ContentLength, limit)
	}
	var src io.Reader = http.MaxBytesReader(w, r.Body, limit)
	gzipped := false
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, codeBadRequest, fmt.Errorf("gzip body: %v", err)
		}
		// Close only repeats a read error the handler has already seen.
		defer func() { _ = zr.Close() }()
		// The limit applies to what the body expands to, so a small
		// compressed bomb is refused like a large plain body.
		src = io.LimitReader(zr, limit+1)
		gzipped = true
	default:
		return nil, codeMediaType, fmt.Errorf("content encoding %q is not supported; use gzip or none", enc)
	}
	var body []byte
	var err error
	if gzipped || r.ContentLength <= 0 {
		body, err = io.ReadAll(src)
	} else {
		// The length is known and within the limit: one allocation instead
		// of io.ReadAll's doubling (a 64 KB batch otherwise copies ~8 times).
		// A shorter body is an unexpected EOF, as with io.ReadAll. The
		// server ends the body at Content-Length, but an adapter's request
		// might not, so anything past it is still read.
		body = make([]byte, r.ContentLength)
		if _, err = io.ReadFull(src, body); err == nil {
			var one [1]byte
			if n, _ := io.ReadFull(src, one[:]); n == 1 {
				var rest []byte
				rest, err = io.ReadAll(src)
				body = append(append(body, one[0]), rest...)
			}
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig) || int64(len(body)) > limit:
		return nil, codeTooLarge, fmt.Errorf("the body is larger than %d bytes", limit)
	case err != nil:
		return nil, codeBadRequest, fmt.Errorf("reading the body: %v", err)
	}
	return body, "", nil
}

func checkContentType(ct string) error {
	if ct == "" {
		return errors.New("Content-Type is missing; send application/json")
	}
	if ct == "application/json" { // what nearly every caller sends: nothing to parse
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("Content-Type %q cannot be parsed", ct)
	}
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return fmt.Errorf("Content-Type %q is not JSON; send application/json", mt)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return fmt.Errorf("charset %q is not supported; send UTF-8", cs)
	}
	return nil
}

func (s *Service) retryAfter() string {
	return jsonanswer.RetryAfter(s.cfg.RetryAfter)
}

// Error codes of a request refused as a whole, and their statuses: the
// docs/sending-events.md's Answers table. An authentication failure answers auth's reason
// with auth's status (401; 503 when our key store could not be read).
const (
	codeMethod        = "method_not_allowed"
	codeMediaType     = "unsupported_media_type"
	codeTooLarge      = "payload_too_large"
	codeTooManyEvents = "too_many_events"
	codeBadRequest    = "bad_request"
	codeInternal      = "internal"
)

var errorStatus = map[string]int{
	codeMethod:        http.StatusMethodNotAllowed,
	codeMediaType:     http.StatusUnsupportedMediaType,
	codeTooLarge:      http.StatusRequestEntityTooLarge,
	codeTooManyEvents: http.StatusRequestEntityTooLarge,
	codeBadRequest:    http.StatusBadRequest,
	codeInternal:      http.StatusInternalServerError,
}

// fail refuses the request with code and its status.
func (s *Service) fail(w http.ResponseWriter, source, code, msg string) (int, string, *Response) {
	return s.reply(w, source, errorStatus[code], code, msg)
}

func (s *Service) reply(w http.ResponseWriter, source string, status int, code, msg string) (int, string, *Response) {
	jsonanswer.Write(w, status, ErrorBody{Error: code, Message: msg})
	return status, source, nil
}

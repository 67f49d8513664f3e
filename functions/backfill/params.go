package backfill

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/queue"
)

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

// Params are one run's request: the JSON object Cloud Scheduler posts or
// EventBridge Scheduler passes as input (possibly empty), or the query
// string an operator sends. The zero value resends retryable failures.
type Params struct {
	// Reasons are dead-letter classes to resend: retryable (the default),
	// auth, permanent. A message without a class (moved by the queue's own
	// redrive policy) counts as retryable.
	Reasons List `json:"reasons,omitempty"`
	// IncludePermanent adds permanent 4xx failures, e.g. after a mapping fix.
	IncludePermanent bool `json:"include_permanent,omitempty"`
	// From and To bound the event time (RFC 3339; From inclusive, To exclusive).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// EventTypes limits to these event types.
	EventTypes List `json:"event_types,omitempty"`
	// DryRun counts what would be resent and changes nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// MaxEvents stops the run after this many resends (0: no limit).
	MaxEvents int `json:"max_events,omitempty"`
	// Rate lowers the configured cap (events/s) for this run.
	Rate float64 `json:"rate,omitempty"`
	// ReplayFrom (RFC 3339), instead of draining dead letters, seeks the
	// live events subscription to this time (Pub/Sub only).
	ReplayFrom string `json:"replay_from,omitempty"`
	// Archive, instead of draining dead letters, replays every archived
	// event of [From, To) (both required) from the archive.
	Archive bool `json:"archive,omitempty"`
	// Sources limits to events of these ingest sources.
	Sources List `json:"sources,omitempty"`
	// Restart replays the archive window from its start, ignoring the place
	// an earlier run of the same request saved.
	Restart bool `json:"restart,omitempty"`
}

// List is a JSON array of strings or one comma-separated string.
type List []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *List) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*l = splitList(s)
		return nil
	}
	var a []string
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("must be a list of strings or a comma-separated string")
	}
	*l = nil
	for _, v := range a {
		*l = append(*l, splitList(v)...)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ParseParams reads a JSON object (empty or null: defaults). Unknown fields
// are refused, so a misspelt parameter never silently widens a run.
func ParseParams(body []byte) (Params, error) {
	var p Params
	body = bytes.TrimSpace(body)
	if len(body) == 0 || bytes.Equal(body, []byte("null")) {
		return p, nil
	}
	// Names exact and once, nothing unknown: encoding/json would take
	// {"dry_run":true,"Dry_Run":false} as a real run.
	if err := jsonv2.Unmarshal(body, &p, jsonv2.RejectUnknownMembers(true)); err != nil {
		return p, fmt.Errorf("%w: %v", ErrBadParams, err)
	}
	return p, nil
}

// ParseQuery reads the same parameters from a query string.
func ParseQuery(q url.Values) (Params, error) {
	var p Params
	for k, vs := range q {
		v := strings.Join(vs, ",")
		var err error
		switch k {
		case "reasons":
			p.Reasons = splitList(v)
		case "event_types":
			p.EventTypes = splitList(v)
		case "from":
			p.From = v
		case "to":
			p.To = v
		case "replay_from":
			p.ReplayFrom = v
		case "sources":
			p.Sources = splitList(v)
		case "archive":
			p.Archive, err = strconv.ParseBool(v)
		case "restart":
			p.Restart, err = strconv.ParseBool(v)
		case "include_permanent":
			p.IncludePermanent, err = strconv.ParseBool(v)
		case "dry_run":
			p.DryRun, err = strconv.ParseBool(v)
		case "max_events":
			p.MaxEvents, err = strconv.Atoi(v)
		case "rate":
			p.Rate, err = strconv.ParseFloat(v, 64)
		default:
			return p, fmt.Errorf("%w: unknown parameter %q", ErrBadParams, k)
		}
		if err != nil {
			return p, fmt.Errorf("%w: %s: %q is not valid", ErrBadParams, k, v)
		}
	}
	return p, nil
}

// selection is a checked Params: which messages a run resends.
type selection struct {
	classes  map[string]bool
	from, to time.Time
	types    map[string]bool
	sources  map[string]bool
}

var resendable = []string{delivery.ClassRetryable, delivery.ClassAuth, delivery.ClassPermanent}

func (p Params) selection() (selection, error) {
	s := selection{classes: map[string]bool{}}
	// Every bad parameter is named in one answer, so an operator fixes a
	// request once instead of once per mistake.
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	reasons := p.Reasons
	if len(reasons) == 0 {
		reasons = []string{delivery.ClassRetryable}
	}
	var unknown []string
	for _, c := range reasons {
		c = strings.ToLower(c)
		if !slices.Contains(resendable, c) {
			unknown = append(unknown, strconv.Quote(c))
		}
		s.classes[c] = true
	}
	if len(unknown) > 0 {
		bad("reasons: %s not one of %s", strings.Join(unknown, ", "), strings.Join(resendable, ", "))
	}
	if p.IncludePermanent {
		s.classes[delivery.ClassPermanent] = true
	}
	var err error
	if p.From != "" {
		if s.from, err = time.Parse(time.RFC3339, p.From); err != nil {
			bad("from: %q is not an RFC 3339 time", p.From)
		}
	}
	if p.To != "" {
		if s.to, err = time.Parse(time.RFC3339, p.To); err != nil {
			bad("to: %q is not an RFC 3339 time", p.To)
		}
	}
	if !s.from.IsZero() && !s.to.IsZero() && !s.from.Before(s.to) {
		bad("from must be before to")
	}
	if len(p.EventTypes) > 0 {
		s.types = map[string]bool{}
		var unknownTypes []string
		for _, t := range p.EventTypes {
			t = strings.ToUpper(t)
			if _, ok := event.EventTypes[t]; !ok {
				// A misspelt type would silently match nothing.
				unknownTypes = append(unknownTypes, strconv.Quote(t))
			}
			s.types[t] = true
		}
		if len(unknownTypes) > 0 {
			bad("event_types: %s not one of %s", strings.Join(unknownTypes, ", "),
				strings.Join(slices.Sorted(maps.Keys(event.EventTypes)), ", "))
		}
	}
	if len(p.Sources) > 0 {
		s.sources = map[string]bool{}
		for _, src := range p.Sources {
			s.sources[src] = true
		}
	}
	if p.Archive {
		if p.From == "" || p.To == "" {
			bad("archive needs from and to (the window of event times to replay)")
		}
		if len(p.Reasons) > 0 || p.IncludePermanent || p.ReplayFrom != "" {
			bad("archive replays every archived event of the window; reasons, include_permanent and replay_from are for dead letters and the live subscription")
		}
	} else if p.Restart {
		bad("restart is for an archive replay")
	}
	if p.MaxEvents < 0 {
		bad("max_events must not be negative")
	}
	if p.Rate < 0 || math.IsNaN(p.Rate) || math.IsInf(p.Rate, 0) {
		bad("rate must be a positive number of events a second, or 0 for the configured cap")
	}
	if p.ReplayFrom != "" {
		if _, err := time.Parse(time.RFC3339, p.ReplayFrom); err != nil {
			bad("replay_from: %q is not an RFC 3339 time", p.ReplayFrom)
		}
		if len(p.Reasons) > 0 || p.IncludePermanent || p.From != "" || p.To != "" || len(p.EventTypes) > 0 || len(p.Sources) > 0 || p.MaxEvents > 0 {
			bad("replay_from replays everything published since; it takes no selection")
		}
	}
	if len(problems) > 0 {
		return s, fmt.Errorf("%w: %s", ErrBadParams, strings.Join(problems, "; "))
	}
	return s, nil
}

// matches reports whether a decoded dead letter is selected.
func (s selection) matches(attrs map[string]string, e event.Event) bool {
	class := attrs[delivery.AttrDLClass]
	if class == "" {
		class = delivery.ClassRetryable // moved by the queue's redrive policy after its attempts
	}
	if !s.classes[class] {
		return false
	}
	return s.matchesArchived(attrs, e)
}

// matchesArchived reports whether an event is in the window, of the types
// and of the sources (an archived event has no dead-letter class).
func (s selection) matchesArchived(attrs map[string]string, e event.Event) bool {
	if s.sources != nil && !s.sources[attrs[queue.AttrSource]] {
		return false
	}
	at := e.Timestamp.Time()
	if !s.from.IsZero() && at.Before(s.from) {
		return false
	}
	if !s.to.IsZero() && !at.Before(s.to) {
		return false
	}
	return s.types == nil || s.types[strings.ToUpper(e.EventType)]
}

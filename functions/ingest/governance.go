package ingest

import (
	"context"
	"log/slog"

	"eventrelay.dev/eventrelay/shared/event"
)

// Reasons of a Refusal: the event is valid, and the data-governance rules
// say it must not flow. Neither is worth sending again.
const (
	RefusedNoConsent = "no_consent" // the user did not agree to advertising use
	RefusedErased    = "erased"     // the person asked to be forgotten
)

// Refusal is an event refused by a data-governance rule.
type Refusal struct {
	Index  int    `json:"index"`
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
}

// ConsentPolicy decides for events that do not say. Its zero value treats
// silence as consent, as ingest always did.
type ConsentPolicy struct {
	// DenyByDefault: an event without a consent field is refused.
	DenyByDefault bool
	// Sources overrides the default per source: true means silence is
	// consent for that source, false that it is not.
	Sources map[string]bool
}

// Given reports whether e may flow: its own consent field when present,
// else the source's default, else the policy's.
func (p ConsentPolicy) Given(source string, e *event.Event) bool {
	if e.Consent != nil {
		return *e.Consent
	}
	if granted, ok := p.Sources[source]; ok {
		return granted
	}
	return !p.DenyByDefault
}

// Suppressions tells erased people's events apart; shared/suppress's
// Checker is one. It answers for the identifiers as published (after
// hashing).
type Suppressions interface {
	Erased(ctx context.Context, events []*event.Event) ([]bool, error)
}

// dropErased refuses the events of erased people, before anything is
// recorded or queued. When the erasure list cannot be read, every event is
// answered not_accepted (the caller sends again later): letting an erased
// person's event through is not an option.
func (s *Service) dropErased(ctx context.Context, resp *Response, events []*event.Event, indexes []int, bodies [][]byte) ([]*event.Event, []int, [][]byte, bool) {
	erased, err := s.supp.Erased(ctx, events)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "erasure list unavailable", slog.String("error", err.Error()))
		for k, e := range events {
			resp.NotAccepted = append(resp.NotAccepted, Failure{Index: indexes[k], ID: e.ID, Reason: "suppressions_unavailable"})
		}
		return nil, nil, nil, false
	}
	kept := 0
	for k, e := range events {
		if erased[k] {
			resp.Refused = append(resp.Refused, Refusal{Index: indexes[k], ID: e.ID, Reason: RefusedErased})
			continue
		}
		events[kept], indexes[kept], bodies[kept] = e, indexes[k], bodies[k]
		kept++
	}
	return events[:kept], indexes[:kept], bodies[:kept], true
}

// Catalog enriches decoded, cleansed events before they are validated
// (shared/catalog's Enricher is one); it never fails an event. When its
// store could not be read it marks the events it could not enrich: those
// that are then invalid are answered not_accepted (catalog_unavailable, send
// again) rather than rejected, since the catalog might have made them valid.
type Catalog interface {
	Enrich(ctx context.Context, events []*event.Event) (unenriched []bool)
}

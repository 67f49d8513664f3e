package backfill

import (
	"errors"
	"net/url"
	"testing"
)

// FuzzParams feeds arbitrary query strings and bodies through the
// parameter parsing an operator's or the scheduler's request goes through.
// It must never panic, every refusal must be ErrBadParams (a 400, not a
// 500), and an accepted request must select at least one reason class
// within a well-ordered time window.
func FuzzParams(f *testing.F) {
	f.Add("dry_run=true&reasons=retryable,permanent", []byte(`{"event_types":"PURCHASE","rate":5}`))
	f.Add("from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z", []byte(`{"max_events":-1}`))
	f.Add("replay_from=2026-11-01T00:00:00Z", []byte(`{"reasons":["auth"],"include_permanent":true}`))
	f.Add("rate=NaN&max_events=9999999999999999999", []byte(`{"unknown":1}`))
	f.Add("%zz", []byte(`[`))
	f.Fuzz(func(t *testing.T, query string, body []byte) {
		values, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		q, err := ParseQuery(values)
		if err != nil {
			if !errors.Is(err, ErrBadParams) {
				t.Fatalf("query %q refused without ErrBadParams: %v", query, err)
			}
			return
		}
		b, err := ParseParams(body)
		if err != nil {
			if !errors.Is(err, ErrBadParams) {
				t.Fatalf("body %q refused without ErrBadParams: %v", body, err)
			}
			return
		}
		p := merge(q, b)
		sel, err := p.selection()
		if err != nil {
			if !errors.Is(err, ErrBadParams) {
				t.Fatalf("%+v refused without ErrBadParams: %v", p, err)
			}
			return
		}
		if len(sel.classes) == 0 {
			t.Fatalf("%+v accepted with no reason class", p)
		}
		if !sel.from.IsZero() && !sel.to.IsZero() && !sel.from.Before(sel.to) {
			t.Fatalf("%+v accepted with from %v not before to %v", p, sel.from, sel.to)
		}
	})
}

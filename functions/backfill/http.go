package backfill

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"eventrelay.dev/eventrelay/shared/jsonanswer"
)

// Handler serves the function over HTTP: Cloud Scheduler (authenticated by
// its OIDC token, which the platform checks before this code runs) or an
// operator. Parameters come from the query string and, when present, a JSON
// body; body fields win. It answers the Summary: 200, 400 for bad
// parameters, 500 when the dead-letter queue failed (so the scheduler
// records a failed run). Refusals are JSON {"error","message"}, as on
// every other function.
func (b *Backfill) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			// A run changes state (acknowledges, re-parks): never on a GET
			// a crawler, a prefetch or a link preview could make.
			w.Header().Set("Allow", http.MethodPost)
			jsonanswer.Write(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed", "message": "use POST"})
			return
		}
		p, err := ParseQuery(r.URL.Query())
		if err == nil {
			var body []byte
			if body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10)); err != nil {
				err = fmt.Errorf("%w: reading the body: %v", ErrBadParams, err)
			} else if len(body) > 0 {
				var fromBody Params
				if fromBody, err = ParseParams(body); err == nil {
					p = merge(p, fromBody)
				}
			}
		}
		var s Summary
		if err == nil {
			s, err = b.Run(r.Context(), p)
		}
		if status := statusOf(err); status == http.StatusBadRequest {
			jsonanswer.Write(w, status, map[string]string{"error": "bad_parameters", "message": err.Error()})
		} else {
			jsonanswer.Write(w, status, s)
		}
	})
}

// statusOf is the answer's status for a request's error: 400 for
// parameters the caller must correct (the answer is their message), 500
// when the dead-letter queue failed (the answer is the Summary, and the
// scheduler records a failed run), 200 for a run that completed.
func statusOf(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrBadParams):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// merge lays the body's parameters over the query's.
func merge(q, b Params) Params {
	if len(b.Reasons) > 0 {
		q.Reasons = b.Reasons
	}
	if len(b.EventTypes) > 0 {
		q.EventTypes = b.EventTypes
	}
	for _, f := range []struct {
		dst *string
		src string
	}{{&q.From, b.From}, {&q.To, b.To}, {&q.ReplayFrom, b.ReplayFrom}} {
		if f.src != "" {
			*f.dst = f.src
		}
	}
	if len(b.Sources) > 0 {
		q.Sources = b.Sources
	}
	q.Archive = q.Archive || b.Archive
	q.Restart = q.Restart || b.Restart
	q.IncludePermanent = q.IncludePermanent || b.IncludePermanent
	q.DryRun = q.DryRun || b.DryRun
	if b.MaxEvents > 0 {
		q.MaxEvents = b.MaxEvents
	}
	if b.Rate > 0 {
		q.Rate = b.Rate
	}
	return q
}

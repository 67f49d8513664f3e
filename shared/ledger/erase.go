package ledger

import (
	"context"
	"time"
)

// Erased is what an erasure removed.
type Erased struct {
	Entries  int `json:"entries"`  // ledger entries of the person
	Claims   int `json:"claims"`   // verify's claims on those entries
	Verdicts int `json:"verdicts"` // verify's stored verdicts of the bodies that claimed them
}

// Add sums two erasures.
func (e Erased) Add(o Erased) Erased {
	return Erased{Entries: e.Entries + o.Entries, Claims: e.Claims + o.Claims, Verdicts: e.Verdicts + o.Verdicts}
}

// Suppressions is the list of erased people, kept in the ledger backend so
// that every instance of every function sees it. Keys are opaque strings
// (shared/suppress makes them from identifiers as published); no raw id is
// ever stored.
type Suppressions interface {
	// Suppressed reports which of keys hold a live suppression.
	Suppressed(ctx context.Context, keys []string) (map[string]bool, error)
}

// Eraser is what the erase operation needs of a backend.
type Eraser interface {
	Suppressions
	// Erase first records a suppression for every key, as one atomic
	// write, then deletes every entry whose user id or one of whose device
	// ids equals one of ids (the forms the ledger stores), the claims on
	// those entries and the verdicts of the bodies that held the claims.
	// A suppression stored again gets the later expiry.
	Erase(ctx context.Context, ids, keys []string, suppressUntil time.Time) (Erased, error)
}

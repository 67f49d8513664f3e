// Package firestorecatalog reads the item catalog from a Firestore
// collection: one document per item, its id the item id, with the fields
// of catalog.Record (price a number, currency, item_group_id, seller_id).
// An item id holding '/' cannot be a document id and is never found. The
// functions only read it; the operator keeps it.
package firestorecatalog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"cloud.google.com/go/firestore"

	"eventrelay.dev/eventrelay/shared/catalog"
)

// Source is a catalog.Source on Firestore.
type Source struct {
	client     *firestore.Client
	collection string
	log        *slog.Logger
}

// New returns a Source on collection; log may be nil.
func New(client *firestore.Client, collection string, log *slog.Logger) *Source {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{client: client, collection: collection, log: log}
}

// Lookup implements catalog.Source with one GetAll.
func (s *Source) Lookup(ctx context.Context, ids []string) (map[string]catalog.Item, error) {
	col := s.client.Collection(s.collection)
	var refs []*firestore.DocumentRef
	for _, id := range ids {
		if id != "" && !strings.Contains(id, "/") && id != "." && id != ".." && !strings.HasPrefix(id, "__") {
			refs = append(refs, col.Doc(id))
		}
	}
	out := map[string]catalog.Item{}
	if len(refs) == 0 {
		return out, nil
	}
	snaps, err := s.client.GetAll(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("catalog get: %w", err)
	}
	for _, snap := range snaps {
		if !snap.Exists() {
			continue
		}
		var r catalog.Record
		err := snap.DataTo(&r)
		var it catalog.Item
		if err == nil {
			it, err = r.Item()
		}
		if err != nil {
			catalog.Malformed(s.log, snap.Ref.ID, err)
			continue
		}
		out[snap.Ref.ID] = it
	}
	return out, nil
}

package firestoreledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A cursor is a "cursor-<sha256 of its key>" document of the collection
// (any key makes a valid document id), under its TTL policy on
// expires_at; a save is one Set (atomic).

type cursorDoc struct {
	Value     string    `firestore:"value"`
	ExpiresAt time.Time `firestore:"expires_at"`
}

func (s *Store) cursorPath(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "cursor-" + hex.EncodeToString(sum[:])
}

// Cursor implements ledger.Cursors.
func (s *Store) Cursor(ctx context.Context, key string) (string, error) {
	snap, err := s.client.Collection(s.collection).Doc(s.cursorPath(key)).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("cursor get: %w", err)
	}
	var d cursorDoc
	if err := snap.DataTo(&d); err != nil {
		return "", fmt.Errorf("cursor doc: %w", err)
	}
	if !d.ExpiresAt.IsZero() && !s.now().Before(d.ExpiresAt) { // TTL deletes late
		return "", nil
	}
	return d.Value, nil
}

// SaveCursor implements ledger.Cursors.
func (s *Store) SaveCursor(ctx context.Context, key, value string, expires time.Time) error {
	if _, err := s.client.Collection(s.collection).Doc(s.cursorPath(key)).Set(ctx, cursorDoc{Value: value, ExpiresAt: expires}); err != nil {
		return fmt.Errorf("cursor put: %w", err)
	}
	return nil
}

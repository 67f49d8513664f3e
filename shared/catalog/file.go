package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
)

// File is a catalog read from a JSON file at start, for `make dev` and
// tests: an object of item id → entry, e.g.
//
//	{"sku-1": {"price": 12000, "currency": "KRW", "item_group_id": "shoes", "seller_id": "s-9"}}
//
// Malformed entries are logged and skipped; the file as a whole must be a
// JSON object.
type File struct{ items map[string]Item }

// LoadFile reads the catalog at path.
func LoadFile(path string, log *slog.Logger) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFile(b, log)
}

// ParseFile reads a catalog file's contents.
func ParseFile(b []byte, log *slog.Logger) (*File, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("catalog file: must be a JSON object of item id → entry: %w", err)
	}
	f := &File{items: make(map[string]Item, len(raw))}
	for id, entry := range raw {
		var r Record
		dec := json.NewDecoder(bytes.NewReader(entry))
		dec.DisallowUnknownFields()
		err := dec.Decode(&r)
		var it Item
		if err == nil {
			it, err = r.Item()
		}
		if err != nil {
			Malformed(log, id, err)
			continue
		}
		f.items[id] = it
	}
	return f, nil
}

// Lookup implements Source.
func (f *File) Lookup(_ context.Context, ids []string) (map[string]Item, error) {
	out := map[string]Item{}
	for _, id := range ids {
		if it, ok := f.items[id]; ok {
			out[id] = it
		}
	}
	return out, nil
}

// Malformed logs a catalog entry that is skipped; every backend uses it,
// so the line is the same wherever the catalog lives.
func Malformed(log *slog.Logger, id string, err error) {
	log.LogAttrs(context.Background(), slog.LevelWarn, "catalog entry malformed; skipped",
		slog.String("item_id", id), slog.String("error", err.Error()))
}

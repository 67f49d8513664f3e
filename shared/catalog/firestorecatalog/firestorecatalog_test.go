package firestorecatalog

import (
	"bytes"
	"context"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"cloud.google.com/go/firestore"

	"eventrelay.dev/eventrelay/internal/firestoreemu"
)

func seed(t testing.TB, client *firestore.Client, collection string) {
	t.Helper()
	col := client.Collection(collection)
	for id, data := range map[string]map[string]any{
		"sku-1":     {"price": 12000, "currency": "KRW", "item_group_id": "shoes", "seller_id": "s-1"},
		"sku-2":     {"price": 9.5, "currency": "USD"},
		"bad-type":  {"price": "12000", "currency": "KRW"},
		"bad-money": {"price": 5, "currency": "XXX"},
	} {
		if _, err := col.Doc(id).Set(context.Background(), data); err != nil {
			t.Fatal(err)
		}
	}
}

// The real Firestore client against Google's emulator (and the npm one
// where present).
func TestFirestoreCatalog(t *testing.T) {
	firestoreemu.Require(t)
	for _, name := range firestoreemu.Available() {
		t.Run(name, func(t *testing.T) {
			t.Setenv("FIRESTORE_EMULATOR_HOST", firestoreemu.Start(t, name))
			client, err := firestore.NewClient(context.Background(), "eventrelay-test")
			if err != nil {
				t.Fatal(err)
			}
			testclose.Cleanup(t, client)
			seed(t, client, "catalog")
			logs := &bytes.Buffer{}
			s := New(client, "catalog", slog.New(slog.NewJSONHandler(logs, nil)))
			got, err := s.Lookup(context.Background(), []string{"sku-1", "sku-2", "nope", "bad-type", "bad-money", "a/b", "__x__"})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || *got["sku-1"].Price.Amount != 12000 || got["sku-1"].Price.Currency != "KRW" ||
				got["sku-1"].ItemGroupID != "shoes" || got["sku-1"].SellerID != "s-1" || *got["sku-2"].Price.Amount != 9.5 {
				t.Fatalf("%+v", got)
			}
			for _, id := range []string{"bad-type", "bad-money"} {
				if !strings.Contains(logs.String(), `"item_id":"`+id+`"`) {
					t.Errorf("%s not logged: %s", id, logs)
				}
			}
		})
	}
}

// BenchmarkColdLookup is one uncached look-up of a request's items (1 and
// 10 ids) on Google's emulator: what a cache miss adds to an ingest
// request.
func BenchmarkColdLookup(b *testing.B) {
	firestoreemu.Require(b)
	b.Setenv("FIRESTORE_EMULATOR_HOST", firestoreemu.Start(b, "google"))
	client, err := firestore.NewClient(context.Background(), "eventrelay-bench")
	if err != nil {
		b.Fatal(err)
	}
	testclose.Cleanup(b, client)
	seed(b, client, "catalog")
	s := New(client, "catalog", nil)
	for _, n := range []int{1, 10} {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("sku-%d", i%2+1)
		}
		b.Run(fmt.Sprintf("ids=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Lookup(context.Background(), ids); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

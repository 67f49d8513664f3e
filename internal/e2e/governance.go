package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/functions/erase"
	"eventrelay.dev/eventrelay/shared/mcmsink"
)

// The catalog the governance tests enrich from: one item, 9.5 USD, so two
// of it make the 19 USD purchase the verify callbacks of both stacks check.
const (
	CatalogItem = "sku-catalog"
	catalogJSON = `{"` + CatalogItem + `": {"price": 9.5, "currency": "USD", "item_group_id": "shoes", "seller_id": "seller-7"},
  "sku-broken": {"price": "9.5", "currency": "USD"}}`
)

// CatalogFile writes the test catalog and returns its path (for
// CATALOG_FILE).
func CatalogFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "catalog.json")
	if err := os.WriteFile(path, []byte(catalogJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// BarePurchase is a PURCHASE of two CatalogItem by user on device, with
// neither prices nor revenue: only the catalog makes it valid.
func BarePurchase(id, user, device string, at time.Time) map[string]any {
	return map[string]any{"id": id, "event_type": "PURCHASE", "timestamp": at.UnixMilli(), "channel_type": "APP",
		"user_id": user, "device": map[string]any{"os": "android", "persistent_id": device},
		"items": []any{map[string]any{"id": CatalogItem, "quantity": 2}}}
}

// CheckCatalogPrices checks that event id reached the stand-in with the
// catalog's price, group and seller on its item and the derived revenue.
func CheckCatalogPrices(t testing.TB, sink *mcmsink.Sink, id string) {
	t.Helper()
	for _, r := range sink.Accepted() {
		if r.ID != id {
			continue
		}
		var got struct {
			Items []struct {
				Price struct {
					Currency string
					Amount   float64
				}
				ItemGroupID string `json:"item_group_id"`
				SellerID    string `json:"seller_id"`
			}
			Revenue struct {
				Currency string
				Amount   float64
			}
		}
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatalf("%s arrived as no JSON object: %v: %s", id, err, r.Body)
		}
		if len(got.Items) != 1 || got.Items[0].Price.Amount != 9.5 || got.Items[0].Price.Currency != "USD" ||
			got.Items[0].ItemGroupID != "shoes" || got.Items[0].SellerID != "seller-7" ||
			got.Revenue.Amount != 19 || got.Revenue.Currency != "USD" {
			t.Fatalf("%s arrived without the catalog's values: %s", id, r.Body)
		}
		return
	}
	t.Fatalf("%s never arrived", id)
}

// Erase posts an erasure to ingest's admin route.
func Erase(t testing.TB, ingestURL, key string, req erase.Request) (int, erase.Response) {
	t.Helper()
	b, _ := json.Marshal(req)
	r, _ := http.NewRequest(http.MethodPost, strings.TrimSuffix(ingestURL, "/")+erase.Path, bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out erase.Response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("erase answered %s, not in JSON: %v", resp.Status, err)
	}
	return resp.StatusCode, out
}

// Refusals returns the reasons of an ingest answer's refused events, by
// event id.
func Refusals(answer map[string]any) map[string]string {
	out := map[string]string{}
	refused, _ := answer["refused"].([]any)
	for _, r := range refused {
		m, _ := r.(map[string]any)
		id, _ := m["id"].(string)
		reason, _ := m["reason"].(string)
		out[id] = reason
	}
	return out
}

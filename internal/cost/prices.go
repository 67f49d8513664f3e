package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// Price is one published price: USD for Per units, Free units a month
// free, with the page it was read on and when.
type Price struct {
	Service  string  `json:"service"`
	Item     string  `json:"item"`
	USD      float64 `json:"usd"`
	Per      float64 `json:"per"`
	Unit     string  `json:"unit"`
	Free     float64 `json:"free"`
	URL      string  `json:"url"`
	Read     string  `json:"read"`
	Verified bool    `json:"verified"`
	Note     string  `json:"note"`
}

// PriceList is prices.json.
type PriceList struct {
	Read   string           `json:"read"`
	Note   string           `json:"note"`
	Prices map[string]Price `json:"prices"`
}

// PricesFile is where the prices live, from the module root.
const PricesFile = "internal/cost/prices.json"

//go:embed prices.json
var pricesJSON []byte

// Prices returns the checked-in prices.
func Prices() (*PriceList, error) {
	var p PriceList
	if err := json.Unmarshal(pricesJSON, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", PricesFile, err)
	}
	for k, v := range p.Prices {
		if v.Per <= 0 || v.USD < 0 || v.URL == "" || v.Read == "" {
			return nil, fmt.Errorf("%s: %s needs usd >= 0, per > 0, url and read", PricesFile, k)
		}
	}
	return &p, nil
}

// cost is what units cost at p, without and with the free allowance
// (which a month's whole usage of that price draws on first).
func (p Price) cost(units float64) (full, afterFree float64) {
	full = units / p.Per * p.USD
	return full, max(units-p.Free, 0) / p.Per * p.USD
}

// Package cost is eventrelay's cost model: what a million events cost on
// each cloud at the Terraform defaults. The quantities (log bytes, ledger
// operations, messages, secret reads, the deployed sizes) are measured by
// running the real functions (TestMeasure writes quantities.json), the
// prices are published ones with their page and date (prices.json), and
// the model multiplies them for a volume and a mix (Compute), which
// docs/cost.md and `eventrelay cost` print.
package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
)

// Quantity is one measured figure: so much Unit per Per (a plain event, a
// purchase, a callback, an ingest request, a backfill run, an instance's
// cache period), and the command that measures it.
type Quantity struct {
	Value   float64 `json:"value"`
	Unit    string  `json:"unit"`
	Per     string  `json:"per"`
	Command string  `json:"command"`
	Note    string  `json:"note,omitempty"`
}

// Quantities is quantities.json: Measured is what TestMeasure writes from
// the running code (and checks the code against); Recorded holds figures
// from runs that are not repeated in a test (CPU time under load, taken
// from the load runs) and assumptions, each saying where it comes from.
type Quantities struct {
	Commit   string              `json:"commit"`
	Date     string              `json:"date"`
	Command  string              `json:"command"`
	Measured map[string]Quantity `json:"measured"`
	Recorded map[string]Quantity `json:"recorded"`
}

// MeasureCommand regenerates quantities.json.
const MeasureCommand = "go test ./internal/cost -run TestMeasure -update"

// The sample the measurement sends: plain events (only forwarded), then
// purchases (recorded in the ledger), one DFINERY callback per purchase,
// then requests of batchEvents plain events, then one backfill run with
// nothing to resend.
const (
	samplePlain     = 200
	samplePurchases = 100
	sampleRepeats   = 100
	sampleBatches   = 10
	batchEvents     = 10
)

// drift is how far (relative) the code's quantities may move from the
// file's before TestMeasure fails: log lines carry ids and times whose
// lengths vary a little between runs; a line added or removed does not
// hide in it.
const drift = 0.03

// QuantitiesFile is where the quantities live, from the module root.
const QuantitiesFile = "internal/cost/quantities.json"

// BaselineFile holds the quantities before the cost cuts (the log lines,
// the erasure look-up's reads), kept so the page shows what they changed.
const BaselineFile = "internal/cost/baseline.json"

//go:embed quantities.json
var quantitiesJSON []byte

//go:embed baseline.json
var baselineJSON []byte

// Current returns the checked-in quantities.
func Current() (*Quantities, error) { return parseQuantities(quantitiesJSON, QuantitiesFile) }

// Baseline returns the quantities recorded before the cost cuts.
func Baseline() (*Quantities, error) { return parseQuantities(baselineJSON, BaselineFile) }

func parseQuantities(b []byte, name string) (*Quantities, error) {
	var q Quantities
	if err := json.Unmarshal(b, &q); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(q.Measured) == 0 {
		return nil, fmt.Errorf("%s: no measured quantities", name)
	}
	return &q, nil
}

// Get returns a quantity's value by name, measured or recorded.
func (q *Quantities) Get(name string) (float64, error) {
	if v, ok := q.Measured[name]; ok {
		return v.Value, nil
	}
	if v, ok := q.Recorded[name]; ok {
		return v.Value, nil
	}
	return 0, fmt.Errorf("no quantity %q in %s", name, QuantitiesFile)
}

// Names returns every quantity's name, sorted.
func (q *Quantities) Names() []string {
	var out []string
	for k := range q.Measured {
		out = append(out, k)
	}
	for k := range q.Recorded {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Quantity returns a quantity by name, measured or recorded.
func (q *Quantities) Quantity(name string) (Quantity, bool) {
	if v, ok := q.Measured[name]; ok {
		return v, true
	}
	v, ok := q.Recorded[name]
	return v, ok
}

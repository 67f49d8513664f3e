package cost

import (
	"math"
	"strings"
	"testing"
)

func load(t *testing.T) (*Quantities, *PriceList) {
	t.Helper()
	q, err := Current()
	if err != nil {
		t.Fatal(err)
	}
	pl, err := Prices()
	if err != nil {
		t.Fatal(err)
	}
	return q, pl
}

func term(t *testing.T, r *Result, service, item string) Term {
	t.Helper()
	for _, x := range r.Terms {
		if x.Service == service && x.Item == item {
			return x
		}
	}
	t.Fatalf("%s: no term %s %s", r.Cloud, service, item)
	return Term{}
}

func near6(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b)) }

// The request terms, worked by hand from the quantities: a million events,
// a fifth of them purchases each with one callback, ten events a request.
func TestRequestsByHand(t *testing.T) {
	q, pl := load(t)
	p := Params{Events: 1e6, Purchases: 0.2, CallbacksPerPurchase: 1, EventsPerRequest: 10}
	gcp, err := Compute("gcp", p, q, pl)
	if err != nil {
		t.Fatal(err)
	}
	runs := q.Measured["deploy.gcp.backfill_runs"].Value * 365.25 / 12
	want := 1e5 + 1e6 + 2e5 + runs // ingest requests, pushes, callbacks, backfill runs
	if got := term(t, gcp, "Cloud Run", "requests"); !near6(got.Units, want) || !near6(got.Cost, want/1e6*0.40) {
		t.Errorf("Cloud Run requests: %g units, $%g; want %g, $%g", got.Units, got.Cost, want, want/1e6*0.40)
	}
	// Ingest's log: a part per request and a part per event.
	one, batch := q.Measured["log.ingest.plain.bytes"].Value, q.Measured["log.ingest.batch.bytes"].Value
	perEvent := (batch - one) / (batchEvents - 1)
	bytes := 1e5*(one-perEvent) + 1e6*perEvent + 2e5*(q.Measured["log.ingest.purchase.bytes"].Value-one)
	lines := 1e5*(2-(q.Measured["log.ingest.batch.lines"].Value-2)/(batchEvents-1)) + 1e6*(q.Measured["log.ingest.batch.lines"].Value-2)/(batchEvents-1)
	if got := term(t, gcp, "Cloud Logging", "ingest log lines"); !near6(got.Units, bytes+lines*GCPLineEnvelope()) {
		t.Errorf("ingest's log: %g bytes, want %g", got.Units, bytes+lines*GCPLineEnvelope())
	}
	aws, err := Compute("aws", p, q, pl)
	if err != nil {
		t.Fatal(err)
	}
	// 1M events a month is 0.38 a second: the batching window gathers
	// under one, so the forwarder is invoked once per event.
	awsRuns := q.Measured["deploy.aws.backfill_runs"].Value * 365.25 / 12
	if got := term(t, aws, "Lambda", "requests"); !near6(got.Units, 1e5+1e6+2e5+awsRuns) {
		t.Errorf("Lambda requests: %g, want %g", got.Units, 1e5+1e6+2e5+awsRuns)
	}
}

// At volume the forwarder's batches fill up to batch_size, and the free
// tiers shrink to nothing per event.
func TestVolumeFillsBatches(t *testing.T) {
	q, pl := load(t)
	p := DefaultParams()
	p.Events = 2e9 // 760 events a second: 760 a 1 s window, capped at batch_size
	r, err := Compute("aws", p, q, pl)
	if err != nil {
		t.Fatal(err)
	}
	runs := q.Measured["deploy.aws.backfill_runs"].Value * 365.25 / 12
	batches := 2e9 / q.Measured["deploy.aws.batch_size"].Value
	if got := term(t, r, "Lambda", "requests"); !near6(got.Units, 2e9+batches+2e8+runs) {
		t.Errorf("Lambda requests: %g, want %g", got.Units, 2e9+batches+2e8+runs)
	}
	if r.Total(true) > r.Total(false) || r.Total(false)-r.Total(true) > 0.05*r.Total(false) {
		t.Errorf("free tiers: %g against %g at 2G events", r.Total(true), r.Total(false))
	}
}

// The archive's terms count only when it is on, and cost something then.
func TestArchiveOptional(t *testing.T) {
	q, pl := load(t)
	for _, cloud := range Clouds {
		p := DefaultParams()
		off, err := Compute(cloud, p, q, pl)
		if err != nil {
			t.Fatal(err)
		}
		p.Archive = true
		on, err := Compute(cloud, p, q, pl)
		if err != nil {
			t.Fatal(err)
		}
		if !(on.Total(false) > off.Total(false)) {
			t.Errorf("%s: the archive adds nothing (%g, %g)", cloud, on.Total(false), off.Total(false))
		}
		if !strings.Contains(Table(off), "*(archive)*, off") {
			t.Errorf("%s: the table does not mark the archive's terms off", cloud)
		}
	}
}

// A mix the model cannot price is refused with what is wrong.
func TestBadParams(t *testing.T) {
	q, pl := load(t)
	for _, p := range []Params{
		{Events: 0, EventsPerRequest: 1},
		{Events: 1e6, Purchases: 1.5, EventsPerRequest: 1},
		{Events: 1e6, EventsPerRequest: 0},
		{Events: math.NaN(), EventsPerRequest: 1},
	} {
		if _, err := Compute("gcp", p, q, pl); err == nil {
			t.Errorf("%+v: no error", p)
		}
	}
	if _, err := Compute("azure", DefaultParams(), q, pl); err == nil || !strings.Contains(err.Error(), "gcp or aws") {
		t.Errorf("azure: %v", err)
	}
}

// A quantity the model needs and the file lacks is an error naming it.
func TestMissingQuantity(t *testing.T) {
	q, pl := load(t)
	delete(q.Measured, "log.forwarder.plain.bytes")
	if _, err := Compute("gcp", DefaultParams(), q, pl); err == nil || !strings.Contains(err.Error(), "log.forwarder.plain.bytes") {
		t.Errorf("got %v", err)
	}
}

// With every event's person looked up within SUPPRESSION_CACHE, the
// ledger reads of events are the measured repeats'.
func TestRepeatCachesLookups(t *testing.T) {
	q, pl := load(t)
	p := DefaultParams()
	p.Purchases, p.CallbacksPerPurchase, p.Repeat = 0, 0, 1
	r, err := Compute("aws", p, q, pl)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := term(t, r, "DynamoDB", "read request units").Units, p.Events*q.Measured["ledger.dynamodb.rru.repeat"].Value; !near6(got, want) {
		t.Errorf("read units: %g, want %g", got, want)
	}
}

// TestRequestLogExclusion: with exclude_successful_request_logs on (the
// module's default) the request log term bills no entry at the mix (every
// request it prices succeeds); off, one entry per Cloud Run request.
func TestRequestLogExclusion(t *testing.T) {
	q, pl := load(t)
	if q.Measured["deploy.gcp.exclude_successful_request_logs"].Value != 1 {
		t.Fatal("quantities.json: the GCP module's exclude_successful_request_logs is not on")
	}
	p := DefaultParams()
	on, err := Compute("gcp", p, q, pl)
	if err != nil {
		t.Fatal(err)
	}
	if got := term(t, on, "Cloud Logging", "request logs"); got.Units != 0 || got.Cost != 0 {
		t.Errorf("exclusion on: request logs %g bytes, $%g; want none", got.Units, got.Cost)
	}
	off := &Quantities{Measured: map[string]Quantity{}, Recorded: q.Recorded}
	for k, v := range q.Measured {
		off.Measured[k] = v
	}
	x := off.Measured["deploy.gcp.exclude_successful_request_logs"]
	x.Value = 0
	off.Measured["deploy.gcp.exclude_successful_request_logs"] = x
	r, err := Compute("gcp", p, off, pl)
	if err != nil {
		t.Fatal(err)
	}
	served := term(t, r, "Cloud Run", "requests").Units
	if got := term(t, r, "Cloud Logging", "request logs"); !near6(got.Units, served*GCPRequestEntry()) {
		t.Errorf("exclusion off: request logs %g bytes, want %g (one entry per request)", got.Units, served*GCPRequestEntry())
	}
}

package cost

import (
	"fmt"
	"math"
	"sort"
)

// Params is the traffic the model prices: a month's events and their mix.
type Params struct {
	Events               float64 // events a month
	Purchases            float64 // share of events that are purchases (recorded in the ledger for verify)
	CallbacksPerPurchase float64 // DFINERY callbacks verify answers per purchase
	EventsPerRequest     float64 // events in one ingest request
	// Repeat is the share of events whose person (user and device) the
	// instance that takes the event looked up on the erasure list within
	// SUPPRESSION_CACHE, so that look-up reads nothing. 0, the default, is
	// the most the ledger can be read.
	Repeat  float64
	Archive bool // the archive is on (off by default in both modules)
}

// DefaultParams is the mix docs/cost.md states: 100 million events a
// month, 10% purchases each confirmed by one callback, sent one event a
// request.
func DefaultParams() Params {
	return Params{Events: 100e6, Purchases: 0.10, CallbacksPerPurchase: 1, EventsPerRequest: 1}
}

// Check refuses a mix the model cannot price.
func (p Params) Check() error {
	switch {
	case !(p.Events > 0) || math.IsInf(p.Events, 0):
		return fmt.Errorf("events a month must be a positive number, not %g", p.Events)
	case !(p.Purchases >= 0 && p.Purchases <= 1):
		return fmt.Errorf("the purchases' share must be 0 to 1, not %g", p.Purchases)
	case !(p.CallbacksPerPurchase >= 0 && p.CallbacksPerPurchase <= 100):
		return fmt.Errorf("callbacks per purchase must be 0 to 100, not %g", p.CallbacksPerPurchase)
	case !(p.Repeat >= 0 && p.Repeat <= 1):
		return fmt.Errorf("the repeat share must be 0 to 1, not %g", p.Repeat)
	case !(p.EventsPerRequest >= 1 && p.EventsPerRequest <= 500):
		return fmt.Errorf("events per ingest request must be 1 to 500 (INGEST_MAX_EVENTS' bound), not %g", p.EventsPerRequest)
	}
	return nil
}

// Term is one line of the bill: so many units a month at one price.
type Term struct {
	Service  string
	Item     string
	Units    float64 // a month
	How      string  // where the units come from
	Price    Price
	Cost     float64 // a month, list price
	CostFree float64 // a month, after the free allowance (shared by the terms of one price)
	Archive  bool    // only with the archive on
	priceKey string
}

// Result is a month's bill on one cloud.
type Result struct {
	Cloud  string
	Params Params
	Terms  []Term
}

// Total is the month's cost with or without free allowances, the archive's
// terms counted only when it is on.
func (r *Result) Total(free bool) float64 {
	t := 0.0
	for _, x := range r.Terms {
		if x.Archive && !r.Params.Archive {
			continue
		}
		if free {
			t += x.CostFree
		} else {
			t += x.Cost
		}
	}
	return t
}

// Largest returns the term that costs most at list price (archive apart).
func (r *Result) Largest() Term {
	var best Term
	for _, x := range r.Terms {
		if !x.Archive && x.Cost > best.Cost {
			best = x
		}
	}
	return best
}

// secondsPerMonth is an average month (365.25 / 12 days).
const secondsPerMonth = 365.25 / 12 * 86400

// Clouds are the clouds the model prices.
var Clouds = []string{"gcp", "aws"}

// Compute prices a month of p on cloud with quantities q and prices pl.
func Compute(cloud string, p Params, q *Quantities, pl *PriceList) (*Result, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	m := &model{q: q, pl: pl, p: p, cloud: cloud}
	m.traffic()
	switch cloud {
	case "gcp":
		m.gcp()
	case "aws":
		m.aws()
	default:
		return nil, fmt.Errorf("cloud %q: want gcp or aws", cloud)
	}
	if m.err != nil {
		return nil, m.err
	}
	m.applyFree()
	return &Result{Cloud: cloud, Params: p, Terms: m.terms}, nil
}

type model struct {
	cloud string
	q     *Quantities
	pl    *PriceList
	p     Params
	terms []Term
	err   error
	// a month's traffic
	events, purchases, plain, requests, callbacks float64
}

// v is a quantity by name; a missing one fails the computation.
func (m *model) v(name string) float64 {
	x, err := m.q.Get(name)
	if err != nil && m.err == nil {
		m.err = err
	}
	return x
}

func (m *model) add(service, item, priceKey string, units float64, how string, archive bool) {
	pr, ok := m.pl.Prices[priceKey]
	if !ok {
		if m.err == nil {
			m.err = fmt.Errorf("no price %q in %s", priceKey, PricesFile)
		}
		return
	}
	full, _ := pr.cost(units)
	m.terms = append(m.terms, Term{Service: service, Item: item, Units: units, How: how, Price: pr, Cost: full, Archive: archive, priceKey: priceKey})
}

// applyFree shares each price's free allowance among its terms in
// proportion to their units (the archive's only when it is on).
func (m *model) applyFree() {
	total := map[string]float64{}
	for _, t := range m.terms {
		if !t.Archive || m.p.Archive {
			total[t.priceKey] += t.Units
		}
	}
	for i, t := range m.terms {
		all := total[t.priceKey]
		if t.Archive && !m.p.Archive {
			all += t.Units // priced as if it were on
		}
		_, after := t.Price.cost(all)
		if all > 0 {
			m.terms[i].CostFree = after * t.Units / all
		}
	}
}

func (m *model) traffic() {
	p := m.p
	m.events = p.Events
	m.purchases = p.Events * p.Purchases
	m.plain = m.events - m.purchases
	m.requests = p.Events / p.EventsPerRequest
	m.callbacks = m.purchases * p.CallbacksPerPurchase
}

// logs returns a month's bytes and lines a function prints. Ingest's are a
// part per request and a part per event, from the measured requests of one
// and of batchEvents events; a purchase's line differs a little from a
// plain event's.
func (m *model) logs(fn string) (bytes, lines float64) {
	switch fn {
	case "ingest":
		for _, k := range []string{"bytes", "lines"} {
			one, batch := m.v("log.ingest.plain."+k), m.v("log.ingest.batch."+k)
			perEvent := (batch - one) / (batchEvents - 1)
			perRequest := one - perEvent
			x := m.requests*perRequest + m.events*perEvent + m.purchases*(m.v("log.ingest.purchase."+k)-one)
			if k == "bytes" {
				bytes = x
			} else {
				lines = x
			}
		}
	case "forwarder":
		bytes = m.plain*m.v("log.forwarder.plain.bytes") + m.purchases*m.v("log.forwarder.purchase.bytes")
		lines = m.plain*m.v("log.forwarder.plain.lines") + m.purchases*m.v("log.forwarder.purchase.lines")
	case "verify":
		bytes, lines = m.callbacks*m.v("log.verify.callback.bytes"), m.callbacks*m.v("log.verify.callback.lines")
	case "backfill":
		bytes, lines = m.runs()*m.v("log.backfill.backfill.bytes"), m.runs()*m.v("log.backfill.backfill.lines")
	}
	return bytes, lines
}

// runs is a month's backfill runs on the cloud being computed.
func (m *model) runs() float64 {
	return m.v("deploy."+m.cloud+".backfill_runs") * secondsPerMonth / 86400
}

// ledger returns a month's units of one ledger quantity (e.g.
// "firestore.reads") over the mix: an event of a person looked up within
// SUPPRESSION_CACHE costs what the measured repeats cost instead.
func (m *model) ledger(name string) float64 {
	saved := m.p.Repeat * (m.v("ledger."+name+".plain") - m.v("ledger."+name+".repeat"))
	return m.plain*m.v("ledger."+name+".plain") + m.purchases*m.v("ledger."+name+".purchase") + m.callbacks*m.v("ledger."+name+".callback") - m.events*saved
}

// ledgerHow says where a ledger term's units come from.
func (m *model) ledgerHow(name string) string {
	return fmt.Sprintf("%g a plain event or %g when its person was looked up within SUPPRESSION_CACHE (%.0f%% of events), %g a purchase, %g a callback",
		m.v("ledger."+name+".plain"), m.v("ledger."+name+".repeat"), m.p.Repeat*100, m.v("ledger."+name+".purchase"), m.v("ledger."+name+".callback"))
}

// message is the average queued message (data and attributes) in bytes.
func (m *model) message() float64 {
	return (m.plain*m.v("queue.message.plain") + m.purchases*m.v("queue.message.purchase")) / m.events
}

// pubsubExtra is what Pub/Sub's price page adds to a message's data and
// attributes: 20 bytes of timestamp and the message id (Pub/Sub's ids are
// decimal numbers of some 17 digits).
const pubsubExtra = 20 + 17

// billable is the instance-seconds a month Cloud Run bills a function that
// serves rate requests a second, each lasting d seconds and using cpu
// CPU-seconds, with concurrency requests at once on vcpu: requests arriving
// at random keep an instance busy 1 - e^(-rate·d) of the time (requests in
// parallel share it), and as many instances as the concurrency or the CPU
// need are billed alike. It returns the instances too.
func billable(rate, d, cpu, concurrency, vcpu float64) (seconds, instances float64) {
	load := rate * d
	instances = math.Max(1, math.Max(math.Ceil(load/concurrency), math.Ceil(rate*cpu/vcpu)))
	return instances * (1 - math.Exp(-load/instances)) * secondsPerMonth, instances
}

func (m *model) gcp() {
	const service = "Cloud Run"
	runs := m.runs()
	m.add(service, "requests", "gcp.run.requests", m.requests+m.events+m.callbacks+runs,
		fmt.Sprintf("ingest requests %s + forwarder pushes (one per event) %s + verify callbacks %s + backfill runs %s",
			count(m.requests), count(m.events), count(m.callbacks), count(runs)), false)
	us, ms := 1e-6, 1e-3
	ledger, publish := m.v("latency.ledger")*ms, m.v("latency.publish")*ms
	cpuIngest := (m.v("cpu.ingest.request") + (m.p.EventsPerRequest-1)*m.v("cpu.ingest.event")) * us
	type fn struct {
		name       string
		rate, d, c float64
	}
	fns := []fn{
		{"ingest", m.requests / secondsPerMonth, cpuIngest + m.v("calls.ingest.request")*ledger + publish + m.purchases/m.requests*ledger, cpuIngest},
		{"forwarder", m.events / secondsPerMonth, m.v("calls.forwarder.event")*ledger + m.v("latency.platform")*ms + m.v("cpu.forwarder.event")*us, m.v("cpu.forwarder.event") * us},
		{"verify", m.callbacks / secondsPerMonth, m.v("calls.verify.callback") * ledger, 0},
		{"backfill", runs / secondsPerMonth, m.v("latency.backfill_run") * ms, 0},
	}
	var vcpuSec, gibSec float64
	how := ""
	instances := map[string]float64{}
	for _, f := range fns {
		s, n := billable(f.rate, f.d, f.c, m.v("deploy.gcp."+f.name+".concurrency"), m.v("deploy.gcp."+f.name+".cpu"))
		instances[f.name] = n
		vcpuSec += s * m.v("deploy.gcp."+f.name+".cpu")
		gibSec += s * m.v("deploy.gcp."+f.name+".memory")
		if how != "" {
			how += "; "
		}
		how += fmt.Sprintf("%s %s instance-s (%.0f ms a request)", f.name, count(s), f.d*1000)
	}
	m.add(service, "CPU", "gcp.run.cpu", vcpuSec, how+"; at each function's cpu", false)
	m.add(service, "memory", "gcp.run.memory", gibSec, "the same instance-seconds at each function's memory", false)

	envelope, request := GCPLineEnvelope(), GCPRequestEntry()
	for _, fn := range []string{"ingest", "forwarder", "verify", "backfill"} {
		b, l := m.logs(fn)
		m.add("Cloud Logging", fn+" log lines", "gcp.logging.ingestion", b+l*envelope,
			fmt.Sprintf("%s lines, %s bytes of JSON + %.0f bytes of LogEntry each", count(l), count(b), envelope), false)
	}
	// With exclude_successful_request_logs on, Cloud Logging keeps only the
	// entries of 4xx/5xx requests; the mix has none (every request it
	// prices succeeds), so none are billed.
	served := m.requests + m.events + m.callbacks + runs
	if m.v("deploy.gcp.exclude_successful_request_logs") == 1 {
		m.add("Cloud Logging", "request logs", "gcp.logging.ingestion", 0,
			fmt.Sprintf("one entry of %.0f bytes per Cloud Run request that fails (4xx/5xx), none at this mix: exclude_successful_request_logs drops the %s successful requests' entries", request, count(served)), false)
	} else {
		m.add("Cloud Logging", "request logs", "gcp.logging.ingestion", served*request,
			fmt.Sprintf("one entry of %.0f bytes per Cloud Run request", request), false)
	}

	msg := m.message() + pubsubExtra
	publish1 := math.Max(1000, m.p.EventsPerRequest*msg)
	push := m.plain*math.Max(1000, m.v("queue.message.plain")+pubsubExtra) + m.purchases*math.Max(1000, m.v("queue.message.purchase")+pubsubExtra)
	m.add("Pub/Sub", "throughput", "gcp.pubsub.throughput", m.requests*publish1+push,
		fmt.Sprintf("a publish per ingest request of %.0f bytes (messages of %.0f bytes on average with timestamp and id, 1000 a request at least) + a push per event (1000 bytes at least)", publish1, msg), false)

	for _, k := range []string{"reads", "writes"} {
		m.add("Firestore", "document "+k, "gcp.firestore."+k, m.ledger("firestore."+k), m.ledgerHow("firestore."+k), false)
	}
	m.add("Firestore", "TTL deletes", "gcp.firestore.deletes", m.ledger("firestore.writes")+m.ledger("firestore.deletes"),
		"every document written expires (ledger_ttl, verdicts and claims): a delete each", false)

	m.secrets("Secret Manager", "gcp.secrets.access", instances, runs)
	m.add("Cloud Scheduler", "backfill job", "gcp.scheduler.jobs", 1, "one job, whatever the volume", false)

	// The archive: a Cloud Storage subscription on the events topic.
	m.add("Pub/Sub", "archive subscription", "gcp.pubsub.storage_subscription", push,
		"every event delivered to the Cloud Storage subscription (1000 bytes at least, as a push: unverified)", true)
	files := secondsPerMonth / m.v("deploy.gcp.archive_file_interval")
	m.add("Cloud Storage", "archive objects", "gcp.storage.class_a", files,
		fmt.Sprintf("a file every max_duration (%.0f s) while events flow", m.v("deploy.gcp.archive_file_interval")), true)
	m.add("Cloud Storage", "archive storage", "gcp.storage.standard", m.events*m.v("archive.bytes")*m.v("deploy.gcp.archive_retention")/(secondsPerMonth/86400),
		fmt.Sprintf("%.0f bytes of Avro an event, kept archive_retention_days (%.0f)", m.v("archive.bytes"), m.v("deploy.gcp.archive_retention")), true)
}

// secrets adds the secret reads: each instance reads each secret it uses
// once per SECRETS_CACHE_TTL while it runs (every function keeps at least
// one instance all month), and a backfill run's instance reads its own.
func (m *model) secrets(service, priceKey string, instances map[string]float64, runs float64) {
	periods := secondsPerMonth / m.v("settings.secrets_cache_ttl")
	reads := runs * m.v("secrets.backfill")
	for _, fn := range []string{"ingest", "forwarder", "verify"} {
		reads += instances[fn] * periods * m.v("secrets."+fn)
	}
	m.add(service, "secret reads", priceKey, reads,
		fmt.Sprintf("secrets read an instance every %.0f s: ingest %g, forwarder %g, verify %g; backfill %g a run", m.v("settings.secrets_cache_ttl"),
			m.v("secrets.ingest"), m.v("secrets.forwarder"), m.v("secrets.verify"), m.v("secrets.backfill")), false)
}

func (m *model) aws() {
	runs := m.runs()
	rate := m.events / secondsPerMonth
	fill := math.Min(m.v("deploy.aws.batch_size"), math.Max(1, rate*m.v("deploy.aws.batching_window")))
	batches := m.events / fill
	m.add("Lambda", "requests", "aws.lambda.requests", m.requests+batches+m.callbacks+runs,
		fmt.Sprintf("ingest requests %s + forwarder batches %s (%.1f events each: batch_size or what the batching window gathers) + verify callbacks %s + backfill runs %s",
			count(m.requests), count(batches), fill, count(m.callbacks), count(runs)), false)
	us, ms := 1e-6, 1e-3
	ledger, publish := m.v("latency.ledger")*ms, m.v("latency.publish")*ms
	share := func(fn string) float64 { return m.v("deploy.aws."+fn+".memory") * 1024 / 1769 } // Lambda's vCPU share
	billed := func(d float64) float64 { return math.Ceil(d*1000) / 1000 }
	cpuIngest := (m.v("cpu.ingest.request") + (m.p.EventsPerRequest-1)*m.v("cpu.ingest.event")) * us / share("ingest")
	dIngest := billed(cpuIngest + m.v("calls.ingest.request")*ledger + publish + m.purchases/m.requests*ledger)
	rounds := math.Ceil(fill / math.Min(m.v("deploy.aws.batch_size"), 256))
	dForward := billed(rounds*(m.v("calls.forwarder.event")*ledger+m.v("latency.platform")*ms) + fill*m.v("cpu.forwarder.event")*us/share("forwarder"))
	dVerify := billed(m.v("calls.verify.callback") * ledger)
	dBackfill := billed(m.v("latency.backfill_run") * ms)
	gbs := m.requests*dIngest*m.v("deploy.aws.ingest.memory") + batches*dForward*m.v("deploy.aws.forwarder.memory") +
		m.callbacks*dVerify*m.v("deploy.aws.verify.memory") + runs*dBackfill*m.v("deploy.aws.backfill.memory")
	m.add("Lambda", "duration", "aws.lambda.duration", gbs,
		fmt.Sprintf("ingest %.0f ms a request, forwarder %.0f ms a batch, verify %.0f ms, backfill %.0f ms a run, at each function's memory_mb",
			dIngest*1000, dForward*1000, dVerify*1000, dBackfill*1000), false)

	msg := m.message()
	chunks := func(n float64) float64 { return math.Ceil(n * msg / 65536) }
	sends := m.requests * math.Max(math.Ceil(m.p.EventsPerRequest/10), chunks(m.p.EventsPerRequest))
	perReceive := math.Min(10, fill)
	receives := m.events/perReceive*math.Max(1, chunks(perReceive)) + m.v("sqs.idle_receives")
	deletes := m.events / perReceive
	m.add("SQS", "requests", "aws.sqs.requests", sends+receives+deletes,
		fmt.Sprintf("SendMessageBatch %s (10 messages or 64 KB each) + the event source's receives %s (10 messages at most, idle polling %s included) + deletes %s",
			count(sends), count(receives), count(m.v("sqs.idle_receives")), count(deletes)), false)

	platform := AWSInvocationLines()
	invocations := map[string]float64{"ingest": m.requests, "forwarder": batches, "verify": m.callbacks, "backfill": runs}
	for _, fn := range []string{"ingest", "forwarder", "verify", "backfill"} {
		b, l := m.logs(fn)
		m.add("CloudWatch Logs", fn+" log lines", "aws.logs.ingestion", b+l*AWSLineOverhead()+invocations[fn]*platform,
			fmt.Sprintf("%s lines, %s bytes + %.0f bytes each; START, END and REPORT (%.0f bytes) for each of %s invocations",
				count(l), count(b), AWSLineOverhead(), platform, count(invocations[fn])), false)
	}

	m.add("DynamoDB", "read request units", "aws.dynamodb.rru", m.ledger("dynamodb.rru"), m.ledgerHow("dynamodb.rru"), false)
	m.add("DynamoDB", "write request units", "aws.dynamodb.wru", m.ledger("dynamodb.wru"), m.ledgerHow("dynamodb.wru")+" (TTL deletes are free)", false)

	// A Lambda execution environment serves one request at a time: as many
	// are warm as requests in flight, each with its own secret cache.
	envs := map[string]float64{
		"ingest":    math.Max(1, m.requests/secondsPerMonth*dIngest),
		"forwarder": math.Max(1, batches/secondsPerMonth*dForward),
		"verify":    math.Max(1, m.callbacks/secondsPerMonth*dVerify),
	}
	m.secrets("Secrets Manager", "aws.secrets.calls", envs, runs)
	m.add("EventBridge Scheduler", "backfill runs", "aws.scheduler.invocations", runs, "one invocation a run", false)

	// The archive: an SNS topic in front of the queue and a Firehose stream
	// to S3.
	m.add("SNS", "archive: publishes", "aws.sns.requests", m.requests*math.Max(math.Ceil(m.p.EventsPerRequest/10), chunks(m.p.EventsPerRequest)),
		"ingest publishes to the SNS topic instead of the queue: a PublishBatch per ingest request (10 messages or 64 KB each); the SQS requests above stay (the topic's delivery to the queue, assumed billed as the send was); SNS's own charge for delivering to Firehose is not in the model", true)
	m.add("Data Firehose", "archive: ingestion", "aws.firehose.ingestion", m.events*5120, "each event a record (its SNS envelope), rounded up to 5 KB", true)
	m.add("S3", "archive: objects", "aws.s3.put", secondsPerMonth/m.v("deploy.aws.archive_file_interval"),
		fmt.Sprintf("an object every buffering_interval (%.0f s) while events flow", m.v("deploy.aws.archive_file_interval")), true)
	m.add("S3", "archive: storage", "aws.s3.storage", m.events*m.v("archive.bytes")*m.v("deploy.aws.archive_retention")/(secondsPerMonth/86400),
		fmt.Sprintf("%.0f bytes an event (the Avro size on GCP; the AWS files are gzip'd SNS envelopes, not measured), kept archive_retention_days (%.0f)",
			m.v("archive.bytes"), m.v("deploy.aws.archive_retention")), true)
}

// count writes a large number short: 1.2M, 340k, 96.
func count(x float64) string {
	switch a := math.Abs(x); {
	case a >= 1e9:
		return fmt.Sprintf("%.3gG", x/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.3gM", x/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.3gk", x/1e3)
	case a >= 100:
		return fmt.Sprintf("%.0f", x)
	default:
		return fmt.Sprintf("%.3g", x)
	}
}

// ByService sums the terms of each service (the archive's only when it is
// on), so a cost spread over several terms (a log per function) shows
// whole; most expensive first.
func (r *Result) ByService() []Term {
	sum := map[string]float64{}
	var order []string
	for _, t := range r.Terms {
		if t.Archive && !r.Params.Archive {
			continue
		}
		if _, ok := sum[t.Service]; !ok {
			order = append(order, t.Service)
		}
		sum[t.Service] += t.Cost
	}
	out := make([]Term, 0, len(order))
	for _, s := range order {
		out = append(out, Term{Service: s, Cost: sum[s]})
	}
	return sortedByCost(out)
}

// sortedByCost returns the terms, most expensive first.
func sortedByCost(ts []Term) []Term {
	out := append([]Term(nil), ts...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Cost > out[j].Cost })
	return out
}

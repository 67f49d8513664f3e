package logmetrics

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"eventrelay.dev/eventrelay/internal/devstack"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/internal/readme"
	"eventrelay.dev/eventrelay/internal/syncbuf"
	"eventrelay.dev/eventrelay/internal/tfcheck"
	"eventrelay.dev/eventrelay/shared/logging"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/queue"
)

const tfModules = "../../terraform/modules"

// lines keeps every line the functions log.
type lines struct{ syncbuf.Buffer }

func (l *lines) parse(t *testing.T) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("a log line is not JSON: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// startLogged starts the local stack (the real functions, wired as they
// are deployed) with the real logger at the deployed default level, and
// returns it with every line the functions write.
func startLogged(t *testing.T, cfg devstack.Config) (*devstack.Stack, *lines) {
	t.Helper()
	out := &lines{}
	logger, err := logging.New(out, "info")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = logger
	st, err := devstack.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, st)
	return st, out
}

// forwarderFailsFast makes the forwarder dead-letter after two quick
// attempts and backfill resend at once: a scenario's outage takes
// milliseconds.
func forwarderFailsFast(backfillBudget string) devstack.Config {
	return devstack.Config{PushMaxBackoff: 20 * time.Millisecond,
		Env: map[string]string{"FORWARDER_FIRST_BACKOFF": "10ms", "FORWARDER_MAX_BACKOFF": "20ms",
			"FORWARDER_MAX_ATTEMPTS": "2", "FORWARDER_BREAKER_THRESHOLD": "10000",
			"BACKFILL_TIME_BUDGET": backfillBudget, "BACKFILL_RATE": "1000"}}
}

// funnel is what the scenario below makes happen, as each cloud's metrics
// must count it: metric name => label (or dimension) values => lines.
type funnel map[string]map[string]int

// runScenario drives the local stack (the real functions, wired as they
// are deployed, logging with the real logger) through every outcome the
// metrics count, and returns the lines the functions wrote and the ingest
// authentication failure's reason as ingest answered it.
func runScenario(t *testing.T) ([]map[string]any, string) {
	st, out := startLogged(t, forwarderFailsFast("3s"))
	ingest := func(body any, want int) {
		t.Helper()
		if status, resp := e2e.PostIngest(t, st.IngestURL, devstack.DevAPIKey, body); status != want {
			t.Fatalf("ingest answered %d, want %d: %v", status, want, resp)
		}
	}
	counter := func(k string) func() int64 { return func() int64 { return st.Counters.Snapshot()[k] } }
	waitCount := func(what string, get func() int64, n int64) {
		t.Helper()
		e2e.WaitFor(t, what, 30*time.Second, func() bool { return get() >= n })
	}
	backfill := func(want int) {
		t.Helper()
		resp, err := http.Post(st.BackfillURL, "application/json", strings.NewReader(`{"reasons":["retryable","auth"]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("backfill answered %s, want %d", resp.Status, want)
		}
	}
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)

	// Ingest: two accepted, a duplicate within the request, one invalid,
	// one malformed; then the first again (a duplicate of an earlier
	// request); then a wrong key.
	evs := e2e.Events("ops", "android", 2, at)
	invalid := map[string]any{"id": "ops-invalid", "event_type": "NO_SUCH_TYPE", "timestamp": at.UnixMilli(), "channel_type": "APP"}
	malformed := map[string]any{"id": "ops-malformed", "event_type": "PAGE_VIEW", "timestamp": at.UnixMilli(), "no_such_field": 1}
	ingest([]any{evs[0], evs[1], evs[0], invalid, malformed}, http.StatusAccepted)
	ingest(evs[0], http.StatusAccepted)
	req, _ := http.NewRequest(http.MethodPost, st.IngestURL, strings.NewReader(`{"events":[]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", "dev.not-the-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var refused struct{ Error string }
	if err := json.NewDecoder(resp.Body).Decode(&refused); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || refused.Error == "" {
		t.Fatalf("a wrong key: %s %+v", resp.Status, refused)
	}
	// The forwarder delivers both.
	e2e.WaitFor(t, "two deliveries", 30*time.Second, func() bool { return st.Sink.Stats().Accepted >= 2 })

	// An event the platform refuses (a SEARCH without its query), put on
	// the topic directly as a mapping bug would: dead-lettered, permanent.
	bad := fmt.Sprintf(`{"id":"ops-permanent","event_type":"SEARCH","timestamp":%d,"channel_type":"SITE","user_id":"u"}`, at.UnixMilli())
	if _, err := st.Client().Publisher(devstack.Topic).Publish(context.Background(), &pubsub.Message{Data: []byte(bad),
		Attributes: map[string]string{queue.AttrEventID: "ops-permanent", queue.AttrEventType: "SEARCH"}}).Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitCount("the permanent dead letter", counter("forwarder_outcomes.dead_lettered"), 1)

	// Verify: the recorded purchase is confirmed, an unknown one is not.
	if status, body := e2e.Callback(t, st.VerifyURL, devstack.DevDFINERYKey, "ops-0000", at, "19"); status != http.StatusOK {
		t.Fatalf("verify: %d %s", status, body)
	}
	if status, body := e2e.Callback(t, st.VerifyURL, devstack.DevDFINERYKey, "ops-never", at, "19"); status != http.StatusUnprocessableEntity {
		t.Fatalf("verify: %d %s", status, body)
	}

	// An outage: one retry, then dead-lettered as retryable.
	st.Sink.SetFaults(mcmsink.Faults{Down: true})
	ingest(e2e.Events("outage", "android", 1, at), http.StatusAccepted)
	waitCount("the retryable dead letter", counter("forwarder_outcomes.dead_lettered"), 2)
	st.Sink.SetFaults(mcmsink.Faults{})

	// The platform key stops working: dead-lettered for the key, and a
	// backfill run re-parks the outage's and the key's dead letters for
	// the key (the permanent one is not selected).
	st.Secrets.Set(devstack.SecretMCMKey, "revoked-key")
	ingest(e2e.Events("revoked", "android", 1, at), http.StatusAccepted)
	waitCount("the key's dead letter", counter("forwarder_outcomes.dead_lettered"), 3)
	backfill(http.StatusOK)
	// The key is fixed: the next run resends the two the key held back.
	st.Secrets.Set(devstack.SecretMCMKey, devstack.MCMAPIKey)
	backfill(http.StatusOK)

	// The dead-letter subscription is gone: the run fails on the queue.
	if err := st.Client().SubscriptionAdminClient.DeleteSubscription(context.Background(),
		&pubsubpb.DeleteSubscriptionRequest{Subscription: devstack.DeadLetterSub}); err != nil {
		t.Fatal(err)
	}
	backfill(http.StatusInternalServerError)
	// The events topic is gone: no retry helps, ingest answers 500,
	// queue_misconfigured, and logs an error naming PUBSUB_TOPIC.
	if err := st.Client().TopicAdminClient.DeleteTopic(context.Background(),
		&pubsubpb.DeleteTopicRequest{Topic: devstack.Topic}); err != nil {
		t.Fatal(err)
	}
	ingest(e2e.Events("down", "android", 1, at), http.StatusInternalServerError)
	return out.parse(t), refused.Error
}

// TestMetricsCountTheFunctionsLines runs every log-based metric of both
// modules, read from the Terraform, on the lines the real functions wrote
// through the scenario, and checks each selects exactly the lines of its
// outcome with the right labels: a field or value renamed on either side
// breaks it.
func TestMetricsCountTheFunctionsLines(t *testing.T) {
	logged, authReason := runScenario(t)

	src := "source=" + devstack.DevSource
	gcpWant := funnel{
		// Summed from the requests' counts: two requests of the first
		// batch's, the outage's and the key's.
		"ingest_accepted": {src: 4},
		// One in the first request, one a whole request of a repeat.
		"ingest_duplicates": {src: 2},
		"ingest_events": {
			"class=invalid,outcome=rejected," + src:                 1,
			"class=malformed,outcome=rejected," + src:               1,
			"class=queue_misconfigured,outcome=not_accepted," + src: 1,
		},
		"ingest_requests":      {"status=202": 4, "status=401": 1, "status=500": 1},
		"ingest_latency":       {"status=202": 4, "status=401": 1, "status=500": 1},
		"ingest_auth_failures": {"reason=" + authReason: 1},
		"forwarder_outcomes": {
			"class=,outcome=delivered," + src + ",status=200":              2,
			"class=permanent,outcome=dead_lettered,source=,status=400":     1,
			"class=,outcome=retry," + src + ",status=503":                  1,
			"class=retryable,outcome=dead_lettered," + src + ",status=503": 1,
			"class=auth,outcome=dead_lettered," + src + ",status=401":      1,
		},
		"platform_latency": {"status=200": 2, "status=400": 1, "status=503": 2, "status=401": 1},
		"verify_callbacks": {"outcome=confirmed,reason=confirmed": 1, "outcome=failed,reason=not_found": 1},
		"backfill_events": {
			"class=auth,outcome=reparked," + src: 2,
			"class=,outcome=resent," + src:       2,
		},
		"backfill_runs": {"outcome=completed,stop_reason=drained": 2, "outcome=failed,stop_reason=queue_error": 1},
		// The forwarder's line about the key, and the failed run's.
		"function_errors": {"function=eventrelay-forwarder": 1, "function=eventrelay-backfill": 1, "function=eventrelay-ingest": 1},
		// Counted in attest_proof_test.go: no attestation traffic here.
		"ingest_attestation": {}, "attest_exchanges": {}, "attest_decode_budget": {},
	}
	t.Run("gcp", func(t *testing.T) { compare(t, gcpCounts(t, logged), gcpWant, logged) })

	awsWant := funnel{
		"ingest_accepted":   {"Source=local-dev": 4},
		"ingest_duplicates": {"Source=local-dev": 2},
		"ingest_events":     {"Outcome=rejected,Source=local-dev": 2, "Outcome=not_accepted,Source=local-dev": 1},
		"ingest_rejected": {"Class=invalid,Outcome=rejected": 1, "Class=malformed,Outcome=rejected": 1,
			"Class=queue_misconfigured,Outcome=not_accepted": 1},
		"ingest_requests":         {"": 6},
		"ingest_5xx":              {"": 1},
		"ingest_latency":          {"": 6},
		"ingest_auth_failures":    {"": 1},
		"forwarder_outcomes":      {"Outcome=delivered": 2, "Outcome=retry": 1, "Outcome=dead_lettered": 3},
		"forwarder_dead_lettered": {"Class=permanent": 1, "Class=retryable": 1, "Class=auth": 1},
		// The forwarder's dead letter for the key, and backfill's two.
		"platform_auth_failures": {"": 3},
		"platform_latency":       {"": 6},
		"platform_status":        {"Status=200": 2, "Status=400": 1, "Status=503": 2, "Status=401": 1},
		"verify_callbacks":       {"Outcome=confirmed": 1, "Outcome=failed": 1},
		"verify_reasons":         {"Reason=confirmed": 1, "Reason=not_found": 1},
		"backfill_events":        {"Outcome=reparked": 2, "Outcome=resent": 2},
		"backfill_runs":          {"Outcome=completed": 2, "Outcome=failed": 1},
		// Counted in attest_proof_test.go: no attestation traffic here.
		"ingest_attestation": {}, "attest_exchanges": {}, "attest_decode_budget": {},
	}
	t.Run("aws", func(t *testing.T) { compare(t, awsCounts(t, logged), awsWant, logged) })
}

// TestOneEventsPath runs docs/operations.md's two queries for one event's path on
// the functions' lines: every line about an event carries its id and
// source, and the queries print the event's whole story in order.
func TestOneEventsPath(t *testing.T) {
	logged, _ := runScenario(t)
	perEvent := map[string]bool{"ingest event": true, "forward": true, "backfill event": true, "publish failed": true}
	for _, l := range logged {
		if msg, _ := l["message"].(string); perEvent[msg] {
			if _, ok := l["event_id"]; !ok {
				t.Errorf("a %q line without event_id: %v", msg, l)
			}
			if _, ok := l["source"]; !ok {
				t.Errorf("a %q line without source: %v", msg, l)
			}
		}
	}
	ops := []byte(readme.Doc(t, "docs/operations.md"))
	gq := regexp.MustCompile(`gcloud logging read [^']*'([^']*EVENT_ID[^']*)'`).FindSubmatch(ops)
	aq := regexp.MustCompile(`--filter-pattern '([^']*EVENT_ID[^']*)'`).FindSubmatch(ops)
	if gq == nil || aq == nil {
		t.Fatal("docs/operations.md: the gcloud logging read and aws logs filter-log-events commands are missing")
	}
	const id = "revoked-0000" // dead-lettered for the key, re-parked, resent
	// Ingest logs an accepted event's own line only at debug level: at
	// the deployed level its path starts at the forwarder.
	want := "forwarder: forwarder:dead_lettered backfill:reparked backfill:resent"
	gf, err := ParseGCPFilter(strings.ReplaceAll(string(gq[1]), "EVENT_ID", id))
	if err != nil {
		t.Fatal(err)
	}
	ap, err := ParseAWSPattern(strings.ReplaceAll(string(aq[1]), "EVENT_ID", id))
	if err != nil {
		t.Fatal(err)
	}
	var gcpPath, awsPath []string
	for _, l := range logged {
		fn, _ := l["function"].(string)
		step := fmt.Sprintf("%s:%v", fn, l["outcome"])
		if _, ok := l["outcome"]; !ok {
			step = fn + ":"
		}
		if gf.Match(GCPEntry(l, "eventrelay-"+fn)) {
			gcpPath = append(gcpPath, step)
		}
		if ap.Match(l) {
			awsPath = append(awsPath, step)
		}
	}
	if got := ingestFirst(gcpPath); got != want {
		t.Errorf("gcloud logging read prints\n %s\nwant\n %s", got, want)
	}
	if got := ingestFirst(awsPath); got != want {
		t.Errorf("aws logs filter-log-events prints\n %s\nwant\n %s", got, want)
	}
}

// ingestFirst joins a path's steps with ingest's line moved to the front:
// ingest logs an event after the queue acknowledged it, so the forwarder's
// first line can come a moment earlier, in the cloud's logs as here. Every
// other step keeps its order.
func ingestFirst(path []string) string {
	var ingest, rest []string
	for _, step := range path {
		if strings.HasPrefix(step, "ingest:") {
			ingest = append(ingest, step)
		} else {
			rest = append(rest, step)
		}
	}
	return strings.Join(append(ingest, rest...), " ")
}

// gcpCounts counts logged with every log-based metric of the GCP module,
// as Cloud Logging would: metric name => label values => events (lines,
// or for a distribution of counts the sum of its values; for a latency,
// its samples).
func gcpCounts(t *testing.T, logged []map[string]any) funnel {
	t.Helper()
	m, err := tfcheck.Load(filepath.Join(tfModules, "gcp"))
	if err != nil {
		t.Fatal(err)
	}
	metrics, _, problems := tfcheck.LogMetrics(m)
	for _, p := range problems {
		t.Error(p)
	}
	entries := make([]Entry, len(logged))
	for i, l := range logged {
		fn, _ := l["function"].(string)
		entries[i] = GCPEntry(l, "eventrelay-"+fn)
	}
	got := funnel{}
	for _, lm := range metrics {
		name := strings.TrimPrefix(lm.Name, "eventrelay/")
		gm, err := NewGCPMetric(lm.Filter, lm.LabelExtractors, lm.ValueExtractor)
		if err != nil {
			t.Errorf("%s: %v", lm.Resource, err)
			continue
		}
		// A distribution of counts counts its values' sum; a counter
		// its entries; a latency its samples.
		count := gm.Count
		if lm.ValueExtractor != "" && lm.Unit == "1" {
			count = gm.Sum
		}
		if got[name], err = count(entries); err != nil {
			t.Errorf("%s: %v", lm.Resource, err)
		}
	}
	return got
}

// awsCounts counts logged with every metric filter of the AWS module, as
// CloudWatch Logs would: metric name => dimension values => the Sum of a
// Count metric (for a latency, its samples).
func awsCounts(t *testing.T, logged []map[string]any) funnel {
	t.Helper()
	m, err := tfcheck.Load(filepath.Join(tfModules, "aws"))
	if err != nil {
		t.Fatal(err)
	}
	_, filters, problems := tfcheck.LogMetrics(m)
	for _, p := range problems {
		t.Error(p)
	}
	// Lambda writes each function's lines to /aws/lambda/<name>.
	groups := map[string][]map[string]any{}
	for _, l := range logged {
		fn, _ := l["function"].(string)
		groups["/aws/lambda/eventrelay-"+fn] = append(groups["/aws/lambda/eventrelay-"+fn], l)
	}
	got := funnel{}
	for _, f := range filters {
		am, err := NewAWSMetric(f.Pattern, f.Value, f.Dimensions)
		if err != nil {
			t.Errorf("%s: %v", f.Resource, err)
			continue
		}
		// A Count metric is read by its Sum; a latency by its samples.
		count := am.Count
		if f.Unit == "Count" {
			count = am.Sum
		}
		counts, err := count(groups[f.LogGroup])
		if err != nil {
			t.Errorf("%s: %v", f.Resource, err)
		}
		if got[f.Metric] == nil {
			got[f.Metric] = map[string]int{}
		}
		for k, n := range counts {
			got[f.Metric][k] += n
		}
	}
	return got
}

// only keeps the metrics of got that want names: a test of some metrics.
func only(got, want funnel) funnel {
	out := funnel{}
	for name := range want {
		out[name] = got[name]
	}
	return out
}

func compare(t *testing.T, got, want funnel, logged []map[string]any) {
	t.Helper()
	names := map[string]bool{}
	for k := range got {
		names[k] = true
	}
	for k := range want {
		names[k] = true
	}
	sorted := make([]string, 0, len(names))
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		g, w := got[name], want[name]
		if g == nil {
			t.Errorf("metric %s: not defined in the Terraform", name)
			continue
		}
		if w == nil {
			t.Errorf("metric %s: the scenario has no expectation for it (counts %v)", name, g)
			continue
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("metric %s:\n got  %v\n want %v", name, g, w)
		}
	}
	if t.Failed() {
		for _, l := range logged {
			t.Logf("%v", l)
		}
	}
}

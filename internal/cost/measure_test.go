package cost

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/devstack"
	"eventrelay.dev/eventrelay/internal/dynalite"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/internal/firestoreemu"
	"eventrelay.dev/eventrelay/internal/modroot"
	"eventrelay.dev/eventrelay/shared/archive"
	"eventrelay.dev/eventrelay/shared/dfinery"
	"eventrelay.dev/eventrelay/shared/settings"
)

var update = flag.Bool("update", false, "write "+QuantitiesFile+" from this run")

// TestMeasure runs the local stack (the real functions, their real log
// handler, the real ledger adapters against the npm emulators behind
// counting stand-ins) with a sample of each kind of traffic, and measures
// the quantities the cost model multiplies by prices. With -update it
// writes them to quantities.json; without, it fails when the code's
// quantities have drifted from the file's (a log line added, a ledger call
// more), so the model is never silently out of date.
func TestMeasure(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: -short: the measurement runs the local stack twice (about 20 s)")
	}
	firestoreemu.Require(t)
	got := map[string]Quantity{}
	for _, backend := range []string{"firestore", "dynamodb"} {
		t.Run(backend, func(t *testing.T) {
			for k, v := range measureStack(t, backend) {
				got[k] = v
			}
		})
	}
	for k, v := range deployment(t) {
		got[k] = v
	}
	if t.Failed() {
		return
	}
	path := filepath.Join(modroot.Find(), QuantitiesFile)
	if *update {
		q, err := Current()
		if err != nil {
			q = &Quantities{}
		}
		q.Measured, q.Command, q.Date, q.Commit = got, MeasureCommand, time.Now().UTC().Format("2006-01-02"), headCommit(t)
		b, err := json.MarshalIndent(q, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	file, err := Current()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range got {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		want, ok := file.Measured[k]
		if !ok {
			t.Errorf("%s = %g is measured but not in %s: run %s", k, got[k].Value, QuantitiesFile, MeasureCommand)
			continue
		}
		if !near(got[k].Value, want.Value) {
			t.Errorf("%s: the code gives %g %s, %s says %g: run %s (and commit the file) if the change is meant",
				k, got[k].Value, got[k].Unit, QuantitiesFile, want.Value, MeasureCommand)
		}
	}
	for k := range file.Measured {
		if _, ok := got[k]; !ok {
			t.Errorf("%s is in %s but no longer measured: run %s", k, QuantitiesFile, MeasureCommand)
		}
	}
}

func near(a, b float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= drift*math.Max(math.Abs(a), math.Abs(b))
}

func headCommit(t *testing.T) string {
	out, err := exec.Command("git", "-C", modroot.Find(), "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		t.Logf("no commit: %v", err)
		return ""
	}
	return strings.TrimSpace(string(out))
}

// phase is one step of the sample and the count it is divided by.
type phase struct {
	name string
	per  string
	n    float64
	run  func(t *testing.T)
}

// measureStack runs the sample on a local stack whose ledger is backend's
// emulator, and returns the quantities per event, callback, request and
// run.
func measureStack(t *testing.T, backend string) map[string]Quantity {
	counts := newTally()
	env := map[string]string{"LEDGER_BACKEND": backend,
		// One read of each secret per function in the run, as an instance
		// reads it once per SECRETS_CACHE_TTL.
		"SECRETS_CACHE_TTL": "1h"}
	switch backend {
	case "firestore":
		t.Setenv("FIRESTORE_EMULATOR_HOST", firestoreCounter(t, firestoreemu.Start(t, firestoreemu.NPM), counts))
	case "dynamodb":
		t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamoCounter(t, dynalite.Start(t), counts))
		t.Setenv("AWS_ACCESS_KEY_ID", "local")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
		t.Setenv("AWS_REGION", "us-east-1")
	}
	router := &logRouter{t: counts, level: settings.LogLevel.Get(settings.FromMap(nil))}
	archiveDir := t.TempDir()
	st, err := devstack.Start(context.Background(), devstack.Config{Logger: router.logger(t), Env: env, ArchiveDir: archiveDir,
		// One archive file for the whole run, whatever its pace, so the
		// bytes an event do not depend on how many file headers a slow run
		// wrote.
		ArchiveMaxDuration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = st.Close()
		}
	})
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	var plain, purchases []map[string]any
	for _, e := range e2e.Events("cost", "android", 4*(samplePlain+sampleBatches*batchEvents), at) {
		if e["event_type"] == "PURCHASE" {
			if len(purchases) < samplePurchases {
				purchases = append(purchases, e)
			}
		} else {
			plain = append(plain, e)
		}
	}
	// New events (new ids) of the people of the first plain events: their
	// erasure-list look-ups are cached (SUPPRESSION_CACHE) on the instance.
	var repeats []map[string]any
	for i, e := range e2e.Events("again", "android", 4*(samplePlain+sampleBatches*batchEvents), at) {
		if len(repeats) < sampleRepeats && e["event_type"] != "PURCHASE" && i < 4*samplePlain/3 {
			repeats = append(repeats, e)
		}
	}
	delivered := 0
	send := func(t *testing.T, evs []map[string]any, per int) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for i := 0; i < len(evs); i += per {
			wg.Add(1)
			sem <- struct{}{}
			go func(body []map[string]any) {
				defer func() { <-sem; wg.Done() }()
				if status, resp := e2e.PostIngest(t, st.IngestURL, devstack.DevAPIKey, body); status != http.StatusAccepted || len(resp["accepted"].([]any)) != len(body) {
					t.Errorf("ingest: %d %v", status, resp)
				}
			}(evs[i:min(i+per, len(evs))])
		}
		wg.Wait()
		delivered += len(evs)
		e2e.WaitFor(t, fmt.Sprint(delivered, " deliveries"), 30*time.Second, func() bool { return st.Sink.Stats().Accepted >= delivered })
	}
	phases := []phase{
		{"plain", "plain event, sent alone", samplePlain, func(t *testing.T) { send(t, plain[:samplePlain], 1) }},
		{"purchase", "purchase, sent alone", samplePurchases, func(t *testing.T) { send(t, purchases, 1) }},
		{"callback", "DFINERY callback for a recorded purchase", samplePurchases, func(t *testing.T) {
			for _, e := range purchases {
				if status, body := callback(t, st.VerifyURL, e, at); status != http.StatusOK {
					t.Errorf("verify %s: %d %s", e["id"], status, body)
				}
			}
		}},
		{"repeat", "plain event of a person the instances looked up within SUPPRESSION_CACHE", sampleRepeats, func(t *testing.T) {
			send(t, repeats, 1)
		}},
		{"batch", fmt.Sprintf("ingest request of %d plain events", batchEvents), sampleBatches, func(t *testing.T) {
			send(t, plain[samplePlain:samplePlain+sampleBatches*batchEvents], batchEvents)
		}},
		{"backfill", "backfill run with nothing to resend", 1, func(t *testing.T) {
			resp, err := http.Post(st.BackfillURL, "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("backfill: %s", resp.Status)
			}
		}},
	}
	deltas := map[string]map[string]float64{}
	before := quiet(counts)
	for _, p := range phases {
		p.run(t)
		if t.Failed() {
			t.FailNow()
		}
		after := quiet(counts)
		d := map[string]float64{}
		for k, v := range after {
			if v != before[k] {
				d[k] = (v - before[k]) / p.n
			}
		}
		deltas[p.name] = d
		t.Logf("%s, per %s: %v", p.name, p.per, d)
		before = after
	}
	secretReads := secretsRead(st)
	closed = true
	if err := st.Close(); err != nil { // writes the archive's open file
		t.Fatal(err)
	}
	out := map[string]Quantity{}
	cmd := MeasureCommand
	per := map[string]string{}
	for _, p := range phases {
		per[p.name] = p.per
	}
	ledgerUnits := map[string]string{"firestore.reads": "document reads", "firestore.writes": "document writes",
		"firestore.deletes": "document deletes", "dynamodb.rru": "read request units", "dynamodb.wru": "write request units"}
	for _, p := range phases {
		d := deltas[p.name]
		for _, fn := range []string{"ingest", "forwarder", "verify", "backfill"} {
			if backend != "firestore" {
				break // the log lines do not depend on the ledger: measured once
			}
			if d["log."+fn+".lines"] == 0 {
				continue
			}
			out["log."+fn+"."+p.name+".bytes"] = Quantity{Value: round(d["log."+fn+".bytes"]), Unit: "bytes of JSON lines", Per: p.per, Command: cmd}
			out["log."+fn+"."+p.name+".lines"] = Quantity{Value: round(d["log."+fn+".lines"]), Unit: "lines", Per: p.per, Command: cmd}
		}
		for k, unit := range ledgerUnits {
			if !strings.HasPrefix(k, backend+".") {
				continue
			}
			out["ledger."+k+"."+p.name] = Quantity{Value: round(d[k]), Unit: unit, Per: p.per, Command: cmd}
		}
	}
	if backend == "dynamodb" {
		largest := counts.snapshot()["dynamodb.largest_item_json_bytes"]
		if largest >= 1024 {
			t.Errorf("an item of %g bytes: the model counts one write unit an item (up to 1 KB)", largest)
		}
		return out
	}
	for fn, n := range secretReads {
		out["secrets."+fn] = Quantity{Value: float64(n), Unit: "secrets read", Per: "instance, every SECRETS_CACHE_TTL", Command: cmd,
			Note: "the secrets the run read, attributed to the functions the settings registry says read them"}
	}
	sizes := archiveSizes(t, archiveDir)
	out["queue.message.plain"] = Quantity{Value: sizes[0], Unit: "bytes of data and attributes", Per: "plain event", Command: cmd}
	out["queue.message.purchase"] = Quantity{Value: sizes[1], Unit: "bytes of data and attributes", Per: "purchase", Command: cmd}
	out["archive.bytes"] = Quantity{Value: sizes[2], Unit: "bytes of Avro file", Per: "event archived", Command: cmd}
	return out
}

// secretsRead counts, per function, the secrets the run read: a secret
// setting of the registry whose secret the local stack's secret store was
// asked for counts once for each function that reads that setting.
func secretsRead(st *devstack.Stack) map[string]int {
	out := map[string]int{"ingest": 0, "forwarder": 0, "verify": 0, "backfill": 0}
	for _, s := range settings.All() {
		m := s.Info()
		if m.Secret != settings.NamesSecret || st.Env[m.Name] == "" || st.Secrets.Reads(st.Env[m.Name]) == 0 {
			continue
		}
		for _, fn := range m.Functions {
			if fn.Deployed() {
				out[string(fn)]++
			}
		}
	}
	return out
}

// quiet waits until the counts stop moving (the forwarder logs after the
// platform answered, a little after the delivery is seen) and returns them.
func quiet(c *tally) map[string]float64 {
	last := c.snapshot()
	for still := 0; still < 5; {
		time.Sleep(60 * time.Millisecond)
		now := c.snapshot()
		if fmt.Sprint(now) == fmt.Sprint(last) {
			still++
		} else {
			still = 0
		}
		last = now
	}
	return last
}

// callback sends DFINERY's purchase callback for e as DFINERY would: the
// order id is the event's id, the device its persistent id, signed with the
// local stack's key.
func callback(t *testing.T, verifyURL string, e map[string]any, at time.Time) (int, string) {
	dev := e["device"].(map[string]any)["persistent_id"].(string)
	body := url.Values{"adid": {dev}, "event_name": {"purchase"}, "event_timestamp": {fmt.Sprint(at.UnixMilli())},
		"param_json": {`{"abx:order_id":"` + e["id"].(string) + `","abx:sales":19,"abx:currency":"USD"}`}}.Encode()
	req, _ := http.NewRequest(http.MethodPost, verifyURL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(dfinery.HeaderHash, dfinery.Hash([]byte(devstack.DevDFINERYKey), []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// archiveSizes reads what the stack archived (every message of the events
// topic, in the Cloud Storage subscription's Avro files) and returns the
// average message size by kind (data plus attribute names and values, what
// Pub/Sub and SQS carry) and the archive's bytes per event.
func archiveSizes(t *testing.T, dir string) [3]float64 {
	var size, n [2]float64
	var fileBytes, records float64
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fileBytes += float64(info.Size())
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return archive.Decode(bytes.NewReader(b), func(r archive.Record) error {
			kind := 0
			if bytes.Contains(r.Data, []byte(`"PURCHASE"`)) {
				kind = 1
			}
			s := float64(len(r.Data))
			for k, v := range r.Attributes {
				s += float64(len(k) + len(v))
			}
			size[kind] += s
			n[kind]++
			records++
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n[0] == 0 || n[1] == 0 {
		t.Fatalf("the archive holds %v plain and purchase messages: expected both", n)
	}
	return [3]float64{round(size[0] / n[0]), round(size[1] / n[1]), round(fileBytes / records)}
}

func round(v float64) float64 { return math.Round(v*10) / 10 }

package soak

import (
	"bytes"
	"context"
	"flag"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/modroot"
)

// A small run of the load-and-fault scenario on every `make test`; `make
// soak` runs it with 100,000 events.
func TestSoakLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the eventrelay binary")
	}
	exe := filepath.Join(t.TempDir(), "eventrelay")
	build := exec.Command("go", "build", "-o", exe, "./cmd/eventrelay")
	build.Dir = modroot.Find()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := testConfig(t)
	cfg.Exe = exe
	rep, err := RunPubSub(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep)
}

// soakEvents sizes both runs; `make soak` passes -soak.events=100000.
var soakEvents = flag.Int("soak.events", 3000, "events per load-and-fault run")

// testConfig is the run both tests make: the default size dead-letters a
// share of the events (two attempts each) so the backfill is exercised too;
// `make soak` runs the deployed attempt count at full size.
func testConfig(t *testing.T) Config {
	cfg := Config{Events: *soakEvents, MalformedEvery: 100, BatchSize: 50, Senders: 8, Kills: 2,
		Timeout: 20 * time.Minute, Progress: testWriter{t}}
	if *soakEvents < 10000 {
		cfg.MaxAttempts = 2
	}
	return cfg
}

func checkReport(t *testing.T, rep *Report) {
	t.Helper()
	var b bytes.Buffer
	if err := rep.Print(&b); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", b.String())
	if !rep.OK() || rep.Kills != 2 || rep.Delivered+rep.DeadLettered+rep.Refused != rep.Accepted || rep.Malformed != *soakEvents/100 {
		t.Fatalf("the run did not account for every event")
	}
	if *soakEvents < 10000 && (rep.DeadLettered == 0 || rep.Backfilled != rep.DeadLettered) {
		t.Errorf("dead-lettered %d, backfilled %d: the backfill was not exercised in full", rep.DeadLettered, rep.Backfilled)
	}
	if rep.Sink.Injected5xx == 0 || rep.Sink.Injected429 == 0 || rep.Sink.Injected401 == 0 || rep.Sink.Injected400 == 0 || rep.Refused == 0 {
		t.Errorf("the stand-in did not inject every fault (%+v, %d refused): the run proved nothing", rep.Sink, rep.Refused)
	}
}

func TestPlanCoversEveryEventOnce(t *testing.T) {
	seen := make([]int, 1050)
	batches, singles := 0, 0
	for _, r := range plan(1050, 100) {
		for i := r.from; i < r.to; i++ {
			seen[i]++
		}
		if r.batch {
			batches++
		} else {
			singles++
		}
	}
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("event %d planned %d times", i, n)
		}
	}
	if batches != 6 || singles != 500 {
		t.Errorf("batches %d, singles %d; want 6 and 500", batches, singles)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/shared/logging"
)

// ingestLines runs the requests of TestLinesPerRequest with a logger at
// level and returns the lines as outcome/class/event_id/source, the
// request's as request/<its counts>.
func ingestLines(t *testing.T, level string) string {
	t.Helper()
	h := newHarness(t, nil)
	var out bytes.Buffer
	log, err := logging.New(&out, level)
	if err != nil {
		t.Fatal(err)
	}
	h.svc.log = log
	tooBig := `{"id":"big","event_type":"PAGE_VIEW","page_id":"` + strings.Repeat("x", 33<<10) + `"}`
	body := "[" + strings.Join([]string{purchase("a"), purchase("a"), `{"id":"odd","event_type":"PAGE_VIEW","nope":1}`,
		`{"id":"bad","event_type":"NO_SUCH_TYPE","timestamp":1}`, tooBig, purchase("b")}, ",") + "]"
	if rec, _ := h.post(t, body, nil); rec.Code != http.StatusAccepted {
		t.Fatalf("first request: %d %s", rec.Code, rec.Body)
	}
	if rec, _ := h.post(t, purchase("a"), nil); rec.Code != http.StatusAccepted {
		t.Fatalf("second request: %d %s", rec.Code, rec.Body)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		switch l["message"] {
		case "ingest event":
			got = append(got, strings.Join([]string{l["outcome"].(string), str(l["class"]), str(l["event_id"]), str(l["source"])}, "/"))
		case "ingest request":
			counts := []string{}
			for _, k := range []string{"accepted", "duplicates", "rejected", "not_accepted", "refused"} {
				if n, ok := l[k]; ok {
					counts = append(counts, fmt.Sprintf("%s=%v", k, n))
				}
			}
			got = append(got, fmt.Sprintf("request/%v/%v/%s", l["outcome"], l["source"], strings.Join(counts, ",")))
		}
	}
	return strings.Join(got, " ")
}

// TestLinesPerRequest: at the deployed level (info) a request writes one
// "answered" line with its counts per outcome (those not 0), which the log-based metrics
// sum, and an "ingest event" line (id, source, outcome, class) only for
// each event it did not queue; at debug every event gets its line, the
// accepted and duplicate ones too, so one event's path can be followed
// from ingest. internal/logmetrics runs the metrics on the whole pipeline.
func TestLinesPerRequest(t *testing.T) {
	if got, want := ingestLines(t, "info"), "rejected/malformed//shop rejected/invalid/bad/shop rejected/too_large//shop "+
		"request/answered/shop/accepted=2,duplicates=1,rejected=3 request/answered/shop/duplicates=1"; got != want {
		t.Errorf("info lines\n got  %v\n want %v", got, want)
	}
	if got, want := ingestLines(t, "debug"), "accepted//a/shop accepted//b/shop duplicate/in_request/a/shop "+
		"rejected/malformed//shop rejected/invalid/bad/shop rejected/too_large//shop "+
		"request/answered/shop/accepted=2,duplicates=1,rejected=3 duplicate/earlier_request/a/shop request/answered/shop/duplicates=1"; got != want {
		t.Errorf("debug lines\n got  %v\n want %v", got, want)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

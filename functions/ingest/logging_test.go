package ingest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/shared/logging"
)

// TestOneLinePerEvent: every event of a request gets an "ingest event"
// line with its id, source, outcome and, when it was not queued, a class;
// the request gets one "answered" line. The log-based metrics count these
// (internal/logmetrics runs them on the whole pipeline).
func TestOneLinePerEvent(t *testing.T) {
	h := newHarness(t, nil)
	var out bytes.Buffer
	log, err := logging.New(&out, "info")
	if err != nil {
		t.Fatal(err)
	}
	h.svc.log = log
	tooBig := `{"id":"big","event_type":"PAGE_VIEW","page_id":"` + strings.Repeat("x", 33<<10) + `"}`
	body := "[" + strings.Join([]string{purchase("a"), purchase("a"), `{"id":"odd","event_type":"PAGE_VIEW","nope":1}`,
		`{"id":"bad","event_type":"NO_SUCH_TYPE","timestamp":1}`, tooBig}, ",") + "]"
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
			got = append(got, "request/"+str(l["outcome"])+"/"+str(l["source"]))
		}
	}
	want := []string{"accepted//a/shop", "duplicate/in_request/a/shop", "rejected/malformed//shop",
		"rejected/invalid/bad/shop", "rejected/too_large//shop", "request/answered/shop",
		"duplicate/earlier_request/a/shop", "request/answered/shop"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("lines\n got  %v\n want %v", got, want)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

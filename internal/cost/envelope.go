package cost

import (
	"encoding/json"
	"strings"
)

// What the clouds add to each line a function prints, which their log
// prices count too. Neither cloud publishes a per-line figure, so these are
// computed from sample entries built from the documented formats with the
// modules' default names: Cloud Logging's LogEntry (its reference: insertId,
// resource with Cloud Run's labels, timestamps, labels, logName; the line
// itself becomes jsonPayload, counted as the line's bytes), and Lambda's
// text-format START, END and REPORT lines, each a CloudWatch log event
// counted at its bytes plus 26 (PutLogEvents' per-event overhead).

const (
	sampleProject  = "my-company-prod-123456" // a 22-character project id
	sampleFunction = "eventrelay-forwarder"
	sampleRequest  = "2f2b3b3c-5d6e-4f70-8a9b-0c1d2e3f4a5b"
	// cloudWatchEventOverhead is counted per log event on top of its bytes.
	cloudWatchEventOverhead = 26
)

func sampleResource() map[string]any {
	return map[string]any{"type": "cloud_run_revision", "labels": map[string]string{
		"project_id": sampleProject, "service_name": sampleFunction, "revision_name": sampleFunction + "-00001-abc",
		"location": "us-central1", "configuration_name": sampleFunction}}
}

func sampleLabels() map[string]string {
	// Cloud Run's instance ids are some 120 hexadecimal characters.
	return map[string]string{"instanceId": "00" + strings.Repeat("4f8e2a9c1b7d3e6f", 7) + "a1b2c3d4e5f6", "goog-managed-by": "cloudfunctions"}
}

func entrySize(e map[string]any) float64 {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // maps of strings and numbers always marshal
	}
	return float64(len(b))
}

// GCPLineEnvelope is the bytes of a LogEntry around one stdout line.
func GCPLineEnvelope() float64 {
	return entrySize(map[string]any{
		"insertId": "6751a3f2000c4a8e1b2f7d3c", "jsonPayload": map[string]any{},
		"resource": sampleResource(), "timestamp": "2026-12-07T08:10:11.123456Z", "severity": "INFO",
		"labels": sampleLabels(), "logName": "projects/" + sampleProject + "/logs/run.googleapis.com%2Fstdout",
		"receiveTimestamp": "2026-12-07T08:10:11.234567891Z"})
}

// GCPRequestEntry is the bytes of the request log entry Cloud Run writes
// for every request it serves (run.googleapis.com/requests, in the
// _Default bucket, so billed): a Pub/Sub push included.
func GCPRequestEntry() float64 {
	return entrySize(map[string]any{
		"httpRequest": map[string]any{"requestMethod": "POST", "requestUrl": "https://" + sampleFunction + "-abcdefghij-uc.a.run.app/",
			"requestSize": "1187", "status": 200, "responseSize": "145",
			"userAgent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
			"remoteIp":  "2600:1900:2000:1a::5", "serverIp": "2600:1900:4000:c2::35", "latency": "0.052341s", "protocol": "HTTP/1.1"},
		"insertId": "6751a3f2000c4a8e1b2f7d3c", "resource": sampleResource(), "timestamp": "2026-12-07T08:10:11.123456Z",
		"severity": "INFO", "labels": sampleLabels(), "logName": "projects/" + sampleProject + "/logs/run.googleapis.com%2Frequests",
		"trace": "projects/" + sampleProject + "/traces/4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7",
		"traceSampled": false, "receiveTimestamp": "2026-12-07T08:10:11.234567891Z"})
}

// AWSLineOverhead is CloudWatch's per-event overhead on one stdout line.
func AWSLineOverhead() float64 { return cloudWatchEventOverhead }

// AWSInvocationLines is the bytes CloudWatch counts for the platform's
// START, END and REPORT lines of one invocation (text format, as the
// module's logging_config sets; a cold start's REPORT adds an Init
// Duration, not counted).
func AWSInvocationLines() float64 {
	lines := []string{
		"START RequestId: " + sampleRequest + " Version: $LATEST\n",
		"END RequestId: " + sampleRequest + "\n",
		"REPORT RequestId: " + sampleRequest + "\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\tMax Memory Used: 45 MB\t\n",
	}
	n := 0.0
	for _, l := range lines {
		n += float64(len(l)) + cloudWatchEventOverhead
	}
	return n
}

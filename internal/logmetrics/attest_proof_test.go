package logmetrics

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/attestclient"
	"eventrelay.dev/eventrelay/internal/devstack"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/internal/fakeattest"
	"eventrelay.dev/eventrelay/internal/tfcheck"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/logging"
)

// The attestation metrics count the real functions' attestation lines:
// local-dev under monitor, three requests (no credential, a valid one, a
// forged one), and exchanges that pass and one that is refused.
func TestAttestationMetricsCountTheFunctionsLines(t *testing.T) {
	var out lines
	logger, err := logging.New(&out, "info")
	if err != nil {
		t.Fatal(err)
	}
	st, err := devstack.Start(context.Background(), devstack.Config{Logger: logger,
		Env: map[string]string{"ATTEST_SOURCES": devstack.AttestSources(map[string]string{devstack.DevSource: "monitor"})}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	app := attestclient.Client{URL: st.IngestURL, Source: devstack.DevSource}
	play := fakeattest.NewPlayWithKey(devstack.Project, []byte(devstack.DevPlayKey))
	cred, err := app.Android(ctx, play, devstack.Project, devstack.DevAndroidPkg, devstack.DevAndroidCert, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Android(ctx, play, devstack.Project, "com.example.other", devstack.DevAndroidCert, nil); err == nil {
		t.Fatal("a wrong package got a credential")
	}
	post := func(hdr map[string]string) {
		b, _ := json.Marshal(e2e.Events("attest-"+time.Now().Format("150405.000000"), "ANDROID", 1, time.Now()))
		req, _ := http.NewRequest(http.MethodPost, st.IngestURL, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", devstack.DevAPIKey)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("monitor refused a request: %d", resp.StatusCode)
		}
	}
	post(nil)
	post(map[string]string{auth.HeaderAttestation: cred.Credential})
	post(map[string]string{auth.HeaderAttestation: "er1.forged.e30." + strings.Repeat("A", 43)})
	logged := out.parse(t)

	src := "source=" + devstack.DevSource
	gcpWant := funnel{
		"ingest_attestation": {"policy=monitor," + src + ",verdict=missing": 1, "policy=monitor," + src + ",verdict=valid": 1,
			"policy=monitor," + src + ",verdict=invalid": 1},
		"attest_exchanges": {"reason=ok,route=challenge," + src: 2, "reason=ok,route=android," + src: 1,
			"reason=wrong_package,route=android," + src: 1},
	}
	awsWant := funnel{
		"ingest_attestation": {"Policy=monitor,Verdict=missing": 1, "Policy=monitor,Verdict=valid": 1, "Policy=monitor,Verdict=invalid": 1},
		"attest_exchanges":   {"Reason=ok,Route=challenge": 2, "Reason=ok,Route=android": 1, "Reason=wrong_package,Route=android": 1},
	}
	t.Run("gcp", func(t *testing.T) {
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
			if gcpWant[name] == nil {
				continue // the other metrics have their own scenario
			}
			gm, err := NewGCPMetric(lm.Filter, lm.LabelExtractors, lm.ValueExtractor)
			if err != nil {
				t.Fatalf("%s: %v", lm.Resource, err)
			}
			if got[name], err = gm.Count(entries); err != nil {
				t.Errorf("%s: %v", lm.Resource, err)
			}
		}
		compare(t, got, gcpWant, logged)
	})
	t.Run("aws", func(t *testing.T) {
		m, err := tfcheck.Load(filepath.Join(tfModules, "aws"))
		if err != nil {
			t.Fatal(err)
		}
		_, filters, problems := tfcheck.LogMetrics(m)
		for _, p := range problems {
			t.Error(p)
		}
		var ingest []map[string]any
		for _, l := range logged {
			if l["function"] == "ingest" {
				ingest = append(ingest, l)
			}
		}
		got := funnel{}
		for _, f := range filters {
			if awsWant[f.Metric] == nil {
				continue
			}
			if f.LogGroup != "/aws/lambda/eventrelay-ingest" {
				t.Errorf("%s reads %s, not ingest's log group", f.Resource, f.LogGroup)
			}
			am, err := NewAWSMetric(f.Pattern, f.Value, f.Dimensions)
			if err != nil {
				t.Fatalf("%s: %v", f.Resource, err)
			}
			if got[f.Metric], err = am.Count(ingest); err != nil {
				t.Errorf("%s: %v", f.Resource, err)
			}
		}
		compare(t, got, awsWant, logged)
	})
}

package logmetrics

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/attestclient"
	"eventrelay.dev/eventrelay/internal/devstack"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/internal/fakeattest"
	"eventrelay.dev/eventrelay/shared/auth"
)

// The attestation metrics count the real functions' attestation lines:
// local-dev under monitor, three requests (no credential, a valid one, a
// forged one), and exchanges that pass and two that are refused; a decode
// budget of one call warns at the first and is spent at the second.
func TestAttestationMetricsCountTheFunctionsLines(t *testing.T) {
	st, out := startLogged(t, devstack.Config{
		Env: map[string]string{"ATTEST_SOURCES": devstack.AttestSources(map[string]string{devstack.DevSource: "monitor"}),
			"ATTEST_PLAY_DAILY_BUDGET": "1"}})
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
	if _, err := app.Android(ctx, play, devstack.Project, devstack.DevAndroidPkg, devstack.DevAndroidCert, nil); err == nil {
		t.Fatal("an exchange past the decode budget got a credential")
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
		"attest_exchanges": {"reason=ok,route=challenge," + src: 3, "reason=ok,route=android," + src: 1,
			"reason=wrong_package,route=android," + src: 1, "reason=decode_budget_spent,route=android," + src: 1},
		"attest_decode_budget": {"outcome=decode_budget_low": 1, "outcome=decode_budget_spent": 1},
	}
	awsWant := funnel{
		"ingest_attestation": {"Policy=monitor,Verdict=missing": 1, "Policy=monitor,Verdict=valid": 1, "Policy=monitor,Verdict=invalid": 1},
		"attest_exchanges": {"Reason=ok,Route=challenge": 3, "Reason=ok,Route=android": 1, "Reason=wrong_package,Route=android": 1,
			"Reason=decode_budget_spent,Route=android": 1},
		"attest_decode_budget": {"Outcome=decode_budget_low": 1, "Outcome=decode_budget_spent": 1},
	}
	t.Run("gcp", func(t *testing.T) { compare(t, only(gcpCounts(t, logged), gcpWant), gcpWant, logged) })
	t.Run("aws", func(t *testing.T) { compare(t, only(awsCounts(t, logged), awsWant), awsWant, logged) })
}

package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"eventrelay.dev/eventrelay/internal/testclose"
	"net/http"
	"testing"
	"time"

	pi "google.golang.org/api/playintegrity/v1"

	"eventrelay.dev/eventrelay/internal/attestclient"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/internal/fakeattest"
	"eventrelay.dev/eventrelay/shared/auth"
)

// postEvents sends events with the given headers and returns the status and
// the error code of a refusal.
func postEvents(t *testing.T, url string, hdr map[string]string, events []map[string]any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(events)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out.Error
}

func startAttest(t *testing.T, devSourcePolicy string) *Stack {
	t.Helper()
	st, err := Start(context.Background(), Config{PushMaxBackoff: 20 * time.Millisecond,
		Env: map[string]string{"ATTEST_SOURCES": AttestSources(map[string]string{DevSource: devSourcePolicy})}})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, st)
	return st
}

// Exchange → credential → events accepted and delivered, on every way
// in; require refuses the API key alone.
func TestAttestationRequireEndToEnd(t *testing.T) {
	st := startAttest(t, "require")
	ctx := context.Background()
	apple, err := fakeattest.NewApple()
	if err != nil {
		t.Fatal(err)
	}
	app := attestclient.Client{URL: st.IngestURL, Source: DevSource}
	d, _ := fakeattest.NewDevice(DevAppleAppID)
	ios, err := app.AppleAttest(ctx, apple, d, fakeattest.AAGUIDProduction)
	if err != nil {
		t.Fatal(err)
	}
	iosAgain, err := app.AppleAssert(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	play := fakeattest.NewPlayWithKey(Project, []byte(DevPlayKey))
	android, err := app.Android(ctx, play, Project, DevAndroidPkg, DevAndroidCert, nil)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := fakeattest.NewAppCheck()
	if err != nil {
		t.Fatal(err)
	}
	firebase, err := app.Firebase(ctx, ac, DevFirebaseNumber, DevFirebaseProject, DevFirebaseApp)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	if code, reason := postEvents(t, st.IngestURL, map[string]string{"X-Api-Key": DevAPIKey}, e2e.Events("apikey", "IOS", 1, at)); code != 401 || reason != auth.ReasonAttestationRequired {
		t.Fatalf("API key alone under require: %d %s", code, reason)
	}
	var sent []map[string]any
	for i, cred := range []string{ios.Credential, iosAgain.Credential, android.Credential, firebase.Credential} {
		evs := e2e.Events("attested-"+string(rune('a'+i)), "IOS", 2, at)
		hdr := map[string]string{auth.HeaderAttestation: cred}
		if i == 1 {
			hdr["X-Api-Key"] = DevAPIKey // a credential beside the key
		}
		if code, reason := postEvents(t, st.IngestURL, hdr, evs); code != http.StatusAccepted {
			t.Fatalf("credential %d: %d %s", i, code, reason)
		}
		sent = append(sent, evs...)
	}
	e2e.WaitFor(t, "attested events delivered", 20*time.Second, func() bool { return st.Sink.Stats().Accepted >= len(sent) })
	// A device that fails Play's device check gets no credential.
	_, err = app.Android(ctx, play, Project, DevAndroidPkg, DevAndroidCert, func(p *pi.TokenPayloadExternal) {
		p.DeviceIntegrity.DeviceRecognitionVerdict = []string{"MEETS_BASIC_INTEGRITY"}
	})
	var ref *attestclient.Refused
	if !errors.As(err, &ref) || ref.Body.Error != "device_integrity_failed" {
		t.Fatalf("basic-only device: %v", err)
	}
	// The default local app source, credential only.
	local := attestclient.Client{URL: st.IngestURL, Source: DevAttestSource}
	d2, _ := fakeattest.NewDevice(DevAppleAppID)
	cred, err := local.AppleAttest(ctx, apple, d2, fakeattest.AAGUIDProduction)
	if err != nil {
		t.Fatal(err)
	}
	if code, reason := postEvents(t, st.IngestURL, map[string]string{auth.HeaderAttestation: cred.Credential}, e2e.Events("local-app", "IOS", 1, at)); code != http.StatusAccepted {
		t.Fatalf("local app: %d %s", code, reason)
	}
	// A credential of one source does not vouch for another's API key.
	if code, reason := postEvents(t, st.IngestURL, map[string]string{"X-Api-Key": DevAPIKey, auth.HeaderAttestation: cred.Credential},
		e2e.Events("mixed", "IOS", 1, at)); code != 401 || reason != auth.ReasonAttestationInvalid {
		t.Fatalf("another source's credential: %d %s", code, reason)
	}
	c := getCounters(t, st)
	for k, want := range map[string]int64{"ingest_attestation.require.missing": 1, "ingest_attestation.require.valid": 5, // four for local-dev, one for local-app
		"ingest_attestation.require.invalid": 1, "attest_exchanges.apple/attest.ok": 2, "attest_exchanges.apple/assert.ok": 1, "attest_exchanges.android.ok": 1, "attest_exchanges.firebase.ok": 1,
		"attest_exchanges.android.device_integrity_failed": 1} {
		if c[k] != want {
			t.Errorf("counter %s = %d, want %d (all: %v)", k, c[k], want, c)
		}
	}
}

// monitor accepts everything and counts each verdict.
func TestAttestationMonitorCounts(t *testing.T) {
	st := startAttest(t, "monitor")
	ctx := context.Background()
	at := time.Now()
	if code, reason := postEvents(t, st.IngestURL, map[string]string{"X-Api-Key": DevAPIKey}, e2e.Events("m1", "ANDROID", 1, at)); code != http.StatusAccepted {
		t.Fatalf("API key alone under monitor: %d %s", code, reason)
	}
	if code, reason := postEvents(t, st.IngestURL, map[string]string{"X-Api-Key": DevAPIKey, auth.HeaderAttestation: "er1.forged.e30." + string(bytes.Repeat([]byte("A"), 43))},
		e2e.Events("m2", "ANDROID", 1, at)); code != http.StatusAccepted {
		t.Fatalf("forged credential under monitor: %d %s", code, reason)
	}
	app := attestclient.Client{URL: st.IngestURL, Source: DevSource}
	cred, err := app.Android(ctx, fakeattest.NewPlayWithKey(Project, []byte(DevPlayKey)), Project, DevAndroidPkg, DevAndroidCert, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code, reason := postEvents(t, st.IngestURL, map[string]string{"X-Api-Key": DevAPIKey, auth.HeaderAttestation: cred.Credential},
		e2e.Events("m3", "ANDROID", 1, at)); code != http.StatusAccepted {
		t.Fatalf("valid credential under monitor: %d %s", code, reason)
	}
	c := getCounters(t, st)
	for k, want := range map[string]int64{"ingest_attestation.monitor.missing": 1, "ingest_attestation.monitor.invalid": 1, "ingest_attestation.monitor.valid": 1} {
		if c[k] != want {
			t.Errorf("counter %s = %d, want %d (all: %v)", k, c[k], want, c)
		}
	}
}

func getCounters(t *testing.T, st *Stack) map[string]int64 {
	t.Helper()
	resp, err := http.Get(st.CountersURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c map[string]int64
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

package auth

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// TestDualSignedRequestIsOneRequest: during a rotation a sender signs with
// both secrets; the same request with either v1 removed is a replay (the
// code before remembered the MAC that matched, so dropping the first v1
// was accepted again).
func TestDualSignedRequestIsOneRequest(t *testing.T) {
	clock := now
	src := map[string]string{"signing": `{"signing_keys":[{"source":"shop","secret":"old-signing-secret-0001"},{"source":"shop","secret":"new-signing-secret-0002"}]}`}
	a, err := New(Config{Tolerance: settings.IngestSignatureTolerance.Default, Secrets: secrets.NewMemory(src), SigningKeysSecret: "signing", Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(vectorBody)
	both := Sign(clock, body, "old-signing-secret-0001", "new-signing-secret-0002")
	ts, rest, _ := strings.Cut(both, ",")
	first, second, _ := strings.Cut(rest, ",")
	send := func(sig string) string {
		h := http.Header{HeaderSource: {"shop"}, HeaderSignature: {sig}}
		_, err := a.Authenticate(context.Background(), h, body)
		return reason(err)
	}
	if got := send(both); got != "" {
		t.Fatalf("dual-signed request refused: %s", got)
	}
	for _, sig := range []string{ts + "," + second, ts + "," + first, ts + "," + second + "," + first} {
		if got := send(sig); got != ReasonReplayed {
			t.Errorf("%s: %q, want %s", sig, got, ReasonReplayed)
		}
	}
	// Another body at the same second is another request.
	if _, err := a.Authenticate(context.Background(), http.Header{HeaderSource: {"shop"},
		HeaderSignature: {Sign(clock, []byte(`{"event_type":"LAND"}`), "new-signing-secret-0002")}}, []byte(`{"event_type":"LAND"}`)); err != nil {
		t.Errorf("another body refused: %v", err)
	}
}

// TestBearerSchemeIsCaseInsensitive (RFC 9110, 11.1).
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	clock := now
	a, _ := newAuth(t, &clock)
	for _, v := range []string{"bearer shop-2026a.supersecretvalue", "BEARER shop-2026a.supersecretvalue", "Bearer  shop-2026a.supersecretvalue"} {
		if _, err := a.Authenticate(context.Background(), http.Header{"Authorization": {v}}, nil); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	if _, err := a.Authenticate(context.Background(), http.Header{"Authorization": {"Bearershop-2026a.supersecretvalue"}}, nil); reason(err) != ReasonMissing {
		t.Errorf("no space after the scheme: %v", err)
	}
}

// TestCredentialOnlyForAttestingSources: a credential alone authenticates
// only a source in ATTEST_SOURCES; one naming an API-key source, or any
// other, is refused even when its MAC is right (the code before accepted
// a self-minted credential for any source).
func TestCredentialOnlyForAttestingSources(t *testing.T) {
	clock := now
	var logs bytes.Buffer
	a, keys := newAttestAuth(t, &clock, PolicyMonitor, &logs)
	for _, source := range []string{"server-api-key-source", "not-listed"} {
		h := http.Header{HeaderAttestation: {mint(t, keys, source, clock, 10*time.Minute)}}
		if _, err := a.Authenticate(context.Background(), h, nil); reason(err) != ReasonAttestationInvalid {
			t.Errorf("credential for %s: %v, want %s", source, err, ReasonAttestationInvalid)
		}
	}
	h := http.Header{HeaderAttestation: {mint(t, keys, "shop", clock, 10*time.Minute)}}
	if p, err := a.Authenticate(context.Background(), h, nil); err != nil || p.Source != "shop" {
		t.Errorf("credential for shop: %+v %v", p, err)
	}
	if strings.Contains(logs.String(), "not-listed") {
		t.Errorf("a source outside ATTEST_SOURCES reached the log's labels: %s", logs.String())
	}
}

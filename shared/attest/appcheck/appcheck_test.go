package appcheck

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/fakeattest"
	"eventrelay.dev/eventrelay/shared/attest/refusal"
)

const (
	number = "123456789012"
	app    = "1:123456789012:ios:0a1b2c3d4e5f"
)

var pol = Policy{ProjectNumber: number, AppIDs: []string{"1:123456789012:android:ffff", app}}

// newVerifier serves the stand-in's key set and counts its fetches.
func newVerifier(t testing.TB) (*Verifier, *fakeattest.AppCheck, *atomic.Int32) {
	t.Helper()
	ac, err := fakeattest.NewAppCheck()
	if err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fetches.Add(1); ac.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	return &Verifier{URL: srv.URL}, ac, &fetches
}

func TestVerify(t *testing.T) {
	v, ac, fetches := newVerifier(t)
	other, _ := fakeattest.NewAppCheckWithOwnKey()
	good := ac.Claims(number, "acme-shop", app)
	edit := func(f func(*fakeattest.AppCheckClaims)) string {
		c := good
		f(&c)
		return ac.Mint(c)
	}
	tok := ac.Mint(good)
	parts := strings.Split(tok, ".")
	cases := []struct {
		name, token, reason string
	}{
		{"good", tok, ""},
		{"another project", edit(func(c *fakeattest.AppCheckClaims) {
			c.Aud = []string{"projects/999", "projects/other"}
		}), ReasonWrongProject},
		{"another issuer", edit(func(c *fakeattest.AppCheckClaims) { c.Iss = "https://securetoken.google.com/acme-shop" }), ReasonWrongIssuer},
		{"expired", edit(func(c *fakeattest.AppCheckClaims) { c.Exp = time.Now().Add(-time.Second).Unix() }), ReasonExpired},
		{"another app", edit(func(c *fakeattest.AppCheckClaims) { c.Sub = "1:123456789012:web:evil" }), ReasonWrongApp},
		{"signed by another key", other.Mint(good), ReasonBadSignature},
		{"payload swapped", parts[0] + "." + strings.Split(edit(func(c *fakeattest.AppCheckClaims) { c.Exp += 3600 }), ".")[1] + "." + parts[2], ReasonBadSignature},
		{"alg none", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"eventrelay-local-1"}`)) + "." + parts[1] + ".", ReasonMalformed},
		{"HS256", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT","kid":"eventrelay-local-1"}`)) + "." + parts[1] + "." + parts[2], ReasonMalformed},
		{"unknown key id", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT","kid":"k9"}`)) + "." + parts[1] + "." + parts[2], ReasonBadSignature},
		{"two parts", parts[0] + "." + parts[1], ReasonMalformed},
		{"not base64", "a.b.c", ReasonMalformed},
		{"empty", "", ReasonMalformed},
		{"oversized", strings.Repeat("a", MaxTokenBytes+1), ReasonMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), c.token, pol)
			if refusal.ReasonOf(err) != c.reason {
				t.Fatalf("got %v, want %q", err, c.reason)
			}
			if err == nil && (got.AppID != app || got.Expires.Unix() != good.Exp) {
				t.Errorf("token %+v", got)
			}
		})
	}
	// One fetch served everything; the unknown key id asked again once.
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d key set fetches, want 1 (an unknown key id refetches at most once a minute)", n)
	}
}

func TestKeySetRefreshAndOutage(t *testing.T) {
	ac, _ := fakeattest.NewAppCheck()
	clock := time.Now()
	up := atomic.Bool{}
	up.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		ac.ServeHTTP(w, r)
	}))
	defer srv.Close()
	v := &Verifier{URL: srv.URL, Now: func() time.Time { return clock }}
	tok := ac.Mint(ac.Claims(number, "acme-shop", app))
	if _, err := v.Verify(context.Background(), tok, pol); err != nil {
		t.Fatal(err)
	}
	// Stale cache and Google down: the old keys still serve.
	up.Store(false)
	clock = clock.Add(7 * time.Hour)
	v2tok := ac.Mint(fakeattest.AppCheckClaims{Iss: IssuerPrefix + number, Sub: app, Aud: []string{"projects/" + number}, Exp: clock.Add(time.Hour).Unix()})
	if _, err := v.Verify(context.Background(), v2tok, pol); err != nil {
		t.Fatalf("stale cache while the key set is unreachable: %v", err)
	}
	// No keys at all and Google down: retryable.
	cold := &Verifier{URL: srv.URL}
	_, err := cold.Verify(context.Background(), tok, pol)
	var e *Error
	if !errors.As(err, &e) || !e.Retryable {
		t.Fatalf("cold cache, key set down: %v", err)
	}
}

// FuzzVerify: arbitrary tokens never panic and never verify.
func FuzzVerify(f *testing.F) {
	v, ac, _ := newVerifier(f)
	tok := ac.Mint(ac.Claims(number, "acme-shop", app))
	f.Add(tok[:len(tok)-2])
	f.Add("e30.e30.")
	f.Add("..")
	f.Fuzz(func(t *testing.T, token string) {
		if _, err := v.Verify(context.Background(), token, pol); err == nil && token != tok {
			t.Fatalf("forged token accepted: %q", token)
		}
	})
}

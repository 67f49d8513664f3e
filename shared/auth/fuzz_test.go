package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// FuzzAuthenticate sends arbitrary credentials and bodies through the whole
// check. It must never panic, and nothing but the known key or a correct
// signature may get in: a fuzzer cannot forge HMAC-SHA256, so any other
// success is a bug in the parsing.
func FuzzAuthenticate(f *testing.F) {
	f.Add("Bearer shop-2026a.supersecretvalue", "", "", "", []byte(vectorBody))
	f.Add("", "shop-2026a.", "", "", []byte(nil))
	f.Add("", "", "shop", "t="+strconv.Itoa(vectorT)+",v1="+vectorSignature, []byte(vectorBody))
	f.Add("", "", "shop", "t=1,v1=,v1=zz,,=", []byte("{}"))
	f.Add("Basic x", "a.b.c", "shop\x00", "t=-5,v2=00", []byte("\xff"))
	clock := now
	a, _ := newAuth(f, &clock)
	f.Fuzz(func(t *testing.T, authz, apiKey, source, signature string, body []byte) {
		h := http.Header{}
		for k, v := range map[string]string{"Authorization": authz, "X-Api-Key": apiKey,
			HeaderSource: source, HeaderSignature: signature} {
			if v != "" {
				h.Set(k, v)
			}
		}
		p, err := a.Authenticate(context.Background(), h, body)
		if err != nil {
			if reason(err) == "" || reason(err)[:4] == "not " {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		a.Release(p)
		const key = "shop-2026a.supersecretvalue"
		known := strings.Contains(authz, key) || strings.Contains(apiKey, key) || signedWithVectorSecret(signature, body)
		if !known {
			t.Fatalf("authenticated %+v with authorization %q, key %q, source %q, signature %q",
				p, authz, apiKey, source, signature)
		}
	})
}

// signedWithVectorSecret reports whether one of the header's v1 values is
// the HMAC of its t and body under the test secret.
func signedWithVectorSecret(header string, body []byte) bool {
	ts, sigs, err := parseSignatureHeader(header)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(vectorSecret))
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return true
		}
	}
	return false
}

package mcm

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"
)

// Issue 11 point 7: Go's client follows redirects and sends X-API-Key to
// the new host; the key must never leave for another host.
func TestRedirectIsNotFollowed(t *testing.T) {
	var leaked atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != "" {
			leaked.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer elsewhere.Close()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/steal", status)
		}))
		res := client(t, api.URL, nil).Send(context.Background(), []byte(`{}`))
		api.Close()
		if res.Class != Permanent || res.Status != status || !strings.Contains(res.Message, "redirect") ||
			!strings.Contains(res.Message, elsewhere.URL) {
			t.Errorf("%d: %+v", status, res)
		}
	}
	if n := leaked.Load(); n != 0 {
		t.Fatalf("the API key was sent to another host %d times", n)
	}
}

func TestBaseURLMustBeHTTPSUnlessLoopback(t *testing.T) {
	key := func(context.Context) (string, error) { return "k", nil }
	for url, ok := range map[string]bool{
		"https://shop-evt.mcm-api.moloco.com": true,
		"http://shop-evt.mcm-api.moloco.com":  false,
		"http://10.0.0.8:8080":                false,
		"http://127.0.0.1:8080":               true,
		"http://[::1]:8080":                   true,
		"http://localhost:8080":               true,
		"ftp://example.com":                   false,
	} {
		_, err := New(Config{BaseURL: url, PlatformID: "p", APIKey: key})
		if (err == nil) != ok {
			t.Errorf("%s: error %v, want ok=%v", url, err, ok)
		}
	}
}

// A long error text cut to size stays valid UTF-8.
func TestLongMessageCutOnACharacter(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte("x" + strings.Repeat("한", 400)))
	}))
	defer api.Close()
	res := client(t, api.URL, nil).Send(context.Background(), []byte(`{}`))
	if res.Class != Permanent || !utf8.ValidString(res.Message) || len(res.Message) > 230 {
		t.Fatalf("%d bytes, valid %v: %q", len(res.Message), utf8.ValidString(res.Message), res.Message)
	}
}

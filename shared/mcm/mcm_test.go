package mcm

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func client(t *testing.T, url string, key func(context.Context) (string, error)) *Client {
	t.Helper()
	if key == nil {
		key = func(context.Context) (string, error) { return "k-123", nil }
	}
	c, err := New(Config{BaseURL: url, PlatformID: "shop test", APIKey: key, HTTPClient: NewHTTPClient(300 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSendClassifies(t *testing.T) {
	cases := []struct {
		status     int
		body       string
		retryAfter string
		class      Class
		message    string
		wait       time.Duration
	}{
		{200, `{}`, "", Delivered, "", 0},
		{202, ``, "", Delivered, "", 0},
		{400, `{"code":3,"message":"missing search_query"}`, "", Permanent, "missing search_query", 0},
		{404, `not json`, "", Permanent, "404 Not Found: not json", 0},
		{405, ``, "", Permanent, "405 Method Not Allowed", 0},
		{422, `{"message":"invalid item"}`, "", Permanent, "invalid item", 0},
		{401, `{"message":"bad key"}`, "", AuthFailed, "bad key", 0},
		{403, ``, "", AuthFailed, "403 Forbidden", 0},
		{408, ``, "", Retryable, "", 0},
		{423, ``, "", Retryable, "", 0},
		{425, ``, "", Retryable, "", 0},
		{429, `{"message":"request denied by throttler"}`, "7", Retryable, "request denied by throttler", 7 * time.Second},
		{429, ``, "999999", Retryable, "", time.Hour},
		{500, ``, "", Retryable, "", 0},
		{503, ``, time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat), Retryable, "", 25 * time.Second},
	}
	for _, c := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c.retryAfter != "" {
				w.Header().Set("Retry-After", c.retryAfter)
			}
			w.WriteHeader(c.status)
			io.WriteString(w, c.body)
		}))
		res := client(t, srv.URL, nil).Send(context.Background(), []byte(`{}`))
		srv.Close()
		if res.Status != c.status || res.Class != c.class || !strings.Contains(res.Message, c.message) {
			t.Errorf("%d: got %+v", c.status, res)
		}
		if res.RetryAfter < c.wait || res.RetryAfter > c.wait+10*time.Second && c.wait != time.Hour || c.wait == time.Hour && res.RetryAfter != time.Hour {
			t.Errorf("%d: retry after %s, want about %s", c.status, res.RetryAfter, c.wait)
		}
	}
}

func TestRequestShape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method != http.MethodPost, r.URL.EscapedPath() != "/base/rmp/event/v1/platforms/shop%20test/userevents",
			r.Header.Get("X-API-Key") != "k-123", r.Header.Get("Content-Type") != "application/json",
			r.Header.Get("Accept") != "application/json", string(body) != `{"id":"e1"}`:
			t.Errorf("request %s %s %v %s", r.Method, r.URL.EscapedPath(), r.Header, body)
		}
	}))
	defer srv.Close()
	if res := client(t, srv.URL+"/base/", nil).Send(context.Background(), []byte(`{"id":"e1"}`)); res.Class != Delivered {
		t.Fatal(res)
	}
}

func TestTransportFailures(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(time.Second) }))
	defer hang.Close()
	if res := client(t, hang.URL, nil).Send(context.Background(), []byte(`{}`)); res.Class != Retryable || !strings.HasPrefix(res.Message, "timeout") {
		t.Errorf("timeout: %+v", res)
	}
	if res := client(t, "http://127.0.0.1:1", nil).Send(context.Background(), []byte(`{}`)); res.Class != Retryable || res.Status != 0 {
		t.Errorf("refused: %+v", res)
	}
	keyDown := func(context.Context) (string, error) { return "", errors.New("secret manager down") }
	if res := client(t, hang.URL, keyDown).Send(context.Background(), []byte(`{}`)); res.Class != Retryable {
		t.Errorf("key unavailable: %+v", res)
	}
}

func TestLargeErrorBodyCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		io.WriteString(w, strings.Repeat("x", 5<<20))
	}))
	defer srv.Close()
	if res := client(t, srv.URL, nil).Send(context.Background(), []byte(`{}`)); len(res.Message) > 300 {
		t.Fatalf("message of %d bytes", len(res.Message))
	}
}

func TestConfigErrors(t *testing.T) {
	key := func(context.Context) (string, error) { return "", nil }
	for _, cfg := range []Config{{BaseURL: "ftp://x", PlatformID: "p", APIKey: key}, {BaseURL: "https://x", APIKey: key},
		{BaseURL: "/relative", PlatformID: "p", APIKey: key}, {BaseURL: "https://x", PlatformID: "p"}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("accepted %+v", cfg)
		}
	}
}

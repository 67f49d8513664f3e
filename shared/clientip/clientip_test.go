package clientip

import (
	"net/http/httptest"
	"testing"
)

func TestKey(t *testing.T) {
	xff := Resolver{Header: "X-Forwarded-For", TrustedProxies: 1}
	for _, c := range []struct {
		name   string
		r      Resolver
		remote string
		header string
		want   string
	}{
		{"the connection", Resolver{}, "198.51.100.7:40000", "", "198.51.100.7"},
		{"the connection, IPv6 by its /64", Resolver{}, "[2001:db8:1:2:aaaa::1]:443", "", "2001:db8:1:2::/64"},
		{"a mapped IPv4 is IPv4", Resolver{}, "[::ffff:198.51.100.7]:1", "", "198.51.100.7"},
		{"the proxy's entry, not the caller's", xff, "10.0.0.1:1", "203.0.113.250, 203.0.113.9", "203.0.113.9"},
		{"two proxies", Resolver{Header: "X-Forwarded-For", TrustedProxies: 2}, "10.0.0.1:1", "1.1.1.1, 203.0.113.9, 10.0.0.2", "203.0.113.9"},
		{"header missing", xff, "10.0.0.1:1", "", Unknown},
		{"not an address", xff, "10.0.0.1:1", "nonsense", Unknown},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/", nil)
			req.RemoteAddr = c.remote
			if c.header != "" {
				req.Header.Set("X-Forwarded-For", c.header)
			}
			if got := c.r.Key(req); got != c.want {
				t.Errorf("Key = %q, want %q", got, c.want)
			}
		})
	}
}

// Package clientip tells who called: the connection's address, or behind
// our own proxies (Cloud Run's and Lambda's front ends, a load balancer)
// the address they recorded in a header such as X-Forwarded-For.
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds a request's client address.
type Resolver struct {
	// Header is the header our proxies append the caller's address to
	// (e.g. X-Forwarded-For); empty: the connection's address.
	Header string
	// TrustedProxies is how many proxies of ours append to Header; the
	// client is the entry that many places from the right (everything left
	// of it is whatever the caller wrote). 0 counts as 1.
	TrustedProxies int
}

// Addr is the client's address; false when the request does not say
// (Header set but holding fewer entries than our proxies append, or an
// entry that is not an address).
func (r Resolver) Addr(req *http.Request) (netip.Addr, bool) {
	ip := ""
	if r.Header != "" {
		var hops []string
		for _, line := range req.Header.Values(r.Header) {
			for h := range strings.SplitSeq(line, ",") {
				hops = append(hops, strings.TrimSpace(h))
			}
		}
		n := max(r.TrustedProxies, 1)
		if len(hops) < n {
			return netip.Addr{}, false
		}
		ip = hops[len(hops)-n]
	} else {
		ip, _, _ = net.SplitHostPort(req.RemoteAddr)
		if ip == "" {
			ip = req.RemoteAddr
		}
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.Unmap(), true
}

// Unknown is Key's answer for a request whose client cannot be told: such
// requests share one key (and so one rate limit).
const Unknown = "unknown"

// Key names the client for per-client limits: an IPv4 address, or an
// IPv6 address's /64 (one host is routinely given a whole /64, so its
// single addresses would be free for it to vary).
func (r Resolver) Key(req *http.Request) string {
	addr, ok := r.Addr(req)
	switch {
	case !ok:
		return Unknown
	case addr.Is6():
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

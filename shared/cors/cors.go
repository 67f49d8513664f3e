// Package cors answers the browser's side of the Fetch standard's CORS
// protocol for the routes a web page may call: a preflight (OPTIONS with
// Access-Control-Request-Method) from a listed origin is answered here,
// and the answers to a listed origin's requests carry
// Access-Control-Allow-Origin. Origins are listed exactly (scheme, host,
// port, as a browser serializes them): no wildcard, no "null", and no
// Access-Control-Allow-Credentials, since nothing here is authenticated by
// a cookie.
//
// This is the only place CORS is answered: the Lambda function URL's own
// cors block and Cloud Run (which has none) are left alone, so both clouds
// and the local stack answer alike, from one setting.
package cors

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"eventrelay.dev/eventrelay/shared/jsonanswer"
)

// MaxAge is how long a browser may keep a preflight's answer: two hours,
// Chromium's cap (Firefox keeps up to a day).
const MaxAge = 7200

// ReasonOriginNotAllowed answers a preflight from an origin not listed.
const ReasonOriginNotAllowed = "origin_not_allowed"

// Origins is the set of page origins allowed to call from a browser.
type Origins map[string]bool

// ParseOrigins reads the listed origins, each exactly as a browser sends
// it in Origin: "https://shop.example" or "http://localhost:3000", lower
// case, no path, no default port. Anything else is refused with how to
// write it, since an origin a browser never sends would silently never
// match.
func ParseOrigins(list []string) (Origins, error) {
	o := Origins{}
	var errs []error
	for _, item := range list {
		if err := checkOrigin(item); err != nil {
			errs = append(errs, err)
			continue
		}
		o[item] = true
	}
	return o, errors.Join(errs...)
}

func checkOrigin(s string) error {
	switch s {
	case "*":
		return errors.New(`"*" is not accepted: list each web page's origin (https://shop.example)`)
	case "null":
		return errors.New(`"null" is not accepted: sandboxed frames, files and data: URLs all send it, so it names no page`)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an origin: write scheme://host[:port], https://shop.example", s)
	}
	for _, r := range u.Host {
		if r > 0x7e {
			return fmt.Errorf("%q: write the host in its ASCII (punycode) form, as browsers send it", s)
		}
	}
	if !hostName(u.Hostname()) {
		return fmt.Errorf("%q is not an origin: write scheme://host[:port] with a host name or an IP address, https://shop.example", s)
	}
	want := u.Scheme + "://" + strings.ToLower(u.Host)
	if port := u.Port(); (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		want = strings.TrimSuffix(want, ":"+port)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("%q has more than an origin (a path, query or user): write %q", s, want)
	}
	if s != want {
		return fmt.Errorf("%q is not written as a browser sends it in Origin: write %q", s, want)
	}
	return nil
}

// hostName reports whether h is a DNS name or an IP address (no wildcard).
func hostName(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" {
		return false
	}
	for _, r := range strings.ToLower(h) {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '.' {
			return false
		}
	}
	return true
}

// Rule is what a browser may do on one route.
type Rule struct {
	Methods []string // the methods allowed (POST)
	// Headers are the request headers allowed beyond the CORS-safelisted
	// ones (Content-Type with application/json is not safelisted).
	Headers []string
	// Expose are the answer's headers a page may read beyond the
	// safelisted ones (Retry-After is not).
	Expose []string
}

// Handler answers CORS for the routes rule names (nil: none on that path)
// and passes every request but a preflight on such a route to next. With
// no origins it is next itself: no CORS header at all.
func Handler(origins Origins, rule func(path string) *Rule, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rl := rule(r.URL.Path)
		if rl == nil {
			next.ServeHTTP(w, r)
			return
		}
		// The answer depends on Origin: no cache may give one page's
		// answer to another.
		h := w.Header()
		h.Add("Vary", "Origin")
		origin, allowed := allowedOrigin(origins, r.Header)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if !allowed {
				jsonanswer.Write(w, http.StatusForbidden, errorBody{Error: ReasonOriginNotAllowed,
					Message: "this origin may not call this URL from a browser (INGEST_CORS_ORIGINS)"})
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", strings.Join(rl.Methods, ", "))
			h.Set("Access-Control-Allow-Headers", strings.Join(rl.Headers, ", "))
			h.Set("Access-Control-Max-Age", strconv.Itoa(MaxAge))
			h.Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			if len(rl.Expose) > 0 {
				h.Set("Access-Control-Expose-Headers", strings.Join(rl.Expose, ", "))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// allowedOrigin is the request's one Origin when listed. The comparison is
// byte for byte, as the browser compares our answer with its Origin.
func allowedOrigin(origins Origins, h http.Header) (string, bool) {
	values := h.Values("Origin")
	if len(values) != 1 {
		return "", false
	}
	return values[0], origins[values[0]]
}

type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

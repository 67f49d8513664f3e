package cors

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// The browser's side, from the Fetch standard (fetch.spec.whatwg.org):
// what a browser checks of a preflight's answer (CORS-preflight fetch) and
// of the actual answer (CORS check), for a request without credentials.

// corsCheck: exactly one Access-Control-Allow-Origin, "*" or the request's
// serialized origin byte for byte.
func corsCheck(h http.Header, origin string) error {
	v := h.Values("Access-Control-Allow-Origin")
	if len(v) != 1 {
		return fmt.Errorf("Access-Control-Allow-Origin %q: not exactly one value", v)
	}
	if v[0] != "*" && v[0] != origin {
		return fmt.Errorf("Access-Control-Allow-Origin %q is not %q", v[0], origin)
	}
	return nil
}

// headerList parses a comma-separated header list, values trimmed.
func headerList(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// preflightPasses runs the standard's checks of a preflight answer for a
// request of method with the non-safelisted request header names headers
// (lower case, as the browser lists them).
func preflightPasses(w *httptest.ResponseRecorder, origin, method string, headers []string) error {
	if w.Code < 200 || w.Code > 299 {
		return fmt.Errorf("preflight status %d is not an ok status", w.Code)
	}
	if err := corsCheck(w.Header(), origin); err != nil {
		return err
	}
	methods := headerList(w.Header(), "Access-Control-Allow-Methods")
	safelisted := method == "GET" || method == "HEAD" || method == "POST"
	if !slices.Contains(methods, method) && !slices.Contains(methods, "*") && !safelisted {
		return fmt.Errorf("method %s not in Access-Control-Allow-Methods %q", method, methods)
	}
	allowed := headerList(w.Header(), "Access-Control-Allow-Headers")
	for _, name := range headers {
		ok := slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, name) }) ||
			(slices.Contains(allowed, "*") && name != "authorization")
		if !ok {
			return fmt.Errorf("request header %s not in Access-Control-Allow-Headers %q", name, allowed)
		}
	}
	return nil
}

// preflight is the request a browser sends before a cross-origin POST
// with non-safelisted headers: OPTIONS, no body, no credentials, the
// header names lower case, sorted and comma-joined (as Chromium and
// Firefox send them).
func preflight(path, origin string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, path, nil)
	r.Header.Set("Origin", origin)
	r.Header.Set("Access-Control-Request-Method", "POST")
	if len(headers) > 0 {
		r.Header.Set("Access-Control-Request-Headers", strings.Join(headers, ","))
	}
	r.Header.Set("Sec-Fetch-Mode", "cors")
	r.Header.Set("Accept", "*/*")
	return r
}

var testRule = &Rule{Methods: []string{"POST"}, Headers: []string{"Content-Type", "Content-Encoding", "X-Eventrelay-Attestation"},
	Expose: []string{"Retry-After"}}

// handler serves CORS on every path but /erase in front of a handler that
// answers 202 with Retry-After, counting the requests it sees.
func handler(t *testing.T, origins ...string) (http.Handler, *int) {
	t.Helper()
	o, err := ParseOrigins(origins)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusAccepted)
	})
	rule := func(path string) *Rule {
		if path == "/erase" {
			return nil
		}
		return testRule
	}
	return Handler(o, rule, next), &calls
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// A listed page's browser passes the preflight for the web flow's
// headers, and then reads the answer, Retry-After included.
func TestListedOriginPassesTheBrowsersChecks(t *testing.T) {
	h, calls := handler(t, "https://shop.example", "http://localhost:3000")
	for _, origin := range []string{"https://shop.example", "http://localhost:3000"} {
		headers := []string{"content-encoding", "content-type", "x-eventrelay-attestation"}
		w := serve(h, preflight("/", origin, headers...))
		if w.Code != http.StatusNoContent {
			t.Fatalf("%s: preflight answered %d, want 204", origin, w.Code)
		}
		if err := preflightPasses(w, origin, "POST", headers); err != nil {
			t.Errorf("%s: a browser refuses the preflight: %v", origin, err)
		}
		if got := w.Header().Get("Access-Control-Max-Age"); got != "7200" {
			t.Errorf("Access-Control-Max-Age %q", got)
		}
		if v := w.Header().Values("Access-Control-Allow-Credentials"); len(v) > 0 {
			t.Errorf("Access-Control-Allow-Credentials %q: nothing here is a cookie's", v)
		}
		if !slices.Contains(w.Header().Values("Vary"), "Origin") {
			t.Errorf("no Vary: Origin on the preflight")
		}

		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("[]"))
		r.Header.Set("Origin", origin)
		r.Header.Set("Content-Type", "application/json")
		w = serve(h, r)
		if err := corsCheck(w.Header(), origin); err != nil {
			t.Errorf("%s: a browser hides the answer: %v", origin, err)
		}
		if !slices.Contains(headerList(w.Header(), "Access-Control-Expose-Headers"), "Retry-After") {
			t.Errorf("%s: the page cannot read Retry-After", origin)
		}
		if !slices.Contains(w.Header().Values("Vary"), "Origin") {
			t.Errorf("no Vary: Origin on the answer")
		}
	}
	if *calls != 2 {
		t.Errorf("the handler saw %d requests, want the 2 POSTs (preflights are answered here)", *calls)
	}
	// A header the rule does not list fails in the browser: a page cannot
	// send an API key (Authorization) or a signature.
	for _, extra := range []string{"authorization", "x-api-key", "x-eventrelay-signature"} {
		w := serve(h, preflight("/", "https://shop.example", "content-type", extra))
		if err := preflightPasses(w, "https://shop.example", "POST", []string{"content-type", extra}); err == nil {
			t.Errorf("a browser would send %s", extra)
		}
	}
}

// Any other Origin gets no CORS header: the preflight is a 403 the browser
// fails, the actual request (which a browser sends unpreflighted only with
// safelisted headers) is served without Access-Control-Allow-Origin, so the
// page cannot read the answer.
func TestOtherOriginsGetNoCORS(t *testing.T) {
	h, calls := handler(t, "https://shop.example")
	for _, origin := range []string{
		"https://evil.example",
		"null",                              // sandboxed frames, file: and data: pages
		"https://shop.example/",             // with a path: never a browser's, never equal
		"https://shop.example/checkout",     // ditto
		"https://SHOP.EXAMPLE",              // another case: not byte-equal
		"HTTPS://shop.example",              // ditto
		"http://shop.example",               // the same host without TLS is another origin
		"https://shop.example:443",          // a default port is never serialized
		"https://shop.example.evil.example", // suffix and prefix tricks
		"https://evilshop.example",
		"https://shop.example\x00",
		"",
	} {
		w := serve(h, preflight("/", origin, "content-type"))
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), `"error":"origin_not_allowed"`) {
			t.Errorf("%q: preflight answered %d %s, want 403 origin_not_allowed", origin, w.Code, w.Body)
		}
		if err := preflightPasses(w, origin, "POST", []string{"content-type"}); err == nil {
			t.Errorf("%q: a browser passes the preflight", origin)
		}
		for k := range w.Header() {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%q: preflight answer has %s", origin, k)
			}
		}
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("[]"))
		r.Header.Set("Origin", origin)
		w = serve(h, r)
		if err := corsCheck(w.Header(), origin); err == nil {
			t.Errorf("%q: a browser lets the page read the answer", origin)
		}
	}
	// Two Origin headers are no browser's: refused.
	r := preflight("/", "https://shop.example", "content-type")
	r.Header.Add("Origin", "https://shop.example")
	if w := serve(h, r); w.Code != http.StatusForbidden {
		t.Errorf("two Origin headers: %d, want 403", w.Code)
	}
	if *calls != 12 {
		t.Errorf("the handler saw %d requests, want the 12 POSTs", *calls)
	}
}

// Off the rule's routes, and with no origins at all, nothing changes: a
// preflight is the handler's (405 Allow: POST), and no CORS header is
// added.
func TestNoCORSOffTheRoutesOrWithoutOrigins(t *testing.T) {
	on, _ := handler(t, "https://shop.example")
	off, _ := handler(t)
	for name, c := range map[string]struct {
		h    http.Handler
		path string
	}{"not a web route": {on, "/erase"}, "no origins": {off, "/"}} {
		w := serve(c.h, preflight(c.path, "https://shop.example", "content-type"))
		if w.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s: preflight answered %d, want the handler's 405", name, w.Code)
		}
		for k := range w.Header() {
			if strings.HasPrefix(k, "Access-Control-") || k == "Vary" {
				t.Errorf("%s: answer has %s", name, k)
			}
		}
	}
	// An OPTIONS that is no preflight (no Access-Control-Request-Method)
	// is the handler's too.
	r := httptest.NewRequest(http.MethodOptions, "/", nil)
	r.Header.Set("Origin", "https://shop.example")
	if w := serve(on, r); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("OPTIONS without Access-Control-Request-Method: %d, want the handler's 405", w.Code)
	}
}

// Each malformed origin stops the start with how to write it.
func TestParseOrigins(t *testing.T) {
	for in, want := range map[string]string{
		"*":                             "each web page's origin",
		"null":                          "names no page",
		"shop.example":                  "scheme://host",
		"ftp://shop.example":            "scheme://host",
		"https://":                      "scheme://host",
		"https://shop.example/":         `write "https://shop.example"`,
		"https://shop.example/a":        `write "https://shop.example"`,
		"https://shop.example?q":        `write "https://shop.example"`,
		"https://u@shop.example":        `write "https://shop.example"`,
		"https://Shop.Example":          `write "https://shop.example"`,
		"HTTPS://shop.example":          `write "https://shop.example"`,
		"https://shop.example:443":      `write "https://shop.example"`,
		"http://localhost:80":           `write "http://localhost"`,
		"https://bücher.example":        "punycode",
		"https://*.shop.example":        "scheme://host",
		"https://shop.example:8443":     "",
		"http://[::1]:3000":             "",
		"https://xn--bcher-kva.example": "",
	} {
		_, err := ParseOrigins([]string{in})
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", in, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: got %v, want an error saying %s", in, err, want)
		}
	}
}

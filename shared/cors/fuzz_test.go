package cors

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzHandler: whatever Origin, method and preflight headers a caller
// sends, only a listed origin, echoed byte for byte, is ever allowed, and
// only a listed origin's preflight is answered as one.
func FuzzHandler(f *testing.F) {
	origins, err := ParseOrigins([]string{"https://shop.example", "http://localhost:3000"})
	if err != nil {
		f.Fatal(err)
	}
	rule := func(path string) *Rule {
		if path == "/" {
			return &Rule{Methods: []string{"POST"}, Headers: []string{"Content-Type"}, Expose: []string{"Retry-After"}}
		}
		return nil
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	h := Handler(origins, rule, next)
	f.Add("https://shop.example", "OPTIONS", "POST", "content-type")
	f.Add("https://SHOP.example", "OPTIONS", "POST", "content-type")
	f.Add("null", "POST", "", "")
	f.Add("https://shop.example.evil", "OPTIONS", "PUT", "authorization")
	f.Fuzz(func(t *testing.T, origin, method, reqMethod, reqHeaders string) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Method = method
		r.Header.Set("Origin", origin)
		if reqMethod != "" {
			r.Header.Set("Access-Control-Request-Method", reqMethod)
		}
		if reqHeaders != "" {
			r.Header.Set("Access-Control-Request-Headers", reqHeaders)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		acao := w.Header().Values("Access-Control-Allow-Origin")
		listed := origins[origin]
		switch {
		case len(acao) > 1:
			t.Fatalf("Access-Control-Allow-Origin sent %d times", len(acao))
		case len(acao) == 1 && (!listed || acao[0] != origin):
			t.Fatalf("origin %q allowed as %q", origin, acao[0])
		case w.Code == http.StatusNoContent && !listed:
			t.Fatalf("a preflight from %q was answered as allowed", origin)
		case w.Header().Get("Access-Control-Allow-Credentials") != "":
			t.Fatal("Access-Control-Allow-Credentials sent")
		}
	})
}

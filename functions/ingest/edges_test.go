package ingest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/shared/auth"
)

// countingBody counts the bytes read from a request body.
type countingBody struct {
	r    io.Reader
	read int
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

func (c *countingBody) Close() error { return nil }

// TestCredentialsBeforeTheBody: a request with no credentials, or a wrong
// API key, is refused before a byte of its body is read or inflated (the
// code before inflated a 535-byte gzip to 512,000 bytes first); a signed
// request's body is read, since the signature covers it.
func TestCredentialsBeforeTheBody(t *testing.T) {
	h := newHarness(t, nil)
	bomb := gz(`[` + strings.Repeat(" ", 400<<10) + `]`)
	for name, c := range map[string]struct {
		hdr      map[string]string
		reason   string
		wantRead bool
	}{
		"no credentials":  {map[string]string{}, auth.ReasonMissing, false},
		"wrong API key":   {map[string]string{"X-Api-Key": "shop-2026a.nope"}, auth.ReasonInvalidKey, false},
		"bearer, unknown": {map[string]string{"Authorization": "bearer nobody.secret"}, auth.ReasonInvalidKey, false},
		"signed":          {map[string]string{auth.HeaderSource: "shop", auth.HeaderSignature: "t=1,v1=" + strings.Repeat("0", 64)}, auth.ReasonBadSignature, true},
	} {
		t.Run(name, func(t *testing.T) {
			body := &countingBody{r: strings.NewReader(bomb)}
			req := httptest.NewRequest(http.MethodPost, "/", nil)
			req.Body = body
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", "gzip")
			for k, v := range c.hdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.svc.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), c.reason) {
				t.Fatalf("%d %s; want 401 %s", rec.Code, rec.Body, c.reason)
			}
			if read := body.read > 0; read != c.wantRead {
				t.Errorf("%d body bytes read; want read %v", body.read, c.wantRead)
			}
		})
	}
}

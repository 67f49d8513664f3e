package devstack

import (
	"bytes"
	"io"
	"net/http"
)

// inProcess is an http.RoundTripper that answers a request by calling the
// handler in this process: the push stand-in delivers to a forwarder of
// the same process this way, request and response exactly as over
// loopback but without the sockets, connection goroutines and system
// calls, which cost more CPU than the forwarder's own work. (A forwarder
// in a process of its own is pushed to over HTTP.)
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	w := &recorder{header: http.Header{}}
	t.h.ServeHTTP(w, r)
	if r.Body != nil {
		r.Body.Close() // as a transport does
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return &http.Response{StatusCode: w.status, Status: http.StatusText(w.status), Header: w.header,
		Body: io.NopCloser(&w.body), ContentLength: int64(w.body.Len()), Request: r,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// recorder is the response a handler writes, kept for inProcess.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *recorder) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

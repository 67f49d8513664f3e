// Package httpserver is the one way the project runs an HTTP server of its
// own (`eventrelay serve`, the local stack, the load tools): every phase of
// a connection bounded, so a slow or stalled client holds a connection for
// a bounded time only. CutSlowBodies also protects a handler served by a
// server we do not configure (the Functions Framework's, in Cloud
// Functions), by setting the read deadline per request.
package httpserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"eventrelay.dev/eventrelay/shared/settings"
)

// Limits bound one connection.
type Limits struct {
	// ReadHeader: the request line and headers.
	ReadHeader time.Duration
	// Read: the whole request, body included; a body still arriving then
	// is cut and answered 408.
	Read time.Duration
	// Write: from the end of the headers to the end of the answer, the
	// handler's work included: keep it above the longest function run.
	Write time.Duration
	// Idle: a kept-alive connection waiting for its next request.
	Idle time.Duration
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int
}

// Defaults are the limits with nothing set (the settings registry's
// defaults): 10 s for headers, 30 s for a whole request (a 512 kB ingest
// body at 20 kB/s), 300 s to answer (Cloud Run's default request timeout,
// above backfill's 240 s budget), 120 s idle, 64 KiB of headers.
func Defaults() Limits {
	return Limits{ReadHeader: settings.HTTPReadHeaderTimeout.Default, Read: settings.HTTPReadTimeout.Default,
		Write: settings.HTTPWriteTimeout.Default, Idle: settings.HTTPIdleTimeout.Default,
		MaxHeaderBytes: settings.HTTPMaxHeaderBytes.Default}
}

// FromEnv reads the limits from HTTP_READ_HEADER_TIMEOUT,
// HTTP_READ_TIMEOUT, HTTP_WRITE_TIMEOUT, HTTP_IDLE_TIMEOUT and
// HTTP_MAX_HEADER_BYTES; problems are recorded on env.
func FromEnv(env *settings.Env) Limits {
	return Limits{
		ReadHeader:     settings.HTTPReadHeaderTimeout.Get(env),
		Read:           settings.HTTPReadTimeout.Get(env),
		Write:          settings.HTTPWriteTimeout.Get(env),
		Idle:           settings.HTTPIdleTimeout.Get(env),
		MaxHeaderBytes: settings.HTTPMaxHeaderBytes.Get(env),
	}
}

// New returns a server for h with the limits; slow bodies are answered 408.
func New(h http.Handler, l Limits) *http.Server {
	return &http.Server{Handler: CutSlowBodies(h, l.Read), ReadHeaderTimeout: l.ReadHeader, ReadTimeout: l.Read,
		WriteTimeout: l.Write, IdleTimeout: l.Idle, MaxHeaderBytes: l.MaxHeaderBytes}
}

// Serve serves h on ln with the limits until the server is closed; it
// returns the server so the caller can shut it down.
func Serve(ln net.Listener, h http.Handler, l Limits) *http.Server {
	srv := New(h, l)
	// Serve returns http.ErrServerClosed once the caller closes the server;
	// a listener that fails shows as every request failing.
	go func() { _ = srv.Serve(ln) }()
	return srv
}

// CutSlowBodies gives each request read seconds, body included, from the
// moment its handler starts; a body still arriving then is cut, answered
// 408 and the connection closed, whatever the handler does with the read
// error. Under a server that cannot set deadlines (a test recorder) it
// changes nothing.
func CutSlowBodies(h http.Handler, read time.Duration) http.Handler {
	if read <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(read)); err != nil {
			h.ServeHTTP(w, r)
			return
		}
		// The next request on this connection gets the server's own limits.
		// It cannot fail: the connection took the deadline above.
		defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
		gw := &guardedWriter{ResponseWriter: w, read: read}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &deadlineBody{ReadCloser: r.Body, w: gw}
		}
		h.ServeHTTP(gw, r)
	})
}

// deadlineBody answers 408 the first time a read fails on the deadline.
type deadlineBody struct {
	io.ReadCloser
	w *guardedWriter
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && isTimeout(err) {
		b.w.timedOut()
	}
	return n, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// guardedWriter lets the handler answer, unless the body timed out first:
// then the 408 is the answer and what the handler writes is dropped.
type guardedWriter struct {
	http.ResponseWriter
	read time.Duration

	mu       sync.Mutex
	answered bool // the 408 went out
	started  bool // the handler wrote its own status
}

func (g *guardedWriter) timedOut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.answered || g.started {
		return
	}
	g.answered = true
	h := g.ResponseWriter.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Connection", "close")
	g.ResponseWriter.WriteHeader(http.StatusRequestTimeout)
	// The 408 is on its way; a client that is gone cannot be told more.
	_ = json.NewEncoder(g.ResponseWriter).Encode(map[string]string{"error": "request_timeout",
		"message": fmt.Sprintf("the request did not arrive in full within %s", g.read)})
}

func (g *guardedWriter) WriteHeader(status int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.answered {
		return
	}
	g.started = true
	g.ResponseWriter.WriteHeader(status)
}

func (g *guardedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.answered {
		return len(p), nil // the client has its 408; the rest goes nowhere
	}
	g.started = true
	return g.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (g *guardedWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

package httpserver

import (
	"bufio"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// accepting reads the whole body, as ingest does, and answers 202; it
// counts the bodies it got in full.
type accepting struct{ full atomic.Int32 }

func (a *accepting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, err := io.ReadAll(r.Body); err != nil {
		http.Error(w, "bad body: "+err.Error(), http.StatusBadRequest)
		return
	}
	a.full.Add(1)
	w.WriteHeader(http.StatusAccepted)
}

func listen(t *testing.T, h http.Handler, l Limits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := Serve(ln, h, l)
	testclose.Cleanup(t, srv)
	return ln.Addr().String()
}

// trickle sends a request whose body arrives at one byte a second, and
// returns the status line the server answers with and when it came.
func trickle(t *testing.T, addr string) (string, time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, c)
	start := time.Now()
	if _, err := fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	if err := c.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil { // a bound for a broken test, not a timing assertion
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("no answer to a slow body: %v", err)
	}
	return strings.TrimSpace(line), time.Since(start)
}

// Issue 11 point 3: a body trickled at 1 byte/s was held 97 s and then
// accepted. It must be cut at the read timeout and answered 408.
func TestSlowBodyCutAndAnswered408(t *testing.T) {
	h := &accepting{}
	l := Defaults()
	l.Read = 2 * time.Second
	line, took := trickle(t, listen(t, h, l))
	t.Logf("slow body answered %q after %s (read timeout %s)", line, took.Round(time.Millisecond), l.Read)
	if !strings.HasPrefix(line, "HTTP/1.1 408") || h.full.Load() != 0 {
		t.Fatalf("answer %q; bodies accepted %d", line, h.full.Load())
	}
}

// The same protection under a server we do not configure, as the
// Functions Framework's in Cloud Functions: the handler's own deadline.
func TestSlowBodyCutUnderAPlainServer(t *testing.T) {
	h := &accepting{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: CutSlowBodies(h, 2*time.Second)} // no limits of its own
	go func() { _ = srv.Serve(ln) }()                             // it returns http.ErrServerClosed when the test closes it
	testclose.Cleanup(t, srv)
	line, took := trickle(t, ln.Addr().String())
	t.Logf("slow body answered %q after %s", line, took.Round(time.Millisecond))
	if !strings.HasPrefix(line, "HTTP/1.1 408") || h.full.Load() != 0 {
		t.Fatalf("answer %q; bodies accepted %d", line, h.full.Load())
	}
	// The deadline is per request: a normal request on a fresh
	// connection is answered.
	resp, err := http.Post("http://"+ln.Addr().String(), "application/json", strings.NewReader(`{}`))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("normal request: %v %v", resp, err)
	}
	resp.Body.Close()
}

// 500 connections with half-sent bodies must not stop a normal request
// from being answered.
func TestHalfSentBodiesDoNotBlockOthers(t *testing.T) {
	h := &accepting{}
	addr := listen(t, h, Defaults())
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			if err := c.Close(); err != nil {
				t.Error(err)
			}
		}
	}()
	for range 500 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("after %d connections: %v", len(conns), err)
		}
		conns = append(conns, c)
		if _, err := fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"half\":"); err != nil {
			t.Fatal(err)
		}
	}
	client := &http.Client{Timeout: 30 * time.Second}
	var worst time.Duration
	for range 5 {
		start := time.Now()
		resp, err := client.Post("http://"+addr, "application/json", strings.NewReader(`{"id":"evt-1"}`))
		if err != nil {
			t.Fatalf("a normal request next to 500 half-sent ones: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("status %d", resp.StatusCode)
		}
		worst = max(worst, time.Since(start))
	}
	t.Logf("with 500 half-sent bodies open, 5 normal requests answered; slowest %s", worst.Round(time.Microsecond))
	if h.full.Load() != 5 {
		t.Fatalf("%d bodies accepted, want the 5 normal ones", h.full.Load())
	}
}

// Slow headers: the connection is closed after the header timeout, with
// nothing handed to the handler.
func TestSlowHeadersClosed(t *testing.T) {
	h := &accepting{}
	l := Defaults()
	l.ReadHeader = 500 * time.Millisecond
	c, err := net.Dial("tcp", listen(t, h, l))
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, c)
	if _, err := fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\n"); err != nil { // and never the blank line
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept a connection with unfinished headers open")
	}
	t.Logf("unfinished headers: connection closed after %s", time.Since(start).Round(time.Millisecond))
}

// Header size is bounded: 431 past MaxHeaderBytes.
func TestHeaderSizeBounded(t *testing.T) {
	h := &accepting{}
	addr := listen(t, h, Defaults())
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr, strings.NewReader(`{}`))
	req.Header.Set("X-Padding", strings.Repeat("a", 128<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || h.full.Load() != 0 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

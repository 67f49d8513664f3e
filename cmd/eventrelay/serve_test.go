package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/devstack"
)

// Issue 11 point 3: `eventrelay serve` set no timeouts at all. The real
// forwarder on the local stack, served by it: a body trickled at 1 byte/s
// is cut and answered 408 at HTTP_READ_TIMEOUT, and unfinished headers
// are closed at HTTP_READ_HEADER_TIMEOUT.
func TestServeCutsSlowClients(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, kv := range st.FunctionEnv("Forward") {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("HTTP_READ_TIMEOUT", "2s")
	t.Setenv("HTTP_READ_HEADER_TIMEOUT", "1s")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	go func() { t.Log(runServe([]string{"-listen", addr})) }()
	var c net.Conn
	for range 100 {
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	go func() {
		for range 60 {
			time.Sleep(time.Second)
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 408") {
		t.Fatalf("slow body: %q %v", line, err)
	}
	t.Logf("slow body answered %q after %s", strings.TrimSpace(line), time.Since(start).Round(time.Millisecond))

	h, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	fmt.Fprintf(h, "POST / HTTP/1.1\r\nHost: x\r\n")
	h.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadAll(h); err != nil {
		t.Fatalf("unfinished headers were not closed: %v", err)
	}
}

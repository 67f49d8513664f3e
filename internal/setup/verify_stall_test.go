package setup

import (
	"errors"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/dynalite"
	"eventrelay.dev/eventrelay/internal/firestoreemu"
	"eventrelay.dev/eventrelay/shared/ledger/dynamoledger"
)

// stallProxy relays TCP to a ledger emulator and can stop relaying, as a
// paused emulator process (SIGSTOP) or a stalled network does: connections
// stay open, bytes sent are never answered.
type stallProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	resume chan struct{} // nil while relaying; closed on Resume
}

func startStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, target: target}
	t.Cleanup(func() {
		p.Resume()
		if err := ln.Close(); err != nil {
			t.Error(err)
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.relay(c)
		}
	}()
	return p
}

func (p *stallProxy) Addr() string { return p.ln.Addr().String() }

// Pause holds every byte from now on, in both directions, until Resume.
func (p *stallProxy) Pause() {
	p.mu.Lock()
	if p.resume == nil {
		p.resume = make(chan struct{})
	}
	p.mu.Unlock()
}

func (p *stallProxy) Resume() {
	p.mu.Lock()
	if p.resume != nil {
		close(p.resume)
		p.resume = nil
	}
	p.mu.Unlock()
}

func (p *stallProxy) wait() {
	p.mu.Lock()
	ch := p.resume
	p.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

// relay carries one connection. Its Closes and CloseWrite end a relay whose
// peers may have hung up already; what they report changes nothing.
func (p *stallProxy) relay(c net.Conn) {
	defer func() { _ = c.Close() }()
	p.wait()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer func() { _ = up.Close() }()
	copyHeld := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				p.wait()
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					if tc, ok := dst.(*net.TCPConn); ok {
						_ = tc.CloseWrite()
					}
				}
				return
			}
		}
	}
	done := make(chan struct{}, 2)
	go func() { copyHeld(up, c); done <- struct{}{} }()
	go func() { copyHeld(c, up); done <- struct{}{} }()
	<-done
}

// With the ledger stalled (Firestore emulator, dynalite), a callback is
// answered 503 unavailable within VERIFY_LEDGER_DEADLINE, nothing is
// stored, and the same body once the ledger is back is confirmed.
func TestVerifyAnswersInTimeWithTheLedgerStalled(t *testing.T) {
	const deadline = time.Second
	run := func(t *testing.T, proxy *stallProxy, backend map[string]string) {
		backend["VERIFY_LEDGER_DEADLINE"] = deadline.String()
		st := newStack(t, backend, nil)
		at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
		st.purchase(t, "ord-stall", at)
		body := callback("ord-stall", at.UnixMilli())
		proxy.Pause()
		start := time.Now()
		status, reason := send(st.verifies[0], body)
		took := time.Since(start)
		proxy.Resume()
		t.Logf("ledger stalled: %d %s after %v (VERIFY_LEDGER_DEADLINE %v)", status, reason, took.Round(time.Millisecond), deadline)
		if status != 503 || reason != "unavailable" {
			t.Fatalf("stalled ledger: %d %s, want 503 unavailable", status, reason)
		}
		if took > deadline+time.Second {
			t.Fatalf("answered after %v, deadline %v", took, deadline)
		}
		if status, reason := send(st.verifies[1], body); status != 200 {
			t.Fatalf("the same body with the ledger back: %d %s, want 200 (the timeout was not stored)", status, reason)
		}
	}
	t.Run("dynalite", func(t *testing.T) {
		endpoint := dynalite.Start(t)
		client := dynalite.Client(endpoint)
		table := dynalite.NewTable(t, client, dynamoledger.CreateTable)
		u, err := url.Parse(endpoint)
		if err != nil {
			t.Fatal(err)
		}
		proxy := startStallProxy(t, u.Host)
		t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://"+proxy.Addr())
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_ACCESS_KEY_ID", "local")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
		run(t, proxy, map[string]string{"LEDGER_BACKEND": "dynamodb", "LEDGER_DYNAMODB_TABLE": table})
	})
	t.Run("firestore", func(t *testing.T) {
		firestoreemu.Require(t)
		name := firestoreemu.NPM
		if slices.Contains(firestoreemu.Available(), firestoreemu.Google) {
			name = firestoreemu.Google
		}
		proxy := startStallProxy(t, firestoreemu.Start(t, name))
		t.Setenv("FIRESTORE_EMULATOR_HOST", proxy.Addr())
		warmFirestore(t)
		run(t, proxy, map[string]string{"LEDGER_BACKEND": "firestore", "GOOGLE_CLOUD_PROJECT": "eventrelay-test",
			"LEDGER_FIRESTORE_COLLECTION": strings.ReplaceAll(t.Name(), "/", "-")})
	})
}

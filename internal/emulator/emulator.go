// Package emulator holds what every local-emulator test helper needs
// (goaws, moto, dynalite, the Firestore and Pub/Sub emulators): the one
// rule for a missing emulator, a free loopback port, and starting one that
// says on its output when it is ready.
package emulator

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/settings"
)

// Missing ends a test whose emulator is not installed: a skip that says
// what is missing, or a failure when EVENTRELAY_REQUIRE_EMULATORS=1 (as
// `make test` and CI set it), so a machine without it cannot pass quietly.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if settings.RequireEmulators.Get(settings.FromOS()) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// FreePort returns a port on 127.0.0.1 that was free a moment ago, for an
// emulator that takes its port on the command line.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// Start runs the emulator that command builds for a port free a moment
// before, until the test ends, and returns the port once a line of its
// output satisfies ready. It runs in a process group of its own, ended as a
// whole: Google's launchers are scripts that start java as a child, which
// would outlive the test. An emulator that exits before it is ready (most
// often because another process took the port in between: the kernel hands
// the same ports to outgoing connections) is started again on a new port,
// three times at most; a failure quotes what it printed.
func Start(t testing.TB, what string, command func(port int) *exec.Cmd, ready func(line string) bool) int {
	t.Helper()
	var output string
	for range 3 {
		port := FreePort(t)
		cmd := command(port)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start the %s: %v", what, err)
		}
		stop := func() {
			// The whole group is killed (the emulator may be gone already);
			// Wait's error is that kill.
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
		started := make(chan bool, 1) // true: ready; false: output ended first
		var mu sync.Mutex             // lines is read on a timeout while still written
		var lines strings.Builder
		printed := func() string { mu.Lock(); defer mu.Unlock(); return lines.String() }
		go func() {
			sc := bufio.NewScanner(out)
			signalled := false
			for sc.Scan() {
				mu.Lock()
				if lines.Len() < 4096 {
					lines.WriteString(sc.Text() + "\n")
				}
				mu.Unlock()
				if !signalled && ready(sc.Text()) {
					started <- true
					signalled = true
				}
			}
			if !signalled {
				started <- false
			}
			// Keep the pipe drained until the process ends; the copy ends
			// with the pipe, and its error says only that.
			_, _ = io.Copy(io.Discard, out)
		}()
		select {
		case ok := <-started:
			if ok {
				t.Cleanup(stop)
				return port
			}
			stop()
			output = printed()
			t.Logf("the %s exited before it was ready on port %d; trying another port:\n%s", what, port, output)
		case <-time.After(90 * time.Second):
			stop()
			t.Fatalf("the %s did not start within 90 s; it printed:\n%s", what, printed())
		}
	}
	t.Fatalf("the %s exited before it was ready, three times; the last time it printed:\n%s", what, output)
	return 0
}

// GooglePubSub starts the Pub/Sub emulator shipped with the Google Cloud
// CLI until the test ends and returns its host:port (for
// PUBSUB_EMULATOR_HOST). It keeps message bodies across a seek, which
// pstest does not, and it pushes to push subscriptions (without
// deliveryAttempt, and without applying a dead-letter policy).
func GooglePubSub(t testing.TB) string {
	t.Helper()
	bin := "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator"
	if _, err := os.Stat(bin); err != nil {
		// It comes only with the Google Cloud CLI, which this machine kind
		// ships and the reachable registries do not offer: a skip that says
		// so, or a failure where make test requires the emulators.
		Missing(t, "Google's Pub/Sub emulator is not installed (Google Cloud CLI component pubsub-emulator)")
	}
	if _, err := exec.LookPath("java"); err != nil {
		Missing(t, "Google's Pub/Sub emulator needs java")
	}
	port := Start(t, "Google Pub/Sub emulator", func(port int) *exec.Cmd {
		return exec.Command(bin, "--host=127.0.0.1", fmt.Sprintf("--port=%d", port))
	}, func(line string) bool { return strings.Contains(line, "Server started") })
	return fmt.Sprintf("127.0.0.1:%d", port)
}

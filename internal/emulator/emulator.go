// Package emulator holds what every local-emulator test helper needs
// (goaws, moto, dynalite, the Firestore emulators): the one rule for a
// missing emulator and a free loopback port.
package emulator

import (
	"net"
	"os"
	"testing"
)

// Missing ends a test whose emulator is not installed: a skip that says
// what is missing, or a failure when EVENTRELAY_REQUIRE_EMULATORS=1 (as
// `make test` and CI set it), so a machine without it cannot pass quietly.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("EVENTRELAY_REQUIRE_EMULATORS") == "1" {
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
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Package firestoreemu starts a Firestore emulator for tests: the npm
// package @firestore-emulator/server (installed by the project's own
// emulators/package.json, so always available), and Google's own Java
// emulator when the Google Cloud CLI has it on this machine (it cannot be
// installed from the reachable registries).
package firestoreemu

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/emulator"
	"eventrelay.dev/eventrelay/internal/modroot"
	"eventrelay.dev/eventrelay/shared/settings"
)

// Emulator names.
const (
	NPM    = "npm"
	Google = "google"
)

// Available lists the emulators this machine has: npm always when installed,
// google when the Cloud SDK ships it.
func Available() []string {
	var out []string
	if _, err := os.Stat(npmScript()); err == nil {
		out = append(out, NPM)
	}
	if googleBinary() != "" {
		out = append(out, Google)
	}
	return out
}

// Require fails (or skips outside CI) when the npm emulator is missing.
// Google's emulator ships with this machine kind only, so outside CI its
// absence narrows Available with a logged note; under
// EVENTRELAY_REQUIRE_EMULATORS=1 (make test, CI) it fails the test.
func Require(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(modroot.Find(), "emulators", "node_modules", "@firestore-emulator")); err != nil {
		msg := "the npm Firestore emulator is not installed: run `make emulators`"
		emulator.Missing(t, msg)
	}
	if googleBinary() == "" {
		msg := "Google's Firestore emulator is not installed (Google Cloud CLI component cloud-firestore-emulator): only the npm emulator runs"
		if settings.RequireEmulators.Get(settings.FromOS()) == "1" {
			t.Fatal(msg)
		}
		t.Log("SKIP part: " + msg)
	}
}

// Start runs the named emulator until the test ends and returns host:port
// for FIRESTORE_EMULATOR_HOST.
func Start(t testing.TB, name string) string {
	t.Helper()
	var command func(port int) *exec.Cmd
	switch name {
	case NPM:
		command = func(port int) *exec.Cmd { return exec.Command("node", npmScript(), fmt.Sprint(port)) }
	case Google:
		command = func(port int) *exec.Cmd {
			return exec.Command(googleBinary(), "start", "--host=127.0.0.1", fmt.Sprintf("--port=%d", port))
		}
	default:
		t.Fatalf("unknown emulator %q", name)
	}
	port := emulator.Start(t, name+" Firestore emulator", command, func(line string) bool {
		return strings.Contains(line, "listening") || strings.Contains(line, "Dev App Server is now running")
	})
	return fmt.Sprintf("127.0.0.1:%d", port)
}

func npmScript() string { return filepath.Join(modroot.Find(), "emulators", "firestore-server.js") }

func googleBinary() string {
	for _, p := range []string{
		"/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator",
		"/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator",
	} {
		if _, err := os.Stat(p); err == nil {
			if _, err := exec.LookPath("java"); err == nil {
				return p
			}
		}
	}
	return ""
}

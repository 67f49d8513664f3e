// Package firestoreemu starts a Firestore emulator for tests: the npm
// package @firestore-emulator/server (installed by the project's own
// emulators/package.json, so always available), and Google's own Java
// emulator when the Google Cloud CLI has it on this machine (it cannot be
// installed from the reachable registries).
package firestoreemu

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/emulator"
	"eventrelay.dev/eventrelay/internal/modroot"
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
		if os.Getenv("EVENTRELAY_REQUIRE_EMULATORS") == "1" {
			t.Fatal(msg)
		}
		t.Log("SKIP part: " + msg)
	}
}

// Start runs the named emulator until the test ends and returns host:port
// for FIRESTORE_EMULATOR_HOST.
func Start(t testing.TB, name string) string {
	t.Helper()
	port := emulator.FreePort(t)
	var cmd *exec.Cmd
	switch name {
	case NPM:
		cmd = exec.Command("node", npmScript(), fmt.Sprint(port))
	case Google:
		cmd = exec.Command(googleBinary(), "start", "--host=127.0.0.1", fmt.Sprintf("--port=%d", port))
	default:
		t.Fatalf("unknown emulator %q", name)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	// Google's launcher is a script that starts java as its child: run it in
	// a process group of its own and end the whole group, or java outlives
	// the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s Firestore emulator: %v", name, err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	ready := make(chan struct{})
	var lines strings.Builder
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			if lines.Len() < 4096 {
				lines.WriteString(line + "\n")
			}
			if !signalled && (strings.Contains(line, "listening") || strings.Contains(line, "Dev App Server is now running")) {
				close(ready)
				signalled = true
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s Firestore emulator did not start within 60 s", name)
	}
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

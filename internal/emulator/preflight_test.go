package emulator

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/modroot"
)

// preflight runs tools/preflight.sh (make test's first step) with only dir
// on PATH, and returns its exit code and everything it printed.
func preflight(t *testing.T, dir string, env ...string) (int, string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, filepath.Join(modroot.Find(), "tools", "preflight.sh"))
	cmd.Env = append([]string{"PATH=" + dir}, env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatal(err)
	return 0, ""
}

// Each tool missing from PATH is named with the way to get it, and the
// run stops; emulator tools only warn when the emulator tests may skip.
func TestPreflightNamesWhatIsMissing(t *testing.T) {
	empty := t.TempDir()
	code, out := preflight(t, empty, "EVENTRELAY_REQUIRE_EMULATORS=1")
	if code != 1 {
		t.Fatalf("exit %d with nothing on PATH, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		"terraform (", "go install github.com/hashicorp/terraform@v1.5.7",
		"node (", "apt-get install nodejs",
		"npm (", "apt-get install npm",
		"moto_server (", "pip install 'moto[server]==5.2.1'",
		"java (", "apt-get install default-jre-headless",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("does not say %q:\n%s", want, out)
		}
	}

	code, out = preflight(t, empty, "EVENTRELAY_REQUIRE_EMULATORS=0")
	missing := out[strings.Index(out, "make test:"):]
	if code != 1 || !strings.Contains(missing, "terraform (") || strings.Contains(missing, "moto_server (") {
		t.Errorf("without EVENTRELAY_REQUIRE_EMULATORS, moto_server should only warn and terraform still stop the run (exit %d):\n%s", code, out)
	}
	if !strings.Contains(out, "its tests will skip") {
		t.Errorf("no warning for the emulator tools that are missing:\n%s", out)
	}

	// Every PATH tool there (stand-ins: only their presence is checked).
	tools := t.TempDir()
	for _, name := range []string{"terraform", "node", "npm", "moto_server", "java"} {
		if err := os.WriteFile(filepath.Join(tools, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, out = preflight(t, tools, "EVENTRELAY_REQUIRE_EMULATORS=1")
	for _, name := range []string{"terraform (", "node (", "npm (", "moto_server (", "java ("} {
		if strings.Contains(out, name) {
			t.Errorf("names %s, which is on PATH:\n%s", name, out)
		}
	}
	// MOTO_SERVER names moto elsewhere than on PATH.
	moto := filepath.Join(t.TempDir(), "moto")
	if err := os.WriteFile(moto, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, out = preflight(t, empty, "EVENTRELAY_REQUIRE_EMULATORS=1", "MOTO_SERVER="+moto)
	if strings.Contains(out, "moto_server (") {
		t.Errorf("names moto_server although MOTO_SERVER=%s:\n%s", moto, out)
	}
}

package main

import (
	"errors"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// TestMain lets a test run the real main in a child process (the test
// binary itself, with EVENTRELAY_TEST_MAIN set), so exit codes are the
// command's own.
func TestMain(m *testing.M) {
	if os.Getenv("EVENTRELAY_TEST_MAIN") == "1" {
		os.Args = append([]string{"eventrelay"}, strings.Fields(os.Getenv("EVENTRELAY_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runMain runs `eventrelay args...` and returns its exit code and stderr.
func runMain(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "EVENTRELAY_TEST_MAIN=1", "EVENTRELAY_TEST_ARGS="+strings.Join(args, " "))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stderr.String()
	}
	t.Fatal(err)
	return 0, ""
}

// Every subcommand answers -h with its flags and exit 0, without doing
// anything else (dev starts no stack, keygen makes no key).
func TestEveryCommandHelp(t *testing.T) {
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			code, stderr := runMain(t, name, "-h")
			if code != 0 {
				t.Fatalf("eventrelay %s -h exited %d: %s", name, code, stderr)
			}
			if !strings.Contains(stderr, "Usage of "+name) {
				t.Errorf("eventrelay %s -h printed no flags: %q", name, stderr)
			}
		})
	}
	_, listed, _ := strings.Cut(usage, "commands:\n")
	lines := strings.Split(strings.TrimSpace(listed), "\n")
	for _, line := range lines {
		if name := strings.Fields(line)[0]; commands[name] == nil {
			t.Errorf("usage lists %q, which is not a command", name)
		}
	}
	if len(lines) != len(commands) {
		t.Errorf("usage lists %d commands, there are %d", len(lines), len(commands))
	}
}

// A bad flag is still an error (exit 1), and an unknown command exit 2.
func TestBadFlagAndUnknownCommand(t *testing.T) {
	if code, _ := runMain(t, "keygen", "-no-such-flag"); code != 1 {
		t.Errorf("keygen -no-such-flag exited %d, want 1", code)
	}
	if code, _ := runMain(t, "no-such-command"); code != 2 {
		t.Errorf("no-such-command exited %d, want 2", code)
	}
	if code, _ := runMain(t, "-h"); code != 0 {
		t.Errorf("-h exited %d, want 0", code)
	}
}

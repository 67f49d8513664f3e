package emulator

import (
	"os/exec"
	"strings"
	"testing"
)

// An emulator that exits before it is ready (the port taken in between) is
// started again on another port; the one that says it is ready is kept.
func TestStartTriesAnotherPortWhenTheEmulatorExits(t *testing.T) {
	var ports []int
	port := Start(t, "test emulator", func(port int) *exec.Cmd {
		ports = append(ports, port)
		if len(ports) == 1 {
			return exec.Command("sh", "-c", "echo 'address already in use'; exit 1")
		}
		return exec.Command("sh", "-c", "echo 'server listening'; exec sleep 60")
	}, func(line string) bool { return strings.Contains(line, "listening") })
	if len(ports) != 2 || port != ports[1] {
		t.Fatalf("started on %v, returned %d: want a second start, its port returned", ports, port)
	}
}

// Package modroot finds the eventrelay module's root folder, where the test
// harnesses find the emulators the Makefile installs.
package modroot

import (
	"bufio"
	"os"
	"path/filepath"
)

const modulePath = "eventrelay.dev/eventrelay"

// Find walks up from the working directory to the go.mod of this module.
func Find() string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if isRoot(filepath.Join(d, "go.mod")) {
			return d
		}
	}
	return dir
}

func isRoot(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	// Read only: a Close error cannot change what was read.
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	return sc.Scan() && sc.Text() == "module "+modulePath
}

// Package cpuprofile writes a CPU profile of a whole run, for the load
// measurements (`eventrelay dev -cpuprofile`, ingest-alone -cpuprofile).
package cpuprofile

import (
	"os"
	"runtime/pprof"
)

// Start profiles the process into path until the returned stop is called;
// an empty path profiles nothing.
func Start(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// Package cpuprofile writes a CPU profile of a whole run, for the load
// measurements (`eventrelay dev -cpuprofile`, ingest-alone -cpuprofile).
package cpuprofile

import (
	"errors"
	"os"
	"runtime/pprof"
)

// Start profiles the process into path until the returned stop is called;
// an empty path profiles nothing. stop's error is the profile file's Close:
// a profile that did not reach the disk whole.
func Start(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

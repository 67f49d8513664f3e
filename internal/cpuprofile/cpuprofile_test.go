package cpuprofile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStartWritesAProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	stop, err := Start(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("profile %s: %v, %v", path, fi, err)
	}
	// Stopped: another profile can start.
	stop, err = Start(filepath.Join(t.TempDir(), "again.pprof"))
	if err != nil {
		t.Fatalf("a second profile after stop: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestStartWithoutPathProfilesNothing(t *testing.T) {
	stop, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestStartWhereNoFileCanBeMade(t *testing.T) {
	if _, err := Start(filepath.Join(t.TempDir(), "missing", "cpu.pprof")); err == nil {
		t.Fatal("no error for a profile in a directory that does not exist")
	}
}

package lambdaharness

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"eventrelay.dev/eventrelay/internal/modroot"
	"eventrelay.dev/eventrelay/shared/settings"
)

// BootstrapBuildArgs are `go build`'s arguments for the bootstrap as
// `make dist` builds it (with CGO_ENABLED=0 and GOOS=linux in the
// environment), less -trimpath and the stripping: they change only paths
// and symbols, and without them the build reuses the packages the tests
// compiled. The Makefile's test build uses the same.
var BootstrapBuildArgs = []string{"build", "-tags", "lambda.norpc"}

var built struct {
	once sync.Once
	path string
	out  []byte
	err  error
}

// Bootstrap returns the bootstrap binary for the host's architecture: the
// one $EVENTRELAY_TEST_BOOTSTRAP names, or else one this test process builds
// once (as `make dist` does: linux, CGO off, lambda.norpc). It skips under
// -short and off linux.
func Bootstrap(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the bootstrap (slow); not under -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the linux bootstrap runs only on linux")
	}
	if p := settings.TestBootstrap.Get(settings.FromOS()); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", settings.TestBootstrap.Name, p, err)
		}
		return p
	}
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "eventrelay-bootstrap-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "bootstrap")
		cmd := exec.Command("go", append(BootstrapBuildArgs, "-o", built.path, "./cmd/bootstrap")...)
		cmd.Dir = modroot.Find()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
		built.out, built.err = cmd.CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("build bootstrap: %v\n%s", built.err, built.out)
	}
	return built.path
}

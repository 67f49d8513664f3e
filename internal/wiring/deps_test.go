package wiring_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/modroot"
)

var (
	awsPackages = []string{"github.com/aws/", "github.com/awslabs/"}
	gcpPackages = []string{"cloud.google.com/", "google.golang.org/grpc", "google.golang.org/api/",
		"google.golang.org/genproto", "github.com/GoogleCloudPlatform/", "github.com/cloudevents/"}
)

// TestOneCloudPerBinary: each deployed binary links one cloud, and the
// function cores and setup none (their trigger adapters and internal/wiring/<cloud>
// hold the SDKs), as `go list -deps` sees the builds `make dist` and the
// buildpack make.
func TestOneCloudPerBinary(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		env    []string
		forbid []string
	}{
		{"Cloud Functions entry (module root)", []string{"eventrelay.dev/eventrelay"},
			[]string{"GOOS=linux", "GOARCH=amd64"}, awsPackages},
		{"Lambda bootstrap", []string{"-tags", "lambda.norpc", "./cmd/bootstrap"},
			[]string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}, gcpPackages},
		{"function cores and setup", []string{"./functions/ingest", "./functions/forwarder", "./functions/verify", "./functions/backfill",
			"./functions/attest", "./internal/setup"},
			[]string{"GOOS=linux"}, append(append([]string{}, awsPackages...), gcpPackages...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var bad []string
			for _, pkg := range goListDeps(t, c.env, c.args...) {
				for _, f := range c.forbid {
					if strings.HasPrefix(pkg, f) {
						bad = append(bad, pkg)
						break
					}
				}
			}
			if len(bad) > 0 {
				t.Errorf("%s links %d packages of the other cloud or a trigger SDK, e.g. %s", c.name, len(bad), strings.Join(bad[:min(5, len(bad))], ", "))
			}
		})
	}
}

func goListDeps(t *testing.T, env []string, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps"}, args...)...)
	cmd.Dir = modroot.Find()
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

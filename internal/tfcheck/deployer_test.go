package tfcheck

import (
	"maps"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/readme"
)

// grantLoop is the runbook's loop granting the deployer's roles (GCP:
// for role in ...) or attaching its policies (AWS: for p in ...).
var grantLoop = regexp.MustCompile(`for (?:role|p) in (.*?); do`)

// deployerReaders may be granted without a resource needing them: reading
// the functions' logs.
var deployerReaders = map[string]bool{"logging.viewer": true}

// TestDeployerGrants: each deploy runbook grants the deployer exactly the
// roles or policies the module's resources need (deployerGrants says which
// and why), the log-based metrics, alert policies, notification channels
// and dashboards (GCP) and the alarms, dashboards and SNS topic (AWS)
// included.
func TestDeployerGrants(t *testing.T) {
	for cloud, text := range deployingRunbooks(t) {
		var granted []string
		for _, c := range shellCommands(text) {
			if m := grantLoop.FindStringSubmatch(c); m != nil {
				granted = append(granted, strings.Fields(strings.ReplaceAll(m[1], "\\", " "))...)
			}
		}
		if len(granted) == 0 {
			t.Errorf("docs/deploy-%s.md: no grant loop (for role in ...; do / for p in ...; do)", cloud)
			continue
		}
		// The table that says what each is for lists the same ones.
		var listed []string
		for _, row := range readme.Rows(text) {
			if codes := readme.Codes(row[0]); len(codes) > 0 {
				listed = append(listed, codes[0])
			}
		}
		if a, b := sortedCopy(listed), sortedCopy(granted); strings.Join(a, " ") != strings.Join(b, " ") {
			t.Errorf("docs/deploy-%s.md: the table lists %v, the grant loop %v", cloud, a, b)
		}
		module := load(t, filepath.Join(tfRoot, "modules", cloud))
		for _, p := range checkDeployerGrants(granted, module, deployerGrants, deployerReaders) {
			t.Errorf("docs/deploy-%s.md: %s", cloud, p)
		}
	}
}

// The check reports a role the module needs and the runbook lacks, one it
// grants for nothing, and a resource type without a known role.
func TestDeployerGrantsCatchViolations(t *testing.T) {
	module := load(t, filepath.Join("testdata", "bad", "firstapply-gcp"))
	all := strings.Join(checkDeployerGrants([]string{"pubsub.admin", "owner"}, module, deployerGrants, nil), "\n")
	for _, w := range []string{
		"the runbook does not grant monitoring.editor, which google_monitoring_alert_policy need",
		"the runbook does not grant logging.configWriter, which google_logging_metric need",
		"the runbook grants owner, which no resource of",
	} {
		if !strings.Contains(all, w) {
			t.Errorf("not reported: %q", w)
		}
	}
	lacking := maps.Clone(deployerGrants)
	delete(lacking, "google_pubsub_topic")
	if all := strings.Join(checkDeployerGrants(nil, module, lacking, nil), "\n"); !strings.Contains(all, "no deployer role or policy is known for google_pubsub_topic") {
		t.Errorf("a type without a known role is not reported:\n%s", all)
	}
	if t.Failed() {
		t.Logf("reported:\n%s", all)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

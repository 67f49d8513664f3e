package tfcheck

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// checkFirstApply: what the first `terraform apply` on a fresh GCP project
// or AWS account meets, and what made it fail there before.
func checkFirstApply(m *Module) []string {
	var out []string
	for _, rule := range []func(*Module) []string{
		checkFreshProjectAPIs, checkServiceAgents, checkBuildAccount, checkPubSubEditor,
		checkFunctionURLPermissions, checkProviderVersions, checkReservedConcurrency, checkBackfillCommand,
		checkMetricWait, checkFunctionGrants, checkAgentMembers, checkWaits,
		checkNamesFromPrefix, checkRegionalNames, checkFirestoreTeardown, checkForwarderConcurrency,
	} {
		out = append(out, rule(m)...)
	}
	return out
}

// freshProjectAPIs are off on a new project and needed by what the module
// creates: project IAM grants and custom roles (Cloud Resource Manager),
// service accounts (IAM).
var freshProjectAPIs = []string{"cloudresourcemanager.googleapis.com", "iam.googleapis.com"}

func checkFreshProjectAPIs(m *Module) []string {
	if !m.has("google_cloudfunctions2_function") {
		return nil
	}
	var out []string
	// A lookup that refers to the API's enablement is read once it is done
	// (at apply on a fresh project); any other is read at plan time.
	for _, key := range sortedKeys(m.Data) {
		if strings.HasPrefix(key, "google_project.") && onlyEdge(m.edges(m.Data[key]), "google_project_service") == "" {
			out = append(out, fmt.Sprintf("%s: data.%s: the lookup needs the Cloud Resource Manager API at plan time, before the module can enable it on a fresh project",
				m.pos(m.Data[key].DefRange()), key))
		}
	}
	enabled := map[string]bool{}
	for _, key := range m.resourcesOf("google_project_service") {
		b := m.Resources[key]
		for _, in := range m.eval.instances(b) {
			if s, ok := knownString(m.evalAttr(b, "service", in)); ok {
				enabled[s] = true
			}
		}
	}
	for _, api := range freshProjectAPIs {
		if !enabled[api] {
			out = append(out, fmt.Sprintf("%s: %s is not enabled (google_project_service): a fresh project has it off", m.Dir, api))
		}
	}
	return out
}

// checkServiceAgents: the agents are created (google_project_service_identity,
// beta provider) once their APIs are on; checkAgentMembers checks the
// grants that name them.
func checkServiceAgents(m *Module) []string {
	var out []string
	for _, key := range m.resourcesOf("google_project_service_identity") {
		b := m.Resources[key]
		where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), key)
		if a := attr(b, "provider"); a == nil || !strings.Contains(m.source(a.Expr), "google-beta") {
			out = append(out, where+": google_project_service_identity is in google-beta only: set provider = google-beta")
		}
		if m.has("google_project_service") && !dependsOn(b, "google_project_service") {
			out = append(out, where+": must depend on google_project_service: an agent exists only once its API is on")
		}
	}
	return out
}

// dependsOn: b lists a resource of typ in depends_on.
func dependsOn(b *hclsyntax.Block, typ string) bool {
	a := attr(b, "depends_on")
	if a == nil {
		return false
	}
	for _, t := range a.Expr.Variables() {
		if t.RootName() == typ {
			return true
		}
	}
	return false
}

// checkBuildAccount: a build runs as a named account; the default compute
// account is not granted what a build needs in organisations created since
// 2024.
func checkBuildAccount(m *Module) []string {
	var out []string
	for _, key := range m.resourcesOf("google_cloudfunctions2_function") {
		b := m.Resources[key]
		sa := attr(block(b, "build_config"), "service_account")
		if sa == nil || m.eval.value(sa.Expr, instance{}).IsNull() {
			out = append(out, fmt.Sprintf("%s: %s: build_config.service_account is unset at the defaults: builds would run as the default compute account, which new organisations do not grant",
				m.pos(b.DefRange()), key))
		}
	}
	return out
}

// checkPubSubEditor: roles/pubsub.editor and admin can repoint a push
// endpoint and delete what they are granted on.
func checkPubSubEditor(m *Module) []string {
	var out []string
	for _, key := range sortedKeys(m.Resources) {
		b := m.Resources[key]
		if !strings.HasPrefix(b.Labels[0], "google_") {
			continue
		}
		for _, in := range m.eval.instances(b) {
			role, _ := knownString(m.evalAttr(b, "role", in))
			if role == "roles/pubsub.editor" || role == "roles/pubsub.admin" {
				out = append(out, fmt.Sprintf("%s: %s: grants %s, which may also repoint the push endpoint and delete; grant a custom role with the permissions used",
					m.pos(b.DefRange()), key, role))
			}
		}
	}
	return out
}

// urlStatements are the statements aws_lambda_function_url adds itself
// when authorization_type is NONE (provider 6.28.0 and later).
var urlStatements = map[string]bool{"FunctionURLAllowPublicAccess": true, "FunctionURLAllowInvokeAction": true}

func (m *Module) hasPublicFunctionURL() bool {
	for _, key := range m.resourcesOf("aws_lambda_function_url") {
		if s, _ := knownString(m.valueOf(attr(m.Resources[key], "authorization_type"))); s == "NONE" {
			return true
		}
	}
	return false
}

// checkFunctionURLPermissions: no aws_lambda_permission repeats what a
// public function URL adds itself; the two race on the first apply.
func checkFunctionURLPermissions(m *Module) []string {
	if !m.hasPublicFunctionURL() {
		return nil
	}
	var out []string
	for _, key := range m.resourcesOf("aws_lambda_permission") {
		b := m.Resources[key]
		sid, _ := knownString(m.valueOf(attr(b, "statement_id")))
		if urlStatements[sid] || attr(b, "function_url_auth_type") != nil || attr(b, "invoked_via_function_url") != nil {
			out = append(out, fmt.Sprintf("%s: %s: a function URL with authorization_type NONE adds this statement itself (provider >= 6.28.0); a second one races it (ResourceConflictException)",
				m.pos(b.DefRange()), key))
		}
	}
	return out
}

// versionNeed is a provider version a fact of the module depends on.
type versionNeed struct {
	provider string
	min      [3]int
	why      string
	applies  func(*Module) bool
}

var versionNeeds = []versionNeed{
	{"aws", [3]int{6, 28, 0}, "aws_lambda_function_url adds the lambda:InvokeFunction statement a public URL needs",
		func(m *Module) bool { return m.hasPublicFunctionURL() }},
	{"google-beta", [3]int{0, 0, 0}, "google_project_service_identity is in google-beta only",
		func(m *Module) bool { return m.has("google_project_service_identity") }},
}

// checkProviderVersions: required_providers admits no version without what
// the module relies on.
func checkProviderVersions(m *Module) []string {
	var out []string
	for _, need := range versionNeeds {
		if !need.applies(m) {
			continue
		}
		rp := m.Inspect.RequiredProviders[need.provider]
		if rp == nil {
			out = append(out, fmt.Sprintf("%s: required_providers has no %s (%s)", m.Dir, need.provider, need.why))
			continue
		}
		low, ok := lowerBound(rp.VersionConstraints)
		if !ok || versionLess(low, need.min) {
			out = append(out, fmt.Sprintf("%s: required_providers %s %q admits versions below %d.%d.%d (%s)",
				m.Dir, need.provider, strings.Join(rp.VersionConstraints, ", "), need.min[0], need.min[1], need.min[2], need.why))
		}
	}
	return out
}

// lowerBound is the least version constraints admit (>=, ~>, = and >
// parts; the others bound from above).
func lowerBound(constraints []string) ([3]int, bool) {
	var low [3]int
	found := false
	for _, c := range constraints {
		for part := range strings.SplitSeq(c, ",") {
			part = strings.TrimSpace(part)
			op := ""
			for _, o := range []string{">=", "~>", "<=", "!=", ">", "<", "="} {
				if strings.HasPrefix(part, o) {
					op = o
					break
				}
			}
			if op == "<" || op == "<=" || op == "!=" {
				continue
			}
			v, ok := parseVersion(strings.TrimSpace(strings.TrimPrefix(part, op)))
			if !ok {
				return low, false
			}
			if !found || versionLess(low, v) {
				low, found = v, true
			}
		}
	}
	return low, found
}

func parseVersion(s string) ([3]int, bool) {
	var v [3]int
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

func versionLess(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// checkReservedConcurrency: no function reserves concurrency by default;
// an account at the default quota of 10 cannot reserve any (Lambda keeps 10
// unreserved), and the first apply would fail there.
func checkReservedConcurrency(m *Module) []string {
	var out []string
	for _, key := range m.resourcesOf("aws_lambda_function") {
		b := m.Resources[key]
		for _, in := range m.eval.instances(b) {
			if n, ok := knownNumber(m.evalAttr(b, "reserved_concurrent_executions", in)); ok && n > 0 {
				out = append(out, fmt.Sprintf("%s: %s[%s]: reserves %v concurrent executions by default; an account at the default quota of 10 cannot (Lambda keeps 10 unreserved)",
					m.pos(b.DefRange()), key, in.Key, n))
			}
		}
	}
	return out
}

// checkBackfillCommand: an output gives the command that runs backfill by
// hand, with the flags that pick the project or region (on GCP its ingress
// is internal, so no URL reaches it from outside).
func checkBackfillCommand(m *Module) []string {
	var want []string
	switch {
	case m.has("google_cloud_scheduler_job"):
		want = []string{"gcloud scheduler jobs run", "--project", "--location"}
	case m.has("aws_scheduler_schedule"):
		want = []string{"aws lambda invoke", "--region", "--function-name"}
	default:
		return nil
	}
	for _, name := range sortedKeys(m.Outputs) {
		a := attr(m.Outputs[name], "value")
		if a == nil {
			continue
		}
		text := m.source(a.Expr)
		all := true
		for _, w := range want {
			all = all && strings.Contains(text, w)
		}
		if all {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s: no output gives the command that runs backfill by hand (%s)", m.Dir, strings.Join(want, " "))}
}

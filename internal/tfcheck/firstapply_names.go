package tfcheck

import (
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Names that collide: two deployments (another name_prefix in the same
// project or account, or the same prefix in another region) must not
// reach for the same name, and a teardown must free the names it used.

// prefixProbe stands in for name_prefix when the names are evaluated: a
// name that does not contain it ignores name_prefix.
const prefixProbe = "zqxprobe"

// namingAttributes are the attributes that name a resource where the name
// must be unique in a project or account (a secret_id, a function name);
// references to other resources' names evaluate to unknown and are skipped.
var namingAttributes = []string{"name", "account_id", "secret_id", "repository_id", "role_id",
	"function_name", "alarm_name", "dashboard_name"}

// checkNamesFromPrefix: every name the module chooses contains name_prefix.
func checkNamesFromPrefix(m *Module) []string {
	if m.Variables["name_prefix"] == nil {
		return nil
	}
	e := newEvaluatorWith(m, map[string]cty.Value{"name_prefix": cty.StringVal(prefixProbe)})
	var out []string
	for _, key := range sortedKeys(m.Resources) {
		b := m.Resources[key]
		for _, in := range e.instances(b) {
			for _, name := range namingAttributes {
				a := attr(b, name)
				if a == nil {
					continue
				}
				s, ok := knownString(e.value(a.Expr, in))
				if !ok || strings.Contains(s, prefixProbe) {
					continue
				}
				out = append(out, fmt.Sprintf("%s: %s[%s]: %s %q does not derive from name_prefix: two deployments would collide on it",
					m.pos(b.DefRange()), key, in.Key, name, s))
			}
		}
	}
	return out
}

// accountWide are AWS resources whose names are unique in the account, not
// in a region: their names carry the region.
var accountWide = map[string]string{
	"aws_iam_role":             "name",
	"aws_iam_policy":           "name",
	"aws_cloudwatch_dashboard": "dashboard_name",
}

// checkRegionalNames: an account-wide AWS name includes the region (the
// same name_prefix deploys in a second region).
func checkRegionalNames(m *Module) []string {
	var out []string
	for _, key := range sortedKeys(m.Resources) {
		b := m.Resources[key]
		field, ok := accountWide[b.Labels[0]]
		if !ok {
			continue
		}
		a := attr(b, field)
		if a == nil {
			continue
		}
		if onlyEdge(m.exprEdges(a.Expr), "data.aws_region") == "" && !strings.Contains(m.source(a.Expr), "var.region") {
			out = append(out, fmt.Sprintf("%s: %s: %s is unique in the whole account: include the region (data.aws_region), or the same name_prefix fails in a second region",
				m.pos(b.DefRange()), key, field))
		}
	}
	return out
}

// checkFirestoreTeardown: terraform destroy deletes the database it
// created. With the provider's default deletion_policy (ABANDON) it stays,
// with its data, and a later apply under the same name fails.
func checkFirestoreTeardown(m *Module) []string {
	var out []string
	for _, key := range m.resourcesOf("google_firestore_database") {
		b := m.Resources[key]
		if s, _ := knownString(m.valueOf(attr(b, "deletion_policy"))); s != "DELETE" {
			out = append(out, fmt.Sprintf("%s: %s: deletion_policy is not DELETE: terraform destroy keeps the database, and an apply under the same name then fails",
				m.pos(b.DefRange()), key))
		}
	}
	return out
}

// newAccountConcurrency is the Lambda concurrency quota a new account may
// start with: every function of the region shares it.
const newAccountConcurrency = 10

// checkForwarderConcurrency: at the defaults, the forwarder's event source
// and a backfill run leave at least half of a new account's concurrency to
// the public functions, so a backlog cannot throttle ingest and verify.
func checkForwarderConcurrency(m *Module) []string {
	var out []string
	background := 0.0
	if m.has("aws_scheduler_schedule") {
		background = 1 // one backfill run
	}
	for _, key := range m.resourcesOf("aws_lambda_event_source_mapping") {
		b := m.Resources[key]
		n, ok := knownNumber(m.valueOf(attr(block(b, "scaling_config"), "maximum_concurrency")))
		if !ok {
			continue // checkEventSourceMapping reports a missing one
		}
		if left := newAccountConcurrency - n - background; left < newAccountConcurrency/2 {
			out = append(out, fmt.Sprintf("%s: %s: maximum_concurrency %g (+%g backfill) leaves %g of a new account's %d concurrent executions to the public functions; keep at least %d",
				m.pos(b.DefRange()), key, n, background, left, newAccountConcurrency, newAccountConcurrency/2))
		}
	}
	return out
}

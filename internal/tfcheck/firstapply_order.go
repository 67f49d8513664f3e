package tfcheck

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// What a first apply meets when a resource is created before what it needs
// exists, or before a service has taken note of it: the order of the graph
// (references and depends_on) and the bounded waits (time_sleep) between.

// maxWait bounds every wait: a first apply that sleeps longer than this is
// hiding a problem, not waiting out a propagation delay.
const maxWait = 15 * time.Minute

// checkMetricWait: an alert policy on a log-based metric created in the
// same apply waits after the metric. Cloud Monitoring answers 404 "Cannot
// find metric(s) ... up to 10 minutes" meanwhile, and provider v7.45.0
// retries alert policies on 409 only (terraform-provider-google#11102).
func checkMetricWait(m *Module) []string {
	var out []string
	for _, key := range m.resourcesOf("google_monitoring_alert_policy") {
		if !m.readsType(key, "google_logging_metric") {
			continue
		}
		if _, ok := m.waitsAfter(key, "google_logging_metric"); !ok {
			out = append(out, fmt.Sprintf("%s: %s reads a log-based metric created in the same apply without a wait after it (a time_sleep after google_logging_metric): Cloud Monitoring answers 404 for up to 10 minutes and the provider does not retry",
				m.pos(m.Resources[key].DefRange()), key))
		}
	}
	return out
}

// readsType: a resource refers to a resource of typ, directly or through
// locals.
func (m *Module) readsType(key, typ string) bool {
	for dep := range m.edges(m.Resources[key]) {
		if strings.HasPrefix(dep, typ+".") {
			return true
		}
	}
	return false
}

// checkWait: a time_sleep waits a known, bounded time.
func (m *Module) checkWait(key string) []string {
	b := m.Resources[key]
	where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), key)
	s, ok := knownString(m.valueOf(attr(b, "create_duration")))
	if !ok {
		return []string{where + ": create_duration must be a known duration"}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > maxWait {
		return []string{fmt.Sprintf("%s: create_duration %q must be a duration above 0 and at most %s", where, s, maxWait)}
	}
	return nil
}

// checkFunctionGrants: a function is created after every grant to its own
// identity (GCP: IAM members naming its service account; AWS: the role
// policies of its role), except the grants on resources that themselves
// come after the function (the push subscription). The start-up checks
// turn a missing permission into a failed start, and on GCP a new revision
// must start for the deploy to succeed. On GCP the grants also need time to
// reach IAM: the function waits after them (a time_sleep between).
func checkFunctionGrants(m *Module) []string {
	var out []string
	for _, fn := range append(m.resourcesOf("google_cloudfunctions2_function"), m.resourcesOf("aws_lambda_function")...) {
		b := m.Resources[fn]
		gcp := b.Labels[0] == "google_cloudfunctions2_function"
		var identity string
		if gcp {
			identity = onlyEdge(m.exprEdges(attrExpr(block(b, "service_config"), "service_account_email")), "google_service_account")
		} else {
			identity = onlyEdge(m.exprEdges(attrExpr(b, "role")), "aws_iam_role")
		}
		if identity == "" {
			continue // checkFunctions and checkLambda report a missing identity
		}
		before := m.upstream(fn)
		for _, grant := range m.grantsTo(identity) {
			if m.upstream(grant)[fn] {
				continue // comes after the function: it cannot come before
			}
			where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), fn)
			switch {
			case !before[grant]:
				out = append(out, fmt.Sprintf("%s: is not created after %s, a grant to its identity %s: its start-up check fails on a missing permission", where, grant, identity))
			case gcp && !m.waitsBetween(grant, fn):
				out = append(out, fmt.Sprintf("%s: comes after %s but without a wait between (a time_sleep after the grant): IAM grants take up to minutes to hold", where, grant))
			}
		}
	}
	return out
}

// onlyEdge is the node of typ among edges ("" when none).
func onlyEdge(edges map[string]bool, typ string) string {
	for _, k := range sortedKeys(edges) {
		if strings.HasPrefix(k, typ+".") {
			return k
		}
	}
	return ""
}

// grantsTo lists the resources that grant something to identity: GCP IAM
// members whose member names it, AWS role policies and attachments on it.
func (m *Module) grantsTo(identity string) []string {
	var out []string
	for _, key := range sortedKeys(m.Resources) {
		b := m.Resources[key]
		typ := b.Labels[0]
		var e hclsyntax.Expression
		switch {
		case strings.HasPrefix(typ, "google_") && strings.HasSuffix(typ, "_iam_member"):
			e = attrExpr(b, "member")
		case typ == "aws_iam_role_policy" || typ == "aws_iam_role_policy_attachment":
			e = attrExpr(b, "role")
		default:
			continue
		}
		if m.exprEdges(e)[identity] {
			out = append(out, key)
		}
	}
	return out
}

// waitsBetween: a time_sleep comes after from, and to after it.
func (m *Module) waitsBetween(from, to string) bool {
	for dep := range m.upstream(to) {
		if b := m.Resources[dep]; b != nil && b.Labels[0] == "time_sleep" && m.upstream(dep)[from] {
			return true
		}
	}
	return false
}

// checkAgentMembers: a grant to a Google service agent names it by the
// address Google documents (service-<project number>@gcp-sa-...), not by
// google_project_service_identity's email, which the provider leaves empty
// when the API's answer does not carry it (terraform-provider-google#19970,
// #21931: the member becomes "serviceAccount:"); and the grant waits after
// the agents are created, as a new agent is not grantable at once.
func checkAgentMembers(m *Module) []string {
	var out []string
	for _, key := range sortedKeys(m.Resources) {
		b := m.Resources[key]
		a := attr(b, "member")
		if a == nil {
			continue
		}
		where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), key)
		fromIdentity := onlyEdge(m.exprEdges(a.Expr), "google_project_service_identity") != ""
		byAddress := strings.Contains(m.source(a.Expr), "@gcp-sa-")
		if !fromIdentity && !byAddress {
			continue
		}
		if fromIdentity {
			out = append(out, where+": takes the service agent's address from google_project_service_identity, whose email the provider leaves empty when the API does not return it; build it from the project number (service-<number>@gcp-sa-<agent>.iam.gserviceaccount.com)")
		} else if !strings.Contains(m.source(a.Expr), "service-${") {
			out = append(out, where+": names a service agent without the project number (service-<number>@gcp-sa-<agent>.iam.gserviceaccount.com)")
		}
		if m.has("google_project_service_identity") {
			if _, ok := m.waitsAfter(key, "google_project_service_identity"); !ok {
				out = append(out, where+": grants to a service agent without a wait after the agents are created (a time_sleep after google_project_service_identity): a new agent is not grantable at once")
			}
		}
	}
	return out
}

// checkWaits: every time_sleep waits a known, bounded time, and the module
// requires the provider that has it.
func checkWaits(m *Module) []string {
	var out []string
	sleeps := m.resourcesOf("time_sleep")
	for _, key := range sleeps {
		out = append(out, m.checkWait(key)...)
	}
	// terraform-config-inspect lists providers used but not required, with
	// no source.
	if rp := m.Inspect.RequiredProviders["time"]; len(sleeps) > 0 && (rp == nil || rp.Source != "hashicorp/time") {
		out = append(out, fmt.Sprintf("%s: time_sleep needs hashicorp/time in required_providers", m.Dir))
	}
	return out
}

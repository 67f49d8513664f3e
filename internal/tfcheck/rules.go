package tfcheck

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Config is what the rules need to know about the code the modules deploy.
type Config struct {
	// EntryPoints are the function names registered in functions.go.
	EntryPoints map[string]bool
	// EnvNames are the environment variables a deployed function reads (the
	// settings registry's).
	EnvNames map[string]bool
}

// Check runs every rule on a module and returns its problems, sorted.
func Check(m *Module, cfg Config) []string {
	out := append([]string(nil), m.Problems...)
	for _, rule := range []func(*Module) []string{
		CheckVariables, CheckReferences, CheckModuleCalls,
		checkBroadRoles, checkAWSPolicies, checkEmptySecrets,
		checkPubSub, checkGCPScheduler, checkFirestore,
		checkLambda, checkEventSourceMapping, checkAWSScheduler, checkDynamoDB, checkLogGroups,
		checkMonitoring, checkFirstApply, checkAWSSchema,
	} {
		out = append(out, rule(m)...)
	}
	out = append(out, checkFunctions(m, cfg)...)
	out = append(out, checkEnvironment(m, cfg)...)
	sort.Strings(out)
	return out
}

func (m *Module) resourcesOf(typ string) []string {
	var out []string
	for _, key := range sortedKeys(m.Resources) {
		if strings.HasPrefix(key, typ+".") {
			out = append(out, key)
		}
	}
	return out
}

func (m *Module) has(typ string) bool { return len(m.resourcesOf(typ)) > 0 }

// broadRoles may not be granted anywhere.
var broadRoles = map[string]bool{"roles/owner": true, "roles/editor": true, "roles/viewer": true,
	"roles/iam.securityAdmin": true, "roles/resourcemanager.projectIamAdmin": true}

// projectRolesWithCondition are the only roles that may be granted on the
// project, and only with an IAM condition naming one Firestore database:
// Firestore has no IAM binding on a database resource.
var projectRolesWithCondition = map[string]bool{"roles/datastore.user": true, "roles/datastore.viewer": true}

// projectOnlyRoles may be granted on the project as they are: what they
// reach has no IAM binding below it (Cloud Logging's log writes).
var projectOnlyRoles = map[string]bool{"roles/logging.logWriter": true}

func checkBroadRoles(m *Module) []string {
	var out []string
	for _, key := range sortedKeys(m.Resources) {
		b := m.Resources[key]
		typ := b.Labels[0]
		where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), key)
		switch {
		case typ == "google_project_iam_binding" || typ == "google_project_iam_policy" ||
			strings.HasPrefix(typ, "google_organization_iam_") || strings.HasPrefix(typ, "google_folder_iam_"):
			out = append(out, where+": project-, folder- or organization-wide IAM binding; bind roles on the resource")
			continue
		case typ == "aws_iam_role_policy_attachment" || typ == "aws_iam_user_policy_attachment" || typ == "aws_iam_policy_attachment":
			if a := attr(b, "policy_arn"); a != nil {
				text := m.source(a.Expr)
				for _, broad := range []string{"AdministratorAccess", "PowerUserAccess", "FullAccess"} {
					if strings.Contains(text, broad) {
						out = append(out, fmt.Sprintf("%s: attaches the broad managed policy %s", where, broad))
					}
				}
			}
		}
		for _, in := range m.eval.instances(b) {
			var roles []string
			if a := attr(b, "role"); a != nil && strings.HasPrefix(typ, "google_") {
				if s, ok := knownString(m.eval.value(a.Expr, in)); ok {
					roles = append(roles, s)
				} else if typ == "google_project_iam_member" {
					out = append(out, fmt.Sprintf("%s[%s]: project role cannot be evaluated", where, in.Key))
				}
			}
			for _, r := range roles {
				if broadRoles[r] {
					out = append(out, fmt.Sprintf("%s[%s]: grants the broad role %s", where, in.Key, r))
				}
				if typ != "google_project_iam_member" {
					continue
				}
				cond := block(b, "condition")
				expr := ""
				if cond != nil && attr(cond, "expression") != nil {
					expr = m.source(attr(cond, "expression").Expr)
				}
				switch {
				case projectOnlyRoles[r]:
				case !projectRolesWithCondition[r]:
					out = append(out, fmt.Sprintf("%s[%s]: project-wide grant of %s; bind it on the resource", where, in.Key, r))
				case !strings.Contains(expr, "/databases/"):
					out = append(out, fmt.Sprintf("%s[%s]: project-wide %s without a condition restricting it to one database", where, in.Key, r))
				}
			}
		}
	}
	return out
}

// checkAWSPolicies reports IAM policy statements whose action or resource
// is a wildcard, identity statements without resources, and inline policies
// that cannot be read before apply.
func checkAWSPolicies(m *Module) []string {
	var out []string
	for _, key := range sortedKeys(m.Data) {
		b := m.Data[key]
		if b.Labels[0] != "aws_iam_policy_document" {
			continue
		}
		for i, st := range blocks(b, "statement") {
			where := fmt.Sprintf("%s: data.%s statement %d", m.pos(st.DefRange()), key, i)
			if attr(st, "not_actions") != nil || attr(st, "not_resources") != nil {
				out = append(out, where+": not_actions/not_resources grant everything else")
			}
			if effect := attr(st, "effect"); effect != nil {
				if s, _ := knownString(m.eval.value(effect.Expr, instance{})); s == "Deny" {
					continue
				}
			}
			for _, in := range m.eval.instances(b) {
				if a := attr(st, "actions"); a != nil {
					acts, _ := knownStrings(m.eval.value(a.Expr, in))
					out = append(out, wildcardActions(where, acts)...)
				} else {
					out = append(out, where+": no actions")
				}
				isTrust := len(blocks(st, "principals")) > 0
				a := attr(st, "resources")
				if a == nil {
					if !isTrust {
						out = append(out, where+": no resources")
					}
					continue
				}
				res, _ := knownStrings(m.eval.value(a.Expr, in))
				for _, r := range res {
					if r == "*" {
						out = append(out, where+`: Resource "*"`)
					}
				}
			}
		}
	}
	for _, typ := range []string{"aws_iam_role_policy", "aws_iam_policy", "aws_iam_user_policy", "aws_iam_group_policy"} {
		for _, key := range m.resourcesOf(typ) {
			b := m.Resources[key]
			a := attr(b, "policy")
			if a == nil {
				continue
			}
			where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), key)
			if strings.Contains(m.source(a.Expr), "data.aws_iam_policy_document.") {
				continue // checked above
			}
			for _, in := range m.eval.instances(b) {
				s, ok := knownString(m.eval.value(a.Expr, in))
				if !ok {
					out = append(out, where+": policy cannot be read before apply; build it with data aws_iam_policy_document")
					continue
				}
				out = append(out, checkPolicyJSON(where, s)...)
			}
		}
	}
	return out
}

func wildcardActions(where string, acts []string) []string {
	var out []string
	for _, act := range acts {
		if act == "*" || strings.HasSuffix(act, ":*") {
			out = append(out, fmt.Sprintf("%s: Action %q", where, act))
		}
	}
	return out
}

func checkPolicyJSON(where, doc string) []string {
	var p struct {
		Statement []struct {
			Effect   string
			Action   any
			Resource any
		}
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return []string{fmt.Sprintf("%s: policy is not JSON: %v", where, err)}
	}
	list := func(v any) []string {
		switch x := v.(type) {
		case string:
			return []string{x}
		case []any:
			var out []string
			for _, e := range x {
				s, _ := e.(string)
				out = append(out, s)
			}
			return out
		}
		return nil
	}
	var out []string
	for i, st := range p.Statement {
		if st.Effect == "Deny" {
			continue
		}
		w := fmt.Sprintf("%s statement %d", where, i)
		out = append(out, wildcardActions(w, list(st.Action))...)
		res := list(st.Resource)
		if len(res) == 0 {
			out = append(out, w+": no Resource")
		}
		for _, r := range res {
			if r == "*" {
				out = append(out, w+`: Resource "*"`)
			}
		}
	}
	return out
}

// checkEmptySecrets: secrets are created empty; no value may pass through
// Terraform (or its state).
func checkEmptySecrets(m *Module) []string {
	var out []string
	for _, typ := range []string{"google_secret_manager_secret_version", "aws_secretsmanager_secret_version"} {
		for _, key := range m.resourcesOf(typ) {
			out = append(out, fmt.Sprintf("%s: %s puts a secret value in Terraform; add values out of band", m.pos(m.Resources[key].DefRange()), key))
		}
	}
	for _, key := range sortedKeys(m.Resources) {
		walkAttributes(m.Resources[key].Body, func(a *hclsyntax.Attribute) {
			switch a.Name {
			case "secret_data", "secret_string", "secret_binary", "secret_data_wo", "secret_string_wo":
				out = append(out, fmt.Sprintf("%s: %s sets %s", m.pos(a.SrcRange), key, a.Name))
			}
		})
	}
	return out
}

// checkFunctions: every Cloud Functions entry point is one functions.go
// registers, each function runs as a service account of its own, and the
// source comes from an uploaded archive.
func checkFunctions(m *Module, cfg Config) []string {
	var out []string
	for _, key := range m.resourcesOf("google_cloudfunctions2_function") {
		b := m.Resources[key]
		build := block(b, "build_config")
		service := block(b, "service_config")
		where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), key)
		if build == nil || service == nil {
			out = append(out, where+": needs build_config and service_config")
			continue
		}
		if block(build, "source", "storage_source") == nil {
			out = append(out, where+": build_config.source.storage_source (the uploaded archive) missing")
		}
		if a := attr(service, "service_account_email"); a == nil || !strings.Contains(m.source(a.Expr), "google_service_account.") {
			out = append(out, where+": service_config.service_account_email must name a service account of its own")
		}
		for _, in := range m.eval.instances(b) {
			a := attr(build, "entry_point")
			if a == nil {
				out = append(out, fmt.Sprintf("%s[%s]: no entry_point", where, in.Key))
				continue
			}
			ep, ok := knownString(m.eval.value(a.Expr, in))
			if !ok {
				out = append(out, fmt.Sprintf("%s[%s]: entry_point cannot be evaluated", where, in.Key))
			} else if !cfg.EntryPoints[ep] {
				out = append(out, fmt.Sprintf("%s[%s]: entry_point %q is not registered in functions.go (have %s)", where, in.Key, ep, strings.Join(sortedKeys(cfg.EntryPoints), ", ")))
			}
		}
	}
	return out
}

// checkPubSub: the push subscription that feeds the forwarder retries with
// backoff, dead-letters to a topic that has a subscription and that the
// Pub/Sub service agent may publish to, authenticates with an OIDC token of
// an account that may invoke the forwarder, and keeps messages for replay.
func checkPubSub(m *Module) []string {
	var out []string
	var push []string
	for _, key := range m.resourcesOf("google_pubsub_subscription") {
		if block(m.Resources[key], "push_config") != nil {
			push = append(push, key)
		}
	}
	if m.has("google_cloudfunctions2_function") && len(push) == 0 {
		out = append(out, m.Dir+": functions but no Pub/Sub push subscription feeding the forwarder")
	}
	for _, key := range push {
		b := m.Resources[key]
		where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), key)
		sub := ref{Type: "google_pubsub_subscription", Name: b.Labels[1]}

		oidc := block(b, "push_config", "oidc_token")
		var pusher ref
		if oidc == nil || attr(oidc, "service_account_email") == nil {
			out = append(out, where+": push_config.oidc_token with service_account_email missing")
		} else if r, ok := refTo(attr(oidc, "service_account_email").Expr, "google_service_account"); ok {
			pusher = r
		}
		if endpoint := attr(block(b, "push_config"), "push_endpoint"); endpoint == nil {
			out = append(out, where+": push_config.push_endpoint missing")
		} else if _, ok := refTo(endpoint.Expr, "google_cloudfunctions2_function"); !ok {
			out = append(out, where+": push_endpoint does not point at a google_cloudfunctions2_function")
		}
		if pusher.Type != "" && !m.hasGrant(pusher, "roles/run.invoker", "google_cloud_run_v2_service_iam_member", "google_cloud_run_service_iam_member", "google_cloudfunctions2_function_iam_member") {
			out = append(out, fmt.Sprintf("%s: %s (the push identity) has no run.invoker on a function", where, pusher))
		}

		if rp := block(b, "retry_policy"); rp == nil {
			out = append(out, where+": retry_policy missing (Moloco asks for >= 5 s, then exponential backoff)")
		} else {
			min, ok := m.duration(attr(rp, "minimum_backoff"))
			if !ok || min < 5*time.Second {
				out = append(out, where+": retry_policy.minimum_backoff must be known and at least 5s")
			}
			if max, ok := m.duration(attr(rp, "maximum_backoff")); !ok || max < min {
				out = append(out, where+": retry_policy.maximum_backoff must be known and at least minimum_backoff")
			}
		}

		dl := block(b, "dead_letter_policy")
		if dl == nil {
			out = append(out, where+": dead_letter_policy missing")
		} else {
			if n, ok := knownNumber(m.valueOf(attr(dl, "max_delivery_attempts"))); !ok || n < 5 || n > 100 {
				out = append(out, where+": dead_letter_policy.max_delivery_attempts must be known and 5 to 100")
			}
			topic, ok := ref{}, false
			if a := attr(dl, "dead_letter_topic"); a != nil {
				topic, ok = refTo(a.Expr, "google_pubsub_topic")
			}
			if !ok {
				out = append(out, where+": dead_letter_policy.dead_letter_topic must name a google_pubsub_topic")
			} else {
				if !m.topicHasSubscription(topic) {
					out = append(out, fmt.Sprintf("%s: the dead-letter topic %s has no subscription: dead-lettered messages would be lost", where, topic))
				}
				if !m.agentGrant("google_pubsub_topic_iam_member", "topic", topic, "roles/pubsub.publisher") {
					out = append(out, fmt.Sprintf("%s: the Pub/Sub service agent has no roles/pubsub.publisher on %s", where, topic))
				}
			}
			if !m.agentGrant("google_pubsub_subscription_iam_member", "subscription", sub, "roles/pubsub.subscriber") {
				out = append(out, fmt.Sprintf("%s: the Pub/Sub service agent has no roles/pubsub.subscriber on %s", where, sub))
			}
		}

		if !m.valueOf(attr(b, "retain_acked_messages")).RawEquals(cty.True) {
			out = append(out, where+": retain_acked_messages = true needed for replay")
		}
		if attr(b, "message_retention_duration") == nil {
			out = append(out, where+": message_retention_duration missing")
		}
	}
	return out
}

// valueOf evaluates a top-level (not for_each) attribute; nil gives null.
func (m *Module) valueOf(a *hclsyntax.Attribute) cty.Value {
	if a == nil {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return m.eval.value(a.Expr, instance{})
}

func (m *Module) duration(a *hclsyntax.Attribute) (time.Duration, bool) {
	s, ok := knownString(m.valueOf(a))
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

func (m *Module) topicHasSubscription(topic ref) bool {
	for _, key := range m.resourcesOf("google_pubsub_subscription") {
		if r, ok := refTo(attrExpr(m.Resources[key], "topic"), "google_pubsub_topic"); ok && r.Name == topic.Name {
			return true
		}
	}
	return false
}

// agentGrant: an IAM member resource of typ, on the resource named by
// field, grants role to the Pub/Sub service agent.
func (m *Module) agentGrant(typ, field string, target ref, role string) bool {
	for _, key := range m.resourcesOf(typ) {
		b := m.Resources[key]
		r, ok := refTo(attrExpr(b, field), target.Type)
		if !ok || r.Name != target.Name {
			continue
		}
		roleV, _ := knownString(m.valueOf(attr(b, "role")))
		member := attr(b, "member")
		if roleV == role && member != nil && m.namesAgent(member.Expr, "pubsub") {
			return true
		}
	}
	return false
}

// hasGrant: a member resource of one of types grants role to who.
func (m *Module) hasGrant(who ref, role string, types ...string) bool {
	for _, typ := range types {
		for _, key := range m.resourcesOf(typ) {
			b := m.Resources[key]
			roleV, _ := knownString(m.valueOf(attr(b, "role")))
			if roleV != role {
				continue
			}
			if r, ok := refTo(attrExpr(b, "member"), who.Type); ok && r == who {
				return true
			}
		}
	}
	return false
}

func attrExpr(b *hclsyntax.Block, name string) hclsyntax.Expression {
	if a := attr(b, name); a != nil {
		return a.Expr
	}
	return nil
}

func checkGCPScheduler(m *Module) []string {
	var out []string
	jobs := m.resourcesOf("google_cloud_scheduler_job")
	if m.has("google_cloudfunctions2_function") && len(jobs) == 0 {
		out = append(out, m.Dir+": no Cloud Scheduler job running backfill")
	}
	for _, key := range jobs {
		b := m.Resources[key]
		oidc := block(b, "http_target", "oidc_token")
		if oidc == nil || attr(oidc, "service_account_email") == nil {
			out = append(out, fmt.Sprintf("%s: %s: http_target.oidc_token missing", m.pos(b.DefRange()), key))
			continue
		}
		if who, ok := refTo(attr(oidc, "service_account_email").Expr, "google_service_account"); !ok ||
			!m.hasGrant(who, "roles/run.invoker", "google_cloud_run_v2_service_iam_member", "google_cloud_run_service_iam_member", "google_cloudfunctions2_function_iam_member") {
			out = append(out, fmt.Sprintf("%s: %s: the scheduler's account has no run.invoker on a function", m.pos(b.DefRange()), key))
		}
	}
	return out
}

func checkFirestore(m *Module) []string {
	if !m.has("google_firestore_database") && !m.has("google_cloudfunctions2_function") {
		return nil
	}
	for _, key := range m.resourcesOf("google_firestore_field") {
		if block(m.Resources[key], "ttl_config") != nil {
			return nil
		}
	}
	return []string{m.Dir + ": no google_firestore_field with ttl_config: the ledger would never expire"}
}

func checkLambda(m *Module) []string {
	var out []string
	for _, key := range m.resourcesOf("aws_lambda_function") {
		b := m.Resources[key]
		where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), key)
		for _, in := range m.eval.instances(b) {
			w := fmt.Sprintf("%s[%s]", where, in.Key)
			if s, _ := knownString(m.evalAttr(b, "runtime", in)); s != "provided.al2023" {
				out = append(out, fmt.Sprintf("%s: runtime %q, want provided.al2023", w, s))
			}
			if archs, ok := knownStrings(m.evalAttr(b, "architectures", in)); !ok || len(archs) != 1 || archs[0] != "arm64" {
				out = append(out, fmt.Sprintf("%s: architectures %q, want [arm64]", w, archs))
			}
			if s, _ := knownString(m.evalAttr(b, "handler", in)); s != "bootstrap" {
				out = append(out, fmt.Sprintf("%s: handler %q, want bootstrap", w, s))
			}
		}
	}
	return out
}

func (m *Module) evalAttr(b *hclsyntax.Block, name string, in instance) cty.Value {
	if a := attr(b, name); a != nil {
		return m.eval.value(a.Expr, in)
	}
	return cty.NullVal(cty.DynamicPseudoType)
}

// instanceOf finds a resource instance by reference (the key picks the
// for_each instance).
func (m *Module) instanceOf(r ref) (*hclsyntax.Block, instance, bool) {
	b := m.Resources[r.Type+"."+r.Name]
	if b == nil {
		return nil, instance{}, false
	}
	for _, in := range m.eval.instances(b) {
		if in.Key == r.Key {
			return b, in, true
		}
	}
	return nil, instance{}, false
}

// checkEventSourceMapping: the forwarder reports partial batch failures,
// its queue dead-letters through a redrive policy, and the queue's
// visibility timeout is at least six times the function's timeout.
func checkEventSourceMapping(m *Module) []string {
	var out []string
	mappings := m.resourcesOf("aws_lambda_event_source_mapping")
	if m.has("aws_lambda_function") && len(mappings) == 0 {
		out = append(out, m.Dir+": Lambda functions but no event source mapping feeding the forwarder")
	}
	for _, key := range mappings {
		b := m.Resources[key]
		where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), key)
		if types, ok := knownStrings(m.valueOf(attr(b, "function_response_types"))); !ok || len(types) != 1 || types[0] != "ReportBatchItemFailures" {
			out = append(out, where+`: function_response_types must be ["ReportBatchItemFailures"]`)
		}
		if sc := block(b, "scaling_config"); sc == nil || attr(sc, "maximum_concurrency") == nil {
			out = append(out, where+": scaling_config.maximum_concurrency missing")
		}
		if attr(b, "batch_size") == nil {
			out = append(out, where+": batch_size missing")
		}
		qref, ok := refTo(attrExpr(b, "event_source_arn"), "aws_sqs_queue")
		if !ok {
			out = append(out, where+": event_source_arn does not name an aws_sqs_queue")
			continue
		}
		q, qin, ok := m.instanceOf(qref)
		if !ok {
			continue // an undeclared reference is reported by CheckReferences
		}
		if rp := attr(q, "redrive_policy"); rp == nil {
			out = append(out, fmt.Sprintf("%s: queue %s has no redrive_policy", where, qref))
		} else if src := m.source(rp.Expr); !strings.Contains(src, "deadLetterTargetArn") || !strings.Contains(src, "maxReceiveCount") {
			out = append(out, fmt.Sprintf("%s: queue %s redrive_policy needs deadLetterTargetArn and maxReceiveCount", where, qref))
		}
		vis, okV := knownNumber(m.evalAttr(q, "visibility_timeout_seconds", qin))
		fref, okF := refTo(attrExpr(b, "function_name"), "aws_lambda_function")
		if !okF {
			out = append(out, where+": function_name does not name an aws_lambda_function")
			continue
		}
		fb, fin, ok := m.instanceOf(fref)
		if !ok {
			continue
		}
		timeout, okT := knownNumber(m.evalAttr(fb, "timeout", fin))
		switch {
		case !okV || !okT:
			out = append(out, fmt.Sprintf("%s: cannot evaluate %s visibility_timeout_seconds or %s timeout from the defaults", where, qref, fref))
		case vis < 6*timeout:
			out = append(out, fmt.Sprintf("%s: %s visibility timeout %gs is below 6 x %s timeout %gs", where, qref, vis, fref, timeout))
		}
	}
	return out
}

// checkAWSScheduler: the schedule's role may only invoke Lambda functions.
func checkAWSScheduler(m *Module) []string {
	var out []string
	schedules := m.resourcesOf("aws_scheduler_schedule")
	if m.has("aws_lambda_function") && len(schedules) == 0 {
		out = append(out, m.Dir+": no EventBridge Scheduler schedule running backfill")
	}
	for _, key := range schedules {
		b := m.Resources[key]
		where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), key)
		target := block(b, "target")
		role, ok := refTo(attrExpr(target, "role_arn"), "aws_iam_role")
		if target == nil || !ok {
			out = append(out, where+": target.role_arn must name an aws_iam_role")
			continue
		}
		found := false
		for _, pkey := range m.resourcesOf("aws_iam_role_policy") {
			p := m.Resources[pkey]
			if r, ok := refTo(attrExpr(p, "role"), "aws_iam_role"); !ok || r.Name != role.Name {
				continue
			}
			found = true
			doc, ok := refToData(attrExpr(p, "policy"), "aws_iam_policy_document")
			db := m.Data["aws_iam_policy_document."+doc]
			if !ok || db == nil {
				out = append(out, fmt.Sprintf("%s: %s policy is not a data aws_iam_policy_document", where, pkey))
				continue
			}
			for _, st := range blocks(db, "statement") {
				acts, _ := knownStrings(m.valueOf(attr(st, "actions")))
				if len(acts) != 1 || acts[0] != "lambda:InvokeFunction" {
					out = append(out, fmt.Sprintf("%s: scheduler role may do %q; only lambda:InvokeFunction", where, acts))
				}
				if _, ok := refTo(attrExpr(st, "resources"), "aws_lambda_function"); !ok {
					out = append(out, where+": scheduler role's resources must name the backfill function")
				}
			}
		}
		if !found {
			out = append(out, fmt.Sprintf("%s: role %s has no policy", where, role))
		}
	}
	return out
}

func refToData(e hclsyntax.Expression, typ string) (string, bool) {
	if e == nil {
		return "", false
	}
	for _, t := range e.Variables() {
		if t.RootName() == "data" && len(t) > 2 {
			if ta, ok := t[1].(hcl.TraverseAttr); ok && ta.Name == typ {
				if n, ok := t[2].(hcl.TraverseAttr); ok {
					return n.Name, true
				}
			}
		}
	}
	return "", false
}

func checkDynamoDB(m *Module) []string {
	var out []string
	for _, key := range m.resourcesOf("aws_dynamodb_table") {
		b := m.Resources[key]
		ttl := block(b, "ttl")
		if ttl == nil || attr(ttl, "attribute_name") == nil || !m.valueOf(attr(ttl, "enabled")).RawEquals(cty.True) {
			out = append(out, fmt.Sprintf("%s: %s: ttl { attribute_name, enabled = true } missing", m.pos(b.DefRange()), key))
		}
	}
	return out
}

func checkLogGroups(m *Module) []string {
	var out []string
	for _, key := range m.resourcesOf("aws_cloudwatch_log_group") {
		if attr(m.Resources[key], "retention_in_days") == nil {
			out = append(out, fmt.Sprintf("%s: %s: retention_in_days missing (logs kept forever)", m.pos(m.Resources[key].DefRange()), key))
		}
	}
	if m.has("aws_lambda_function") && !m.has("aws_cloudwatch_log_group") {
		out = append(out, m.Dir+": Lambda functions without log groups with a retention")
	}
	return out
}

// checkEnvironment: every environment variable a function is given is one
// the code reads (a misspelt name is silently ignored at run time).
func checkEnvironment(m *Module, cfg Config) []string {
	var out []string
	check := func(where string, b *hclsyntax.Block, env *hclsyntax.Attribute) {
		for _, in := range m.eval.instances(b) {
			v := m.eval.value(env.Expr, in)
			if !v.IsKnown() || v.IsNull() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
				out = append(out, fmt.Sprintf("%s[%s]: environment keys cannot be evaluated", where, in.Key))
				continue
			}
			for it := v.ElementIterator(); it.Next(); {
				k, _ := it.Element()
				if !cfg.EnvNames[k.AsString()] {
					out = append(out, fmt.Sprintf("%s[%s]: sets %s, which the code does not read", where, in.Key, k.AsString()))
				}
			}
		}
	}
	for _, key := range m.resourcesOf("google_cloudfunctions2_function") {
		b := m.Resources[key]
		if a := attr(block(b, "service_config"), "environment_variables"); a != nil {
			check(fmt.Sprintf("%s: %s", m.pos(a.SrcRange), key), b, a)
		}
	}
	for _, key := range m.resourcesOf("aws_lambda_function") {
		b := m.Resources[key]
		if a := attr(block(b, "environment"), "variables"); a != nil {
			check(fmt.Sprintf("%s: %s", m.pos(a.SrcRange), key), b, a)
		}
	}
	return out
}

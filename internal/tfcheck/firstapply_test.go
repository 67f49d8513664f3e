package tfcheck

import "testing"

// The first-apply rules fail on fixtures shaped like the modules before
// they were fixed: every point that broke a first apply is reported.
func TestFirstApplyRulesCatchViolations(t *testing.T) {
	cfg := repoConfig(t)
	cases := map[string][]string{
		"fresh-gcp": {
			"data.google_project.this: the lookup needs the Cloud Resource Manager API at plan time",
			"cloudresourcemanager.googleapis.com is not enabled",
			"iam.googleapis.com is not enabled",
			"google_pubsub_topic_iam_member.agent: grants to a service agent without a wait after the agents are created",
			"google_project_service_identity.agent: google_project_service_identity is in google-beta only",
			"google_project_service_identity.agent: must depend on google_project_service",
			"required_providers has no google-beta",
			"google_cloudfunctions2_function.fn: build_config.service_account is unset at the defaults",
			"google_pubsub_subscription_iam_member.seek: grants roles/pubsub.editor",
			"no output gives the command that runs backfill by hand (gcloud scheduler jobs run --project --location)",
		},
		"fresh-aws": {
			"aws_lambda_permission.url_public: a function URL with authorization_type NONE adds this statement itself",
			"aws_lambda_permission.url_invoke: a function URL with authorization_type NONE adds this statement itself",
			`required_providers aws "~> 6.0" admits versions below 6.28.0`,
			"aws_lambda_function.backfill[]: reserves 1 concurrent executions by default",
			"no output gives the command that runs backfill by hand (aws lambda invoke --region --function-name)",
		},
	}
	expectReported(t, cfg, cases)
}

// The issue-24 rules fail on fixtures shaped like the modules at 22ca520,
// before the fix: alerts racing their metrics, functions before their
// grants, agents named through google_project_service_identity and granted
// at once, names that collide, a teardown that keeps the database, and a
// forwarder that may take a new account's whole concurrency.
func TestIssue24RulesCatchViolations(t *testing.T) {
	cfg := repoConfig(t)
	cases := map[string][]string{
		"firstapply-gcp": {
			"google_monitoring_alert_policy.errors reads a log-based metric created in the same apply without a wait after it",
			"google_cloudfunctions2_function.fn: is not created after google_pubsub_topic_iam_member.ingest_publishes, a grant to its identity google_service_account.sa",
			"google_pubsub_topic_iam_member.agent_publishes: takes the service agent's address from google_project_service_identity",
			"google_pubsub_topic_iam_member.agent_publishes: grants to a service agent without a wait after the agents are created",
			"google_firestore_database.ledger: deletion_policy is not DELETE",
			`google_firestore_database.ledger[]: name "eventrelay-ledger" does not derive from name_prefix`,
			`time_sleep.forever: create_duration "2h" must be a duration above 0 and at most 15m0s`,
			"time_sleep needs hashicorp/time in required_providers",
		},
		"firstapply-aws": {
			"aws_iam_role.fn: name is unique in the whole account: include the region",
			"aws_cloudwatch_dashboard.funnel: dashboard_name is unique in the whole account: include the region",
			"aws_lambda_function.fn: is not created after aws_iam_role_policy.erase_keys, a grant to its identity aws_iam_role.fn",
			"aws_lambda_event_source_mapping.forwarder: maximum_concurrency 10 (+1 backfill) leaves -1 of a new account's 10 concurrent executions",
		},
	}
	expectReported(t, cfg, cases)
}

func TestLowerBound(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want [3]int
		ok   bool
	}{
		{[]string{"~> 6.28"}, [3]int{6, 28, 0}, true},
		{[]string{">= 6.28.1, < 7.0.0"}, [3]int{6, 28, 1}, true},
		{[]string{"~> 6.0", ">= 6.30"}, [3]int{6, 30, 0}, true},
		{[]string{"< 7.0"}, [3]int{}, false},
		{[]string{"6.31.0"}, [3]int{6, 31, 0}, true},
		{[]string{"~> six"}, [3]int{}, false},
	} {
		got, ok := lowerBound(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("lowerBound(%q) = %v %v, want %v %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

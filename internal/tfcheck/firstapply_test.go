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
			"google_pubsub_topic_iam_member.agent: names a service agent by its address",
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

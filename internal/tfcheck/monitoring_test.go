package tfcheck

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMonitoringRulesCatchViolations: each fixture breaks every
// monitoring rule once.
func TestMonitoringRulesCatchViolations(t *testing.T) {
	cases := map[string][]string{
		"monitoring_gcp": {
			"google_monitoring_alert_policy.silent: notification_channels is empty",
			"google_monitoring_alert_policy.silent: no documentation",
			"google_monitoring_alert_policy.wrong_label: no documentation",
			"metric logging.googleapis.com/user/acme/nope is neither built in nor a google_logging_metric",
			"filter uses label class, which google_logging_metric.events does not extract",
			"metric custom.googleapis.com/made_up is neither built in",
			"google_monitoring_dashboard.board chart: metric logging.googleapis.com/user/acme/missing is neither built in",
			"board chart: PromQL reads logging_googleapis_com:user_acme_gone_sum, which is not <a google_logging_metric",
			"board chart: PromQL reads logging_googleapis_com:user_acme_events_sum, but google_logging_metric.events is a counter",
			`board chart: PromQL "sum(rate(run_googleapis_com:request_count[5m]))" names no log-based metric`,
		},
		"monitoring_aws": {
			"aws_cloudwatch_metric_alarm.silent[]: alarm_actions is empty",
			"aws_cloudwatch_metric_alarm.silent[]: no alarm_description",
			"metric acme/not_published is published by no aws_cloudwatch_log_metric_filter",
			"aws_cloudwatch_metric_alarm.wrong_dimensions[] alarm: dimensions [], but aws_cloudwatch_log_metric_filter.outcomes[] publishes forwarder_outcomes with [Outcome]",
			"aws_cloudwatch_metric_alarm.query[] metric_query m1: dimensions [Class], but",
		},
	}
	for dir, wants := range cases {
		t.Run(dir, func(t *testing.T) {
			m := load(t, filepath.Join("testdata", "bad", dir))
			all := strings.Join(checkMonitoring(m), "\n")
			for _, w := range wants {
				if !strings.Contains(all, w) {
					t.Errorf("not reported: %q", w)
				}
			}
			if t.Failed() {
				t.Logf("reported:\n%s", all)
			}
		})
	}
}

// TestModulesMonitor: both modules define log-based metrics whose every
// value is known from the defaults (internal/logmetrics runs them against
// the functions' lines), and pass the monitoring rules.
func TestModulesMonitor(t *testing.T) {
	for _, cloud := range []string{"gcp", "aws"} {
		m := load(t, filepath.Join(tfRoot, "modules", cloud))
		gcp, aws, problems := LogMetrics(m)
		for _, p := range append(problems, checkMonitoring(m)...) {
			t.Errorf("%s: %s", cloud, p)
		}
		if n := len(gcp) + len(aws); n < 8 {
			t.Errorf("%s: only %d log-based metrics", cloud, n)
		}
	}
}

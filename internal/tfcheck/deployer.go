package tfcheck

import (
	"fmt"
	"sort"
	"strings"
)

// What the person or pipeline running terraform apply must be granted: per
// resource type the modules use, the Google Cloud predefined roles
// (without "roles/") or AWS managed policies whose permissions create,
// change and delete it. The deploy runbooks (docs/deploy-gcp.md,
// docs/deploy-aws.md) grant exactly the union of what the modules' types
// need; a type missing here is a problem, so a new kind of resource comes
// with its justification.
var deployerGrants = map[string][]string{
	// Google Cloud.
	"google_project_service":          {"serviceusage.serviceUsageAdmin"},
	"google_project_service_identity": {"serviceusage.serviceUsageAdmin"},
	// resourcemanager.projects.get, for the agents' project number.
	"data.google_project":                            {"resourcemanager.projectIamAdmin"},
	"google_project_iam_member":                      {"resourcemanager.projectIamAdmin"},
	"google_project_iam_custom_role":                 {"iam.roleAdmin"},
	"google_service_account":                         {"iam.serviceAccountAdmin"},
	"google_service_account_iam_member":              {"iam.serviceAccountAdmin"},
	"google_cloudfunctions2_function":                {"cloudfunctions.admin", "iam.serviceAccountUser"}, // runs as the module's accounts
	"google_cloud_run_v2_service_iam_member":         {"run.admin"},
	"google_pubsub_topic":                            {"pubsub.admin"},
	"google_pubsub_topic_iam_member":                 {"pubsub.admin"},
	"google_pubsub_subscription":                     {"pubsub.admin", "iam.serviceAccountUser"}, // pushes with the push account's token
	"google_pubsub_subscription_iam_member":          {"pubsub.admin"},
	"google_secret_manager_secret":                   {"secretmanager.admin"},
	"google_secret_manager_secret_iam_member":        {"secretmanager.admin"},
	"google_cloud_scheduler_job":                     {"cloudscheduler.admin", "iam.serviceAccountUser"}, // calls backfill as the scheduler account
	"google_firestore_database":                      {"datastore.owner"},
	"google_firestore_index":                         {"datastore.owner"},
	"google_firestore_field":                         {"datastore.owner"},
	"google_storage_bucket":                          {"storage.admin"},
	"google_storage_bucket_object":                   {"storage.admin"},
	"google_storage_bucket_iam_member":               {"storage.admin"},
	"google_artifact_registry_repository":            {"artifactregistry.admin"},
	"google_artifact_registry_repository_iam_member": {"artifactregistry.admin"},
	"google_logging_metric":                          {"logging.configWriter"}, // logging.logMetrics.*
	"google_logging_project_exclusion":               {"logging.configWriter"}, // logging.exclusions.*
	"google_monitoring_alert_policy":                 {"monitoring.editor"},
	"google_monitoring_notification_channel":         {"monitoring.editor"},
	"google_monitoring_dashboard":                    {"monitoring.editor"},

	// AWS.
	"aws_lambda_function":                                {"AWSLambda_FullAccess", "IAMFullAccess"}, // iam:PassRole of its role
	"aws_lambda_function_url":                            {"AWSLambda_FullAccess"},
	"aws_lambda_event_source_mapping":                    {"AWSLambda_FullAccess"},
	"aws_lambda_function_event_invoke_config":            {"AWSLambda_FullAccess"},
	"aws_iam_role":                                       {"IAMFullAccess"},
	"aws_iam_role_policy":                                {"IAMFullAccess"},
	"aws_sqs_queue":                                      {"AmazonSQSFullAccess"},
	"aws_sqs_queue_redrive_allow_policy":                 {"AmazonSQSFullAccess"},
	"aws_secretsmanager_secret":                          {"SecretsManagerReadWrite"},
	"aws_dynamodb_table":                                 {"AmazonDynamoDBFullAccess"},
	"aws_cloudwatch_log_group":                           {"CloudWatchLogsFullAccess"},
	"aws_cloudwatch_log_metric_filter":                   {"CloudWatchLogsFullAccess"},
	"aws_scheduler_schedule":                             {"AmazonEventBridgeSchedulerFullAccess", "IAMFullAccess"}, // iam:PassRole of its role
	"aws_cloudwatch_metric_alarm":                        {"CloudWatchFullAccessV2"},
	"aws_cloudwatch_dashboard":                           {"CloudWatchFullAccessV2"},
	"aws_sns_topic":                                      {"AmazonSNSFullAccess"},
	"aws_sns_topic_subscription":                         {"AmazonSNSFullAccess", "IAMFullAccess"},             // iam:PassRole of a Firehose subscription's role
	"aws_kinesis_firehose_delivery_stream":               {"AmazonKinesisFirehoseFullAccess", "IAMFullAccess"}, // iam:PassRole of its role
	"aws_s3_bucket":                                      {"AmazonS3FullAccess"},
	"aws_s3_bucket_public_access_block":                  {"AmazonS3FullAccess"},
	"aws_s3_bucket_ownership_controls":                   {"AmazonS3FullAccess"},
	"aws_s3_bucket_server_side_encryption_configuration": {"AmazonS3FullAccess"},
	"aws_s3_bucket_lifecycle_configuration":              {"AmazonS3FullAccess"},
	"aws_cloudwatch_log_stream":                          {"CloudWatchLogsFullAccess"},
	"aws_sqs_queue_policy":                               {"AmazonSQSFullAccess"},

	// Nothing to grant: read from the credentials, computed locally, or a
	// wait.
	"data.aws_caller_identity":     nil,
	"data.aws_region":              nil,
	"data.aws_iam_policy_document": nil,
	"terraform_data":               nil,
	"time_sleep":                   nil,
}

// DeployerNeeds returns the roles or policies a module's resource types
// need by table (deployerGrants), each with the types that need it, and
// the types the table does not know.
func DeployerNeeds(m *Module, table map[string][]string) (map[string][]string, []string) {
	types := map[string]bool{}
	for key := range m.Resources {
		types[strings.SplitN(key, ".", 2)[0]] = true
	}
	for key := range m.Data {
		types["data."+strings.SplitN(key, ".", 2)[0]] = true
	}
	needs := map[string][]string{}
	var unknown []string
	for _, typ := range sortedKeys(types) {
		grants, ok := table[typ]
		if !ok {
			unknown = append(unknown, typ)
			continue
		}
		for _, g := range grants {
			needs[g] = append(needs[g], typ)
		}
	}
	return needs, unknown
}

// checkDeployerGrants compares the roles or policies a runbook grants (the
// words of its grant loop) with what the module needs: every one needed is
// granted, and none is granted that nothing needs (readers aside: the
// runbook may add roles to read logs).
func checkDeployerGrants(granted []string, m *Module, table map[string][]string, readers map[string]bool) []string {
	needs, unknown := DeployerNeeds(m, table)
	var out []string
	for _, typ := range unknown {
		out = append(out, fmt.Sprintf("%s: no deployer role or policy is known for %s (add it to deployerGrants with the reason)", m.Dir, typ))
	}
	have := map[string]bool{}
	for _, g := range granted {
		have[g] = true
		if needs[g] == nil && !readers[g] {
			out = append(out, fmt.Sprintf("the runbook grants %s, which no resource of %s needs", g, m.Dir))
		}
	}
	for _, g := range sortedKeys(needs) {
		if !have[g] {
			types := append([]string(nil), needs[g]...)
			sort.Strings(types)
			out = append(out, fmt.Sprintf("the runbook does not grant %s, which %s need", g, strings.Join(types, ", ")))
		}
	}
	return out
}

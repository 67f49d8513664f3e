package tfcheck

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// archiveOn loads the AWS module with archive_enabled = true, as a caller
// turning the archive on would: its resources have one instance each.
func archiveOn(t *testing.T) *Module {
	t.Helper()
	m := load(t, filepath.Join(tfRoot, "modules", "aws"))
	m.eval = newEvaluatorWith(m, map[string]cty.Value{"archive_enabled": cty.True})
	return m
}

// TestAWSModuleWithTheArchive: every rule holds with the archive on too
// (at the defaults its resources have no instance, so the policy and
// monitoring rules would not look at them).
func TestAWSModuleWithTheArchive(t *testing.T) {
	m := archiveOn(t)
	for _, p := range Check(m, repoConfig(t)) {
		t.Errorf("modules/aws with archive_enabled: %s", p)
	}
}

// TestAWSArchiveTopic: the topic ingest publishes to is a standard topic
// (a FIFO topic cannot deliver to a standard queue or to Firehose) that
// delivers to the events queue raw, and the queue takes messages from this
// topic only; the topic is encrypted with KMS exactly when the queue is.
func TestAWSArchiveTopic(t *testing.T) {
	m := archiveOn(t)
	topic := m.Resources["aws_sns_topic.events"]
	if topic == nil {
		t.Fatal("no aws_sns_topic.events")
	}
	if v := m.valueOf(attr(topic, "fifo_topic")); v.RawEquals(cty.True) {
		t.Error("the events topic is FIFO: SNS delivers a FIFO topic to FIFO queues only, and not to Firehose")
	}
	queue := m.Resources["aws_sqs_queue.events"]
	if (attr(queue, "kms_master_key_id") != nil) != (attr(topic, "kms_master_key_id") != nil) {
		t.Error("the events topic and queue differ in KMS encryption: encrypt the topic as the queue is")
	}

	sub := m.Resources["aws_sns_topic_subscription.events_queue"]
	if sub == nil {
		t.Fatal("no aws_sns_topic_subscription.events_queue")
	}
	for name, want := range map[string]string{"topic_arn": "aws_sns_topic.events[0].arn", "protocol": `"sqs"`,
		"endpoint": "aws_sqs_queue.events.arn", "raw_message_delivery": "true"} {
		if got := exprText(t, attr(sub, name)); got != want {
			t.Errorf("events_queue subscription: %s = %s, want %s", name, got, want)
		}
	}

	pol := m.Resources["aws_sqs_queue_policy.events_from_topic"]
	if got := exprText(t, attr(pol, "queue_url")); got != "aws_sqs_queue.events.id" {
		t.Errorf("the queue policy is on %s, not the events queue", got)
	}
	doc, _ := refToData(attrExpr(pol, "policy"), "aws_iam_policy_document")
	sts := blocks(m.Data["aws_iam_policy_document."+doc], "statement")
	if len(sts) != 1 {
		t.Fatalf("the queue policy has %d statements, want 1", len(sts))
	}
	st := sts[0]
	if got := exprText(t, attr(st, "actions")); got != `["sqs:SendMessage"]` {
		t.Errorf("the queue policy allows %s, want only sqs:SendMessage", got)
	}
	if got := exprText(t, attr(block(st, "principals"), "identifiers")); got != `["sns.amazonaws.com"]` {
		t.Errorf("the queue policy's principal is %s, want SNS", got)
	}
	cond := block(st, "condition")
	if exprText(t, attr(cond, "test")) != `"ArnEquals"` || exprText(t, attr(cond, "variable")) != `"aws:SourceArn"` ||
		exprText(t, attr(cond, "values")) != "[aws_sns_topic.events[0].arn]" {
		t.Error("the queue policy must be conditioned on aws:SourceArn = the events topic (no other topic may send)")
	}
}

// TestAWSSchemaRulesCatchViolations: each rule of awsschema.go reports the
// fault planted for it in testdata/bad/awsschema.
func TestAWSSchemaRulesCatchViolations(t *testing.T) {
	expectReported(t, repoConfig(t), map[string][]string{"awsschema": {
		"aws_sns_topic.t: kms_master_keyid is not an argument",
		"aws_sns_topic_subscription.to_firehose: raw_message_delivry is not an argument",
		"aws_sns_topic_subscription.to_firehose: protocol firehose needs subscription_role_arn",
		"aws_sns_topic_subscription.to_queue: an sqs subscription's endpoint is the queue's ARN, not its URL",
		`aws_sns_topic_subscription.to_stream: protocol = "kinesis", which the API does not take`,
		"aws_sqs_queue_policy.q: the required argument policy is missing",
		"aws_kinesis_firehose_delivery_stream.no_config: destination extended_s3 needs an extended_s3_configuration block",
		`aws_kinesis_firehose_delivery_stream.old_style: destination = "s3", which the API does not take`,
		"aws_kinesis_firehose_delivery_stream.old_style: s3_configuration is deprecated by the provider",
		"aws_kinesis_firehose_delivery_stream.wrong: processing_configuration is not a block of this block",
		"aws_kinesis_firehose_delivery_stream.wrong extended_s3_configuration: buffer_size is deprecated by the provider: use buffering_size",
		"aws_kinesis_firehose_delivery_stream.wrong extended_s3_configuration: buffering_interval = 1000 is outside 0 to 900",
		`aws_kinesis_firehose_delivery_stream.wrong extended_s3_configuration: compression_format = "gzip", which the API does not take`,
		`processing_configuration processors: type = "AppendDelimiter", which the API does not take`,
		`processing_configuration processors parameters: parameter_name = "Delim", which the API does not take`,
		"aws_kinesis_firehose_delivery_stream.wrong: a prefix with !{...} expressions needs error_output_prefix",
		"aws_kinesis_firehose_delivery_stream.wrong: cloudwatch_logging_options enabled needs log_stream_name",
		"aws_s3_bucket.b: versioning is deprecated by the provider: use aws_s3_bucket_versioning",
		"aws_s3_bucket_public_access_block.b: block_public_acl is not an argument",
		`apply_server_side_encryption_by_default: sse_algorithm = "AES-256", which the API does not take`,
		"aws_s3_bucket_server_side_encryption_configuration.no_rule: the required block rule is missing",
		`aws_s3_bucket_lifecycle_configuration.b rule: status = "enabled", which the API does not take`,
		"aws_s3_bucket_lifecycle_configuration.b rule: the required argument id is missing",
		"aws_s3_bucket_lifecycle_configuration.b rule expiration: days = 0 is below its least, 1",
		"aws_s3_bucket_lifecycle_configuration.b: a lifecycle rule needs a filter block",
		"aws_cloudwatch_log_stream.s: the required argument log_group_name is missing",
	}})
}

// The schema rules pass the resources they know as the provider documents
// them: a correct block is not reported (a checker that refuses everything
// proves nothing either).
func TestAWSSchemaAcceptsTheDocumentedForm(t *testing.T) {
	for _, dir := range []string{filepath.Join(tfRoot, "modules", "aws"), filepath.Join(tfRoot, "examples", "aws")} {
		m := load(t, dir)
		if p := checkAWSSchema(m); len(p) > 0 {
			t.Errorf("%s:\n%s", dir, strings.Join(p, "\n"))
		}
	}
}

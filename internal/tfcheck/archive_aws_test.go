package tfcheck

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"eventrelay.dev/eventrelay/shared/archive"
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

// grantsOf lists a policy document's statements as "action resources"
// lines, the resources as written.
func grantsOf(t *testing.T, m *Module, doc string) []string {
	t.Helper()
	b := m.Data["aws_iam_policy_document."+doc]
	if b == nil {
		t.Fatalf("no data.aws_iam_policy_document.%s", doc)
	}
	var out []string
	for _, st := range blocks(b, "statement") {
		acts, ok := knownStrings(m.valueOf(attr(st, "actions")))
		if !ok {
			t.Fatalf("%s: actions cannot be read: %s", doc, exprText(t, attr(st, "actions")))
		}
		for _, a := range acts {
			out = append(out, a+" "+exprText(t, attr(st, "resources")))
		}
	}
	slices.Sort(out)
	return out
}

// rolePolicies are the documents of the inline policies on a role.
func rolePolicies(t *testing.T, m *Module, role string) []string {
	t.Helper()
	var out []string
	for _, key := range m.resourcesOf("aws_iam_role_policy") {
		p := m.Resources[key]
		if r, ok := refTo(attrExpr(p, "role"), "aws_iam_role"); ok && r.Name == role {
			doc, _ := refToData(attrExpr(p, "policy"), "aws_iam_policy_document")
			out = append(out, doc)
		}
	}
	return out
}

// TestAWSArchiveStream: Firehose writes what shared/archive reads (the
// prefixes, gzip, one record a line) into the module's own bucket, fed by
// a subscription that keeps SNS's envelope (the attributes); the bucket is
// private, encrypted, unversioned and expires everything it holds after
// archive_retention_days.
func TestAWSArchiveStream(t *testing.T) {
	m := archiveOn(t)
	fh := m.Resources["aws_kinesis_firehose_delivery_stream.archive"]
	if fh == nil {
		t.Fatal("no aws_kinesis_firehose_delivery_stream.archive")
	}
	s3 := block(fh, "extended_s3_configuration")
	for name, want := range map[string]string{
		"bucket_arn":          "aws_s3_bucket.archive[0].arn",
		"prefix":              `"` + archive.S3Prefix + `"`,
		"error_output_prefix": `"` + archive.S3ErrorPrefix + `"`,
		"compression_format":  `"` + archive.S3Compression + `"`,
		"file_extension":      `"` + archive.S3Extension + `"`,
		"custom_time_zone":    `"UTC"`,
	} {
		if got := exprText(t, attr(s3, name)); got != want {
			t.Errorf("extended_s3_configuration.%s = %s, want %s", name, got, want)
		}
	}
	if got := exprText(t, attr(block(s3, "processing_configuration", "processors"), "type")); got != `"`+archive.S3Processor+`"` ||
		exprText(t, attr(block(s3, "processing_configuration"), "enabled")) != "true" {
		t.Errorf("records are not newline delimited (processors type %s)", got)
	}
	if logs := block(s3, "cloudwatch_logging_options"); exprText(t, attr(logs, "enabled")) != "true" {
		t.Error("Firehose does not log its delivery errors")
	}

	sub := m.Resources["aws_sns_topic_subscription.archive"]
	for name, want := range map[string]string{"topic_arn": "aws_sns_topic.events[0].arn", "protocol": `"firehose"`,
		"endpoint": "aws_kinesis_firehose_delivery_stream.archive[0].arn", "raw_message_delivery": "false",
		"subscription_role_arn": "aws_iam_role.archive_subscription[0].arn"} {
		if got := exprText(t, attr(sub, name)); got != want {
			t.Errorf("archive subscription: %s = %s, want %s", name, got, want)
		}
	}

	pab := m.Resources["aws_s3_bucket_public_access_block.archive"]
	for _, name := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
		if exprText(t, attr(pab, name)) != "true" {
			t.Errorf("the archive bucket's public access block leaves %s off", name)
		}
	}
	if got := exprText(t, attr(block(m.Resources["aws_s3_bucket_server_side_encryption_configuration.archive"], "rule",
		"apply_server_side_encryption_by_default"), "sse_algorithm")); got == "" {
		t.Error("the archive bucket has no default encryption")
	}
	for _, key := range m.resourcesOf("aws_s3_bucket_versioning") {
		t.Errorf("%s: a versioned archive keeps what its lifecycle expires (noncurrent versions)", key)
	}
	lc := m.Resources["aws_s3_bucket_lifecycle_configuration.archive"]
	rules := blocks(lc, "rule")
	if len(rules) != 1 {
		t.Fatalf("the archive's lifecycle has %d rules, want 1", len(rules))
	}
	if f := block(rules[0], "filter"); f == nil || len(f.Body.Attributes)+len(f.Body.Blocks) != 0 {
		t.Error("the retention rule must apply to the whole bucket (filter {}), the failed deliveries under errors/ included")
	}
	if got := exprText(t, attr(block(rules[0], "expiration"), "days")); got != "var.archive_retention_days" {
		t.Errorf("the archive expires after %s days, not archive_retention_days", got)
	}
}

// TestAWSArchiveLeastPrivilege: each role of the archive may do only its
// part, on the archive's own resources: SNS put records into this stream,
// Firehose write this bucket and its own log stream.
func TestAWSArchiveLeastPrivilege(t *testing.T) {
	m := archiveOn(t)
	want := map[string][]string{
		"archive_subscription": {
			"firehose:DescribeDeliveryStream [aws_kinesis_firehose_delivery_stream.archive[0].arn]",
			"firehose:PutRecord [aws_kinesis_firehose_delivery_stream.archive[0].arn]",
			"firehose:PutRecordBatch [aws_kinesis_firehose_delivery_stream.archive[0].arn]",
		},
		"archive_firehose": {
			`logs:PutLogEvents [aws_cloudwatch_log_stream.archive[0].arn]`,
			`s3:AbortMultipartUpload ["${aws_s3_bucket.archive[0].arn}/*"]`,
			`s3:GetBucketLocation [aws_s3_bucket.archive[0].arn]`,
			`s3:GetObject ["${aws_s3_bucket.archive[0].arn}/*"]`,
			`s3:ListBucket [aws_s3_bucket.archive[0].arn]`,
			`s3:ListBucketMultipartUploads [aws_s3_bucket.archive[0].arn]`,
			`s3:PutObject ["${aws_s3_bucket.archive[0].arn}/*"]`,
		},
	}
	if got := grantsOf(t, m, "backfill_archive"); !slices.Equal(got, []string{
		`s3:GetObject ["${aws_s3_bucket.archive[0].arn}/events/*"]`, `s3:ListBucket [aws_s3_bucket.archive[0].arn]`}) {
		t.Errorf("backfill may do %v on the archive, want list and read events/ only", got)
	}
	trust := map[string]string{"archive_subscription": `["sns.amazonaws.com"]`, "archive_firehose": `["firehose.amazonaws.com"]`}
	for role, grants := range want {
		docs := rolePolicies(t, m, role)
		if len(docs) != 1 {
			t.Fatalf("role %s has policies %v, want exactly one", role, docs)
		}
		if got := grantsOf(t, m, docs[0]); !slices.Equal(got, grants) {
			t.Errorf("role %s may do\n  %s\nwant\n  %s", role, strings.Join(got, "\n  "), strings.Join(grants, "\n  "))
		}
		assume, _ := refToData(attrExpr(m.Resources["aws_iam_role."+role], "assume_role_policy"), "aws_iam_policy_document")
		if got := exprText(t, attr(block(m.Data["aws_iam_policy_document."+assume], "statement", "principals"), "identifiers")); got != trust[role] {
			t.Errorf("role %s is assumed by %s, want %s", role, got, trust[role])
		}
	}
}

// TestAWSIngestPublishesWhereTheArchiveSays: ingest may send to the events
// queue when the archive is off, and only publish to the events topic when
// it is on (the topic delivers to the queue); its SNS_TOPIC_ARN follows.
func TestAWSIngestPublishesWhereTheArchiveSays(t *testing.T) {
	for _, on := range []bool{false, true} {
		m := load(t, filepath.Join(tfRoot, "modules", "aws"))
		e := newEvaluatorWith(m, map[string]cty.Value{"archive_enabled": cty.BoolVal(on)})
		// The resources' ARNs as apply would know them.
		e.ctx.Variables["aws_sns_topic"] = cty.ObjectVal(map[string]cty.Value{"events": cty.TupleVal([]cty.Value{
			cty.ObjectVal(map[string]cty.Value{"arn": cty.StringVal("TOPIC")})})})
		e.ctx.Variables["aws_sqs_queue"] = cty.ObjectVal(map[string]cty.Value{"events": cty.ObjectVal(map[string]cty.Value{
			"arn": cty.StringVal("QUEUE"), "url": cty.StringVal("QUEUE_URL")})})
		var got []string
		for _, key := range sortedKeys(m.Data) {
			if !strings.HasPrefix(key, "aws_iam_policy_document.ingest") {
				continue
			}
			for _, st := range blocks(m.Data[key], "statement") {
				acts, _ := knownStrings(e.value(attr(st, "actions").Expr, instance{}))
				res, _ := knownStrings(e.value(attr(st, "resources").Expr, instance{}))
				for _, a := range acts {
					if strings.HasPrefix(a, "sqs:") || strings.HasPrefix(a, "sns:") {
						got = append(got, a+" "+strings.Join(res, ","))
					}
				}
			}
		}
		slices.Sort(got)
		want := []string{"sqs:GetQueueAttributes QUEUE", "sqs:SendMessage QUEUE"}
		if on {
			want = []string{"sns:GetTopicAttributes TOPIC", "sns:Publish TOPIC"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("archive_enabled = %v: ingest may %v, want %v", on, got, want)
		}
		env := e.value(m.Locals["archive_environment"].Expr, instance{}).GetAttr("ingest")
		topic := false
		for it := env.ElementIterator(); env.CanIterateElements() && it.Next(); {
			if k, _ := it.Element(); k.AsString() == "SNS_TOPIC_ARN" {
				topic = true
			}
		}
		if topic != on {
			t.Errorf("archive_enabled = %v: ingest's SNS_TOPIC_ARN set: %v", on, topic)
		}
	}
}

// TestAWSArchiveAlarms: with the archive on, alarms watch Firehose's
// deliveries to the bucket (success and freshness, on the module's stream)
// and the topic's failed deliveries, and notify like every other alarm.
func TestAWSArchiveAlarms(t *testing.T) {
	m := archiveOn(t)
	b := m.Resources["aws_cloudwatch_metric_alarm.archive"]
	if b == nil {
		t.Fatal("no aws_cloudwatch_metric_alarm.archive")
	}
	got := map[string]string{}
	for _, in := range m.eval.instances(b) {
		metric, _ := knownString(m.evalAttr(b, "metric_name", in))
		cmp, _ := knownString(m.evalAttr(b, "comparison_operator", in))
		n, _ := knownNumber(m.evalAttr(b, "threshold", in))
		dims := m.evalAttr(b, "dimensions", in)
		var dim []string
		for it := dims.ElementIterator(); dims.CanIterateElements() && it.Next(); {
			k, v := it.Element()
			s, _ := knownString(v)
			dim = append(dim, k.AsString()+"="+s)
		}
		got[metric] = fmt.Sprintf("%s %g %s", cmp, n, strings.Join(dim, ","))
		if exprText(t, attr(b, "alarm_actions")) != "[local.alarm_topic]" {
			t.Errorf("%s does not notify the module's alarm topic", metric)
		}
	}
	want := map[string]string{
		"DeliveryToS3.Success":        "LessThanThreshold 1 DeliveryStreamName=eventrelay-archive",
		"DeliveryToS3.DataFreshness":  "GreaterThanThreshold 1800 DeliveryStreamName=eventrelay-archive",
		"NumberOfNotificationsFailed": "GreaterThanThreshold 0 TopicName=eventrelay-events",
	}
	if !maps.Equal(got, want) {
		t.Errorf("archive alarms\n  %v\nwant\n  %v", got, want)
	}
	if s, _ := knownString(m.valueOf(attr(m.Resources["aws_kinesis_firehose_delivery_stream.archive"], "name"))); s != "eventrelay-archive" {
		t.Errorf("the stream is named %q, the alarms watch eventrelay-archive", s)
	}
	if s, _ := knownString(m.valueOf(attr(m.Resources["aws_sns_topic.events"], "name"))); s != "eventrelay-events" {
		t.Errorf("the topic is named %q, the alarm watches eventrelay-events", s)
	}
}

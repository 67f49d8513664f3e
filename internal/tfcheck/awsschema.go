package tfcheck

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The hashicorp/aws provider cannot be installed here, so terraform
// validate never sees the AWS module: a misspelt argument, a block nested
// in the wrong place or a value the provider refuses would surface only at
// the customer's first plan. awsSchemas is the part of the provider's
// schema the archive's resources use, written down from its documentation
// (registry.terraform.io/providers/hashicorp/aws, resources
// kinesis_firehose_delivery_stream, sns_topic, sns_topic_subscription,
// sqs_queue_policy, s3_bucket*, cloudwatch_log_stream; the argument lists
// as of 5.90, plus 6.0's region on every regional resource) and the AWS API
// references the allowed values come from (Firehose's Processor,
// ProcessorParameter, CompressionFormat, BufferingHints; SNS's Subscribe;
// S3's ServerSideEncryptionByDefault and LifecycleRule). A resource type
// missing here is simply not checked; one listed is checked whole.

// blockSchema is one block of a resource: its arguments, nested blocks and
// the values the provider or the API accepts. A nil nested schema accepts
// anything inside (a block the module does not use).
type blockSchema struct {
	required []string
	optional []string
	blocks   map[string]*blockSchema
	// needBlocks must appear at least once.
	needBlocks []string
	// values: the only values an argument takes (a known string).
	values map[string][]string
	// ranges: the bounds of a number argument, inclusive.
	ranges map[string][2]float64
	// deprecated: known arguments or blocks the module must not use, and
	// what to use instead.
	deprecated map[string]string
}

// Meta-arguments every resource takes (lifecycle is a block).
var metaArguments = []string{"count", "for_each", "depends_on", "provider"}

// regional: 6.0 added region to every regional resource.
var regional = []string{"region"}

var cloudwatchLoggingOptions = &blockSchema{optional: []string{"enabled", "log_group_name", "log_stream_name"}}

var firehoseProcessing = &blockSchema{
	optional: []string{"enabled"},
	blocks: map[string]*blockSchema{
		"processors": {
			required: []string{"type"},
			blocks: map[string]*blockSchema{"parameters": {
				required: []string{"parameter_name", "parameter_value"},
				values: map[string][]string{"parameter_name": {"LambdaArn", "NumberOfRetries", "MetadataExtractionQuery", "JsonParsingEngine",
					"RoleArn", "BufferSizeInMBs", "BufferIntervalInSeconds", "SubRecordType", "Delimiter", "CompressionFormat", "DataMessageExtraction"}},
			}},
			values: map[string][]string{"type": {"RecordDeAggregation", "Decompression", "CloudWatchLogProcessing", "Lambda",
				"MetadataExtraction", "AppendDelimiterToRecord"}},
		},
	},
}

var awsSchemas = map[string]*blockSchema{
	"aws_sns_topic": {
		optional: append([]string{"name", "name_prefix", "display_name", "policy", "delivery_policy", "kms_master_key_id",
			"fifo_topic", "content_based_deduplication", "archive_policy", "signature_version", "tracing_config", "tags", "tags_all",
			"application_success_feedback_role_arn", "application_success_feedback_sample_rate", "application_failure_feedback_role_arn",
			"http_success_feedback_role_arn", "http_success_feedback_sample_rate", "http_failure_feedback_role_arn",
			"lambda_success_feedback_role_arn", "lambda_success_feedback_sample_rate", "lambda_failure_feedback_role_arn",
			"sqs_success_feedback_role_arn", "sqs_success_feedback_sample_rate", "sqs_failure_feedback_role_arn",
			"firehose_success_feedback_role_arn", "firehose_success_feedback_sample_rate", "firehose_failure_feedback_role_arn"}, regional...),
		values: map[string][]string{"tracing_config": {"PassThrough", "Active"}},
	},
	"aws_sns_topic_subscription": {
		required: []string{"topic_arn", "protocol", "endpoint"},
		optional: append([]string{"subscription_role_arn", "raw_message_delivery", "filter_policy", "filter_policy_scope",
			"delivery_policy", "redrive_policy", "replay_policy", "endpoint_auto_confirms", "confirmation_timeout_in_minutes"}, regional...),
		values: map[string][]string{
			"protocol":            {"sqs", "sms", "lambda", "firehose", "application", "email", "email-json", "http", "https"},
			"filter_policy_scope": {"MessageAttributes", "MessageBody"},
		},
	},
	"aws_sqs_queue_policy": {
		required: []string{"queue_url", "policy"},
		optional: regional,
	},
	"aws_kinesis_firehose_delivery_stream": {
		required: []string{"name", "destination"},
		optional: append([]string{"arn", "destination_id", "version_id", "tags", "tags_all"}, regional...),
		blocks: map[string]*blockSchema{
			"extended_s3_configuration": {
				required: []string{"role_arn", "bucket_arn"},
				optional: []string{"prefix", "error_output_prefix", "buffering_size", "buffering_interval", "compression_format",
					"custom_time_zone", "file_extension", "kms_key_arn", "s3_backup_mode"},
				blocks: map[string]*blockSchema{
					"cloudwatch_logging_options":           cloudwatchLoggingOptions,
					"processing_configuration":             firehoseProcessing,
					"dynamic_partitioning_configuration":   {optional: []string{"enabled", "retry_duration"}},
					"data_format_conversion_configuration": nil,
					"s3_backup_configuration":              nil,
				},
				values: map[string][]string{
					"compression_format": {"UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"},
					"s3_backup_mode":     {"Disabled", "Enabled"},
				},
				ranges: map[string][2]float64{"buffering_size": {1, 128}, "buffering_interval": {0, 900}},
				deprecated: map[string]string{
					"buffer_size":     "buffering_size (renamed in provider 5.0)",
					"buffer_interval": "buffering_interval (renamed in provider 5.0)",
				},
			},
			"server_side_encryption": {
				optional: []string{"enabled", "key_type", "key_arn"},
				values:   map[string][]string{"key_type": {"AWS_OWNED_CMK", "CUSTOMER_MANAGED_CMK"}},
			},
			"kinesis_source_configuration": nil, "msk_source_configuration": nil, "redshift_configuration": nil,
			"elasticsearch_configuration": nil, "opensearch_configuration": nil, "opensearchserverless_configuration": nil,
			"splunk_configuration": nil, "http_endpoint_configuration": nil, "snowflake_configuration": nil,
			"iceberg_configuration": nil, "timeouts": nil,
		},
		values: map[string][]string{"destination": {"extended_s3", "redshift", "elasticsearch", "opensearch", "opensearchserverless",
			"splunk", "http_endpoint", "snowflake", "iceberg"}},
		deprecated: map[string]string{"s3_configuration": "extended_s3_configuration (destination s3 was removed in provider 5.0)"},
	},
	"aws_s3_bucket": {
		optional: append([]string{"bucket", "bucket_prefix", "force_destroy", "object_lock_enabled", "tags", "tags_all"}, regional...),
		blocks:   map[string]*blockSchema{"timeouts": nil},
		deprecated: map[string]string{
			"acl": "aws_s3_bucket_acl", "policy": "aws_s3_bucket_policy", "versioning": "aws_s3_bucket_versioning",
			"lifecycle_rule":                       "aws_s3_bucket_lifecycle_configuration",
			"server_side_encryption_configuration": "aws_s3_bucket_server_side_encryption_configuration",
			"logging":                              "aws_s3_bucket_logging", "website": "aws_s3_bucket_website_configuration",
			"cors_rule": "aws_s3_bucket_cors_configuration", "grant": "aws_s3_bucket_acl",
			"replication_configuration": "aws_s3_bucket_replication_configuration",
			"object_lock_configuration": "aws_s3_bucket_object_lock_configuration",
			"acceleration_status":       "aws_s3_bucket_accelerate_configuration",
			"request_payer":             "aws_s3_bucket_request_payment_configuration",
		},
	},
	"aws_s3_bucket_public_access_block": {
		required: []string{"bucket"},
		optional: append([]string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"}, regional...),
	},
	"aws_s3_bucket_ownership_controls": {
		required:   []string{"bucket"},
		optional:   regional,
		needBlocks: []string{"rule"},
		blocks: map[string]*blockSchema{"rule": {
			required: []string{"object_ownership"},
			values:   map[string][]string{"object_ownership": {"BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"}},
		}},
	},
	"aws_s3_bucket_server_side_encryption_configuration": {
		required:   []string{"bucket"},
		optional:   append([]string{"expected_bucket_owner"}, regional...),
		needBlocks: []string{"rule"},
		blocks: map[string]*blockSchema{"rule": {
			optional: []string{"bucket_key_enabled"},
			blocks: map[string]*blockSchema{"apply_server_side_encryption_by_default": {
				required: []string{"sse_algorithm"},
				optional: []string{"kms_master_key_id"},
				values:   map[string][]string{"sse_algorithm": {"AES256", "aws:kms", "aws:kms:dsse"}},
			}},
		}},
	},
	"aws_s3_bucket_lifecycle_configuration": {
		required:   []string{"bucket"},
		optional:   append([]string{"expected_bucket_owner", "transition_default_minimum_object_size"}, regional...),
		needBlocks: []string{"rule"},
		blocks: map[string]*blockSchema{
			"rule": {
				required: []string{"id", "status"},
				blocks: map[string]*blockSchema{
					"filter": {
						optional: []string{"prefix", "object_size_greater_than", "object_size_less_than"},
						blocks:   map[string]*blockSchema{"and": nil, "tag": nil},
					},
					"expiration": {
						optional: []string{"date", "days", "expired_object_delete_marker"},
						ranges:   map[string][2]float64{"days": {1, 1e9}},
					},
					"abort_incomplete_multipart_upload": {
						optional: []string{"days_after_initiation"},
						ranges:   map[string][2]float64{"days_after_initiation": {1, 1e9}},
					},
					"transition": nil, "noncurrent_version_expiration": nil, "noncurrent_version_transition": nil,
				},
				values:     map[string][]string{"status": {"Enabled", "Disabled"}},
				deprecated: map[string]string{"prefix": "filter { prefix = ... } (rule.prefix is deprecated)"},
			},
			"timeouts": nil,
		},
	},
	"aws_cloudwatch_log_stream": {
		required: []string{"name", "log_group_name"},
		optional: regional,
	},
}

// checkAWSSchema: each resource of a type in awsSchemas uses only the
// arguments and blocks the provider documents, in the right place, sets
// the required ones, and gives the known values the API accepts; plus the
// constraints the documentation states between arguments.
func checkAWSSchema(m *Module) []string {
	var out []string
	for _, key := range sortedKeys(m.Resources) {
		b := m.Resources[key]
		s := awsSchemas[b.Labels[0]]
		if s == nil {
			continue
		}
		where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), key)
		out = append(out, m.checkBlock(where, b, s, true)...)
		out = append(out, m.documentedConstraints(where, b)...)
	}
	return out
}

// checkBlock checks one block against its schema, and its nested blocks
// (dynamic ones by their content) against theirs.
func (m *Module) checkBlock(where string, b *hclsyntax.Block, s *blockSchema, top bool) []string {
	var out []string
	for _, name := range sortedKeys(b.Body.Attributes) {
		a := b.Body.Attributes[name]
		switch {
		case top && slices.Contains(metaArguments, name):
		case s.deprecated[name] != "":
			out = append(out, fmt.Sprintf("%s: %s is deprecated by the provider: use %s", where, name, s.deprecated[name]))
		case !slices.Contains(s.required, name) && !slices.Contains(s.optional, name):
			out = append(out, fmt.Sprintf("%s: %s is not an argument of this block (the provider documents %s)", where, name,
				strings.Join(append(slices.Clone(s.required), s.optional...), ", ")))
		default:
			out = append(out, m.checkValue(where, name, a, s)...)
		}
	}
	for _, name := range s.required {
		if b.Body.Attributes[name] == nil {
			out = append(out, fmt.Sprintf("%s: the required argument %s is missing", where, name))
		}
	}
	seen := map[string]bool{}
	for _, c := range b.Body.Blocks {
		typ, body := c.Type, c
		if c.Type == "dynamic" && len(c.Labels) == 1 {
			typ, body = c.Labels[0], block(c, "content")
			if body == nil {
				out = append(out, fmt.Sprintf("%s: dynamic %q has no content block", where, typ))
				continue
			}
		}
		seen[typ] = true
		inner := where + " " + typ
		nested, known := s.blocks[typ]
		switch {
		case top && typ == "lifecycle":
		case s.deprecated[typ] != "":
			out = append(out, fmt.Sprintf("%s: %s is deprecated by the provider: use %s", where, typ, s.deprecated[typ]))
		case !known:
			out = append(out, fmt.Sprintf("%s: %s is not a block of this block (the provider documents %s)", where, typ,
				strings.Join(sortedKeys(s.blocks), ", ")))
		case nested != nil:
			out = append(out, m.checkBlock(inner, body, nested, false)...)
		}
	}
	for _, name := range s.needBlocks {
		if !seen[name] {
			out = append(out, fmt.Sprintf("%s: the required block %s is missing", where, name))
		}
	}
	return out
}

// checkValue: a known value outside what the API accepts.
func (m *Module) checkValue(where, name string, a *hclsyntax.Attribute, s *blockSchema) []string {
	allowed, bounds := s.values[name], s.ranges[name]
	_, ranged := s.ranges[name]
	if allowed == nil && !ranged {
		return nil
	}
	v := m.valueOf(a)
	if str, ok := knownString(v); ok && allowed != nil && !slices.Contains(allowed, str) {
		return []string{fmt.Sprintf("%s: %s = %q, which the API does not take (%s)", where, name, str, strings.Join(allowed, ", "))}
	}
	if n, ok := knownNumber(v); ok && ranged && (n < bounds[0] || n > bounds[1]) {
		if bounds[1] >= 1e9 {
			return []string{fmt.Sprintf("%s: %s = %g is below its least, %g", where, name, n, bounds[0])}
		}
		return []string{fmt.Sprintf("%s: %s = %g is outside %g to %g", where, name, n, bounds[0], bounds[1])}
	}
	return nil
}

// sqsByURL: a queue named by its URL (id, url) where an ARN is wanted.
var sqsByURL = regexp.MustCompile(`aws_sqs_queue\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.(url|id)\b`)

// documentedConstraints are what the provider and API documentation state
// between arguments, which a schema of names cannot say.
func (m *Module) documentedConstraints(where string, b *hclsyntax.Block) []string {
	var out []string
	switch b.Labels[0] {
	case "aws_sns_topic_subscription":
		protocol, _ := knownString(m.valueOf(attr(b, "protocol")))
		if protocol == "firehose" && attr(b, "subscription_role_arn") == nil {
			out = append(out, where+": protocol firehose needs subscription_role_arn (the role SNS assumes to put records)")
		}
		if protocol == "sqs" && sqsByURL.MatchString(m.source(attrExpr(b, "endpoint"))) {
			out = append(out, where+": an sqs subscription's endpoint is the queue's ARN, not its URL")
		}
	case "aws_kinesis_firehose_delivery_stream":
		dest, _ := knownString(m.valueOf(attr(b, "destination")))
		s3 := block(b, "extended_s3_configuration")
		if dest == "extended_s3" && s3 == nil {
			out = append(out, where+": destination extended_s3 needs an extended_s3_configuration block")
		}
		if s3 == nil {
			break
		}
		// Firehose refuses a prefix with expressions (!{...}) and no
		// error output prefix.
		if prefix, ok := knownString(m.valueOf(attr(s3, "prefix"))); ok && strings.Contains(prefix, "!{") && attr(s3, "error_output_prefix") == nil {
			out = append(out, where+": a prefix with !{...} expressions needs error_output_prefix")
		}
		if logs := block(s3, "cloudwatch_logging_options"); logs != nil && m.valueOf(attr(logs, "enabled")).RawEquals(cty.True) {
			for _, name := range []string{"log_group_name", "log_stream_name"} {
				if attr(logs, name) == nil {
					out = append(out, fmt.Sprintf("%s: cloudwatch_logging_options enabled needs %s", where, name))
				}
			}
		}
	case "aws_s3_bucket_lifecycle_configuration":
		for _, r := range blocks(b, "rule") {
			if block(r, "filter") == nil {
				out = append(out, where+": a lifecycle rule needs a filter block (filter {} for the whole bucket)")
			}
		}
	}
	return out
}

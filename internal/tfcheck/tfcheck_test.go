package tfcheck

import (
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"eventrelay.dev/eventrelay/internal/readme"
	"eventrelay.dev/eventrelay/shared/settings"
)

const (
	repoRoot = "../.."
	tfRoot   = "../../terraform"
)

func repoConfig(t *testing.T) Config {
	t.Helper()
	entries, err := EntryPoints(filepath.Join(repoRoot, "functions.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Ingest", "Forward", "ForwardEvent", "Verify", "Backfill"} {
		if !entries[want] {
			t.Fatalf("functions.go: entry point %s not found (have %v)", want, sortedKeys(entries))
		}
	}
	// What a function may be given: the settings the registry declares
	// for a deployed function.
	env := map[string]bool{}
	for _, s := range settings.All() {
		if slices.ContainsFunc(s.Info().Functions, settings.Function.Deployed) {
			env[s.Info().Name] = true
		}
	}
	return Config{EntryPoints: entries, EnvNames: env}
}

// TestTerraform loads every module and example under terraform/ and checks
// it against every rule.
func TestTerraform(t *testing.T) {
	cfg := repoConfig(t)
	mods, err := LoadTree(tfRoot)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, m := range mods {
		rel, _ := filepath.Rel(tfRoot, m.Dir)
		dirs = append(dirs, filepath.ToSlash(rel))
		for _, p := range Check(m, cfg) {
			t.Errorf("%s: %s", rel, p)
		}
	}
	sort.Strings(dirs)
	want := []string{"examples/aws", "examples/gcp", "modules/aws", "modules/gcp"}
	if strings.Join(dirs, " ") != strings.Join(want, " ") {
		t.Errorf("terraform/ holds %v, want %v", dirs, want)
	}
}

func load(t *testing.T, dir string) *Module {
	t.Helper()
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGCPModuleWiring pins what the rules only see in general: the four
// functions and their entry points, evaluated from the defaults.
func TestGCPModuleWiring(t *testing.T) {
	m := load(t, filepath.Join(tfRoot, "modules", "gcp"))
	fn := m.Resources["google_cloudfunctions2_function.fn"]
	if fn == nil {
		t.Fatal("no google_cloudfunctions2_function.fn")
	}
	got := map[string]string{}
	for _, in := range m.eval.instances(fn) {
		ep, _ := knownString(m.eval.value(attr(block(fn, "build_config"), "entry_point").Expr, in))
		got[in.Key] = ep
	}
	want := map[string]string{"ingest": "Ingest", "forwarder": "Forward", "verify": "Verify", "backfill": "Backfill"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("function %s: entry point %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("functions %v, want %v", got, want)
	}
	if v := m.eval.local("forwarder_max_attempts"); !v.RawEquals(cty.NumberIntVal(9)) {
		t.Errorf("forwarder_max_attempts = %#v, want 9 (one below max_delivery_attempts' default 10)", v)
	}
}

// TestAWSModuleWiring: four arm64 functions, and the derived visibility
// timeout at its defaults.
func TestAWSModuleWiring(t *testing.T) {
	m := load(t, filepath.Join(tfRoot, "modules", "aws"))
	fn := m.Resources["aws_lambda_function.fn"]
	if fn == nil {
		t.Fatal("no aws_lambda_function.fn")
	}
	var keys []string
	for _, in := range m.eval.instances(fn) {
		keys = append(keys, in.Key)
		env := m.eval.value(attr(block(fn, "environment"), "variables").Expr, in)
		if s, _ := knownString(env.GetAttr("EVENTRELAY_FUNCTION")); s != in.Key {
			t.Errorf("%s: EVENTRELAY_FUNCTION = %q", in.Key, s)
		}
	}
	if strings.Join(keys, " ") != "backfill forwarder ingest verify" {
		t.Errorf("functions %v", keys)
	}
	// 6 x the forwarder's default 60 s timeout + the 1 s batching window.
	if v := m.eval.local("queue_visibility_timeout"); !v.RawEquals(cty.NumberIntVal(361)) {
		t.Errorf("queue_visibility_timeout = %#v, want 361", v)
	}
}

// TestForwarderDefaultsUseAnInstance: at their defaults both modules keep
// enough sends in flight per forwarder instance for 2,000 events/s at 50 ms
// platform latency (in flight / latency), with a margin for the rest of an
// invocation (BenchmarkForwarderThroughput measures what it really gives).
func TestForwarderDefaultsUseAnInstance(t *testing.T) {
	const need = 2000 * 0.050 * 1.5 // events/s x latency, 50% margin
	aws := load(t, filepath.Join(tfRoot, "modules", "aws"))
	fn := aws.Resources["aws_lambda_function.fn"]
	for _, in := range aws.eval.instances(fn) {
		if in.Key != "forwarder" {
			continue
		}
		env := aws.eval.value(attr(block(fn, "environment"), "variables").Expr, in)
		s, _ := knownString(env.GetAttr("FORWARDER_CONCURRENCY"))
		if n, err := strconv.Atoi(s); err != nil || float64(n) < need {
			t.Errorf("AWS forwarder FORWARDER_CONCURRENCY = %q, want >= %g", s, need)
		}
	}
	if n, _ := knownNumber(aws.eval.local("forwarder_concurrency")); n < need {
		t.Errorf("AWS forwarder_concurrency = %g (batch_size caps it), want >= %g", n, need)
	}
	gcp := load(t, filepath.Join(tfRoot, "modules", "gcp"))
	if n, _ := knownNumber(gcp.eval.local("scaling").GetAttr("forwarder").GetAttr("concurrency")); n < need {
		t.Errorf("GCP forwarder concurrency = %g, want >= %g", n, need)
	}
}

// TestRulesCatchViolations runs the rules on fixtures that break them and
// expects every violation reported: a checker that cannot fail proves
// nothing.
func TestRulesCatchViolations(t *testing.T) {
	cfg := repoConfig(t)
	cases := map[string][]string{
		"gcp": {
			"variable project_id has no description",
			"variable untyped has no type",
			"grants the broad role roles/editor",
			"project-wide grant of roles/editor",
			"project-wide roles/datastore.user without a condition",
			"google_secret_manager_secret_version.v puts a secret value",
			"sets secret_data",
			`entry_point "Nope" is not registered`,
			"sets PUBSUB_TOPICS, which the code does not read",
			"push_config.oidc_token with service_account_email missing",
			"minimum_backoff must be known and at least 5s",
			"max_delivery_attempts must be known and 5 to 100",
			"dead-letter topic google_pubsub_topic.dead has no subscription",
			"no roles/pubsub.publisher on google_pubsub_topic.dead",
			"no roles/pubsub.subscriber on google_pubsub_subscription.push",
			"retain_acked_messages = true",
			"var.undeclared is not declared",
			"google_pubsub_topic.missing is not declared",
			"no Cloud Scheduler job",
			"no google_firestore_field with ttl_config",
		},
		"aws": {
			`function_response_types must be ["ReportBatchItemFailures"]`,
			"scaling_config.maximum_concurrency missing",
			"batch_size missing",
			"queue aws_sqs_queue.events has no redrive_policy",
			"visibility timeout 30s is below 6 x aws_lambda_function.fn timeout 60s",
			`Action "sqs:*"`,
			`statement 0: Resource "*"`,
			`aws_iam_role_policy.inline statement 0: Action "*"`,
			`runtime "go1.x", want provided.al2023`,
			"want [arm64]",
			`handler "main", want bootstrap`,
			"aws_dynamodb_table.ledger: ttl",
			"aws_secretsmanager_secret_version.v puts a secret value",
			"sets secret_string",
			"attaches the broad managed policy AdministratorAccess",
			"no EventBridge Scheduler schedule",
			"without log groups",
		},
		"example": {
			"required variable lambda_zip is not passed",
			"required variable mcm_platform_id is not passed",
			"passes bogus, which the module does not declare",
			"module.eventrelay has no output no_such_output",
			"does not pass variable forwarder_maximum_concurrency on: a value for it in terraform.tfvars would not take effect",
			"name_prefix is not passed from a variable name_prefix of its own",
			"variable log_level defaults to debug here and info in the module",
		},
		"syntax": {
			"parse: ",
		},
	}
	expectReported(t, cfg, cases)
}

// expectReported checks each fixture under testdata/bad: every problem
// wanted is reported.
func expectReported(t *testing.T, cfg Config, cases map[string][]string) {
	t.Helper()
	for dir, wants := range cases {
		t.Run(dir, func(t *testing.T) {
			all := strings.Join(Check(load(t, filepath.Join("testdata", "bad", dir)), cfg), "\n")
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

// TestDocsListEveryVariable: each deploy doc's Module variables table names
// every variable of its cloud's module, and nothing else; a variable that
// sets one of the registry's settings may be left to docs/configuration.md,
// which is generated from the registry and names it per cloud.
func TestDocsListEveryVariable(t *testing.T) {
	tables := map[string]string{}
	for _, cloud := range []string{"gcp", "aws"} {
		tables[cloud] = readme.Section(t, "docs/deploy-"+cloud+".md", "\n## Module variables\n", "")
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_0-9]+)` \\|")
	for cloud, table := range tables {
		m := load(t, filepath.Join(tfRoot, "modules", cloud))
		listed := map[string]bool{}
		for _, r := range row.FindAllStringSubmatch(table, -1) {
			listed[r[1]] = true
			if m.Variables[r[1]] == nil {
				t.Errorf("docs/deploy-%[2]s.md lists %[1]s, which the module does not declare", r[1], cloud)
			}
		}
		setting := map[string]bool{}
		for _, s := range settings.All() {
			tf := s.Info().GCP
			if cloud == "aws" {
				tf = s.Info().AWS
			}
			if tf.How == settings.Variable || tf.How == settings.Derived {
				setting[tf.Variable] = true
			}
		}
		for name := range m.Variables {
			if !listed[name] && !setting[name] {
				t.Errorf("docs/deploy-%s.md: the table does not list variable %s", cloud, name)
			}
		}
	}
}

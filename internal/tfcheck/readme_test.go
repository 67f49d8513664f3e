package tfcheck

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"eventrelay.dev/eventrelay/internal/readme"
)

// deployingRunbooks returns the Google Cloud and AWS runbooks: each deploy
// doc up to its module variables.
func deployingRunbooks(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, cloud := range []string{"gcp", "aws"} {
		path := "docs/deploy-" + cloud + ".md"
		out[cloud] = readme.Section(t, path, "# Deploying on ", "\n## Module variables\n")
	}
	return out
}

// shellCommands are the commands of a text's ```sh blocks: continuation
// lines (a trailing \ or |) joined, comments dropped.
func shellCommands(text string) []string {
	var out []string
	block := regexp.MustCompile("(?s)```sh\n(.*?)```")
	for _, m := range block.FindAllStringSubmatch(text, -1) {
		cur := ""
		for line := range strings.SplitSeq(m[1], "\n") {
			if i := strings.Index(line, "  # "); i >= 0 {
				line = line[:i] // a trailing comment
			}
			trimmed := strings.TrimSpace(line)
			if strings.HasPrefix(trimmed, "#") {
				continue
			}
			cur += " " + trimmed
			if strings.HasSuffix(trimmed, "\\") || strings.HasSuffix(trimmed, "|") {
				continue
			}
			if c := strings.TrimSpace(cur); c != "" {
				out = append(out, c)
			}
			cur = ""
		}
	}
	return out
}

var (
	outputRef     = regexp.MustCompile(`terraform output (?:-raw |-json )?([a-z_0-9]+)`)
	tfvarsLine    = regexp.MustCompile(`(?m)^([a-z_0-9]+)\s*=`)
	tfvarsHeredoc = regexp.MustCompile("(?s)cat > terraform.tfvars <<TFVARS\n(.*?)\nTFVARS")
	tfvarsAppend  = regexp.MustCompile(`(?:echo|printf) '([^']*)' >> terraform.tfvars`)
	gcpSecret     = regexp.MustCompile(`gcloud secrets versions \S+ (?:\S+ --secret )?eventrelay-([a-z-]+)`)
	awsSecret     = regexp.MustCompile(`--secret-id eventrelay/([a-z-]+)`)
)

// checkRunbook checks a runbook against the example and module it drives:
// one apply (no -target), every gcloud command with --project (and
// --region/--location where the resource is regional), every aws command
// with --region, and every output, tfvars variable and secret it names
// declared.
func checkRunbook(text string, example, module *Module) []string {
	var out []string
	purposes := map[string]bool{}
	secrets, ok := knownStringMap(module.eval.local("secrets"))
	if !ok {
		return []string{"local.secrets cannot be evaluated"}
	}
	for k := range secrets {
		purposes[strings.ReplaceAll(k, "_", "-")] = true
	}
	for _, m := range outputRef.FindAllStringSubmatch(text, -1) {
		if example.Outputs[m[1]] == nil {
			out = append(out, fmt.Sprintf("terraform output %s: the example declares no such output", m[1]))
		}
	}
	var tfvars []string
	for _, m := range tfvarsHeredoc.FindAllStringSubmatch(text, -1) {
		tfvars = append(tfvars, m[1])
	}
	for _, m := range tfvarsAppend.FindAllStringSubmatch(text, -1) {
		tfvars = append(tfvars, strings.ReplaceAll(m[1], `\n`, "\n"))
	}
	if len(tfvars) < 2 {
		out = append(out, fmt.Sprintf("%d terraform.tfvars edits, want the deploy's and the teardown's", len(tfvars)))
	}
	for _, body := range tfvars {
		for _, m := range tfvarsLine.FindAllStringSubmatch(body, -1) {
			if example.Variables[m[1]] == nil {
				out = append(out, fmt.Sprintf("terraform.tfvars sets %s: the example declares no such variable", m[1]))
			}
		}
	}
	applies := 0
	for _, c := range shellCommands(text) {
		if strings.Contains(c, "-target") {
			out = append(out, fmt.Sprintf("%q: the deploy is one apply, without -target", c))
		}
		if c == "terraform apply" {
			applies++
		}
		for _, m := range append(gcpSecret.FindAllStringSubmatch(c, -1), awsSecret.FindAllStringSubmatch(c, -1)...) {
			if !purposes[m[1]] {
				out = append(out, fmt.Sprintf("%q names secret %s: the module creates no such secret", c, m[1]))
			}
		}
		for _, part := range strings.Split(c, "|") {
			part = strings.TrimSpace(part)
			switch {
			case strings.HasPrefix(part, "gcloud auth"):
			case strings.HasPrefix(part, "gcloud projects ") && strings.Contains(part, `"$PROJECT"`):
				// the project is the positional argument
			case strings.HasPrefix(part, "gcloud "):
				if !strings.Contains(part, "--project") {
					out = append(out, fmt.Sprintf("%q has no --project", part))
				}
				regional := strings.HasPrefix(part, "gcloud functions") || strings.HasPrefix(part, "gcloud scheduler")
				if regional && !strings.Contains(part, "--region") && !strings.Contains(part, "--location") {
					out = append(out, fmt.Sprintf("%q has no --region/--location", part))
				}
			case strings.HasPrefix(part, "aws "):
				if !strings.Contains(part, "--region") {
					out = append(out, fmt.Sprintf("%q has no --region", part))
				}
			}
		}
	}
	if applies == 0 {
		out = append(out, "no terraform apply")
	}
	return out
}

func knownStringMap(v cty.Value) (map[string]string, bool) {
	if !v.IsWhollyKnown() || v.IsNull() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
		return nil, false
	}
	out := map[string]string{}
	for it := v.ElementIterator(); it.Next(); {
		k, val := it.Element()
		out[k.AsString()], _ = knownString(val)
	}
	return out, true
}

// TestDeployRunbooks: the deploy runbooks of both clouds pass.
func TestDeployRunbooks(t *testing.T) {
	for cloud, text := range deployingRunbooks(t) {
		example := load(t, filepath.Join(tfRoot, "examples", cloud))
		module := load(t, filepath.Join(tfRoot, "modules", cloud))
		for _, p := range checkRunbook(text, example, module) {
			t.Errorf("docs/deploy-%s.md: %s", cloud, p)
		}
	}
}

// A runbook with the old holes is reported on each.
func TestRunbookRulesCatchViolations(t *testing.T) {
	bad := "```sh\n" + `cat > terraform.tfvars <<TFVARS
project_id = "p"
no_such_variable = 1
TFVARS
terraform apply -target=module.eventrelay.google_secret_manager_secret.secret
printf x | gcloud secrets versions add eventrelay-mcm-api-key --data-file=-
gcloud secrets versions add eventrelay-no-such-secret --project p --data-file=-
gcloud scheduler jobs run eventrelay-backfill --project p
aws secretsmanager put-secret-value --secret-id eventrelay/pii-salt --secret-string x
curl "$(terraform output -raw no_such_output)"
` + "```\n"
	example := load(t, filepath.Join(tfRoot, "examples", "gcp"))
	module := load(t, filepath.Join(tfRoot, "modules", "gcp"))
	all := strings.Join(checkRunbook(bad, example, module), "\n")
	for _, w := range []string{
		"1 terraform.tfvars edits",
		"terraform.tfvars sets no_such_variable",
		"without -target",
		`"gcloud secrets versions add eventrelay-mcm-api-key --data-file=-" has no --project`,
		"names secret no-such-secret",
		`"gcloud scheduler jobs run eventrelay-backfill --project p" has no --region/--location`,
		"--secret-string x\" has no --region",
		"terraform output no_such_output",
		"no terraform apply",
	} {
		if !strings.Contains(all, w) {
			t.Errorf("not reported: %q", w)
		}
	}
	if t.Failed() {
		t.Logf("reported:\n%s", all)
	}
}

// shellCommands joins continuation lines and drops comments.
func TestShellCommands(t *testing.T) {
	got := shellCommands("```sh\n# a comment\ngcloud secrets versions add x \\\n  --data-file=-  # trailing\naws s3 ls |\n  jq .\n```\n")
	want := []string{"gcloud secrets versions add x \\ --data-file=-", "aws s3 ls | jq ."}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("shellCommands = %q, want %q", got, want)
	}
}

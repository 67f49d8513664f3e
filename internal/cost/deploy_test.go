package cost

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"eventrelay.dev/eventrelay/internal/modroot"
	"eventrelay.dev/eventrelay/internal/tfcheck"
	"eventrelay.dev/eventrelay/shared/settings"
)

// deployment reads what the modules deploy by default (sizes, concurrency,
// batching, schedules, retention) from the Terraform itself, and the
// settings the model needs from the settings registry, so the model uses
// what a `terraform apply` with no overrides gets.
func deployment(t *testing.T) map[string]Quantity {
	t.Helper()
	out := map[string]Quantity{}
	load := func(cloud string) *tfcheck.Module {
		m, err := tfcheck.Load(filepath.Join(modroot.Find(), "terraform", "modules", cloud))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	gcp, aws := load("gcp"), load("aws")
	from := func(cloud, variable string) string {
		return fmt.Sprintf("TestMeasure reads terraform/modules/%s variable %s", cloud, variable)
	}
	def := func(m *tfcheck.Module, name string) cty.Value {
		v, err := m.Default(name)
		if err != nil {
			t.Fatal(err)
		}
		if !v.IsWhollyKnown() || v.IsNull() {
			t.Fatalf("%s: variable %s has no default", m.Dir, name)
		}
		return v
	}
	num := func(v cty.Value) float64 {
		f, _ := v.AsBigFloat().Float64()
		return f
	}
	for _, fn := range []string{"ingest", "forwarder", "verify", "backfill"} {
		v := def(gcp, fn)
		mem, err := gib(v.GetAttr("memory").AsString())
		if err != nil {
			t.Fatal(err)
		}
		cpu, err := strconv.ParseFloat(v.GetAttr("cpu").AsString(), 64)
		if err != nil {
			t.Fatalf("gcp %s.cpu: %v", fn, err)
		}
		out["deploy.gcp."+fn+".memory"] = Quantity{Value: mem, Unit: "GiB", Per: "instance", Command: from("gcp", fn+".memory")}
		out["deploy.gcp."+fn+".cpu"] = Quantity{Value: cpu, Unit: "vCPU", Per: "instance", Command: from("gcp", fn+".cpu")}
		out["deploy.gcp."+fn+".concurrency"] = Quantity{Value: num(v.GetAttr("concurrency")), Unit: "requests at once", Per: "instance", Command: from("gcp", fn+".concurrency")}
		out["deploy.aws."+fn+".memory"] = Quantity{Value: num(def(aws, fn).GetAttr("memory_mb")) / 1024, Unit: "GB", Per: "invocation",
			Command: from("aws", fn+".memory_mb"), Note: "Lambda bills GB-seconds at memory_mb / 1024"}
	}
	runs, err := cronRunsPerDay(def(gcp, "backfill_schedule").AsString())
	if err != nil {
		t.Fatal(err)
	}
	out["deploy.gcp.backfill_runs"] = Quantity{Value: runs, Unit: "runs", Per: "day", Command: from("gcp", "backfill_schedule")}
	if runs, err = rateRunsPerDay(def(aws, "backfill_schedule").AsString()); err != nil {
		t.Fatal(err)
	}
	out["deploy.aws.backfill_runs"] = Quantity{Value: runs, Unit: "runs", Per: "day", Command: from("aws", "backfill_schedule")}
	out["deploy.aws.batch_size"] = Quantity{Value: num(def(aws, "batch_size")), Unit: "messages", Per: "forwarder invocation, at most", Command: from("aws", "batch_size")}
	out["deploy.aws.batching_window"] = Quantity{Value: num(def(aws, "maximum_batching_window_in_seconds")), Unit: "seconds", Per: "forwarder batch, at most",
		Command: from("aws", "maximum_batching_window_in_seconds")}
	out["deploy.gcp.archive_retention"] = Quantity{Value: num(def(gcp, "archive_retention_days")), Unit: "days", Per: "archived file", Command: from("gcp", "archive_retention_days")}
	exclude := 0.0
	if def(gcp, "exclude_successful_request_logs").True() {
		exclude = 1
	}
	out["deploy.gcp.exclude_successful_request_logs"] = Quantity{Value: exclude, Unit: "on (1) or off (0)", Per: "deployment",
		Command: from("gcp", "exclude_successful_request_logs"), Note: "on: Cloud Logging drops the request log entries of successful requests, status below 400"}
	out["deploy.aws.archive_retention"] = Quantity{Value: num(def(aws, "archive_retention_days")), Unit: "days", Per: "archived object", Command: from("aws", "archive_retention_days")}
	for _, r := range []struct{ cloud, resource, block, attr string }{
		{"gcp", "google_pubsub_subscription.archive", "cloud_storage_config", "max_duration"},
		{"aws", "aws_kinesis_firehose_delivery_stream.archive", "extended_s3_configuration", "buffering_interval"},
	} {
		m := map[string]*tfcheck.Module{"gcp": gcp, "aws": aws}[r.cloud]
		v, err := resourceNumber(m, r.resource, r.block, r.attr)
		if err != nil {
			t.Fatal(err)
		}
		out["deploy."+r.cloud+".archive_file_interval"] = Quantity{Value: v, Unit: "seconds", Per: "archive object, at most",
			Command: fmt.Sprintf("TestMeasure reads terraform/modules/%s %s %s.%s", r.cloud, r.resource, r.block, r.attr)}
	}
	ttl := settings.SecretsCacheTTL.Get(settings.FromMap(nil))
	out["settings.secrets_cache_ttl"] = Quantity{Value: ttl.Seconds(), Unit: "seconds", Per: "secret, per instance", Command: "TestMeasure reads the settings registry's SECRETS_CACHE_TTL default"}
	return out
}

// gib converts a Kubernetes-style memory size (256Mi, 1Gi, 512M) to GiB.
func gib(s string) (float64, error) {
	m := regexp.MustCompile(`^([0-9]+)(Mi|Gi|M|G)$`).FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("memory %q: not like 256Mi or 1Gi", s)
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	switch m[2] {
	case "Mi":
		return n / 1024, nil
	case "Gi":
		return n, nil
	case "M":
		return n * 1e6 / (1 << 30), nil
	default:
		return n * 1e9 / (1 << 30), nil
	}
}

// cronRunsPerDay counts the runs a day of a five-field cron schedule whose
// minute and hour fields are "*", "*/N", a number or a list; others are
// refused rather than guessed.
func cronRunsPerDay(expr string) (float64, error) {
	f := strings.Fields(expr)
	if len(f) != 5 || f[2] != "*" || f[3] != "*" || f[4] != "*" {
		return 0, fmt.Errorf("backfill_schedule %q: the model reads minute and hour fields only", expr)
	}
	minutes, err := cronField(f[0], 60)
	if err != nil {
		return 0, fmt.Errorf("backfill_schedule %q: %w", expr, err)
	}
	hours, err := cronField(f[1], 24)
	if err != nil {
		return 0, fmt.Errorf("backfill_schedule %q: %w", expr, err)
	}
	return float64(minutes * hours), nil
}

func cronField(f string, size int) (int, error) {
	switch {
	case f == "*":
		return size, nil
	case strings.HasPrefix(f, "*/"):
		n, err := strconv.Atoi(f[2:])
		if err != nil || n < 1 {
			return 0, fmt.Errorf("field %q", f)
		}
		return (size + n - 1) / n, nil
	}
	return len(strings.Split(f, ",")), nil
}

// rateRunsPerDay reads an EventBridge Scheduler rate(N unit) expression.
func rateRunsPerDay(expr string) (float64, error) {
	m := regexp.MustCompile(`^rate\(([0-9]+) (minute|minutes|hour|hours|day|days)\)$`).FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("backfill_schedule %q: the model reads rate(N minutes|hours|days) only", expr)
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	per := map[string]float64{"minute": 1440, "minutes": 1440, "hour": 24, "hours": 24, "day": 1, "days": 1}[m[2]]
	return per / n, nil
}

// resourceNumber reads a constant number (or "300s" duration) the module
// sets on a resource, in a nested block: the archive's file cadence, which
// sets the objects written a month.
func resourceNumber(m *tfcheck.Module, resource, block, attr string) (float64, error) {
	b := m.Resources[resource]
	if b == nil {
		return 0, fmt.Errorf("%s: no %s", m.Dir, resource)
	}
	for _, c := range b.Body.Blocks {
		if c.Type != block {
			continue
		}
		a := c.Body.Attributes[attr]
		if a == nil {
			break
		}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			return 0, fmt.Errorf("%s %s.%s is not a constant", resource, block, attr)
		}
		if v.Type() == cty.String {
			return strconv.ParseFloat(strings.TrimSuffix(v.AsString(), "s"), 64)
		}
		if v.Type() == cty.Number {
			f, _ := v.AsBigFloat().Float64()
			return f, nil
		}
	}
	return 0, fmt.Errorf("%s: no %s.%s", resource, block, attr)
}

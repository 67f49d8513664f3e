package tfcheck

import (
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// requestLogFilter is what the exclusion of successful request logs may
// say: four clauses joined by AND, each one narrowing what is dropped.
type requestLogFilter struct {
	logName, resourceType string
	services              []string
	statusOp              string
	statusBound           int
}

var (
	logNameClause  = regexp.MustCompile(`^logName = "([^"]+)"$`)
	resourceClause = regexp.MustCompile(`^resource\.type = "([^"]+)"$`)
	serviceClause  = regexp.MustCompile(`^resource\.labels\.service_name = \(("[^"]+"(?: OR "[^"]+")*)\)$`)
	statusClause   = regexp.MustCompile(`^httpRequest\.status (<|<=) ([0-9]+)$`)
)

// parseRequestLogFilter reads the filter's clauses; anything else (an OR
// between clauses, a NOT, a clause it does not know) is refused, since it
// could widen what the exclusion drops.
func parseRequestLogFilter(t *testing.T, filter string) requestLogFilter {
	t.Helper()
	var f requestLogFilter
	for _, c := range strings.Split(filter, " AND ") {
		switch {
		case logNameClause.MatchString(c):
			f.logName = logNameClause.FindStringSubmatch(c)[1]
		case resourceClause.MatchString(c):
			f.resourceType = resourceClause.FindStringSubmatch(c)[1]
		case serviceClause.MatchString(c):
			for _, s := range strings.Split(serviceClause.FindStringSubmatch(c)[1], " OR ") {
				f.services = append(f.services, strings.Trim(s, `"`))
			}
		case statusClause.MatchString(c):
			m := statusClause.FindStringSubmatch(c)
			f.statusOp = m[1]
			f.statusBound, _ = strconv.Atoi(m[2])
		default:
			t.Fatalf("request log exclusion: clause %q is not one the test knows; filter %q", c, filter)
		}
	}
	return f
}

// drops says whether the filter's status clause matches a status.
func (f requestLogFilter) drops(status int) bool {
	switch f.statusOp {
	case "<":
		return status < f.statusBound
	case "<=":
		return status <= f.statusBound
	}
	return true // no status clause: every status is dropped
}

// TestGCPSuccessfulRequestLogsExclusion: the exclusion drops Cloud Run's
// request log entries of the module's own four functions for successful
// requests only (what docs/cost.md counts as cut), never a 4xx or 5xx
// entry, and only when exclude_successful_request_logs is on.
func TestGCPSuccessfulRequestLogsExclusion(t *testing.T) {
	m := load(t, filepath.Join(tfRoot, "modules", "gcp"))
	ex := m.Resources["google_logging_project_exclusion.successful_requests"]
	if ex == nil {
		t.Fatal("no google_logging_project_exclusion.successful_requests")
	}
	if got := exprText(t, attr(ex, "count")); got != "var.exclude_successful_request_logs ? 1 : 0" {
		t.Errorf("the exclusion's count is %q, not on exactly when exclude_successful_request_logs", got)
	}
	if def, err := m.Default("exclude_successful_request_logs"); err != nil || !def.RawEquals(cty.True) {
		t.Errorf("exclude_successful_request_logs defaults to %#v (%v), want true: docs/cost.md counts it on", def, err)
	}

	const project = "acme-test"
	e := newEvaluatorWith(m, map[string]cty.Value{"project_id": cty.StringVal(project), "name_prefix": cty.StringVal("acme")})
	filter, ok := knownString(e.value(attr(ex, "filter").Expr, instance{}))
	if !ok {
		t.Fatal("the exclusion's filter is not known before apply")
	}
	f := parseRequestLogFilter(t, filter)

	if want := "projects/" + project + "/logs/run.googleapis.com%2Frequests"; f.logName != want {
		t.Errorf("the exclusion names log %q, not Cloud Run's request log %q", f.logName, want)
	}
	if f.resourceType != "cloud_run_revision" {
		t.Errorf("the exclusion names resource.type %q, not cloud_run_revision", f.resourceType)
	}
	// The services are the Cloud Run services of the module's functions:
	// a gen2 function's service carries the function's name.
	fn := m.Resources["google_cloudfunctions2_function.fn"]
	var names []string
	for _, in := range e.instances(fn) {
		n, ok := knownString(e.value(attr(fn, "name").Expr, in))
		if !ok {
			t.Fatalf("function %s: name not known", in.Key)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	got := append([]string(nil), f.services...)
	sort.Strings(got)
	if len(names) != 4 || strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("the exclusion names services %v, the module's functions are %v", got, names)
	}
	if status, wrong := f.misjudged(); wrong {
		t.Errorf("status %d: the exclusion drops it = %v, want %v (every 2xx/3xx entry dropped, every 4xx and 5xx entry kept)", status, f.drops(status), status < 400)
	}
}

// misjudged returns the first status from 100 to 599 the filter drops when
// it should keep it (4xx, 5xx) or keeps when it should drop it (below 400).
func (f requestLogFilter) misjudged() (int, bool) {
	for status := 100; status < 600; status++ {
		if f.drops(status) != (status < 400) {
			return status, true
		}
	}
	return 0, false
}

// TestRequestLogFilterParserCatches: the checks above fail on filters that
// would drop 4xx or 5xx entries or name another log.
func TestRequestLogFilterParserCatches(t *testing.T) {
	base := `logName = "projects/p/logs/run.googleapis.com%2Frequests" AND resource.type = "cloud_run_revision" AND resource.labels.service_name = ("a-ingest" OR "a-forwarder")`
	for filter, right := range map[string]bool{
		base + ` AND httpRequest.status < 400`:  true,
		base + ` AND httpRequest.status < 600`:  false,
		base + ` AND httpRequest.status <= 500`: false,
		base + ` AND httpRequest.status < 500`:  false,
		base:                                    false,
	} {
		f := parseRequestLogFilter(t, filter)
		if _, wrong := f.misjudged(); wrong == right {
			t.Errorf("%q: misjudges a status = %v, want %v", filter, wrong, !right)
		}
	}
	f := parseRequestLogFilter(t, strings.Replace(base, "%2Frequests", "%2Fstdout", 1))
	if f.logName == "projects/p/logs/run.googleapis.com%2Frequests" {
		t.Error("a filter on the stdout log read as the request log")
	}
}

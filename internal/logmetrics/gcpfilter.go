// Package logmetrics evaluates the log-based metrics the Terraform modules
// define (Google Cloud Logging filters with their label and value
// extractors, CloudWatch Logs metric filter patterns) against log lines,
// so a test can run them on the lines the real functions write.
//
// Each language is implemented only as far as the modules use it; anything
// else is a parse error, so a filter the evaluator does not understand
// fails the test instead of being silently ignored.
package logmetrics

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Entry is a Cloud Logging LogEntry as the filters see it: severity,
// resource (type, labels) and jsonPayload.
type Entry map[string]any

// GCPEntry turns one JSON line a function wrote on stdout or stderr into
// the LogEntry Cloud Logging makes of it: "severity" becomes the entry's
// severity and "time" its timestamp, the rest is jsonPayload; resource is
// the Cloud Run revision of the service (Cloud Functions gen2 runs there).
func GCPEntry(line map[string]any, service string) Entry {
	payload := map[string]any{}
	for k, v := range line {
		if k != "severity" && k != "time" {
			payload[k] = v
		}
	}
	sev, _ := line["severity"].(string)
	if sev == "" {
		sev = "DEFAULT"
	}
	return Entry{"severity": sev, "jsonPayload": payload,
		"resource": map[string]any{"type": "cloud_run_revision", "labels": map[string]any{"service_name": service}}}
}

// lookup follows a dotted path; ok is false when a step is missing.
func lookup(root map[string]any, path []string) (any, bool) {
	var cur any = root
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// GCPFilter is a parsed Logging query: comparisons joined by AND.
type GCPFilter struct{ terms []gcpTerm }

type gcpTerm struct {
	path   []string
	op     string
	values []gcpValue // more than one: path = (a OR b ...)
}

type gcpValue struct {
	text   string
	number *float64
}

// severities in Cloud Logging's order.
var severities = []string{"DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"}

func severityRank(s string) int {
	for i, n := range severities {
		if strings.EqualFold(n, s) {
			return i
		}
	}
	return -1
}

var (
	gcpPathRe = regexp.MustCompile(`^(severity|resource\.type|resource\.labels\.[A-Za-z_][A-Za-z0-9_]*|jsonPayload(\.[A-Za-z_][A-Za-z0-9_]*)+)`)
	gcpOpRe   = regexp.MustCompile(`^(>=|<=|!=|=|>|<)`)
	gcpWordRe = regexp.MustCompile(`^[A-Za-z0-9_.\-]+`)
)

// ParseGCPFilter parses the subset of the Logging query language the
// modules use: `path OP value` and `path=(v1 OR v2 ...)` joined by AND,
// where path is severity, resource.type, resource.labels.NAME or
// jsonPayload.FIELD..., OP is one of = != > >= < <=, and a value is a
// quoted string, a number or a bare word (a severity).
func ParseGCPFilter(s string) (*GCPFilter, error) {
	f := &GCPFilter{}
	rest := strings.TrimSpace(s)
	for {
		t, r, err := parseGCPTerm(rest)
		if err != nil {
			return nil, fmt.Errorf("filter %q: %w", s, err)
		}
		f.terms = append(f.terms, t)
		rest = strings.TrimSpace(r)
		if rest == "" {
			return f, nil
		}
		if !strings.HasPrefix(rest, "AND ") {
			return nil, fmt.Errorf("filter %q: expected AND at %q (only AND joins terms here)", s, rest)
		}
		rest = strings.TrimSpace(rest[len("AND "):])
	}
}

func parseGCPTerm(s string) (gcpTerm, string, error) {
	p := gcpPathRe.FindString(s)
	if p == "" {
		return gcpTerm{}, "", fmt.Errorf("unsupported term at %q", s)
	}
	s = strings.TrimSpace(s[len(p):])
	op := gcpOpRe.FindString(s)
	if op == "" {
		return gcpTerm{}, "", fmt.Errorf("unsupported operator at %q", s)
	}
	t := gcpTerm{path: strings.Split(p, "."), op: op}
	s = strings.TrimSpace(s[len(op):])
	if strings.HasPrefix(s, "(") {
		if op != "=" {
			return gcpTerm{}, "", fmt.Errorf("a list of values needs =, not %s", op)
		}
		s = strings.TrimSpace(s[1:])
		for {
			v, r, err := parseGCPValue(s)
			if err != nil {
				return gcpTerm{}, "", err
			}
			t.values = append(t.values, v)
			s = strings.TrimSpace(r)
			if strings.HasPrefix(s, ")") {
				return t, s[1:], nil
			}
			if !strings.HasPrefix(s, "OR ") {
				return gcpTerm{}, "", fmt.Errorf("expected OR or ) at %q", s)
			}
			s = strings.TrimSpace(s[len("OR "):])
		}
	}
	v, r, err := parseGCPValue(s)
	if err != nil {
		return gcpTerm{}, "", err
	}
	t.values = []gcpValue{v}
	return t, r, nil
}

func parseGCPValue(s string) (gcpValue, string, error) {
	if strings.HasPrefix(s, `"`) {
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				return gcpValue{}, "", fmt.Errorf("escapes in strings are not supported: %q", s)
			case '"':
				return gcpValue{text: s[1:i]}, s[i+1:], nil
			}
		}
		return gcpValue{}, "", fmt.Errorf("unterminated string %q", s)
	}
	w := gcpWordRe.FindString(s)
	if w == "" || w == "AND" || w == "OR" || w == "NOT" {
		return gcpValue{}, "", fmt.Errorf("expected a value at %q", s)
	}
	v := gcpValue{text: w}
	if n, err := strconv.ParseFloat(w, 64); err == nil {
		v.number = &n
	}
	return v, s[len(w):], nil
}

// Match reports whether the entry passes every term.
func (f *GCPFilter) Match(e Entry) bool {
	for _, t := range f.terms {
		if !t.match(e) {
			return false
		}
	}
	return true
}

func (t gcpTerm) match(e Entry) bool {
	got, ok := lookup(e, t.path)
	if !ok {
		return false
	}
	for _, v := range t.values {
		if compareGCP(t.path, got, t.op, v) {
			return true
		}
	}
	return false
}

func compareGCP(path []string, got any, op string, v gcpValue) bool {
	if path[0] == "severity" {
		a, b := severityRank(fmt.Sprint(got)), severityRank(v.text)
		if a < 0 || b < 0 {
			return false
		}
		return order(float64(a), float64(b), op)
	}
	if n, isNum := got.(float64); isNum && v.number != nil {
		return order(n, *v.number, op)
	}
	s, isStr := got.(string)
	if !isStr {
		s = jsonText(got)
	}
	switch op {
	case "=":
		return s == v.text
	case "!=":
		return s != v.text
	}
	return order(float64(strings.Compare(s, v.text)), 0, op)
}

func order(a, b float64, op string) bool {
	switch op {
	case "=":
		return a == b
	case "!=":
		return a != b
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "<":
		return a < b
	case "<=":
		return a <= b
	}
	return false
}

func jsonText(v any) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

var extractRe = regexp.MustCompile(`^EXTRACT\((severity|resource\.type|resource\.labels\.[A-Za-z_][A-Za-z0-9_]*|jsonPayload(\.[A-Za-z_][A-Za-z0-9_]*)+)\)$`)

// Extractor is a parsed EXTRACT(path), the only extractor the modules use.
type Extractor struct{ path []string }

// ParseExtractor parses EXTRACT(path).
func ParseExtractor(s string) (Extractor, error) {
	m := extractRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Extractor{}, fmt.Errorf("extractor %q: only EXTRACT(field) is supported", s)
	}
	return Extractor{path: strings.Split(m[1], ".")}, nil
}

// Label is the label value the extractor gives: the field as text, ""
// when the entry lacks it.
func (x Extractor) Label(e Entry) string {
	v, ok := lookup(e, x.path)
	if !ok {
		return ""
	}
	if s, isStr := v.(string); isStr {
		return s
	}
	return jsonText(v)
}

// Number is the value a distribution metric records; ok is false when
// the field is missing or not a number.
func (x Extractor) Number(e Entry) (float64, bool) {
	v, ok := lookup(e, x.path)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case float64:
		return n, true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

package tfcheck

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// The monitoring rules (docs/operations.md): every alert has somewhere to
// go and says what to do, and every metric an alert or alarm reads is one
// the cloud has or the module defines. LogMetrics hands the log-based
// metrics, evaluated, to internal/logmetrics, which runs them against the
// functions' own log lines.

// GCPLogMetric is one google_logging_metric as the module defines it.
type GCPLogMetric struct {
	Resource        string // google_logging_metric.NAME
	Name            string
	Filter          string
	LabelExtractors map[string]string
	ValueExtractor  string // "" for a counter
	Unit            string // metric_descriptor.unit: "1" counts events, "us" a latency
}

// AWSMetricFilter is one aws_cloudwatch_log_metric_filter instance.
type AWSMetricFilter struct {
	Resource   string // aws_cloudwatch_log_metric_filter.NAME[KEY]
	LogGroup   string
	Pattern    string
	Namespace  string
	Metric     string
	Value      string
	Unit       string // "Count": the values sum to events; "Microseconds": a latency
	Dimensions map[string]string
}

// builtinMetricPrefixes are the Google Cloud metric types alerts may read
// without the module defining them.
var builtinMetricPrefixes = []string{"pubsub.googleapis.com/", "run.googleapis.com/", "cloudfunctions.googleapis.com/"}

const userMetricPrefix = "logging.googleapis.com/user/"

// namedEvaluator evaluates like the module's evaluator, except that the
// attributes a resource sets to known values (name, function_name, ...;
// for a for_each resource, each instance's) are known, so a filter naming
// a subscription or a log-based metric comes out as the string the
// provider receives. What only the provider knows (id, arn) stays unknown.
func namedEvaluator(m *Module) *evaluator {
	byType := map[string]map[string]cty.Value{}
	named := func(b *hclsyntax.Block, in instance) (cty.Value, bool) {
		known := map[string]cty.Value{}
		for name := range b.Body.Attributes {
			if name == "for_each" || name == "count" || name == "depends_on" {
				continue
			}
			if v := m.evalAttr(b, name, in); v.IsWhollyKnown() && !v.IsNull() {
				known[name] = v
			}
		}
		return cty.ObjectVal(known), len(known) > 0
	}
	for key, b := range m.Resources {
		var v cty.Value
		switch {
		case attr(b, "count") != nil:
			continue
		case attr(b, "for_each") != nil:
			insts := map[string]cty.Value{}
			for _, in := range m.eval.instances(b) {
				if o, ok := named(b, in); ok && in.Key != "?" {
					insts[in.Key] = o
				}
			}
			if len(insts) == 0 {
				continue
			}
			v = cty.ObjectVal(insts)
		default:
			o, ok := named(b, instance{})
			if !ok {
				continue
			}
			v = o
		}
		typ, res, _ := strings.Cut(key, ".")
		if byType[typ] == nil {
			byType[typ] = map[string]cty.Value{}
		}
		byType[typ][res] = v
	}
	e := &evaluator{m: m, locals: map[string]cty.Value{}, busy: map[string]bool{}}
	root := map[string]cty.Value{}
	for k, v := range m.eval.ctx.Variables {
		root[k] = v
	}
	for typ, res := range byType {
		root[typ] = cty.ObjectVal(res)
	}
	root["local"] = cty.DynamicVal
	fns := maps.Clone(m.eval.ctx.Functions)
	fns["setproduct"] = stdlib.SetProductFunc
	e.ctx = &hcl.EvalContext{Variables: root, Functions: fns}
	for _, name := range sortedKeys(m.Locals) {
		e.local(name)
	}
	e.ctx.Variables["local"] = objectOrEmpty(e.locals)
	return e
}

// LogMetrics returns the module's log-based metrics (Google Cloud) and
// metric filters (AWS), every value evaluated from the variables'
// defaults; a value that cannot be known is a problem.
func LogMetrics(m *Module) ([]GCPLogMetric, []AWSMetricFilter, []string) {
	e := namedEvaluator(m)
	var gcp []GCPLogMetric
	var aws []AWSMetricFilter
	var problems []string
	str := func(where string, v cty.Value, what string) string {
		s, ok := knownString(v)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: %s cannot be known from the defaults", where, what))
		}
		return s
	}
	strMap := func(where string, v cty.Value, what string) map[string]string {
		out := map[string]string{}
		if v.IsNull() {
			return out
		}
		if !v.IsWhollyKnown() || !v.CanIterateElements() {
			problems = append(problems, fmt.Sprintf("%s: %s cannot be known from the defaults", where, what))
			return out
		}
		for it := v.ElementIterator(); it.Next(); {
			k, el := it.Element()
			out[k.AsString()] = str(where, el, what+"."+k.AsString())
		}
		return out
	}
	for _, key := range m.resourcesOf("google_logging_metric") {
		b := m.Resources[key]
		for _, in := range e.instances(b) {
			res := key
			if in.Key != "" {
				res = fmt.Sprintf("%s[%s]", key, in.Key)
			}
			where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), res)
			lm := GCPLogMetric{Resource: res,
				Name:            str(where, e.attrValue(b, "name", in), "name"),
				Filter:          str(where, e.attrValue(b, "filter", in), "filter"),
				LabelExtractors: strMap(where, e.attrValue(b, "label_extractors", in), "label_extractors")}
			if v := e.attrValue(b, "value_extractor", in); !v.IsNull() {
				lm.ValueExtractor = str(where, v, "value_extractor")
			}
			if md := block(b, "metric_descriptor"); md != nil {
				lm.Unit = str(where, e.attrValue(md, "unit", in), "metric_descriptor.unit")
			}
			gcp = append(gcp, lm)
		}
	}
	for _, key := range m.resourcesOf("aws_cloudwatch_log_metric_filter") {
		b := m.Resources[key]
		for _, in := range e.instances(b) {
			where := fmt.Sprintf("%s: %s[%s]", m.pos(b.DefRange()), key, in.Key)
			f := AWSMetricFilter{Resource: fmt.Sprintf("%s[%s]", key, in.Key),
				Pattern: str(where, e.attrValue(b, "pattern", in), "pattern")}
			f.LogGroup = str(where, e.logGroupName(b, in), "log_group_name")
			mt := block(b, "metric_transformation")
			if mt == nil {
				problems = append(problems, where+": no metric_transformation")
			} else {
				f.Namespace = str(where, e.attrValue(mt, "namespace", in), "namespace")
				f.Metric = str(where, e.attrValue(mt, "name", in), "metric_transformation.name")
				f.Value = str(where, e.attrValue(mt, "value", in), "value")
				f.Unit = str(where, e.attrValue(mt, "unit", in), "unit")
				f.Dimensions = strMap(where, e.attrValue(mt, "dimensions", in), "dimensions")
			}
			aws = append(aws, f)
		}
	}
	return gcp, aws, problems
}

func (e *evaluator) attrValue(b *hclsyntax.Block, name string, in instance) cty.Value {
	if a := attr(b, name); a != nil {
		return e.value(a.Expr, e.rebase(in))
	}
	return cty.NullVal(cty.DynamicPseudoType)
}

// rebase moves an instance (each, count) of the module's evaluator onto
// this one's context.
func (e *evaluator) rebase(in instance) instance {
	if in.ctx == nil || in.ctx == e.ctx {
		return instance{Key: in.Key, ctx: e.ctx}
	}
	ctx := e.ctx.NewChild()
	ctx.Variables = in.ctx.Variables
	return instance{Key: in.Key, ctx: ctx}
}

// logGroupName is the filter's log group name; a reference such as
// aws_cloudwatch_log_group.fn[each.value.fn].name is followed to that log
// group instance's own name.
func (e *evaluator) logGroupName(b *hclsyntax.Block, in instance) cty.Value {
	a := attr(b, "log_group_name")
	if a == nil {
		return cty.DynamicVal
	}
	if v := e.value(a.Expr, e.rebase(in)); v.IsWhollyKnown() {
		return v
	}
	rel, ok := a.Expr.(*hclsyntax.RelativeTraversalExpr)
	if !ok {
		return cty.DynamicVal
	}
	ix, ok := rel.Source.(*hclsyntax.IndexExpr)
	if !ok {
		return cty.DynamicVal
	}
	r, ok := refTo(ix.Collection, "aws_cloudwatch_log_group")
	if !ok {
		return cty.DynamicVal
	}
	k, ok := knownString(e.value(ix.Key, e.rebase(in)))
	if !ok {
		return cty.DynamicVal
	}
	r.Key = k
	lg, lin, found := e.m.instanceOf(r)
	if !found {
		return cty.DynamicVal
	}
	return e.attrValue(lg, "name", lin)
}

var (
	metricTypeRe  = regexp.MustCompile(`metric\.type\s*=\s*"([^"]*)"`)
	metricLabelRe = regexp.MustCompile(`metric\.labels?\.([A-Za-z0-9_]+)`)
)

// checkMonitoring: alerts notify someone and document what to do, and
// every metric they read exists, with the labels or dimensions they name.
func checkMonitoring(m *Module) []string {
	if !m.has("google_monitoring_alert_policy") && !m.has("aws_cloudwatch_metric_alarm") &&
		!m.has("google_logging_metric") && !m.has("aws_cloudwatch_log_metric_filter") {
		return nil
	}
	e := namedEvaluator(m)
	gcp, aws, out := LogMetrics(m)
	userMetrics := map[string]GCPLogMetric{}
	for _, lm := range gcp {
		userMetrics[userMetricPrefix+lm.Name] = lm
	}
	for _, key := range m.resourcesOf("google_monitoring_alert_policy") {
		b := m.Resources[key]
		for _, in := range e.instances(b) {
			where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), key)
			if in.Key != "" {
				where += "[" + in.Key + "]"
			}
			out = append(out, checkNotifies(where, e.attrValue(b, "notification_channels", in), "notification_channels")...)
			doc := block(b, "documentation")
			if s, ok := knownString(e.attrValue(doc, "content", in)); doc == nil || (ok && strings.TrimSpace(s) == "") {
				out = append(out, where+": no documentation { content } (what the alert means, what to do)")
			}
			conds := blocks(b, "conditions")
			if len(conds) == 0 {
				out = append(out, where+": no conditions")
			}
			for _, c := range conds {
				for _, kind := range []string{"condition_threshold", "condition_absent"} {
					ct := block(c, kind)
					if ct == nil {
						continue
					}
					for _, fa := range []string{"filter", "denominator_filter"} {
						if attr(ct, fa) == nil {
							continue
						}
						filter, ok := knownString(e.attrValue(ct, fa, in))
						if !ok {
							out = append(out, fmt.Sprintf("%s: %s.%s cannot be known from the defaults", where, kind, fa))
							continue
						}
						out = append(out, checkAlertFilter(where, filter, userMetrics)...)
					}
				}
			}
		}
	}
	out = append(out, e.checkDashboards(m, userMetrics)...)
	filters := map[string][]AWSMetricFilter{}
	for _, f := range aws {
		filters[f.Namespace+"\x00"+f.Metric] = append(filters[f.Namespace+"\x00"+f.Metric], f)
	}
	for _, key := range m.resourcesOf("aws_cloudwatch_metric_alarm") {
		b := m.Resources[key]
		for _, in := range e.instances(b) {
			where := fmt.Sprintf("%s: %s[%s]", m.pos(b.DefRange()), key, in.Key)
			out = append(out, checkNotifies(where, e.attrValue(b, "alarm_actions", in), "alarm_actions")...)
			if s, ok := knownString(e.attrValue(b, "alarm_description", in)); !ok || strings.TrimSpace(s) == "" {
				out = append(out, where+": no alarm_description (what the alarm means, what to do)")
			}
			type use struct {
				b    *hclsyntax.Block
				what string
			}
			uses := []use{{b, "alarm"}}
			if attr(b, "metric_name") == nil {
				uses = nil
			}
			for _, q := range blocks(b, "metric_query") {
				if mb := block(q, "metric"); mb != nil {
					id, _ := knownString(m.valueOf(attr(q, "id")))
					uses = append(uses, use{mb, "metric_query " + id})
				}
			}
			if len(uses) == 0 && len(blocks(b, "metric_query")) == 0 {
				out = append(out, where+": no metric_name and no metric_query")
			}
			for _, u := range uses {
				out = append(out, e.checkAlarmMetric(where+" "+u.what, u.b, in, filters)...)
			}
		}
	}
	return out
}

// checkNotifies: a list attribute that has at least one element.
func checkNotifies(where string, v cty.Value, name string) []string {
	if v.IsNull() || (v.IsKnown() && v.CanIterateElements() && v.LengthInt() == 0) {
		return []string{fmt.Sprintf("%s: %s is empty: the alert notifies no one", where, name)}
	}
	return nil
}

// checkAlertFilter: the metric type is built in or a log-based metric of
// the module, and the labels the filter names are the metric's.
func checkAlertFilter(where, filter string, userMetrics map[string]GCPLogMetric) []string {
	var out []string
	types := metricTypeRe.FindAllStringSubmatch(filter, -1)
	if len(types) != 1 {
		return []string{fmt.Sprintf("%s: filter %q must name exactly one metric.type", where, filter)}
	}
	typ := types[0][1]
	if lm, ok := userMetrics[typ]; ok {
		for _, l := range metricLabelRe.FindAllStringSubmatch(filter, -1) {
			if _, has := lm.LabelExtractors[l[1]]; !has {
				out = append(out, fmt.Sprintf("%s: filter uses label %s, which %s does not extract", where, l[1], lm.Resource))
			}
		}
		return out
	}
	for _, p := range builtinMetricPrefixes {
		if strings.HasPrefix(typ, p) {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s: metric %s is neither built in nor a google_logging_metric of the module", where, typ)}
}

// checkAlarmMetric: an alarm on a custom namespace reads a metric a filter
// publishes, with exactly that filter's dimension names (CloudWatch
// matches an alarm to one dimension set).
func (e *evaluator) checkAlarmMetric(where string, b *hclsyntax.Block, in instance, filters map[string][]AWSMetricFilter) []string {
	ns, okNS := knownString(e.attrValue(b, "namespace", in))
	name, okName := knownString(e.attrValue(b, "metric_name", in))
	if r, isRef := refTo(attrExpr(b, "metric_name"), "aws_cloudwatch_log_metric_filter"); isRef && !okName {
		// metric_name = aws_cloudwatch_log_metric_filter.X.metric_transformation[0].name
		for _, fs := range filters {
			for _, f := range fs {
				if strings.HasPrefix(f.Resource, r.Type+"."+r.Name+"[") {
					name, okName = f.Metric, true
				}
			}
		}
	}
	if !okNS || !okName {
		return []string{where + ": namespace and metric_name must be known from the defaults"}
	}
	if strings.HasPrefix(ns, "AWS/") {
		return nil
	}
	fs := filters[ns+"\x00"+name]
	if len(fs) == 0 {
		return []string{fmt.Sprintf("%s: metric %s/%s is published by no aws_cloudwatch_log_metric_filter", where, ns, name)}
	}
	var dims []string
	if v := e.attrValue(b, "dimensions", in); !v.IsNull() && v.IsWhollyKnown() && v.CanIterateElements() {
		for it := v.ElementIterator(); it.Next(); {
			k, _ := it.Element()
			dims = append(dims, k.AsString())
		}
	}
	sort.Strings(dims)
	var out []string
	for _, f := range fs {
		want := sortedKeys(f.Dimensions)
		if strings.Join(want, ",") != strings.Join(dims, ",") {
			out = append(out, fmt.Sprintf("%s: dimensions [%s], but %s publishes %s with [%s]",
				where, strings.Join(dims, ","), f.Resource, name, strings.Join(want, ",")))
		}
	}
	return out
}

// checkDashboards: every chart of a Cloud Monitoring dashboard reads a
// metric that exists, as alerts must. (CloudWatch dashboards name metrics
// in arrays and SEARCH expressions; the proof test reads those names from
// the same locals.)
func (e *evaluator) checkDashboards(m *Module, userMetrics map[string]GCPLogMetric) []string {
	var out []string
	for _, key := range m.resourcesOf("google_monitoring_dashboard") {
		b := m.Resources[key]
		where := fmt.Sprintf("%s: %s", m.pos(b.DefRange()), key)
		for _, in := range e.instances(b) {
			doc, ok := knownString(e.attrValue(b, "dashboard_json", in))
			if !ok {
				out = append(out, where+": dashboard_json cannot be known from the defaults")
				continue
			}
			var v any
			if err := json.Unmarshal([]byte(doc), &v); err != nil {
				out = append(out, fmt.Sprintf("%s: dashboard_json is not JSON: %v", where, err))
				continue
			}
			for _, f := range jsonStrings(v, "filter") {
				out = append(out, checkAlertFilter(where+" chart", f, userMetrics)...)
			}
			for _, q := range jsonStrings(v, "prometheusQuery") {
				out = append(out, checkPromQL(where+" chart", q, userMetrics)...)
			}
		}
	}
	return out
}

var (
	promUserMetricRe = regexp.MustCompile(`logging_googleapis_com:user_[A-Za-z0-9_]+`)
	promUnsafeRe     = regexp.MustCompile(`[^A-Za-z0-9_:]`)
)

// checkPromQL: a PromQL query names at least one log-based metric, and each
// is one of the module's distributions with a histogram suffix (_sum,
// _count, _bucket), under Cloud Monitoring's PromQL name for it: the
// type's first / becomes :, every other character but letters, digits
// and _ becomes _.
func checkPromQL(where, query string, userMetrics map[string]GCPLogMetric) []string {
	names := map[string]GCPLogMetric{}
	for typ, lm := range userMetrics {
		n := strings.Replace(typ, "/", ":", 1)
		n = promUnsafeRe.ReplaceAllString(n, "_")
		names[n] = lm
	}
	used := promUserMetricRe.FindAllString(query, -1)
	if len(used) == 0 {
		return []string{fmt.Sprintf("%s: PromQL %q names no log-based metric", where, query)}
	}
	var out []string
	for _, u := range used {
		found := false
		for _, suffix := range []string{"_sum", "_count", "_bucket"} {
			if lm, ok := names[strings.TrimSuffix(u, suffix)]; ok && strings.HasSuffix(u, suffix) {
				found = true
				if lm.ValueExtractor == "" {
					out = append(out, fmt.Sprintf("%s: PromQL reads %s, but %s is a counter, not a distribution", where, u, lm.Resource))
				}
			}
		}
		if !found {
			out = append(out, fmt.Sprintf("%s: PromQL reads %s, which is not <a google_logging_metric of the module>_sum, _count or _bucket", where, u))
		}
	}
	return out
}

// jsonStrings returns every string value under the key, at any depth.
func jsonStrings(v any, key string) []string {
	var out []string
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			if s, ok := c.(string); ok && k == key {
				out = append(out, s)
			}
			out = append(out, jsonStrings(c, key)...)
		}
	case []any:
		for _, c := range t {
			out = append(out, jsonStrings(c, key)...)
		}
	}
	return out
}

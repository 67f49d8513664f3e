package logmetrics

import (
	"fmt"
	"sort"
	"strings"
)

// GCPMetric is a log-based metric ready to count entries.
type GCPMetric struct {
	filter *GCPFilter
	labels map[string]Extractor
	value  *Extractor
}

// NewGCPMetric parses a google_logging_metric's filter, label extractors
// and value extractor ("" for a counter).
func NewGCPMetric(filter string, labels map[string]string, value string) (*GCPMetric, error) {
	f, err := ParseGCPFilter(filter)
	if err != nil {
		return nil, err
	}
	m := &GCPMetric{filter: f, labels: map[string]Extractor{}}
	for k, s := range labels {
		if m.labels[k], err = ParseExtractor(s); err != nil {
			return nil, fmt.Errorf("label %s: %w", k, err)
		}
	}
	if value != "" {
		x, err := ParseExtractor(value)
		if err != nil {
			return nil, fmt.Errorf("value: %w", err)
		}
		m.value = &x
	}
	return m, nil
}

// Count counts the entries the metric selects by their label values
// ("k=v,..." in key order). A distribution metric must extract a number
// from every entry it selects.
func (m *GCPMetric) Count(entries []Entry) (map[string]int, error) {
	return m.tally(entries, false)
}

// Sum adds up the values a distribution extracts, by label values: what a
// distribution of counts (unit "1") counts, its sum. Each value must be a
// whole number.
func (m *GCPMetric) Sum(entries []Entry) (map[string]int, error) {
	if m.value == nil {
		return nil, fmt.Errorf("a counter has no values to sum")
	}
	return m.tally(entries, true)
}

func (m *GCPMetric) tally(entries []Entry, sum bool) (map[string]int, error) {
	out := map[string]int{}
	for _, e := range entries {
		if !m.filter.Match(e) {
			continue
		}
		n := 1
		if m.value != nil {
			v, ok := m.value.Number(e)
			if !ok {
				return nil, fmt.Errorf("selects an entry without a numeric value: %v", e)
			}
			if sum {
				if n = int(v); float64(n) != v {
					return nil, fmt.Errorf("a count that is not a whole number, %v: %v", v, e)
				}
			}
		}
		vals := map[string]string{}
		for k, x := range m.labels {
			vals[k] = x.Label(e)
		}
		out[Key(vals)] += n
	}
	return out, nil
}

// AWSMetric is a metric filter ready to run on one log group's lines.
type AWSMetric struct {
	pattern *AWSPattern
	value   AWSValue
	dims    map[string]AWSValue
}

// NewAWSMetric parses a metric filter's pattern, value and dimensions.
func NewAWSMetric(pattern, value string, dims map[string]string) (*AWSMetric, error) {
	p, err := ParseAWSPattern(pattern)
	if err != nil {
		return nil, err
	}
	m := &AWSMetric{pattern: p, dims: map[string]AWSValue{}}
	if m.value, err = ParseAWSValue(value); err != nil {
		return nil, err
	}
	for k, s := range dims {
		v, err := ParseAWSValue(s)
		if err != nil || v.constant != nil {
			return nil, fmt.Errorf("dimension %s = %q: only $.field is supported", k, s)
		}
		m.dims[k] = v
	}
	return m, nil
}

// Count counts the lines the filter selects by their dimension values; a
// selected line must carry every dimension and a numeric value.
func (m *AWSMetric) Count(lines []map[string]any) (map[string]int, error) {
	return m.tally(lines, false)
}

// Sum adds up the values the filter publishes, by dimension values: what
// the metric's Sum statistic reads. Each value must be a whole number.
func (m *AWSMetric) Sum(lines []map[string]any) (map[string]int, error) {
	return m.tally(lines, true)
}

func (m *AWSMetric) tally(lines []map[string]any, sum bool) (map[string]int, error) {
	out := map[string]int{}
	for _, l := range lines {
		if !m.pattern.Match(l) {
			continue
		}
		v, ok := m.value.Number(l)
		if !ok {
			return nil, fmt.Errorf("selects a line without a numeric value: %v", l)
		}
		n := 1
		if sum {
			if n = int(v); float64(n) != v {
				return nil, fmt.Errorf("a count that is not a whole number, %v: %v", v, l)
			}
		}
		vals := map[string]string{}
		for k, d := range m.dims {
			s, ok := d.Text(l)
			if !ok {
				return nil, fmt.Errorf("selects a line without dimension %s: %v", k, l)
			}
			vals[k] = s
		}
		out[Key(vals)] += n
	}
	return out, nil
}

// Key writes label or dimension values as "k=v,k=v" in key order.
func Key(vals map[string]string) string {
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + vals[k]
	}
	return strings.Join(parts, ",")
}

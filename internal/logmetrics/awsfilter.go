package logmetrics

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// AWSPattern is a parsed CloudWatch Logs JSON filter pattern.
type AWSPattern struct{ root awsNode }

type awsNode interface {
	match(line map[string]any) bool
}

type awsOr []awsNode
type awsAnd []awsNode

type awsCmp struct {
	path   []string
	op     string
	text   string
	number *float64
}

func (o awsOr) match(l map[string]any) bool {
	for _, n := range o {
		if n.match(l) {
			return true
		}
	}
	return false
}

func (a awsAnd) match(l map[string]any) bool {
	for _, n := range a {
		if !n.match(l) {
			return false
		}
	}
	return true
}

// match follows CloudWatch's rules for JSON patterns: a string compares
// equal or not equal, a number with any of the six operators; a missing
// field, or one of the other kind, does not match.
func (c awsCmp) match(l map[string]any) bool {
	got, ok := lookup(l, c.path)
	if !ok {
		return false
	}
	if c.number != nil {
		n, isNum := got.(float64)
		return isNum && order(n, *c.number, c.op)
	}
	s, isStr := got.(string)
	if !isStr {
		return false
	}
	if c.op == "=" {
		return s == c.text
	}
	return s != c.text
}

var (
	awsSelRe = regexp.MustCompile(`^\$(\.[A-Za-z_][A-Za-z0-9_]*)+`)
	awsOpRe  = regexp.MustCompile(`^(>=|<=|!=|=|>|<)`)
	awsNumRe = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?`)
)

// ParseAWSPattern parses the subset of the JSON filter pattern syntax the
// modules use: `{ EXPR }` where EXPR joins `$.field OP value` with && and
// ||, grouped with parentheses; a value is a quoted string without
// wildcards or a number. Anything else (text patterns, wildcards, IS
// NULL, arrays, regular expressions) is refused.
func ParseAWSPattern(s string) (*AWSPattern, error) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{") || !strings.HasSuffix(t, "}") {
		return nil, fmt.Errorf("pattern %q: only JSON patterns { ... } are supported", s)
	}
	p := &awsParser{s: strings.TrimSpace(t[1 : len(t)-1])}
	n, err := p.or()
	if err == nil && strings.TrimSpace(p.s) != "" {
		err = fmt.Errorf("unexpected %q", p.s)
	}
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", s, err)
	}
	return &AWSPattern{root: n}, nil
}

// Match reports whether a JSON line matches.
func (p *AWSPattern) Match(line map[string]any) bool { return p.root.match(line) }

type awsParser struct{ s string }

func (p *awsParser) eat(tok string) bool {
	p.s = strings.TrimSpace(p.s)
	if strings.HasPrefix(p.s, tok) {
		p.s = p.s[len(tok):]
		return true
	}
	return false
}

func (p *awsParser) or() (awsNode, error) {
	var out awsOr
	for {
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		if !p.eat("||") {
			break
		}
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

func (p *awsParser) and() (awsNode, error) {
	var out awsAnd
	for {
		n, err := p.atom()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		if !p.eat("&&") {
			break
		}
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

func (p *awsParser) atom() (awsNode, error) {
	if p.eat("(") {
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.eat(")") {
			return nil, fmt.Errorf("missing ) at %q", p.s)
		}
		return n, nil
	}
	p.s = strings.TrimSpace(p.s)
	sel := awsSelRe.FindString(p.s)
	if sel == "" {
		return nil, fmt.Errorf("expected $.field at %q", p.s)
	}
	p.s = strings.TrimSpace(p.s[len(sel):])
	op := awsOpRe.FindString(p.s)
	if op == "" {
		return nil, fmt.Errorf("unsupported operator at %q", p.s)
	}
	p.s = strings.TrimSpace(p.s[len(op):])
	c := awsCmp{path: strings.Split(sel[2:], "."), op: op}
	switch {
	case strings.HasPrefix(p.s, `"`):
		end := strings.IndexByte(p.s[1:], '"')
		if end < 0 {
			return nil, fmt.Errorf("unterminated string at %q", p.s)
		}
		c.text = p.s[1 : end+1]
		if strings.ContainsAny(c.text, `*\`) {
			return nil, fmt.Errorf("wildcards and escapes are not supported: %q", c.text)
		}
		if op != "=" && op != "!=" {
			return nil, fmt.Errorf("a string compares only with = or !=, not %s", op)
		}
		p.s = p.s[end+2:]
	default:
		num := awsNumRe.FindString(p.s)
		if num == "" {
			return nil, fmt.Errorf("expected a quoted string or a number at %q", p.s)
		}
		n, _ := strconv.ParseFloat(num, 64)
		c.number = &n
		p.s = p.s[len(num):]
	}
	return c, nil
}

var awsFieldRe = regexp.MustCompile(`^\$((\.[A-Za-z_][A-Za-z0-9_]*)+)$`)

// AWSValue is a metric transformation's value or a dimension: a constant
// number, or $.field.
type AWSValue struct {
	path     []string
	constant *float64
}

// ParseAWSValue parses "1" or "$.field".
func ParseAWSValue(s string) (AWSValue, error) {
	if m := awsFieldRe.FindStringSubmatch(s); m != nil {
		return AWSValue{path: strings.Split(m[1][1:], ".")}, nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return AWSValue{}, fmt.Errorf("value %q: only a number or $.field is supported", s)
	}
	return AWSValue{constant: &n}, nil
}

// Number is the value the line publishes; ok is false when the field is
// missing or not a number (CloudWatch then publishes nothing).
func (v AWSValue) Number(line map[string]any) (float64, bool) {
	if v.constant != nil {
		return *v.constant, true
	}
	got, ok := lookup(line, v.path)
	if !ok {
		return 0, false
	}
	n, isNum := got.(float64)
	return n, isNum
}

// Text is a dimension's value from the line; ok is false when missing.
func (v AWSValue) Text(line map[string]any) (string, bool) {
	if v.constant != nil {
		return strconv.FormatFloat(*v.constant, 'f', -1, 64), true
	}
	got, ok := lookup(line, v.path)
	if !ok {
		return "", false
	}
	if s, isStr := got.(string); isStr {
		return s, true
	}
	return jsonText(got), true
}

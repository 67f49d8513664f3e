package logmetrics

import "testing"

func TestGCPFilterSubset(t *testing.T) {
	e := GCPEntry(map[string]any{"severity": "WARNING", "outcome": "retry", "status": 503.0, "time": "t"}, "eventrelay-forwarder")
	cases := []struct {
		filter string
		want   bool
	}{
		{`resource.type="cloud_run_revision" AND resource.labels.service_name="eventrelay-forwarder"`, true},
		{`jsonPayload.outcome=("delivered" OR "retry")`, true},
		{`jsonPayload.outcome=("delivered" OR "dead_lettered")`, false},
		{`jsonPayload.status>=500 AND jsonPayload.status<600`, true},
		{`jsonPayload.status>=0 AND jsonPayload.missing>=0`, false},
		{`severity>=WARNING`, true},
		{`severity>=ERROR`, false},
		{`jsonPayload.severity="WARNING"`, false}, // severity leaves the payload
		{`jsonPayload.time="t"`, false},           // and so does time
		{`jsonPayload.outcome!="delivered"`, true},
	}
	for _, c := range cases {
		f, err := ParseGCPFilter(c.filter)
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		if got := f.Match(e); got != c.want {
			t.Errorf("%s: %v, want %v", c.filter, got, c.want)
		}
	}
	for _, bad := range []string{
		`jsonPayload.outcome:"retry"`,                            // has
		`jsonPayload.outcome=~"re.*"`,                            // regular expression
		`jsonPayload.a="x" OR jsonPayload.b="y"`,                 // OR between terms
		`NOT jsonPayload.a="x"`,                                  // negation
		`(jsonPayload.a="x")`,                                    // grouping
		`jsonPayload.a="x" jsonPayload.b="y"`,                    // implicit AND
		`textPayload="x"`,                                        // other fields
		`labels.instanceId="x"`,                                  // other fields
		`jsonPayload.a="x\"y"`,                                   // escapes
		`jsonPayload.a>=("x" OR "y")`,                            // a list with >=
		`"free text"`,                                            // global search
		`jsonPayload.a=x*`,                                       // wildcard
		`timestamp>="2026-01-01T00:00:00Z"`,                      // other fields
		`resource.labels.service_name=starts_with("eventrelay")`, // functions
	} {
		if _, err := ParseGCPFilter(bad); err == nil {
			t.Errorf("%s: parsed, but it is outside the subset", bad)
		}
	}
	for _, bad := range []string{`REGEXP_EXTRACT(jsonPayload.a, "(x)")`, `jsonPayload.a`, `EXTRACT(textPayload)`} {
		if _, err := ParseExtractor(bad); err == nil {
			t.Errorf("%s: parsed, but it is outside the subset", bad)
		}
	}
}

func TestAWSPatternSubset(t *testing.T) {
	line := map[string]any{"outcome": "dead_lettered", "class": "auth", "status": 401.0}
	cases := []struct {
		pattern string
		want    bool
	}{
		{`{ $.outcome = "dead_lettered" && $.class = "auth" }`, true},
		{`{ $.outcome = "delivered" || $.class = "auth" }`, true},
		{`{ ($.outcome = "delivered" || $.outcome = "retry") && $.class = "auth" }`, false},
		{`{ $.status >= 400 && $.status < 500 }`, true},
		{`{ $.status = 401 }`, true},
		{`{ $.status = "401" }`, false}, // a number is not a string
		{`{ $.outcome >= 0 }`, false},   // nor a string a number
		{`{ $.missing != "x" }`, false},
		{`{ $.class != "permanent" }`, true},
	}
	for _, c := range cases {
		p, err := ParseAWSPattern(c.pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		if got := p.Match(line); got != c.want {
			t.Errorf("%s: %v, want %v", c.pattern, got, c.want)
		}
	}
	for _, bad := range []string{
		`"dead_lettered"`,                   // a term pattern
		`[ip, user, status]`,                // a space-delimited pattern
		`{ $.outcome = "dead*" }`,           // wildcard
		`{ $.outcome = * }`,                 // wildcard
		`{ $.outcome IS NULL }`,             // null test
		`{ $.items[0].id = "x" }`,           // arrays
		`{ $.outcome = %dead.*% }`,          // regular expression
		`{ $.outcome > "a" }`,               // string ordering
		`{ $.outcome = "a" $.class = "b" }`, // missing operator
		`{ ($.outcome = "a" }`,              // unbalanced
	} {
		if _, err := ParseAWSPattern(bad); err == nil {
			t.Errorf("%s: parsed, but it is outside the subset", bad)
		}
	}
	for _, bad := range []string{`$.items[0]`, `x`} {
		if _, err := ParseAWSValue(bad); err == nil {
			t.Errorf("%s: parsed, but it is outside the subset", bad)
		}
	}
}

package settings

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDeclarations: every declaration is complete and consistent: a
// variable's name, one line of description, its readers, a default inside
// its bounds, and for a setting a deployed function reads, how each cloud's
// module sets it.
func TestDeclarations(t *testing.T) {
	all := All()
	if len(all) < 100 {
		t.Fatalf("%d settings declared; the registry lost some", len(all))
	}
	seen := map[string]bool{}
	for _, s := range all {
		m := s.Info()
		if !envName.MatchString(m.Name) && m.Name != "GOGC" && m.Name != "GOMEMLIMIT" {
			t.Errorf("%q is not an environment variable's name", m.Name)
		}
		if seen[m.Name] {
			t.Errorf("%s is declared twice", m.Name)
		}
		seen[m.Name] = true
		if m.Description == "" || strings.ContainsAny(m.Description, "\n|") || strings.HasSuffix(m.Description, ".") {
			t.Errorf("%s: the description must be one line, without | or a final full stop: %q", m.Name, m.Description)
		}
		if len(m.Functions) == 0 {
			t.Errorf("%s: no function reads it", m.Name)
		}
		deployed := slices.ContainsFunc(m.Functions, Function.Deployed)
		for cloud, tf := range map[string]Terraform{"gcp": m.GCP, "aws": m.AWS} {
			switch {
			case deployed && tf.How == Unset:
				t.Errorf("%s: read by a deployed function, but it does not say how the %s module sets it (Var, From, DerivedFrom, ByPlatform, Unused, Nowhere, OnlyLocal, OnlyTest)", m.Name, cloud)
			case !deployed && tf.How != Unset && tf.How != LocalOnly && tf.How != NotOnCloud:
				t.Errorf("%s: no deployed function reads it, yet the %s module sets it (%s)", m.Name, cloud, tf.Text())
			case (tf.How == Variable || tf.How == Derived) && tf.Variable == "":
				t.Errorf("%s: %s: no variable named", m.Name, cloud)
			}
		}
		if m.Secret == HoldsSecret && (m.GCP.How == Variable || m.AWS.How == Variable) {
			t.Errorf("%s holds a secret: it must not come from a Terraform variable (it would sit in the state and tfvars)", m.Name)
		}
		switch s := s.(type) {
		case *Int:
			if s.Min > s.Max || s.Default < s.Min || s.Default > s.Max {
				t.Errorf("%s: default %d outside %d to %d", m.Name, s.Default, s.Min, s.Max)
			}
		case *Duration:
			if s.Min > s.Max || s.Default < s.Min || s.Default > s.Max {
				t.Errorf("%s: default %s outside %s to %s", m.Name, s.Default, s.Min, s.Max)
			}
		case *OneOf:
			if len(s.Allowed) < 2 || (s.Default != "" && !slices.Contains(s.Allowed, s.Default)) {
				t.Errorf("%s: default %q not among %v", m.Name, s.Default, s.Allowed)
			}
		}
	}
}

// The getters: unset gives the default, a good value is read, a bad one is
// one line naming the variable (the first problem wins).
func TestGetters(t *testing.T) {
	i := &Int{Meta: Meta{Name: "T_INT"}, Default: 8, Min: 1, Max: 100}
	d := &Duration{Meta: Meta{Name: "T_DUR"}, Default: 5 * time.Second, Min: time.Second, Max: time.Hour}
	o := &OneOf{Meta: Meta{Name: "T_ONE"}, Default: "a", Allowed: []string{"a", "b"}}
	req := &OneOf{Meta: Meta{Name: "T_REQ"}, Allowed: []string{"a", "b"}}
	b := &Bool{Meta: Meta{Name: "T_BOOL"}}
	l := &List{Meta: Meta{Name: "T_LIST"}, Default: []string{"X"}}
	s := &String{Meta: Meta{Name: "T_STR", Description: "the thing"}, Default: "def"}

	env := FromMap(map[string]string{})
	if i.Get(env) != 8 || d.Get(env) != 5*time.Second || o.Get(env) != "a" || b.Get(env) ||
		!slices.Equal(l.Get(env), []string{"X"}) || s.Get(env) != "def" || env.Err() != nil {
		t.Fatalf("unset: not the defaults (err %v)", env.Err())
	}
	env = FromMap(map[string]string{"T_INT": " 12 ", "T_DUR": "1m", "T_ONE": "b", "T_BOOL": "true", "T_LIST": "p, ,q", "T_STR": "v"})
	if i.Get(env) != 12 || d.Get(env) != time.Minute || o.Get(env) != "b" || !b.Get(env) ||
		!slices.Equal(l.Get(env), []string{"p", "q"}) || s.Get(env) != "v" || env.Err() != nil {
		t.Fatalf("set: not the values (err %v)", env.Err())
	}
	for _, c := range []struct {
		env  map[string]string
		read func(*Env)
		want string
	}{
		{map[string]string{"T_INT": "x"}, func(e *Env) { i.Get(e) }, `config: T_INT: must be a whole number, got "x"`},
		{map[string]string{"T_INT": "0"}, func(e *Env) { i.Get(e) }, `config: T_INT: must be between 1 and 100, got 0`},
		{map[string]string{"T_DUR": "5"}, func(e *Env) { d.Get(e) }, `config: T_DUR: must be a duration such as 30s or 10m, got "5"`},
		{map[string]string{"T_DUR": "2h"}, func(e *Env) { d.Get(e) }, `config: T_DUR: must be between 1s and 1h0m0s, got 2h0m0s`},
		{map[string]string{"T_ONE": "c"}, func(e *Env) { o.Get(e) }, `config: T_ONE: "c" is not one of a, b`},
		{nil, func(e *Env) { req.Get(e) }, `config: T_REQ: is required: one of a, b`},
		{map[string]string{"T_BOOL": "yes"}, func(e *Env) { b.Get(e) }, `config: T_BOOL: "yes" is not one of true, false`},
		{nil, func(e *Env) { s.Require(e) }, `config: T_STR: is required (the thing)`},
		{map[string]string{"T_INT": "x", "T_DUR": "x"}, func(e *Env) { d.Get(e); i.Get(e) }, `config: T_DUR: must be a duration such as 30s or 10m, got "x"`},
	} {
		env := FromMap(c.env)
		c.read(env)
		if err := env.Err(); err == nil || err.Error() != c.want {
			t.Errorf("%v: got %v, want %s", c.env, err, c.want)
		}
	}
}

// Same compares a variable's texts as values of its type.
func TestSame(t *testing.T) {
	d := &Duration{}
	if !d.Same("240s", "4m") || d.Same("240s", "5m") || d.Same("x", "x") {
		t.Error("Duration.Same")
	}
	l := &List{}
	if !l.Same("a, b", "a,b") || l.Same("a", "a,b") {
		t.Error("List.Same")
	}
	i := &Int{}
	if !i.Same("50", " 50") || i.Same("50", "51") {
		t.Error("Int.Same")
	}
}

func TestDurationText(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0s", 720 * time.Hour: "720h", 90 * time.Second: "90s",
		10 * time.Minute: "10m", 300 * time.Millisecond: "300ms"} {
		if got := durationText(d); got != want {
			t.Errorf("%s: %s, want %s", d, got, want)
		}
	}
}

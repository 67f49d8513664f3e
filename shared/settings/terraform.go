package settings

import (
	"fmt"
	"slices"
	"strings"
)

// How says how a cloud's Terraform module sets a setting.
type How int

const (
	Unset      How = iota // not by Terraform: local, CLI or test settings
	Variable              // a module variable of the same meaning and default
	Wired                 // from the module's own resources or a fixed value
	Derived               // computed from another module variable
	Platform              // by the cloud platform itself, not the module
	NotOnCloud            // read there, but not used (Note says why), or not read at all
	LocalOnly             // read by a deployed function, but only meaningful locally
	TestOnly              // read by a deployed function, but only tests set it
	Gap                   // deployable, but no module variable sets it yet (Note says why)
)

// Terraform is how one cloud's module sets a setting.
type Terraform struct {
	How      How
	Variable string // Variable and Derived: the module variable
	Note     string // Wired, Derived, Platform: from what, for the doc
}

// Var: the module variable name sets the setting; its default must be the
// registry's.
func Var(name string) Terraform { return Terraform{How: Variable, Variable: name} }

// From: the module sets it from its own resources or a fixed value.
func From(note string) Terraform { return Terraform{How: Wired, Note: note} }

// DerivedFrom: the module computes it from variable (note says how).
func DerivedFrom(variable, note string) Terraform {
	return Terraform{How: Derived, Variable: variable, Note: note}
}

// ByPlatform: the platform sets it (note says which).
func ByPlatform(note string) Terraform { return Terraform{How: Platform, Note: note} }

// Nowhere: the cloud's functions do not read it.
var Nowhere = Terraform{How: NotOnCloud}

// Unused: the cloud's functions read it but it changes nothing there (note
// says why).
func Unused(note string) Terraform { return Terraform{How: NotOnCloud, Note: note} }

// NoVariableYet: a deployable setting the module cannot set yet but through
// extra_environment (note says what is missing); the doc and the tests'
// logs list each.
func NoVariableYet(note string) Terraform { return Terraform{How: Gap, Note: note} }

// OnlyLocal and OnlyTest: a deployed function reads it, but only the local
// stack or the tests set it (stand-ins' addresses and roots).
var (
	OnlyLocal = Terraform{How: LocalOnly}
	OnlyTest  = Terraform{How: TestOnly}
)

// Settable reports whether a deployed function on this cloud gets the
// setting from Terraform (a variable, the module, or the platform).
func (t Terraform) Settable() bool {
	return t.How == Variable || t.How == Wired || t.How == Derived || t.How == Platform
}

// Text is the doc's cell for t.
func (t Terraform) Text() string {
	switch t.How {
	case Variable:
		return "`" + t.Variable + "`"
	case Wired:
		return "set by the module: " + t.Note
	case Derived:
		return fmt.Sprintf("from `%s`: %s", t.Variable, t.Note)
	case Platform:
		return "set by " + t.Note
	case NotOnCloud:
		if t.Note != "" {
			return "not used: " + t.Note
		}
		return "not used"
	case LocalOnly:
		return "local only"
	case TestOnly:
		return "test only"
	case Gap:
		return "no variable yet (extra_environment): " + t.Note
	}
	return ""
}

var registry []Setting

// declare adds s to the registry and returns it; every setting is declared
// with it, in a package-level variable, so code names the setting (and the
// compiler checks the name) rather than spelling the variable.
func declare[S Setting](s S) S {
	registry = append(registry, s)
	return s
}

// All returns every declared setting, sorted by name.
func All() []Setting {
	out := slices.Clone(registry)
	slices.SortFunc(out, func(a, b Setting) int { return strings.Compare(a.Info().Name, b.Info().Name) })
	return out
}

// Lookup returns the setting declared with name.
func Lookup(name string) (Setting, bool) {
	for _, s := range registry {
		if s.Info().Name == name {
			return s, true
		}
	}
	return nil, false
}

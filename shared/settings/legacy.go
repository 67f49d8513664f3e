package settings

import "time"

// The getters below read a variable by name, as shared/config did before
// the registry. They remain while the last call sites move to the declared
// settings; TestEveryReadIsDeclared fails on a name passed to them that is
// not declared in this package.

// String returns the variable or def when unset.
func (e *Env) String(name, def string) string { return e.str(name, def) }

// Required returns the variable, recording an error when it is unset.
func (e *Env) Required(name, what string) string { return e.required(name, what) }

// OneOf returns the variable, which must be one of allowed, or def.
func (e *Env) OneOf(name, def string, allowed ...string) string {
	return e.oneOf(name, def, allowed...)
}

// Int returns a whole number within [min, max], or def when unset.
func (e *Env) Int(name string, def, min, max int) int { return e.int(name, def, min, max) }

// Duration returns a Go duration within [min, max], or def when unset.
func (e *Env) Duration(name string, def, min, max time.Duration) time.Duration {
	return e.duration(name, def, min, max)
}

// List returns a comma-separated list with blanks dropped, or def.
func (e *Env) List(name string, def []string) []string { return e.list(name, def) }

// Package config reads settings from environment variables once, at start.
// Every getter records the first problem it meets; Err then names the
// variable and what is wrong with it in one line, so a bad deploy stops with
// a message an operator can act on.
package config

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Env reads variables through a lookup function (os.LookupEnv by default).
type Env struct {
	lookup func(string) (string, bool)
	err    error
}

// FromOS reads the process environment.
func FromOS() *Env { return &Env{lookup: os.LookupEnv} }

// FromMap reads a fixed map, for tests and the local runner.
func FromMap(m map[string]string) *Env {
	return &Env{lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

// Err returns the first problem found, or nil.
func (e *Env) Err() error { return e.err }

// Fail records a problem with variable name found by the caller.
func (e *Env) Fail(name, format string, args ...any) { e.fail(name, format, args...) }

func (e *Env) fail(name, format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("config: %s: %s", name, fmt.Sprintf(format, args...))
	}
}

func (e *Env) get(name string) (string, bool) {
	v, ok := e.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// String returns the variable or def when unset.
func (e *Env) String(name, def string) string {
	if v, ok := e.get(name); ok {
		return v
	}
	return def
}

// Required returns the variable, recording an error when it is unset.
func (e *Env) Required(name, what string) string {
	v, ok := e.get(name)
	if !ok {
		e.fail(name, "is required (%s)", what)
	}
	return v
}

// OneOf returns the variable, which must be one of allowed, or def.
func (e *Env) OneOf(name, def string, allowed ...string) string {
	v := e.String(name, def)
	if v == "" {
		e.fail(name, "is required: one of %s", strings.Join(allowed, ", "))
	} else if !slices.Contains(allowed, v) {
		e.fail(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
	return v
}

// Int returns a whole number within [min, max], or def when unset.
func (e *Env) Int(name string, def, min, max int) int {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.fail(name, "must be a whole number, got %q", v)
		return def
	}
	if n < min || n > max {
		e.fail(name, "must be between %d and %d, got %d", min, max, n)
		return def
	}
	return n
}

// Duration returns a Go duration (e.g. "300s", "10m") within [min, max].
func (e *Env) Duration(name string, def, min, max time.Duration) time.Duration {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.fail(name, "must be a duration such as 30s or 10m, got %q", v)
		return def
	}
	if d < min || d > max {
		e.fail(name, "must be between %s and %s, got %s", min, max, d)
		return def
	}
	return d
}

// List returns a comma-separated list with blanks dropped, or def.
func (e *Env) List(name string, def []string) []string {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	var out []string
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

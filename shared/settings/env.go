// Package settings declares every environment variable eventrelay reads,
// once: its name, type, default, bounds, a one-line description, the
// functions that read it, whether it names or holds a secret, and the
// Terraform variable that sets it on each cloud. Code reads a setting only
// through its declaration (settings.ForwarderMaxAttempts.Get(env)), so the
// default and the bounds live in one place, and docs/configuration.md is
// generated from the same declarations (`eventrelay docs config`).
//
// Settings are read once, at start. Every getter records the first problem
// it meets on the Env; Err then names the variable and what is wrong with it
// in one line, so a bad deploy stops with a message an operator can act on.
package settings

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

// Fail records a problem with setting s found by the caller (a value that
// parses but does not make sense, or does not fit another setting, or a
// client it names that cannot be made).
func (e *Env) Fail(s Setting, format string, args ...any) {
	e.fail(s.Info().Name, format, args...)
}

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

func (e *Env) str(name, def string) string {
	if v, ok := e.get(name); ok {
		return v
	}
	return def
}

func (e *Env) required(name, what string) string {
	v, ok := e.get(name)
	if !ok {
		e.fail(name, "is required (%s)", what)
	}
	return v
}

func (e *Env) oneOf(name, def string, allowed ...string) string {
	v := e.str(name, def)
	if v == "" {
		e.fail(name, "is required: one of %s", strings.Join(allowed, ", "))
	} else if !slices.Contains(allowed, v) {
		e.fail(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
	return v
}

func (e *Env) int(name string, def, min, max int) int {
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

func (e *Env) duration(name string, def, min, max time.Duration) time.Duration {
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

func (e *Env) list(name string, def []string) []string {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	return splitList(v)
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(v string) []string {
	var out []string
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

package settings

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Function is a reader of settings: one of the four deployed functions, the
// operator's CLI, the local stack, or the test harness.
type Function string

// The readers, in the order the generated doc groups them.
const (
	Ingest    Function = "ingest"
	Forwarder Function = "forwarder"
	Verify    Function = "verify"
	Backfill  Function = "backfill"
	CLI       Function = "cli"   // the eventrelay command's own flags' defaults
	Local     Function = "local" // eventrelay serve / dev, the local stack
	Test      Function = "test"  // the test harness only
)

// Functions are all readers, in doc order.
var Functions = []Function{Ingest, Forwarder, Verify, Backfill, CLI, Local, Test}

// Deployed reports whether f runs in the cloud (and so is set by Terraform).
func (f Function) Deployed() bool {
	return f == Ingest || f == Forwarder || f == Verify || f == Backfill
}

// Secret says what a setting has to do with secrets.
type Secret int

const (
	NoSecret    Secret = iota
	NamesSecret        // its value is the name (or ARN) of a secret, not the secret
	HoldsSecret        // its value is a secret: keep it out of logs, files and tfvars
)

func (s Secret) String() string {
	switch s {
	case NamesSecret:
		return "names a secret"
	case HoldsSecret:
		return "holds a secret"
	}
	return ""
}

// Meta is what every setting declares besides its type, default and bounds.
type Meta struct {
	Name        string
	Description string     // one line
	Functions   []Function // who reads it
	Secret      Secret
	// Required says when the setting must be set ("always", "when
	// QUEUE_BACKEND=pubsub"); empty: it may be left unset.
	Required string
	// GCP and AWS say how each cloud's Terraform module sets it: a
	// variable (Var), from its own resources (Wired), computed from
	// another variable (Derived), by the platform (Platform), or not at
	// all on that cloud (NotOnCloud). The zero value: Terraform does not
	// set it (local, CLI and test settings).
	GCP, AWS Terraform
}

// Setting is a declared setting, whatever its type; the generated doc and
// the tests read it through this.
type Setting interface {
	Info() *Meta
	// Type names the value's type: int, duration, string, list, bool,
	// one of …, JSON.
	Type() string
	// DefaultText is the default as the variable's text ("" for none).
	DefaultText() string
	// BoundsText is the accepted range or values ("" for any).
	BoundsText() string
	// Same reports whether two texts of the variable mean the same value
	// ("240s" and "4m"; "a,b" and "a, b"), for comparing Terraform's
	// defaults with the registry's.
	Same(a, b string) bool
}

// Info returns the declaration's common part.
func (m *Meta) Info() *Meta { return m }

// Reads reports whether f reads the setting.
func (m *Meta) Reads(f Function) bool { return slices.Contains(m.Functions, f) }

// Int is a whole number within [Min, Max].
type Int struct {
	Meta
	Default, Min, Max int
}

// Get returns the value, or the default when unset.
func (s *Int) Get(e *Env) int { return e.int(s.Name, s.Default, s.Min, s.Max) }

func (s *Int) Type() string        { return "int" }
func (s *Int) DefaultText() string { return strconv.Itoa(s.Default) }
func (s *Int) BoundsText() string  { return fmt.Sprintf("%d to %d", s.Min, s.Max) }
func (s *Int) Same(a, b string) bool {
	x, err1 := strconv.Atoi(strings.TrimSpace(a))
	y, err2 := strconv.Atoi(strings.TrimSpace(b))
	return err1 == nil && err2 == nil && x == y
}

// Duration is a Go duration (300s, 10m, 720h) within [Min, Max].
type Duration struct {
	Meta
	Default, Min, Max time.Duration
}

// Get returns the value, or the default when unset.
func (s *Duration) Get(e *Env) time.Duration {
	return e.duration(s.Name, s.Default, s.Min, s.Max)
}

func (s *Duration) Type() string        { return "duration" }
func (s *Duration) DefaultText() string { return durationText(s.Default) }
func (s *Duration) BoundsText() string {
	return durationText(s.Min) + " to " + durationText(s.Max)
}
func (s *Duration) Same(a, b string) bool {
	x, err1 := time.ParseDuration(strings.TrimSpace(a))
	y, err2 := time.ParseDuration(strings.TrimSpace(b))
	return err1 == nil && err2 == nil && x == y
}

// durationText spells d as an operator would write it: 720h, 10m, 300ms.
func durationText(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}

// String is free text: a name, a URL, a body. Format, when set, says what
// it looks like (for the doc: "JSON object", "projects/P/topics/T").
type String struct {
	Meta
	Default string
	Format  string
}

// Get returns the value, or the default when unset.
func (s *String) Get(e *Env) string { return e.str(s.Name, s.Default) }

// Require returns the value, recording "is required (<description>;
// <when>)" when it is unset.
func (s *String) Require(e *Env) string {
	what := s.Description
	if s.Required != "" && s.Required != "always" {
		what += "; " + s.Required
	}
	return e.required(s.Name, what)
}

func (s *String) Type() string {
	if s.Format != "" {
		return "string: " + s.Format
	}
	return "string"
}
func (s *String) DefaultText() string { return s.Default }
func (s *String) BoundsText() string  { return "" }
func (s *String) Same(a, b string) bool {
	return strings.TrimSpace(a) == strings.TrimSpace(b)
}

// OneOf is one of Allowed. An empty Default makes it required when read.
type OneOf struct {
	Meta
	Default string
	Allowed []string
}

// Get returns the value, which must be one of Allowed, or the default.
func (s *OneOf) Get(e *Env) string { return e.oneOf(s.Name, s.Default, s.Allowed...) }

// Set reports whether the variable has a value (so that Get, on a setting
// without a default, would not record it as missing).
func (s *OneOf) Set(e *Env) bool { _, ok := e.get(s.Name); return ok }

func (s *OneOf) Type() string        { return "one of" }
func (s *OneOf) DefaultText() string { return s.Default }
func (s *OneOf) BoundsText() string  { return strings.Join(s.Allowed, ", ") }
func (s *OneOf) Same(a, b string) bool {
	return strings.TrimSpace(a) == strings.TrimSpace(b)
}

// Bool is true or false.
type Bool struct {
	Meta
	Default bool
}

// Get returns the value, or the default when unset.
func (s *Bool) Get(e *Env) bool {
	return e.oneOf(s.Name, strconv.FormatBool(s.Default), "true", "false") == "true"
}

func (s *Bool) Type() string        { return "bool" }
func (s *Bool) DefaultText() string { return strconv.FormatBool(s.Default) }
func (s *Bool) BoundsText() string  { return "true, false" }
func (s *Bool) Same(a, b string) bool {
	return strings.TrimSpace(a) == strings.TrimSpace(b)
}

// List is a comma-separated list; blanks are dropped.
type List struct {
	Meta
	Default []string
}

// Get returns the items, or the default when unset.
func (s *List) Get(e *Env) []string { return e.list(s.Name, s.Default) }

func (s *List) Type() string        { return "list" }
func (s *List) DefaultText() string { return strings.Join(s.Default, ",") }
func (s *List) BoundsText() string  { return "" }
func (s *List) Same(a, b string) bool {
	return slices.Equal(splitList(a), splitList(b))
}

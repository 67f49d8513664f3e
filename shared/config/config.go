// Package config is the old name of shared/settings' Env, kept while the
// last call sites move to the settings registry.
package config

import "eventrelay.dev/eventrelay/shared/settings"

// Env is settings.Env.
type Env = settings.Env

// FromOS reads the process environment.
func FromOS() *Env { return settings.FromOS() }

// FromMap reads a fixed map, for tests and the local runner.
func FromMap(m map[string]string) *Env { return settings.FromMap(m) }

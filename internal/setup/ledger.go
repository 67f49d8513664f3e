package setup

import (
	"strings"
	"time"

	"eventrelay.dev/eventrelay/shared/config"
)

// ledgerTypes reads LEDGER_EVENT_TYPES, the event types ingest records in
// the ledger; verify reads it too, to refuse an event map that asks for
// types nobody records.
func ledgerTypes(env *config.Env) map[string]bool {
	types := map[string]bool{}
	for _, t := range env.List("LEDGER_EVENT_TYPES", []string{"PURCHASE"}) {
		types[strings.ToUpper(t)] = true
	}
	return types
}

// ledgerTTL reads LEDGER_TTL: how long entries live, and verify's verdicts
// and claims with them.
func ledgerTTL(env *config.Env) time.Duration {
	return env.Duration("LEDGER_TTL", 30*24*time.Hour, time.Hour, 400*24*time.Hour)
}

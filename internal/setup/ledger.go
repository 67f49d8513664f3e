package setup

import (
	"strings"
	"time"

	"eventrelay.dev/eventrelay/shared/settings"
)

// ledgerTypes reads LEDGER_EVENT_TYPES, the event types ingest records in
// the ledger; verify reads it too, to refuse an event map that asks for
// types nobody records.
func ledgerTypes(env *settings.Env) map[string]bool {
	types := map[string]bool{}
	for _, t := range settings.LedgerEventTypes.Get(env) {
		types[strings.ToUpper(t)] = true
	}
	return types
}

// ledgerTTL reads LEDGER_TTL: how long entries live, and verify's verdicts
// and claims with them.
func ledgerTTL(env *settings.Env) time.Duration {
	return settings.LedgerTTL.Get(env)
}

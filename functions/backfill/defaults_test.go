package backfill

import "eventrelay.dev/eventrelay/shared/settings"

// withDefaults is c with every zero setting at the registry's default, as
// setup passes them with nothing configured (the core no longer repeats
// them).
func withDefaults(c Config) Config {
	if c.Budget == 0 {
		c.Budget = settings.BackfillTimeBudget.Default
	}
	if c.Rate == 0 {
		c.Rate = float64(settings.BackfillRate.Default)
	}
	if c.Batch == 0 {
		c.Batch = settings.BackfillBatch.Default
	}
	return c
}

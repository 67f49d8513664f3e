package verify

import "eventrelay.dev/eventrelay/shared/settings"

// withDefaults is c with every zero setting at the registry's default, as
// setup passes them with nothing configured (the core no longer repeats
// them).
func withDefaults(c Config) Config {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = int64(settings.VerifyMaxBodyBytes.Default)
	}
	if c.Freshness == 0 {
		c.Freshness = settings.VerifyFreshness.Default
	}
	if c.TimeTolerance == 0 {
		c.TimeTolerance = settings.VerifyTimeTolerance.Default
	}
	if c.LedgerDeadline == 0 {
		c.LedgerDeadline = settings.VerifyLedgerDeadline.Default
	}
	if c.VerdictTTL == 0 {
		c.VerdictTTL = settings.LedgerTTL.Default
	}
	if c.Success.Status == 0 {
		c.Success = Answer{Status: settings.VerifySuccessStatus.Default, Body: settings.VerifySuccessBody.Default}
	}
	if c.Failure.Status == 0 {
		c.Failure = Answer{Status: settings.VerifyFailureStatus.Default, Body: settings.VerifyFailureBody.Default}
	}
	return c
}

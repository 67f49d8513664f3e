package attest

import "eventrelay.dev/eventrelay/shared/settings"

// withDefaults is c with every zero setting at the registry's default, as
// setup passes them with nothing configured (the core no longer repeats
// them).
func withDefaults(c Config) Config {
	if c.ChallengeTTL == 0 {
		c.ChallengeTTL = settings.AttestChallengeTTL.Default
	}
	if c.CredentialTTL == 0 {
		c.CredentialTTL = settings.AttestCredentialTTL.Default
	}
	if c.KeyTTL == 0 {
		c.KeyTTL = settings.AttestKeyTTL.Default
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = settings.IngestRetryAfter.Default
	}
	if c.ClientRate == 0 {
		c.ClientRate = float64(settings.AttestClientRate.Default)
	}
	if c.PlayDailyBudget == 0 {
		c.PlayDailyBudget = int64(settings.AttestPlayDailyBudget.Default)
	}
	return c
}

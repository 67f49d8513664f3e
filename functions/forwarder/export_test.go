package forwarder

import (
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/settings"
)

// For the tests of the trigger adapters, in package forwarder_test (the
// adapters import the core, so their tests with it cannot live in here).

// Body is the test event; TestNow the tests' clock.
const Body = body

// TestNow is the tests' clock.
var TestNow = testNow

// NewScript answers sends in order, then repeats the last answer.
func NewScript(answers ...mcm.Result) delivery.Sender { return &script{answers: answers} }

// PushBody is a Pub/Sub push request carrying Body.
func PushBody(t *testing.T, attempt int) []byte { return pushBody(t, attempt) }

// WithDefaults is c with every zero field set to its setting's default, as
// setup would pass it with nothing configured: the defaults come from the
// registry, which the core no longer repeats.
func WithDefaults(c Config) Config {
	def := func(v *int, s *settings.Int) {
		if *v == 0 {
			*v = s.Default
		}
	}
	defD := func(v *time.Duration, s *settings.Duration) {
		if *v == 0 {
			*v = s.Default
		}
	}
	def(&c.MaxAttempts, settings.ForwarderMaxAttempts)
	defD(&c.FirstBackoff, settings.ForwarderFirstBackoff)
	defD(&c.MaxBackoff, settings.ForwarderMaxBackoff)
	def(&c.BreakerThreshold, settings.ForwarderBreakerThreshold)
	defD(&c.BreakerCooldown, settings.ForwarderBreakerCooldown)
	defD(&c.DeliveredWindow, settings.ForwarderDedupeWindow)
	return c
}

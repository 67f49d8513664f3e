package forwarder

import (
	"testing"

	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcm"
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

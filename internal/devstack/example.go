package devstack

import (
	"fmt"
	"strings"
	"time"
)

// DefaultVerifyAddr is where `make dev` serves verify, so the README's
// callback command can name it.
const DefaultVerifyAddr = "127.0.0.1:8086"

// ExampleOrder is the order id of the README's example purchase.
const ExampleOrder = "order-1001"

// ExampleEvent is the README's example purchase, at time at.
func ExampleEvent(at time.Time) string {
	return fmt.Sprintf(`{"id":"%s","event_type":"PURCHASE","timestamp":"%s","channel_type":"APP",
     "user_id":"user-1","device":{"os":"android","persistent_id":"device-1"},
     "items":[{"id":"sku-1","price":{"currency":"USD","amount":9.99},"quantity":1}],
     "revenue":{"currency":"USD","amount":9.99}}`, ExampleOrder, at.UTC().Format(time.RFC3339))
}

// ExampleCallback is the arguments of `eventrelay callback` that DFINERY's
// callback for the example purchase would amount to: the order id, amount,
// currency and user id (which verify hashes as ingest did). With a zero at
// the callback carries the time it is sent, which matches an example sent
// within VERIFY_TIME_TOLERANCE (10 minutes) before.
func ExampleCallback(verifyURL string, at time.Time) []string {
	args := []string{"-url", verifyURL, "-key", DevDFINERYKey, "-order", ExampleOrder, "-amount", "9.99", "-currency", "USD", "-user", "user-1"}
	if !at.IsZero() {
		args = append(args, "-time", at.UTC().Format(time.RFC3339))
	}
	return args
}

// CLI is the operator CLI as `make dev` builds it, the way the README and
// the local stack's banner name it.
const CLI = "./dist/eventrelay"

// ExampleCallbackCommand is ExampleCallback as a shell command line.
func ExampleCallbackCommand(verifyURL string, at time.Time) string {
	return CLI + " callback " + strings.Join(ExampleCallback(verifyURL, at), " ")
}

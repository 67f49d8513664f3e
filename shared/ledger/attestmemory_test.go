package ledger_test

import (
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ledger/ledgertest"
)

func TestAttestMemory(t *testing.T) {
	now := time.Now()
	ledgertest.RunAttest(t, now, func(*testing.T) ledger.AttestStore {
		return ledger.NewAttestMemory(func() time.Time { return now })
	}, "")
}

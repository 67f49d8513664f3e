package ledger_test

import (
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ledger/ledgertest"
)

func TestMemory(t *testing.T) {
	now := time.Now()
	ledgertest.Run(t, now, func(*testing.T) ledger.Store { return ledger.NewMemory(func() time.Time { return now }) })
}

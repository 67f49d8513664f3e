package dynamoledger

import (
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/dynalite"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ledger/ledgertest"
)

// The real aws-sdk-go-v2 client against dynalite.
func TestDynamoDB(t *testing.T) {
	client := dynalite.Client(dynalite.Start(t))
	now := time.Now()
	fresh := func(t *testing.T) *Store {
		s := New(client, dynalite.NewTable(t, client, CreateTable))
		s.now = func() time.Time { return now }
		return s
	}
	ledgertest.Run(t, now, func(t *testing.T) ledger.Store { return fresh(t) })
	ledgertest.RunVerdicts(t, now, func(t *testing.T) ledger.VerifyStore { return fresh(t) })
	ledgertest.RunErase(t, now, func(t *testing.T) ledgertest.ErasingStore { return fresh(t) })
	ledgertest.RunCursors(t, now, func(t *testing.T) ledger.Cursors { return fresh(t) })
}

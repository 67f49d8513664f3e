package dynamoledger

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"eventrelay.dev/eventrelay/internal/dynalite"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ledger/ledgertest"
)

// The attestation state, with the real client against dynalite.
func TestAttestDynamoDB(t *testing.T) {
	client := dynalite.Client(dynalite.Start(t))
	now := time.Now()
	ledgertest.RunAttest(t, now, func(t *testing.T) ledger.AttestStore {
		table := dynalite.NewTable(t, client, CreateTable)
		// dynalite answers CreateTable before the table is ACTIVE.
		w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
		if err := w.Wait(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		s := New(client, table)
		s.now = func() time.Time { return now }
		return s
	}, "")
}

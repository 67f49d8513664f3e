package aws

import (
	"context"
	"testing"

	"eventrelay.dev/eventrelay/shared/settings"
)

// The ledger and the catalog, and every SQS user, get one client per
// service; another region or another endpoint in the environment gets its
// own.
func TestOneClientPerServiceAndEnvironment(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1")
	ctx := context.Background()
	env := settings.FromMap(map[string]string{"AWS_REGION": "eu-west-1"})
	ledgerClient, err := dynamoClient(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	catalogClient, _ := dynamoClient(ctx, env)
	if ledgerClient != catalogClient {
		t.Error("the ledger and the catalog got two DynamoDB clients")
	}
	publisher, _ := sqsClient(ctx, env)
	visibility, _ := sqsClient(ctx, env)
	if publisher != visibility {
		t.Error("two SQS clients in one environment")
	}
	if got := ledgerClient.Options().Region; got != "eu-west-1" {
		t.Errorf("region %q, want the configured eu-west-1", got)
	}
	other, _ := dynamoClient(ctx, settings.FromMap(map[string]string{"AWS_REGION": "us-east-1"}))
	if other == ledgerClient {
		t.Error("another region shared the client")
	}
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2")
	moved, _ := dynamoClient(ctx, env)
	if moved == ledgerClient {
		t.Error("another endpoint shared the client")
	}
	if got := *moved.Options().BaseEndpoint; got != "http://127.0.0.1:2" {
		t.Errorf("endpoint %q, want the environment's http://127.0.0.1:2", got)
	}
}

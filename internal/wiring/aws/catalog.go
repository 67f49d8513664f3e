package aws

import (
	"context"
	"log/slog"

	"eventrelay.dev/eventrelay/internal/wiring"
	"eventrelay.dev/eventrelay/shared/catalog"
	"eventrelay.dev/eventrelay/shared/catalog/dynamocatalog"
	"eventrelay.dev/eventrelay/shared/settings"
)

func init() {
	wiring.RegisterCatalog(wiring.Catalog{Name: "dynamodb", Open: catalogSource})
}

// catalogSource opens the item catalog kept in a DynamoDB table
// (CATALOG_BACKEND=dynamodb), read only.
func catalogSource(ctx context.Context, env *settings.Env, log *slog.Logger) (catalog.Source, wiring.Closer) {
	table := settings.CatalogDynamoDBTable.Require(env)
	if table == "" {
		return nil, wiring.NoClose
	}
	client, err := dynamoClient(ctx, env)
	if err != nil {
		env.Fail(settings.CatalogDynamoDBTable, "cannot load the AWS configuration: %v", err)
		return nil, wiring.NoClose
	}
	return dynamocatalog.New(client, table, log), wiring.NoClose
}

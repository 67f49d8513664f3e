package gcp

import (
	"context"
	"log/slog"

	"eventrelay.dev/eventrelay/internal/wiring"
	"eventrelay.dev/eventrelay/shared/catalog"
	"eventrelay.dev/eventrelay/shared/catalog/firestorecatalog"
	"eventrelay.dev/eventrelay/shared/settings"
)

func init() {
	wiring.RegisterCatalog(wiring.Catalog{Name: "firestore", Open: catalogSource})
}

// catalogSource opens the item catalog kept in a Firestore collection
// (CATALOG_BACKEND=firestore), read only.
func catalogSource(ctx context.Context, env *settings.Env, log *slog.Logger) (catalog.Source, wiring.Closer) {
	project := settings.GoogleCloudProject.Require(env)
	database := settings.CatalogFirestoreDatabase.Get(env)
	collection := settings.CatalogFirestoreCollection.Get(env)
	if project == "" {
		return nil, wiring.NoClose
	}
	client, closeClient, err := firestoreClient(ctx, project, database)
	if err != nil {
		env.Fail(settings.CatalogFirestoreDatabase, "cannot create the Firestore client: %v", err)
		return nil, wiring.NoClose
	}
	return firestorecatalog.New(client, collection, log), closeClient
}

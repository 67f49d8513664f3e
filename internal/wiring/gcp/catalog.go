package gcp

import (
	"context"
	"log/slog"

	"eventrelay.dev/eventrelay/internal/wiring"
	"eventrelay.dev/eventrelay/shared/catalog"
	"eventrelay.dev/eventrelay/shared/catalog/firestorecatalog"
	"eventrelay.dev/eventrelay/shared/config"
)

func init() {
	wiring.RegisterCatalog(wiring.Catalog{Name: "firestore", Open: catalogSource})
}

// catalogSource opens the item catalog kept in a Firestore collection
// (CATALOG_BACKEND=firestore), read only.
func catalogSource(ctx context.Context, env *config.Env, log *slog.Logger) (catalog.Source, wiring.Closer) {
	project := env.Required("GOOGLE_CLOUD_PROJECT", "the project holding the Firestore database")
	database := env.String("CATALOG_FIRESTORE_DATABASE", "(default)")
	collection := env.String("CATALOG_FIRESTORE_COLLECTION", "eventrelay-catalog")
	if project == "" {
		return nil, wiring.NoClose
	}
	client, closeClient, err := firestoreClient(ctx, project, database)
	if err != nil {
		env.Fail("CATALOG_FIRESTORE_DATABASE", "cannot create the Firestore client: %v", err)
		return nil, wiring.NoClose
	}
	return firestorecatalog.New(client, collection, log), closeClient
}

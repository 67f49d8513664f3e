package gcp

import (
	"context"

	"eventrelay.dev/eventrelay/internal/wiring"
	"eventrelay.dev/eventrelay/shared/archive"
	"eventrelay.dev/eventrelay/shared/archive/gcsarchive"
	"eventrelay.dev/eventrelay/shared/settings"
)

func init() {
	wiring.RegisterArchive(wiring.Archive{Scheme: gcsarchive.Scheme, Open: openArchive})
}

// openArchive opens BACKFILL_ARCHIVE=gs://bucket[/prefix]: the bucket the
// module's Cloud Storage subscription writes. Backfill's service account
// may list and read its objects (roles/storage.objectViewer) and nothing
// else.
func openArchive(ctx context.Context, env *settings.Env, url string) (archive.Reader, wiring.Closer) {
	b, err := gcsarchive.Open(ctx, url, gcsarchive.EmulatorOptions(settings.StorageEmulatorHost.Get(env))...)
	if err != nil {
		env.Fail(settings.BackfillArchive, "%v", err)
		return nil, wiring.NoClose
	}
	return b, b.Close
}

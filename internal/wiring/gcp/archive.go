package gcp

import (
	"context"
	"strings"

	"google.golang.org/api/option"

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
	b, err := gcsarchive.Open(ctx, url, storageEmulator(env)...)
	if err != nil {
		env.Fail(settings.BackfillArchive, "%v", err)
		return nil, wiring.NoClose
	}
	return b, b.Close
}

// storageEmulator points the Cloud Storage client at a stand-in when
// STORAGE_EMULATOR_HOST names one. The client reads the variable from the
// process itself too; the setting is what a function's own environment
// (the local stack's, a test's) says.
func storageEmulator(env *settings.Env) []option.ClientOption {
	host := settings.StorageEmulatorHost.Get(env)
	if host == "" {
		return nil
	}
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	return []option.ClientOption{option.WithEndpoint(strings.TrimSuffix(host, "/") + "/storage/v1/"), option.WithoutAuthentication()}
}

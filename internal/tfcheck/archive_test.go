package tfcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"eventrelay.dev/eventrelay/shared/archive"
)

// exprText is an attribute's expression as written ("" when absent).
func exprText(t *testing.T, a *hclsyntax.Attribute) string {
	t.Helper()
	if a == nil {
		return ""
	}
	return sourceOf(t, a.Expr)
}

// sourceOf is an expression as written.
func sourceOf(t *testing.T, e hclsyntax.Expression) string {
	t.Helper()
	r := e.Range()
	src, err := os.ReadFile(r.Filename)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(src[r.Start.Byte:r.End.Byte]))
}

// TestGCPArchiveWiring: the archive subscription writes what shared/archive
// reads (the file names it lists, Avro with the metadata replay needs), on
// the events topic, into the module's own bucket; the Pub/Sub agent may
// only create objects in and read that bucket, backfill only read objects.
func TestGCPArchiveWiring(t *testing.T) {
	m := load(t, filepath.Join(tfRoot, "modules", "gcp"))
	sub := m.Resources["google_pubsub_subscription.archive"]
	if sub == nil {
		t.Fatal("no google_pubsub_subscription.archive")
	}
	if got := exprText(t, attr(sub, "topic")); got != "google_pubsub_topic.events.id" {
		t.Errorf("the archive subscribes to %s, not the events topic", got)
	}
	csc := block(sub, "cloud_storage_config")
	if csc == nil {
		t.Fatal("the archive subscription has no cloud_storage_config")
	}
	for name, want := range map[string]string{"filename_prefix": archive.Prefix, "filename_datetime_format": archive.DatetimeFormat,
		"filename_suffix": archive.Suffix} {
		if got := exprText(t, attr(csc, name)); got != `"`+want+`"` {
			t.Errorf("cloud_storage_config.%s = %s, shared/archive reads %q", name, got, want)
		}
	}
	if got := exprText(t, attr(block(csc, "avro_config"), "write_metadata")); got != "true" {
		t.Errorf("avro_config.write_metadata = %s: replay needs the attributes", got)
	}
	if got := exprText(t, attr(csc, "bucket")); !strings.Contains(got, "google_storage_bucket.archive") {
		t.Errorf("the archive is written to %s, not the module's archive bucket", got)
	}
	grants := map[string]string{}
	for _, key := range m.resourcesOf("google_storage_bucket_iam_member") {
		b := m.Resources[key]
		if !strings.Contains(exprText(t, attr(b, "bucket")), "google_storage_bucket.archive") {
			continue
		}
		grants[exprText(t, attr(b, "role"))+" "+exprText(t, attr(b, "member"))] = key
	}
	want := []string{`"roles/storage.objectCreator" local.pubsub_agent`, `"roles/storage.legacyBucketReader" local.pubsub_agent`,
		`"roles/storage.objectViewer" "serviceAccount:${google_service_account.sa["backfill"].email}"`}
	for _, w := range want {
		if grants[w] == "" {
			t.Errorf("no grant %s on the archive bucket (have %v)", w, grants)
		}
	}
	if len(grants) != len(want) {
		t.Errorf("grants on the archive bucket beyond least privilege: %v", grants)
	}
	// Backfill reads that bucket: BACKFILL_ARCHIVE is gs://<it> when the
	// archive is on, empty (replays refused) when it is off.
	items := envItems(m)["BACKFILL_ARCHIVE"]
	if len(items) != 1 {
		t.Fatalf("BACKFILL_ARCHIVE is set %d times in the module, want once (backfill's environment)", len(items))
	}
	if got := sourceOf(t, items[0].expr); got != `var.archive_enabled ? "gs://${one(google_storage_bucket.archive[*].name)}" : ""` {
		t.Errorf("%s: BACKFILL_ARCHIVE = %s, not gs://<the archive bucket> when archive_enabled", items[0].pos, got)
	}
	if env := environments(m); env == nil || !env["backfill"]["BACKFILL_ARCHIVE"] || env["ingest"]["BACKFILL_ARCHIVE"] ||
		env["forwarder"]["BACKFILL_ARCHIVE"] || env["verify"]["BACKFILL_ARCHIVE"] {
		t.Errorf("BACKFILL_ARCHIVE must be in backfill's environment alone: %v", env)
	}
	bucket := m.Resources["google_storage_bucket.archive"]
	if exprText(t, attr(bucket, "uniform_bucket_level_access")) != "true" ||
		exprText(t, attr(block(bucket, "lifecycle_rule", "condition"), "age")) != "var.archive_retention_days" {
		t.Error("the archive bucket needs uniform access and a lifecycle rule deleting after archive_retention_days")
	}
}

package setup

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/internal/fakegcs"
	"eventrelay.dev/eventrelay/internal/testclose"
	"eventrelay.dev/eventrelay/shared/archive"
	"eventrelay.dev/eventrelay/shared/archive/gcsarchive"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
	"eventrelay.dev/eventrelay/shared/suppress"
)

// archiveEvent is one event as ingest queued it and the Cloud Storage
// subscription archived it.
func archiveEvent(id, user string, at time.Time) archive.Record {
	return archive.Record{Subscription: "projects/acme-events/subscriptions/eventrelay-events-archive", MessageID: "m-" + id,
		PublishTime: at.Add(time.Second), Attributes: map[string]string{queue.AttrSource: "shop-web", queue.AttrEventID: id,
			queue.AttrEventType: "PAGE_VIEW"},
		Data: fmt.Appendf(nil, `{"id":%q,"event_type":"PAGE_VIEW","timestamp":%d,"channel_type":"SITE","user_id":%q,"page_id":"p"}`,
			id, at.UnixMilli(), user)}
}

// Backfill started from its settings with BACKFILL_ARCHIVE=gs://… (the
// official client against fake-gcs-server) replays a window of the
// bucket: the window's events, once each, with their bodies, the erased
// person's excepted; the same request again resumes and sends nothing.
func TestBackfillReplaysAWindowFromACloudStorageArchive(t *testing.T) {
	ctx := context.Background()
	gcs := fakegcs.Start(t, "acme-events-archive")
	url := "gs://acme-events-archive/relay"
	writer, err := gcsarchive.Open(ctx, url, gcsarchive.EmulatorOptions(gcs.Host)...)
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, writer)
	from := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	to := from.Add(time.Hour)
	var want []string
	write := func(start time.Time, recs ...archive.Record) {
		t.Helper()
		if _, err := writer.Write(ctx, start, recs); err != nil {
			t.Fatal(err)
		}
	}
	write(from.Add(-5*time.Minute), archiveEvent("early", "u-1", from.Add(-time.Minute)), archiveEvent("edge", "u-1", from))
	want = append(want, "edge")
	var in []archive.Record
	for i := range 250 {
		id := fmt.Sprintf("in-%03d", i)
		in = append(in, archiveEvent(id, fmt.Sprintf("u-%d", i%7), from.Add(time.Duration(i)*10*time.Second)))
		if i%7 != 3 {
			want = append(want, id)
		}
	}
	write(from.Add(time.Minute), in[:100]...)
	write(from.Add(20*time.Minute), in[100:]...)
	write(to.Add(-time.Minute), archiveEvent("late", "u-1", to.Add(-2*time.Minute)), archiveEvent("after", "u-1", to))
	want = append(want, "late")

	sink := mcmsink.New(mcmsink.Config{PlatformID: "plat-local", APIKey: "mcm-key-1"})
	mcm := httptest.NewServer(sink)
	defer mcm.Close()
	store := ledger.NewMemory(nil)
	if _, err := store.Erase(ctx, nil, []string{suppress.Key("u-3")}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:1") // the dead-letter source is not used; nothing is dialled
	env := settings.FromMap(map[string]string{"QUEUE_BACKEND": "pubsub", "MCM_BASE_URL": mcm.URL, "MCM_PLATFORM_ID": "plat-local",
		"MCM_API_KEY_SECRET": "mcm-key", "BACKFILL_SUBSCRIPTION": "projects/acme-events/subscriptions/deadletter-backfill",
		"BACKFILL_RATE": "1000", "BACKFILL_BATCH": "40",
		"BACKFILL_ARCHIVE": url, "STORAGE_EMULATOR_HOST": gcs.Host})
	fn, err := NewBackfill(ctx, env, Options{Secrets: secrets.NewMemory(map[string]string{"mcm-key": "mcm-key-1"}),
		DeadLetter: &queue.Memory{}, Ledger: store})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, fn)
	p := backfill.Params{Archive: true, From: from.Format(time.RFC3339), To: to.Format(time.RFC3339)}
	s, err := fn.Core.Run(ctx, p)
	if err != nil || s.Archive == nil || s.Archive.Location != url+"/" || s.Archive.Files != 4 || s.Resent != len(want) ||
		s.Erased != 36 || s.MoreRemaining {
		t.Fatalf("replay %+v %+v, %v", s, s.Archive, err)
	}
	var got []string
	bodies := map[string]string{}
	for _, r := range in {
		bodies[r.Attributes[queue.AttrEventID]] = string(r.Data)
	}
	for _, r := range sink.Accepted() {
		got = append(got, r.ID)
		if b, ok := bodies[r.ID]; ok && b != string(r.Body) {
			t.Fatalf("%s delivered as %s, archived as %s", r.ID, r.Body, b)
		}
	}
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("delivered %d %v…, want %d", len(got), got[:min(5, len(got))], len(want))
	}
	again, err := fn.Core.Run(ctx, p)
	if err != nil || again.Resent != 0 || !again.Archive.Resumed || len(sink.Accepted()) != len(want) {
		t.Fatalf("the same request again: %+v %+v, %v", again, again.Archive, err)
	}
}

// A gs:// archive that is not a bucket URL stops the start naming
// BACKFILL_ARCHIVE; a scheme no cloud package registered is refused too.
func TestBackfillArchiveURLs(t *testing.T) {
	t.Setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:1")
	for value, want := range map[string]string{
		"gs://Not_A_Bucket":      "not a Cloud Storage bucket name",
		"gs://acme-archive/../x": "not a plain object path",
		"ftp://acme-archive":     `"ftp://" is not linked into this binary`,
		"/no/such/folder":        "is not a folder",
	} {
		env := settings.FromMap(map[string]string{"QUEUE_BACKEND": "pubsub", "MCM_BASE_URL": "http://127.0.0.1:1",
			"MCM_PLATFORM_ID": "plat-local", "MCM_API_KEY_SECRET": "mcm-key",
			"BACKFILL_SUBSCRIPTION": "projects/acme-events/subscriptions/deadletter-backfill", "BACKFILL_ARCHIVE": value})
		_, err := NewBackfill(context.Background(), env, Options{Secrets: secrets.NewMemory(nil), DeadLetter: &queue.Memory{}})
		if err == nil || !strings.Contains(err.Error(), "BACKFILL_ARCHIVE") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want BACKFILL_ARCHIVE … %s", value, err, want)
		}
	}
}

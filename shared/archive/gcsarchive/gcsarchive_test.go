package gcsarchive_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/fakegcs"
	"eventrelay.dev/eventrelay/shared/archive"
	"eventrelay.dev/eventrelay/shared/archive/gcsarchive"
)

const bucket = "acme-events-archive"

func TestParse(t *testing.T) {
	for url, want := range map[string][2]string{
		"gs://acme-events-archive":             {bucket, ""},
		"gs://acme-events-archive/":            {bucket, ""},
		"gs://acme-events-archive/relay":       {bucket, "relay/"},
		"gs://acme-events-archive//relay/eu/":  {bucket, "relay/eu/"},
		"gs://archive.events.acme.example/x-1": {"archive.events.acme.example", "x-1/"},
	} {
		b, p, err := gcsarchive.Parse(url)
		if err != nil || b != want[0] || p != want[1] {
			t.Errorf("%s: %q %q %v, want %q", url, b, p, err, want)
		}
	}
	for _, url := range []string{"", "acme-events-archive", "s3://acme-events-archive", "gs://", "gs://Acme-Archive",
		"gs://ab", "gs://-acme", "gs://acme..archive", "gs://acme archive", "gs://acme-events-archive/../other",
		"gs://acme-events-archive/a?b", "gs://acme-events-archive/a#b", "gs://acme-events-archive/a\\b"} {
		if _, _, err := gcsarchive.Parse(url); err == nil {
			t.Errorf("%q was taken", url)
		}
	}
}

// listings records the prefixes and offsets of the bucket's object lists.
type listings struct {
	mu   sync.Mutex
	seen []string
}

func (l *listings) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/o") {
		q := r.URL.Query()
		l.mu.Lock()
		l.seen = append(l.seen, q.Get("prefix")+" ["+q.Get("startOffset")+", "+q.Get("endOffset")+")")
		l.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

func record(id string, at time.Time) archive.Record {
	return archive.Record{Subscription: "projects/acme-events/subscriptions/eventrelay-events-archive", MessageID: "m-" + id,
		PublishTime: at, Attributes: map[string]string{"event_id": id, "source": "shop-web"},
		Data: []byte(fmt.Sprintf(`{"id":%q,"timestamp":%d}`, id, at.UnixMilli()))}
}

// The window's days only, and in them only the window's names: files of
// other days, of the bucket's root (another deployment's prefix) and
// stray objects are never listed or returned.
func TestFilesListsOnlyTheWindow(t *testing.T) {
	ctx := context.Background()
	gcs := fakegcs.Start(t, bucket)
	rec := &listings{}
	ours := must(gcsarchive.New(gcs.Client(t, rec), "gs://"+bucket+"/relay"))
	root := must(gcsarchive.New(gcs.Client(t, nil), "gs://"+bucket))
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var names []string
	for _, at := range []time.Duration{-10 * time.Minute, 30 * time.Minute, 6 * time.Hour, 6*time.Hour + 30*time.Minute,
		30 * time.Hour, 30*time.Hour + 30*time.Minute, 53 * time.Hour} {
		start := day.Add(at)
		names = append(names, must(ours.Write(ctx, start, []archive.Record{record(start.Format("0102-1504"), start)})))
		must(root.Write(ctx, start, []archive.Record{record("root", start)})) // not under relay/
	}
	stray := gcs.Client(t, nil).Bucket(bucket).Object("relay/events/2026-12-01/notes.txt").NewWriter(ctx)
	if _, err := stray.Write([]byte("not an archive file")); err != nil || stray.Close() != nil {
		t.Fatal(err)
	}

	// [00:30 day 1, 06:30 day 2): from is inclusive, to exclusive.
	from, to := day.Add(30*time.Minute), day.Add(30*time.Hour+30*time.Minute)
	files, err := ours.Files(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Name)
	}
	if want := names[1:5]; !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	if !files[0].Start.Equal(from) {
		t.Fatalf("start %s", files[0].Start)
	}
	wantLists := []string{
		"relay/events/2026-12-01/ [relay/events/2026-12-01/00_30_00Z, relay/events/2026-12-02/06_30_01Z)",
		"relay/events/2026-12-02/ [relay/events/2026-12-01/00_30_00Z, relay/events/2026-12-02/06_30_01Z)",
	}
	if !slices.Equal(rec.seen, wantLists) {
		t.Fatalf("listed\n%s\nwant\n%s", strings.Join(rec.seen, "\n"), strings.Join(wantLists, "\n"))
	}
	if _, err := ours.Files(ctx, to, from); !errors.Is(err, archive.ErrWindow) {
		t.Fatalf("reversed window: %v", err)
	}
}

// What Write stored, Open reads back record for record: the subscription's
// Avro with its metadata.
func TestWriteThenOpenReadsTheRecords(t *testing.T) {
	ctx := context.Background()
	gcs := fakegcs.Start(t, bucket)
	b := must(gcsarchive.New(gcs.Client(t, nil), "gs://"+bucket))
	at := time.Date(2026, 12, 7, 6, 10, 0, 123456000, time.UTC)
	var recs []archive.Record
	for i := range 500 {
		recs = append(recs, record(fmt.Sprint(i), at.Add(time.Duration(i)*time.Microsecond)))
	}
	name := must(b.Write(ctx, at, recs))
	if !strings.HasPrefix(name, "events/2026-12-07/06_10_00Z_") || !strings.HasSuffix(name, ".avro") {
		t.Fatalf("name %s", name)
	}
	rc := must(b.Open(ctx, name))
	var got []archive.Record
	err := archive.Decode(rc, func(r archive.Record) error { got = append(got, r); return nil })
	if err := errors.Join(err, rc.Close()); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("%d records, want %d", len(got), len(recs))
	}
	for i := range recs {
		g, w := got[i], recs[i]
		if g.MessageID != w.MessageID || !g.PublishTime.Equal(w.PublishTime) || !bytes.Equal(g.Data, w.Data) ||
			g.Attributes["event_id"] != w.Attributes["event_id"] || g.Subscription != w.Subscription {
			t.Fatalf("record %d: %+v, want %+v", i, g, w)
		}
	}
}

// A name that is not an archive file's is refused before any request; a
// bucket that is not there is an error naming it.
func TestOpenAndListRefusals(t *testing.T) {
	ctx := context.Background()
	gcs := fakegcs.Start(t, bucket)
	rec := &listings{}
	b := must(gcsarchive.New(gcs.Client(t, rec), "gs://"+bucket+"/relay"))
	for _, name := range []string{"", "secrets.json", "../events/2026-12-07/06_10_00Z_a.avro",
		"events/2026-12-07/../../x/06_10_00Z_a.avro", "other/2026-12-07/06_10_00Z_a.avro"} {
		if _, err := b.Open(ctx, name); err == nil || !strings.Contains(err.Error(), "not an archive file name") {
			t.Errorf("%q: %v", name, err)
		}
	}
	if _, err := b.Open(ctx, "events/2026-12-07/06_10_00Z_none.avro"); err == nil ||
		!strings.Contains(err.Error(), "gs://"+bucket+"/relay/events/2026-12-07/06_10_00Z_none.avro") {
		t.Fatalf("a missing object: %v", err)
	}
	gone := must(gcsarchive.New(gcs.Client(t, nil), "gs://no-such-archive"))
	now := time.Now()
	if _, err := gone.Files(ctx, now.Add(-time.Hour), now); err == nil || !strings.Contains(err.Error(), "gs://no-such-archive/") {
		t.Fatalf("a missing bucket: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

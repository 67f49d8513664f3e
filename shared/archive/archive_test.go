package archive

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"
)

// The schema the Pub/Sub documentation gives for Avro with write_metadata,
// written here field by field as generic maps (not through Record), with
// the codec the service may use: what our reader must read.
const documented = `{"type":"record","name":"PubsubMessage","namespace":"com.google.pubsub","fields":[
 {"name":"subscription_name","type":"string"},
 {"name":"message_id","type":"string"},
 {"name":"publish_time","type":{"type":"long","logicalType":"timestamp-micros"}},
 {"name":"attributes","type":{"type":"map","values":"string"}},
 {"name":"data","type":"bytes"}]}`

func TestDecodeReadsTheSubscriptionsAvro(t *testing.T) {
	pub := time.Date(2026, 12, 7, 6, 10, 0, 123456000, time.UTC)
	for _, codec := range []ocf.CodecName{ocf.Null, ocf.Deflate, ocf.Snappy} {
		var buf bytes.Buffer
		enc, err := ocf.NewEncoder(documented, &buf, ocf.WithCodec(codec))
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range []string{"m-1", "m-2"} {
			if err := enc.Encode(map[string]any{
				"subscription_name": "projects/acme-events/subscriptions/eventrelay-archive",
				"message_id":        id,
				"publish_time":      pub.Add(time.Duration(i) * time.Second),
				"attributes":        map[string]any{"source": "shop-web", "event_id": "ev-" + id},
				"data":              []byte(`{"id":"ev-` + id + `"}`),
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		var got []Record
		if err := Decode(&buf, func(r Record) error { got = append(got, r); return nil }); err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		want := Record{Subscription: "projects/acme-events/subscriptions/eventrelay-archive", MessageID: "m-2",
			PublishTime: pub.Add(time.Second), Attributes: map[string]string{"source": "shop-web", "event_id": "ev-m-2"},
			Data: []byte(`{"id":"ev-m-2"}`)}
		if len(got) != 2 || !got[1].PublishTime.Equal(want.PublishTime) {
			t.Fatalf("%s: got %+v", codec, got)
		}
		got[1].PublishTime = want.PublishTime
		if !reflect.DeepEqual(got[1], want) {
			t.Fatalf("%s: got %+v, want %+v", codec, got[1], want)
		}
	}
}

func TestDecodeRefusesAFileWithoutMetadata(t *testing.T) {
	// write_metadata off: data only. Replay needs the attributes.
	var buf bytes.Buffer
	enc, _ := ocf.NewEncoder(`{"type":"record","name":"PubsubMessage","fields":[{"name":"data","type":"bytes"}]}`, &buf)
	if err := enc.Encode(map[string]any{"data": []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	err := Decode(&buf, func(Record) error { return nil })
	if err == nil {
		t.Fatal("a file without metadata was read")
	}
}

func TestDecodeRefusesGarbage(t *testing.T) {
	if err := Decode(strings.NewReader("not avro"), func(Record) error { return nil }); err == nil {
		t.Fatal("garbage was read")
	}
}

func TestNames(t *testing.T) {
	at := time.Date(2026, 12, 7, 6, 10, 5, 0, time.UTC)
	name := ObjectName(at, "abc")
	if name != "events/2026-12-07/06_10_05Z_abc.avro" {
		t.Fatalf("name %s", name)
	}
	if got, ok := ParseName(name); !ok || !got.Equal(at) {
		t.Fatalf("parse %v %v", got, ok)
	}
	for _, bad := range []string{"events/2026-12-07/06_10_05Z_abc.avro.tmp", "other/2026-12-07/06_10_05Z_a.avro", "events/2026-12-07/x.avro", "events/"} {
		if _, ok := ParseName(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
	got := DayPrefixes(at.Add(-7*time.Hour), at)
	if !reflect.DeepEqual(got, []string{"events/2026-12-06/", "events/2026-12-07/"}) {
		t.Fatalf("prefixes %v", got)
	}
}

func TestDirListsAWindowAndOpensOnlyArchiveFiles(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	base := time.Date(2026, 12, 7, 23, 58, 0, 0, time.UTC)
	var names []string
	for i := range 4 { // 23:58, 23:59, 00:00 next day, 00:01
		n, err := d.Write(base.Add(time.Duration(i)*time.Minute), []Record{{MessageID: "m", PublishTime: base, Data: []byte("x")}})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := os.WriteFile(filepath.Join(d.Root, "events", "2026-12-07", "stray.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := d.Files(context.Background(), base.Add(time.Minute), base.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Name != names[1] || files[1].Name != names[2] {
		t.Fatalf("files %v, wrote %v", files, names)
	}
	rc, err := d.Open(context.Background(), files[1].Name)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = errors.Join(Decode(rc, func(r Record) error { n++; return nil }), rc.Close())
	if err != nil || n != 1 {
		t.Fatalf("read %d, %v", n, err)
	}
	if _, err := d.Open(context.Background(), "../../etc/passwd"); err == nil {
		t.Fatal("opened a path outside the archive")
	}
	if _, err := d.Files(context.Background(), base, base); err == nil {
		t.Fatal("an empty window was listed")
	}
}

var _ = avro.MustParse(documented)

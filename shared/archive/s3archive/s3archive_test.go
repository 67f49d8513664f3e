package s3archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"eventrelay.dev/eventrelay/internal/moto"
	"eventrelay.dev/eventrelay/shared/archive"
)

// listed records the prefixes the reader lists.
type listed struct {
	sync.Mutex
	prefixes []string
}

func (l *listed) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" {
		l.Lock()
		l.prefixes = append(l.prefixes, r.URL.Query().Get("prefix"))
		l.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestBucketListsAWindowAndReadsItsRecords(t *testing.T) {
	endpoint := moto.Start(t)
	c := moto.S3(endpoint)
	moto.CreateBucket(t, c, "acme-eventrelay-archive")
	ctx := context.Background()
	put := func(key string, body []byte) {
		t.Helper()
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acme-eventrelay-archive"), Key: aws.String(key),
			Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2026, 12, 7, 23, 58, 0, 0, time.UTC)
	var names []string
	want := map[string][]archive.Record{}
	for i := range 4 { // 23:58, 23:59, 00:00 next day, 00:01
		at := base.Add(time.Duration(i) * time.Minute)
		var recs []archive.Record
		for j := range 3 {
			recs = append(recs, archive.Record{Subscription: "arn:aws:sns:us-east-1:123456789012:eventrelay-events",
				MessageID: fmt.Sprintf("m-%d-%d", i, j), PublishTime: at.Add(time.Duration(j) * time.Second).UTC(),
				Attributes: map[string]string{"source": "shop-web", "event_id": fmt.Sprintf("ev-%d-%d", i, j)},
				Data:       []byte(fmt.Sprintf(`{"id":"ev-%d-%d","name":"Ü"}`, i, j))})
		}
		var buf bytes.Buffer
		if err := archive.EncodeSNS(&buf, recs); err != nil {
			t.Fatal(err)
		}
		name := archive.FirehoseName("eventrelay-archive", 1, at, fmt.Sprintf("3f1c6f0e-8a51-4b83-9a1e-6b1d2f0c9e7%d", i))
		put("prod/"+name, buf.Bytes())
		names = append(names, name)
		want[name] = recs
	}
	// What the reader must pass over: an error output, a stray upload, an
	// object of the same names outside the bucket path.
	put("prod/errors/processing-failed/2026-12-07/eventrelay-archive-1-2026-12-07-23-59-00-x.gz", []byte("x"))
	put("prod/events/2026-12-07/notes.txt", []byte("x"))
	put(names[1], []byte("not under prod/"))

	rec := &listed{}
	client := s3.New(s3.Options{Region: moto.Region, BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), HTTPClient: &http.Client{Transport: rec}})
	b, err := New(client, "s3://acme-eventrelay-archive/prod/")
	if err != nil {
		t.Fatal(err)
	}
	if b.Location() != "s3://acme-eventrelay-archive/prod/" {
		t.Fatalf("location %s", b.Location())
	}
	files, err := b.Files(ctx, base.Add(time.Minute), base.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Name != names[1] || files[1].Name != names[2] || files[0].Format != archive.SNSEnvelopes {
		t.Fatalf("files %+v, wrote %v", files, names)
	}
	if !slices.Equal(rec.prefixes, []string{"prod/events/2026-12-07/", "prod/events/2026-12-08/"}) {
		t.Fatalf("listed %v: only the window's day folders", rec.prefixes)
	}
	for _, f := range files {
		rc, err := b.Open(ctx, f.Name)
		if err != nil {
			t.Fatal(err)
		}
		var got []archive.Record
		err = errors.Join(f.Decode(rc, func(r archive.Record) error { got = append(got, r); return nil }), rc.Close())
		if err != nil || !reflect.DeepEqual(got, want[f.Name]) {
			t.Fatalf("%s: %v\n%+v\nwant %+v", f.Name, err, got, want[f.Name])
		}
	}
	for _, bad := range []string{"../secret", "events/2026-12-07/notes.txt", "errors/processing-failed/2026-12-07/x.gz"} {
		if _, err := b.Open(ctx, bad); err == nil {
			t.Errorf("opened %q", bad)
		}
	}
	if _, err := b.Files(ctx, base, base); err == nil {
		t.Fatal("an empty window was listed")
	}
	// A bucket that does not exist: listing fails with the bucket named.
	gone, _ := New(client, "s3://acme-no-such-bucket")
	if _, err := gone.Files(ctx, base, base.Add(time.Hour)); err == nil {
		t.Fatal("listed a missing bucket")
	}
}

func TestParse(t *testing.T) {
	for url, want := range map[string][2]string{
		"s3://acme-archive":              {"acme-archive", ""},
		"s3://acme-archive/":             {"acme-archive", ""},
		"s3://acme.archive/prod/eu/":     {"acme.archive", "prod/eu/"},
		"s3://acme-archive/prod//":       {"acme-archive", "prod/"},
		"s3://acme-archive-with-63-char": {"acme-archive-with-63-char", ""},
	} {
		b, p, err := Parse(url)
		if err != nil || b != want[0] || p != want[1] {
			t.Errorf("%s: %q %q %v", url, b, p, err)
		}
	}
	for _, bad := range []string{"gs://acme-archive", "acme-archive", "s3://", "s3://Acme", "s3://ab", "s3://acme..archive",
		"s3://acme-archive/../x", "s3://acme-archive/a?b", "s3://-acme"} {
		if _, _, err := Parse(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Package gcsarchive is the archive in a Cloud Storage bucket, where the
// GCP module's Pub/Sub Cloud Storage subscription writes it:
// BACKFILL_ARCHIVE=gs://bucket[/prefix]. It is an archive.Reader, so
// backfill replays from it as from the local stack's folder.
package gcsarchive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"eventrelay.dev/eventrelay/shared/archive"
)

// Scheme is the URL scheme BACKFILL_ARCHIVE names a bucket with.
const Scheme = "gs"

// Bucket is the archive under a prefix of a bucket. Object names are the
// prefix + the archive's own names (events/YYYY-MM-DD/…); Files and Open
// speak the archive's names, so a cursor saved against one bucket path
// reads the same against a copy elsewhere.
type Bucket struct {
	objects *storage.BucketHandle
	bucket  string
	prefix  string          // "" or ending in "/"
	owned   *storage.Client // Open's, closed by Close
}

// bucketName is Cloud Storage's rule for a bucket name (the dotted, longer
// form included): lower-case letters, digits, '-', '_' and '.', starting
// and ending with a letter or digit.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`)

// Parse reads gs://bucket[/prefix]; the prefix comes back ending in "/".
func Parse(url string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(url, Scheme+"://")
	if !ok {
		return "", "", fmt.Errorf("%q is not a gs://bucket[/prefix] URL", url)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if !bucketName.MatchString(bucket) || strings.Contains(bucket, "..") {
		return "", "", fmt.Errorf("%q: %q is not a Cloud Storage bucket name", url, bucket)
	}
	if strings.ContainsAny(prefix, "?#\\") || slices.Contains(strings.Split(prefix, "/"), "..") {
		return "", "", fmt.Errorf("%q: the prefix %q is not a plain object path", url, prefix)
	}
	if prefix = strings.Trim(prefix, "/"); prefix != "" {
		prefix += "/"
	}
	return bucket, prefix, nil
}

// Open opens the archive url (gs://bucket[/prefix]) with a client of its
// own (opts: credentials, a stand-in's endpoint); Close releases it.
// Nothing is asked of the bucket until a replay lists it.
func Open(ctx context.Context, url string, opts ...option.ClientOption) (*Bucket, error) {
	if _, _, err := Parse(url); err != nil {
		return nil, err
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot create the Cloud Storage client: %w", err)
	}
	b, err := New(client, url)
	if err != nil {
		return nil, errors.Join(err, client.Close())
	}
	b.owned = client
	return b, nil
}

// EmulatorOptions point the client at a Cloud Storage stand-in at host
// (STORAGE_EMULATOR_HOST: host:port, or a URL), as the client does by
// itself when the variable is in the process's environment; none for "".
func EmulatorOptions(host string) []option.ClientOption {
	if host == "" {
		return nil
	}
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	return []option.ClientOption{option.WithEndpoint(strings.TrimSuffix(host, "/") + "/storage/v1/"), option.WithoutAuthentication()}
}

// New is the archive url read with a client the caller keeps.
func New(client *storage.Client, url string) (*Bucket, error) {
	bucket, prefix, err := Parse(url)
	if err != nil {
		return nil, err
	}
	return &Bucket{objects: client.Bucket(bucket), bucket: bucket, prefix: prefix}, nil
}

// Close releases the client Open made (none for New's).
func (b *Bucket) Close() error {
	if b.owned == nil {
		return nil
	}
	return b.owned.Close()
}

// Location implements archive.Reader.
func (b *Bucket) Location() string { return Scheme + "://" + b.bucket + "/" + b.prefix }

// Files implements archive.Reader. It lists only the day folders the
// window touches, and within them only the names from the window's first
// second to its last (the names sort by time), the name of each object
// alone.
func (b *Bucket) Files(ctx context.Context, from, to time.Time) ([]archive.File, error) {
	if err := archive.CheckWindow(from, to); err != nil {
		return nil, err
	}
	var out []archive.File
	for _, day := range archive.DayPrefixes(from, to) {
		q := &storage.Query{Prefix: b.prefix + day,
			StartOffset: b.prefix + archive.NameAt(from), EndOffset: b.prefix + archive.NameAt(to.Add(time.Second))}
		if err := q.SetAttrSelection([]string{"Name"}); err != nil {
			return nil, err
		}
		it := b.objects.Objects(ctx, q)
		for {
			attrs, err := it.Next()
			if errors.Is(err, iterator.Done) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("archive list %s: %w", b.Location()+day, err)
			}
			if f, ok := archive.InWindow(strings.TrimPrefix(attrs.Name, b.prefix), from, to); ok {
				out = append(out, f)
			}
		}
	}
	slices.SortFunc(out, func(x, y archive.File) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}

// Open implements archive.Reader: the object is read as the caller reads,
// not fetched whole first.
func (b *Bucket) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := archive.CheckName(name); err != nil {
		return nil, err
	}
	r, err := b.objects.Object(b.prefix + name).NewReader(ctx)
	if err != nil {
		return nil, fmt.Errorf("archive open %s%s: %w", b.Location(), name, err)
	}
	return r, nil
}

// Write stores records as one object starting at start, as the Cloud
// Storage subscription does (the local stack and tests write with it; in
// the cloud only the subscription writes). The object appears whole when
// the upload completes.
func (b *Bucket) Write(ctx context.Context, start time.Time, recs []archive.Record) (string, error) {
	name := archive.NewObjectName(start)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := b.objects.Object(b.prefix + name).If(storage.Conditions{DoesNotExist: true}).NewWriter(ctx)
	if err := archive.Encode(w, recs); err != nil {
		cancel() // before Close: a cancelled upload leaves no object
		_ = w.Close()
		return "", fmt.Errorf("archive write: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("archive write %s%s: %w", b.Location(), name, err)
	}
	return name, nil
}
